#!/bin/sh
# `grader grade` on the demo course: every score, flags, errors, incremental
# reruns, resume after kill -9, --student, --roster.
. "$(dirname "$0")/lib.sh"
ex="$ROOT/rubrics/examples"
T=$E2E_TMP
"$GRADER" rubric release "$ex/ps1.json" -o "$T/release" >/dev/null
/usr/bin/python3 "$ex/make_submissions.py" "$T/release/ps1.ipynb" "$T/sub"

"$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/sub" -o "$T/gb.json" -j 2 2>"$T/log"
check "grade exits 0" test $? -eq 0
check "one line per student" test "$(grep -c '^graded \|^error ' "$T/log")" -eq 9

# field STUDENT EXPR: a value of that student's submission
field() { /usr/bin/python3 -c "
import json, sys
gb = json.load(open(sys.argv[1]))
s = [s for s in gb['submissions'] if s['student_id'] == sys.argv[2]][0]
g = {g['grade_id']: g for nb in s['notebooks'] for g in nb['grades']}
v = $2
print(json.dumps(v) if isinstance(v, (list, dict)) else v)" "${3:-$T/gb.json}" "$1"; }
expect() { got=$(field "$1" "$2"); if [ "$got" = "$3" ]; then pass "$1: $2 = $3"; else fail "$1: $2 = $3" "got $got"; fi; }

expect alice "s['score']" 13.0                    # all correct; late but within extension
expect alice "s['late_submission_penalty']" 0.0
expect alice "g['palindrome_spaces']['needs_manual_grade']" True
expect bob "g['test_is_palindrome']['auto_score']" 0.0   # fails a hidden test
expect bob "g['test_fizzbuzz']['auto_score']" 3.0        # partial credit 3/4
expect bob "g['test_fizzbuzz']['status']" partial
expect bob "s['score']" 9.0
expect carol "g['test_squares']['auto_score']" 0.0       # syntax error
expect carol "'NameError' in g['test_squares']['output']['traceback']" True
expect carol "s['score']" 11.0
expect dave "g['test_is_palindrome']['status']" timeout  # infinite loop, cell timed out
expect dave "g['test_fizzbuzz']['auto_score']" 4.0       # later cells still ran
expect dave "s['score']" 10.0
expect dave "s['notebooks'][0]['message']" 'cell 5 exceeded the cell time limit of 5 s'
expect erin "'deleted_test_cell' in s['flags']" True     # test cell re-inserted
expect erin "g['test_squares']['auto_score']" 2.0
expect erin "s['score']" 13.0
expect frank "'modified_locked_cell' in s['flags']" True # edited test overwritten
expect frank "g['test_fizzbuzz']['auto_score']" 3.0
expect frank "s['score']" 12.0
expect grace "'tampered' in s['flags']" True             # forged results, os._exit
expect grace "s['score']" 0.0
expect heidi "s['status']" error                         # malformed notebook
expect heidi "'heidi/ps1/ps1.ipynb' in s['message'] and 'not valid JSON' in s['message']" True
expect ivan "s['raw_score']" 13.0                        # 50 h late: 3 started days x 10%
expect ivan "s['late_submission_penalty']" 3.9
expect ivan "s['score']" 9.1
expect ivan "s['timestamp']" 2026-11-01T12:00:00Z

# incremental: nothing changed -> nothing rerun, same file
cp "$T/gb.json" "$T/first.json"
"$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/sub" -o "$T/gb.json" 2>"$T/log"
check "rerun reuses every submission" grep -q '(0 graded, 9 unchanged' "$T/log"
check "rerun writes the same gradebook" cmp -s "$T/gb.json" "$T/first.json"
# one student changes their work -> only they are regraded
/usr/bin/python3 - "$T/sub/bob/ps1/ps1.ipynb" <<'PY'
import json, sys
nb = json.load(open(sys.argv[1]))
for c in nb["cells"]:
    if c["metadata"].get("nbgrader", {}).get("grade_id") == "is_palindrome":
        c["source"] = "def is_palindrome(s):\n    t = s.replace(' ', '').lower()\n    return t == t[::-1]"
json.dump(nb, open(sys.argv[1], "w"))
PY
"$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/sub" -o "$T/gb.json" 2>"$T/log"
check "changed submission regraded alone" grep -q '(1 graded, 8 unchanged' "$T/log"
expect bob "s['score']" 12.0
"$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/sub" -o "$T/gb.json" --force 2>"$T/log"
# the summary counts each submission once: heidi's unreadable notebook is an error, not graded
check "--force regrades all" grep -q '9 submissions (8 graded, 0 unchanged, 1 errors, 0 missing)' "$T/log"
cp "$T/gb.json" "$T/full.json"

# kill -9 in the middle, then resume: same gradebook as an uninterrupted run
rm -f "$T/gb.json" "$T/gb.json.journal"
setsid "$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/sub" -o "$T/gb.json" -j 1 \
	2>/dev/null &
pid=$!
wait_lines "$T/gb.json.journal" 3
kill -9 -"$pid" 2>/dev/null
wait "$pid" 2>/dev/null
check "killed run left no gradebook" test ! -e "$T/gb.json"
done_before=$(wc -l <"$T/gb.json.journal")
"$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/sub" -o "$T/gb.json" 2>"$T/log"
check "resume exits 0" test $? -eq 0
check "resume regrades only the rest" /usr/bin/python3 -c "
import re, sys
m = re.search(r'(\d+) submissions \((\d+) graded, (\d+) unchanged, (\d+) errors, (\d+) missing\)',
              open(sys.argv[1]).read())
total, graded, unchanged, errors, missing = map(int, m.groups())
assert unchanged == int(sys.argv[2]) and graded + errors == 9 - unchanged, m.group(0)
assert total == graded + unchanged + errors + missing == 9, m.group(0)" "$T/log" "$done_before"
# same grades, comments, flags and outputs; only the measured cell times differ
same_but_times() { /usr/bin/python3 -c "
import json, sys
def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if k != 'time'}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v
a, b = (strip(json.load(open(f))) for f in sys.argv[1:3])
sys.exit(a != b)" "$1" "$2"; }
check "resumed gradebook equals an uninterrupted run" same_but_times "$T/gb.json" "$T/full.json"
sleep 0.5
left=$(ps -eo stat=,args= | awk -v p="$T/sub" '$1 !~ /^Z/ && index($0, p) && !/awk/' | wc -l)
check "no grading process left behind" test "$left" -eq 0

# journal entries are fsync'd in groups, and a submission is reported only once
# its entry is on disk: in the coordinator's own system calls (strace without
# -f: the workers and the sandbox are not traced), every progress line comes
# after the journal write of that student and an fdatasync of the journal since
reported_after_sync() { /usr/bin/python3 - "$1" <<'PY'
import re, sys
call = re.compile(r'(write|fdatasync)\((\d+)(?:, "((?:[^"\\]|\\.)*)")?')
journal, state, reported, syncs, entries = None, {}, [], 0, 0
for line in open(sys.argv[1]):
    m = call.match(line)
    if not m:
        continue
    name, fd, text = m.group(1), int(m.group(2)), m.group(3) or ''
    if name == 'write' and text.startswith('{\\"final\\":'):
        journal = fd if journal is None else journal
        assert fd == journal, line
        sid = re.search(r'\\"student_id\\":\\"([^\\]*)\\"', text).group(1)
        state[sid] = 'written'
        entries += 1
    elif name == 'fdatasync' and fd == journal:
        syncs += 1
        for k in state:
            state[k] = 'synced'
    elif name == 'write' and fd == 2:
        p = re.match(r'(graded|error) ([a-z]+)', text)
        if p:
            assert state.get(p.group(2)) == 'synced', ('reported before its sync', p.group(2))
            reported.append(p.group(2))
assert len(reported) == 9 and sorted(reported) == sorted(state), (reported, state)
assert 0 < syncs <= entries, (syncs, entries)
PY
}
if command -v strace >/dev/null; then
	rm -f "$T/gb.json" "$T/gb.json.journal"
	# LeakSanitizer cannot run under ptrace: the sanitizer build skips its leak check here
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		strace -o "$T/trace" -s 300 -e trace=write,fdatasync "$GRADER" grade --rubric "$ex/ps1.json" \
		--submissions "$T/sub" -o "$T/gb.json" -j 2 2>"$T/log"
	check "grade under strace exits 0" test $? -eq 0
	check "journal group commit: each submission reported after its entry is synced" \
		reported_after_sync "$T/trace"
	check "journal group commit: the same gradebook" same_but_times "$T/gb.json" "$T/full.json"
else
	skip "journal group commit" "strace is not installed (make deps installs it)"
fi

# a grading worker killed mid-job costs only that submission, and a failure of
# the grader's (not the student's) is graded again on the next run
rm -f "$T/gb.json" "$T/gb.json.journal"
"$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/sub" -o "$T/gb.json" -j 1 \
	2>/dev/null &
pid=$!
wait_lines "$T/gb.json.journal" 3
sleep 1   # dave's infinite loop runs for 5 s: his job is in the worker now
kill -9 $(pgrep -P "$pid") 2>/dev/null
wait "$pid"
check "batch survives a killed worker" test $? -eq 0
expect dave "s['status']" error
expect dave "s['message']" 'grading worker died'
expect erin "s['score']" 13.0
"$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/sub" -o "$T/gb.json" 2>"$T/log"
check "worker failure regraded on the next run" grep -q '(1 graded, 8 unchanged' "$T/log"
expect dave "s['score']" 10.0

# a host that cannot build the sandbox refuses once, before any student
if command -v setpriv >/dev/null && ! setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$GRADER" doctor >/dev/null 2>&1; then
	mkdir -p "$T/weak" && cp -r "$T/sub/alice" "$T/weak/" && chmod -R a+rwX "$T/weak"
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$GRADER" grade --rubric "$ex/ps1.json" \
		--submissions "$T/weak" -o "$T/weak/gb.json" 2>"$T/err"
	check "weaker host: exit 1" test $? -eq 1
	check "weaker host: one line naming the missing protection" test "$(wc -l <"$T/err")" -eq 1
	check "weaker host: no gradebook" test ! -e "$T/weak/gb.json"
fi

# --student and --roster
"$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/sub" -o "$T/one.json" \
	--student bob,nobody 2>/dev/null
check "--student grades only those named" test "$(json_get "$T/one.json" "['submissions'].__len__()")" = 2

got=$(field nobody "s['status']" "$T/one.json"); check "unknown student recorded as missing" test "$got" = missing
printf 'student_id,first_name,last_name,email\nalice,Alice,Archer,alice@example.org\nzed,Zed,Zeller,zed@example.org\n' >"$T/roster.csv"
"$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/sub" -o "$T/r.json" --roster "$T/roster.csv" 2>/dev/null
got=$(/usr/bin/python3 -c "import json,sys; gb=json.load(open(sys.argv[1])); print([s['email'] for s in gb['students'] if s['id']=='alice'][0], len(gb['submissions']))" "$T/r.json")
check "roster names and emails reach the gradebook" test "$got" = "alice@example.org 10"
got=$(field zed "s['status']" "$T/r.json"); check "roster student without work is missing" test "$got" = missing

# the output is checked before anyone is graded, and no gradebook loses rows
"$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/sub" -o "$T/one.json" --student bob \
	2>"$T/err"
check "--student into a fuller gradebook is refused" test $? -eq 1
check "... saying --merge keeps the others" grep -q "holds the results of 1 other student.*--merge" "$T/err"
"$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/sub" -o "$T/gb.json" --student bob \
	--merge 2>"$T/log"
check "--student --merge exits 0" test $? -eq 0
check "--student --merge keeps every other student" test "$(json_get "$T/gb.json" "['submissions'].__len__()")" = 9
check "--merge summary adds up" grep -q '9 submissions (0 graded, 1 unchanged, 0 errors, 0 missing, 8 kept)' "$T/log"
expect alice "s['score']" 13.0
sed 's/"assignment": "ps1"/"assignment": "ps2"/' "$ex/ps1.json" >"$T/ps2.json"
if grep -q '"ps2"' "$T/ps2.json"; then
	mkdir -p "$T/sub2/alice" && cp -r "$T/sub/alice/ps1" "$T/sub2/alice/ps2"
	"$GRADER" grade --rubric "$T/ps2.json" --submissions "$T/sub2" -o "$T/gb.json" 2>"$T/err"
	check "grading another assignment into a gradebook is refused" test $? -eq 1
	check "... naming both assignments" grep -q "gradebook of assignment 'ps1', not 'ps2'" "$T/err"
	check "... and the gradebook is untouched" test "$(json_get "$T/gb.json" "['submissions'].__len__()")" = 9
fi
mkdir -p "$T/outdir" "$T/empty"
"$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/sub" -o "$T/outdir" 2>"$T/err" >/dev/null
check "-o a folder fails before grading" sh -c "test \$(grep -c . '$T/err') -eq 1 && grep -q 'is a folder' '$T/err'"
"$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/empty" -o "$T/e.json" 2>"$T/err"
check "an empty submissions folder exits 1" test $? -eq 1
check "... saying so" grep -q "no submissions in '$T/empty'" "$T/err"

# why a cell that is not a test failed (a refused import) reaches the gradebook
mkdir -p "$T/refused/zoe"
cp -r "$T/sub/alice/ps1" "$T/refused/zoe/ps1"
/usr/bin/python3 - "$T/refused/zoe/ps1/ps1.ipynb" <<'PY'
import json, sys
nb = json.load(open(sys.argv[1]))
for c in nb["cells"]:
    if c["metadata"].get("nbgrader", {}).get("grade_id") == "squares":
        c["source"] = "import _testcapi\n" + "".join(c["source"])
json.dump(nb, open(sys.argv[1], "w"))
PY
"$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/refused" -o "$T/refused.json" 2>/dev/null
got=$(field zoe "g['test_squares']['status']" "$T/refused.json")
check "a test after the refused import fails" test "$got" = failed
got=$(field zoe "s['notebooks'][0]['message']" "$T/refused.json")
check "the refused import is explained in the notebook's message" test "$got" = \
	'cell 2 (squares) raised ImportError "importing ctypes, cffi or a test module is not allowed when grading" [engine: refused: importing ctypes, cffi or a test module]'

# usage and fatal errors
"$GRADER" grade --submissions "$T/sub" -o "$T/x.json" 2>/dev/null
check "missing --rubric is a usage error" test $? -eq 2
"$GRADER" grade --rubric "$T/nope.json" --submissions "$T/sub" -o "$T/x.json" 2>"$T/err"
check "unreadable rubric exits 1" test $? -eq 1
check "unreadable rubric named" grep -q "nope.json" "$T/err"
"$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/none" -o "$T/x.json" 2>"$T/err"
check "missing submissions folder exits 1" test $? -eq 1
# the rubric's process limit reaches the sandbox: 40 threads pass at 64, not at 16
mkdir -p "$T/pl/src" "$T/pl/sub/amy/t1"
/usr/bin/python3 - "$T/pl/src/t1.ipynb" <<'PY'
import json, sys
def cell(src, **nbg):
    c = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": src}
    if nbg:
        m = dict(schema_version=3, grade=False, solution=False, locked=False)
        m.update(nbg)
        c["metadata"]["nbgrader"] = m
    return c
nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
    cell("import threading, time\nstarted = 0\ndef spawn():\n    global started\n    ts = []\n    try:\n        for _ in range(40):\n            t = threading.Thread(target=time.sleep, args=(1,))\n            t.start()\n            ts.append(t)\n            started += 1\n    except RuntimeError:\n        pass\n    for t in ts:\n        t.join()\n", grade_id="spawn", solution=True),
    cell("spawn()\nassert started == 40", grade_id="test_threads", grade=True, locked=True, points=1),
]}
for i, c in enumerate(nb["cells"]):
    c["id"] = "c%d" % i
