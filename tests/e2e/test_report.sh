#!/bin/sh
# The course report on the real demo course: figures checked against Python's
# statistics module computing them from the gradebook on its own, the page
# self-contained, and (when Debian's chromium is here) rendered by a browser.
. "$(dirname "$0")/lib.sh"
T=$E2E_TMP
sh "$ROOT/rubrics/examples/demo.sh" "$GRADER" "$T/demo" >"$T/demo.out" 2>&1
check "demo graded" test $? -eq 0
GB=$T/demo/gradebook.json

"$GRADER" report "$GB" -o "$T/report.html"
check "report written" test -s "$T/report.html"
"$GRADER" report "$GB" --json >"$T/report.json"
check "report --json written" test -s "$T/report.json"

check "figures match Python's statistics on the same gradebook" /usr/bin/python3 -c "
import json, statistics as st, sys
gb = json.load(open(sys.argv[1])); rep = json.load(open(sys.argv[2]))['assignments'][0]
a = gb['assignments'][0]
cells = [(nb['name'], c) for nb in a['notebooks'] for c in nb['cells'] if c['grade'] or c['task']]
subs = [s for s in gb['submissions'] if s['status'] != 'missing']
def grade(s, nb, gid):
    for n in s['notebooks']:
        if n['name'] == nb:
            for g in n['grades']:
                if g['grade_id'] == gid:
                    return g
def score(g):
    if g is None: return 0.0
    v = g['manual_score'] if g['manual_score'] is not None else (g['auto_score'] or 0.0)
    return v + (g['extra_credit'] or 0.0)
manual = lambda c: c['task'] or c['solution']
def scored(g, c):
    return g is not None and (g['manual_score'] is not None or (not manual(c) and g['auto_score'] is not None))
cols = {}
for nb, c in cells:
    gs = [grade(s, nb, c['name']) for s in subs]
    if any(scored(g, c) for g in gs):
        cols[c['name']] = [score(g) for g in gs]
k = len(cols); names = list(cols)
totals = [sum(cols[n][i] for n in names) for i in range(len(subs))]
alpha = k / (k - 1) * (1 - sum(st.pvariance(cols[n]) for n in names) / st.pvariance(totals))
assert abs(rep['cronbach_alpha'] - alpha) < 1e-9, (rep['cronbach_alpha'], alpha)
qs = {q['grade_id']: q for q in rep['questions']}
for n in names:
    rest = [totals[i] - cols[n][i] for i in range(len(subs))]
    mx = [c for nb, c in cells if c['name'] == n][0]['max_score']
    assert abs(qs[n]['mean'] - st.mean(cols[n])) < 1e-9, n
    assert abs(qs[n]['difficulty'] - st.mean(cols[n]) / mx) < 1e-9, n
    assert abs(qs[n]['pass_rate'] - sum(x >= mx - 1e-6 for x in cols[n]) / len(subs)) < 1e-9, n
    assert abs(qs[n]['discrimination'] - st.correlation(cols[n], rest)) < 1e-9, n
for n in qs:
    assert (n in cols) == qs[n]['analysed'], n
finals = [s['score'] for s in subs]
assert abs(rep['scores']['mean'] - st.mean(finals)) < 1e-9
assert abs(rep['scores']['median'] - st.median(finals)) < 1e-9
assert abs(rep['scores']['stdev'] - st.stdev(finals)) < 1e-9
hist = [0] * 10
for x in finals: hist[min(9, int(x / a['max_score'] * 10))] += 1
assert rep['histogram'] == hist, (rep['histogram'], hist)
c = rep['counts']
assert c['error'] == sum(s['status'] == 'error' for s in subs)
assert c['late'] == sum(s['late_seconds'] > 0 for s in subs) == 1
assert c['flagged'] == sum(bool(s['flags']) for s in subs) == 3
print('alpha', round(alpha, 4), 'questions', k)
" "$GB" "$T/report.json"

check "the demo's flagged and failed submissions are listed with reasons" /usr/bin/python3 -c "
import json, sys
f = {x['student_id']: x['reasons'] for x in json.load(open(sys.argv[1]))['assignments'][0]['flagged']}
assert f['grace'] == 'tampered', f
assert f['frank'] == 'modified_locked_cell', f
assert 'not valid JSON' in f['heidi'], f" "$T/report.json"

check "page is self-contained: no script, no external reference" /usr/bin/python3 -c "
import re, sys
h = open(sys.argv[1]).read()
assert '<script' not in h.lower()
assert not re.search(r'(src|href)\s*=\s*\"(?!data:)', h), 'external reference'
assert 'http://' not in h.replace('http://www.w3.org/2000/svg', '')
assert h.count('<svg') == 2" "$T/report.html"

"$GRADER" report "$GB" --assignment nope >/dev/null 2>"$T/err"
check "unknown assignment is a usage error" test $? -eq 2
check "... naming it" grep -q "no assignment 'nope'" "$T/err"
echo '{' >"$T/bad.json"
"$GRADER" report "$T/bad.json" >/dev/null 2>"$T/err"
check "a broken gradebook fails" test $? -eq 1
check "... naming the file" grep -q "bad.json" "$T/err"

if command -v chromium >/dev/null 2>&1; then
	# The browser's own DOM: parsed as one page, charts drawn as SVG, no script.
	HOME=$T chromium --headless --no-sandbox --disable-gpu --dump-dom \
		"file://$T/report.html" >"$T/dom.html" 2>/dev/null
	check "chromium renders the page (its DOM has both charts, no script)" sh -c \
		"grep -c '<svg' '$T/dom.html' | grep -qx 2 && ! grep -qi '<script' '$T/dom.html' && grep -q 'Cronbach' '$T/dom.html'"
else
	skip "chromium renders the page" "Debian's chromium is not installed"
fi
finish