json.dump(nb, open(sys.argv[1], "w"))
PY
cp "$T/pl/src/t1.ipynb" "$T/pl/sub/amy/t1/"
for p in 64 16; do
	# 16 processes fail the solution on purpose: that rubric is written unproven
	nv=
	[ $p = 16 ] && nv=--no-validate
	"$GRADER" rubric import "$T/pl/src/t1.ipynb" --assignment t1 --processes $p $nv -o "$T/pl/r$p.json" >/dev/null 2>&1
	"$GRADER" grade --rubric "$T/pl/r$p.json" --submissions "$T/pl/sub" -o "$T/pl/g$p.json" --quiet
done
check "40 threads within a limit of 64" test "$(json_get "$T/pl/g64.json" "['submissions'][0]['raw_score']")" = 1.0
check "40 threads refused by a limit of 16" test "$(json_get "$T/pl/g16.json" "['submissions'][0]['raw_score']")" = 0.0
# ctypes is refused unless the rubric allows it (scipy needs it)
mkdir -p "$T/ct/src" "$T/ct/sub/amy/c1"
/usr/bin/python3 - "$T/ct/src/c1.ipynb" <<'PY'
import json, sys
meta = lambda **k: {"nbgrader": dict(dict(schema_version=3, grade=False, solution=False,
                                          locked=False), **k)}
cells = [
    {"cell_type": "code", "id": "a", "metadata": meta(grade_id="use", solution=True),
     "execution_count": None, "outputs": [],
     "source": "import ctypes\nvalue = ctypes.c_int(3).value"},
    {"cell_type": "code", "id": "b", "metadata": meta(grade_id="test_use", grade=True,
                                                      locked=True, points=1),
     "execution_count": None, "outputs": [], "source": "assert value == 3"},
]
json.dump({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells},
          open(sys.argv[1], "w"))
PY
cp "$T/ct/src/c1.ipynb" "$T/ct/sub/amy/c1/"
# without --allow-ctypes the solution fails on purpose: written unproven
"$GRADER" rubric import "$T/ct/src/c1.ipynb" --assignment c1 --no-validate -o "$T/ct/r0.json" 2>/dev/null
"$GRADER" rubric import "$T/ct/src/c1.ipynb" --assignment c1 --allow-ctypes -o "$T/ct/r1.json" 2>/dev/null
check "rubric records allow_ctypes" test "$(json_get "$T/ct/r1.json" "['allow_ctypes']")" = True
check "allow_ctypes is off by default" test "$(json_get "$T/ct/r0.json" ".get('allow_ctypes', False)")" = False
for n in 0 1; do
	"$GRADER" grade --rubric "$T/ct/r$n.json" --submissions "$T/ct/sub" -o "$T/ct/g$n.json" --quiet
done
check "ctypes refused by default" test "$(json_get "$T/ct/g0.json" "['submissions'][0]['raw_score']")" = 0.0
check "ctypes allowed by the rubric" test "$(json_get "$T/ct/g1.json" "['submissions'][0]['raw_score']")" = 1.0
echo '{"grader_rubric": 1, "assignment": "c1", "allow_ctypes": "yes", "notebooks": []}' >"$T/ct/bad.json"
"$GRADER" rubric check "$T/ct/bad.json" 2>"$T/err"
check "allow_ctypes must be a boolean" grep -q "allow_ctypes: must be true or false" "$T/err"
finish
