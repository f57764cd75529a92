#!/bin/sh
# The nbgrader round trip, checked by the real nbgrader (../shared/nbgrader):
# grade the demo course inside an nbgrader course folder, export the db, then
# nbgrader's own generate_feedback, API, db upgrade and export take it from there.
. "$(dirname "$0")/lib.sh"
T=$E2E_TMP
GRADER=$(cd "$(dirname "$GRADER")" && pwd)/$(basename "$GRADER")
. "$(dirname "$0")/nbgrader.sh"
nbg_need "nbgrader round trip"

# the course folder: the demo's submissions under submitted/, our db beside them
sh "$ROOT/rubrics/examples/demo.sh" "$GRADER" "$T/demo" >"$T/demo.out" 2>&1
check "demo submissions generated" test $? -eq 0
C=$T/course
mkdir -p "$C"
cp -r "$T/demo/submitted" "$C/submitted"
nbg_config "$C" "CourseDirectory.course_id = 'demo'"
weaker=
"$GRADER" doctor >/dev/null 2>&1 || weaker=--allow-weaker
"$GRADER" grade --rubric "$ROOT/rubrics/examples/ps1.json" --submissions "$C/submitted" \
	-o "$C/gradebook.json" -q $weaker
check "grade in a course folder exits 0" test $? -eq 0
check "autograded notebooks by default in a course folder" \
	test -f "$C/autograded/bob/ps1/ps1.ipynb" -a -f "$C/autograded/bob/ps1/timestamp.txt"
check "an errored submission leaves no autograded folder" test ! -e "$C/autograded/heidi"
"$GRADER" grade --rubric "$ROOT/rubrics/examples/ps1.json" --submissions "$C/submitted" \
	-o "$C/gradebook.json" -q $weaker
check "a rerun keeps the autograded notebooks" test -f "$C/autograded/alice/ps1/ps1.ipynb"
rm -r "$C/autograded/alice"
"$GRADER" grade --rubric "$ROOT/rubrics/examples/ps1.json" --submissions "$C/submitted" \
	-o "$C/gradebook.json" -q $weaker
check "an unchanged submission whose autograded folder is gone is run again" \
	test -f "$C/autograded/alice/ps1/ps1.ipynb"
check "autograded notebook: outputs, counts, hidden tests, nbgrader metadata" /usr/bin/python3 -c "
import json, sys
nb = json.load(open(sys.argv[1]))
cells = {c['metadata']['nbgrader']['grade_id']: c for c in nb['cells']
         if 'nbgrader' in c['metadata'] and 'grade_id' in c['metadata']['nbgrader']}
t = cells['test_is_palindrome']
assert 'BEGIN HIDDEN TESTS' in ''.join(t['source']), t['source']
err = [o for o in t['outputs'] if o['output_type'] == 'error']
assert err and err[0]['ename'] == 'AssertionError', t['outputs']
assert isinstance(err[0]['traceback'], list)
f = cells['test_fizzbuzz']['outputs']
assert [o['output_type'] for o in f] == ['execute_result'], f
assert ''.join(f[0]['data']['text/plain']) == '3', f
code = [c for c in nb['cells'] if c['cell_type'] == 'code']
assert [c['execution_count'] for c in code] == list(range(1, len(code) + 1))
assert t['metadata']['nbgrader']['points'] == 3 and t['metadata']['nbgrader']['locked']
" "$C/autograded/bob/ps1/ps1.ipynb"
check "timestamp.txt copied as submitted" cmp -s "$C/submitted/ivan/ps1/timestamp.txt" \
	"$C/autograded/ivan/ps1/timestamp.txt"
"$GRADER" export "$C/gradebook.json" --to nbgrader-db -o "$C/gradebook.db"
check "db exported" test $? -eq 0

cd "$C" || exit 1
nbg -m nbgrader generate_feedback ps1 >"$T/feedback.log" 2>&1
check "nbgrader generate_feedback exits 0" test $? -eq 0
check "feedback: every graded student's HTML, with scores and outputs" /usr/bin/python3 -c "
import json, os, re, sys
gb = json.load(open(sys.argv[1]))
subs = gb['assignments'][0]['submissions'] if 'submissions' in gb['assignments'][0] else gb['submissions']
n = 0
for s in subs:
    path = os.path.join(sys.argv[2], s['student_id'], 'ps1', 'ps1.html')
    if s['status'] != 'graded':
        assert not os.path.exists(path), path
        continue
    html = open(path).read()
    m = re.search(r'Score: ([0-9.]+) / ([0-9.]+)', html)
    assert m and float(m.group(1)) == s['score'] and float(m.group(2)) == 18, (s['student_id'], m and m.groups())
    n += 1
assert n == 8, n
bob = open(os.path.join(sys.argv[2], 'bob', 'ps1', 'ps1.html')).read()
assert 'AssertionError' in bob
" "$C/gradebook.json" "$C/feedback"

check "NbGraderAPI.get_submissions: autograded, with our scores" nbg -c "
import json, sys
from traitlets.config import Config
from nbgrader.apps import NbGraderAPI
c = Config()
c.CourseDirectory.root = sys.argv[1]
c.CourseDirectory.db_url = 'sqlite:///' + sys.argv[1] + '/gradebook.db'
gb = json.load(open(sys.argv[1] + '/gradebook.json'))
a = gb['assignments'][0]
ours = {s['student_id']: s for s in (a['submissions'] if 'submissions' in a else gb['submissions'])}
got = {s['student']: s for s in NbGraderAPI(config=c).get_submissions('ps1')}
assert set(got) == set(ours), (sorted(got), sorted(ours))
for sid, s in got.items():
    assert s['submitted'], sid
    assert s['autograded'] == (ours[sid]['status'] == 'graded'), (sid, s['autograded'])
    if s['autograded']:
        # nbgrader's submission score is before the late penalty
        assert abs(s['score'] - ours[sid]['raw_score']) < 1e-12, (sid, s['score'])
        assert s['max_score'] == 18.0
" "$C"

sqlite3 "$C/gradebook.db" .dump >"$T/before.sql"
nbg -m nbgrader db upgrade >"$T/upgrade.log" 2>&1
check "nbgrader db upgrade exits 0" test $? -eq 0
sqlite3 "$C/gradebook.db" .dump >"$T/after.sql"
check "nbgrader db upgrade changes nothing" cmp -s "$T/before.sql" "$T/after.sql"

nbg -m nbgrader export --to "$T/nbgrader.csv" >"$T/export.log" 2>&1
check "nbgrader export exits 0" test $? -eq 0
"$GRADER" export "$C/gradebook.json" --to csv -o "$T/ours.csv"
check "nbgrader export gives our CSV byte for byte" cmp "$T/nbgrader.csv" "$T/ours.csv"

# source_cell as nbgrader's own generate_assignment records it, from the demo's source
G=$T/gen
mkdir -p "$G/source"
cp -r "$ROOT/rubrics/examples/ps1/source" "$G/source/ps1"
nbg_config "$G"
(cd "$G" && nbg -m nbgrader generate_assignment ps1 --force >"$T/generate.log" 2>&1)
check "nbgrader generate_assignment of the demo's source" test -s "$G/gradebook.db"
cells() { sqlite3 "$1" "select name, cell_type, locked, checksum, hex(source) from source_cell order by name"; }
cells "$G/gradebook.db" >"$T/cells.nbgrader"
cells "$C/gradebook.db" >"$T/cells.ours"
check "source_cell: locked read-only cells, released stubs, hidden tests, as nbgrader" \
	cmp -s "$T/cells.nbgrader" "$T/cells.ours"

# the released notebook's cell metadata as nbgrader's release writes it: view state
# (scrolled, collapsed) cleared, no "task" key where the source had none
mkdir -p "$G/source/meta"
/usr/bin/python3 - "$G/source/meta/meta.ipynb" <<'EOF'
import json, sys
def cell(src, gid, **kw):
    md = {"grade": False, "grade_id": gid, "locked": False, "schema_version": 3, "solution": True}
    md.update(kw)
    return {"cell_type": "code", "execution_count": None, "outputs": [], "source": src,
            "metadata": {"nbgrader": md, "scrolled": True, "collapsed": False, "tags": ["q"]}}
json.dump({"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": [
    cell("x = 1\n### BEGIN SOLUTION\nx = 2\n### END SOLUTION", "answer"),
    cell("assert x == 2", "test", grade=True, solution=False, locked=True, points=1),
    cell("print(1)", "readonly", solution=False, locked=True),
    {"cell_type": "markdown", "source": "do it", "metadata": {"nbgrader": {
        "grade": False, "grade_id": "task", "locked": True, "schema_version": 3,
        "solution": False, "task": True, "points": 2}}}]}, open(sys.argv[1], "w"))
EOF
(cd "$G" && nbg -m nbgrader generate_assignment meta --force >>"$T/generate.log" 2>&1)
"$GRADER" rubric import "$G/source/meta/meta.ipynb" --assignment meta -o "$T/meta.json" 2>/dev/null
"$GRADER" rubric release "$T/meta.json" -o "$T/meta-release" >/dev/null 2>&1
check "released cell metadata equals nbgrader's release" /usr/bin/python3 -c "
import json, sys
ours = [c['metadata'] for c in json.load(open(sys.argv[1]))['cells']]
theirs = [c['metadata'] for c in json.load(open(sys.argv[2]))['cells']]
assert len(theirs) == 4 and ours == theirs, (ours, theirs)
" "$T/meta-release/meta.ipynb" "$G/release/meta/meta.ipynb"

# non-round scores and a timestamp with microseconds, through the same round trip
F=$T/frac
mkdir -p "$F/source" "$F/submitted/s1/hw" "$F/submitted/s2/hw"
/usr/bin/python3 - "$F/source/hw.ipynb" <<'EOF'
import json, sys
def cell(src, gid, points=None, solution=False):
    md = {"grade": points is not None, "grade_id": gid, "locked": points is not None,
          "schema_version": 3, "solution": solution}
    if points is not None:
        md["points"] = points
    return {"cell_type": "code", "execution_count": None, "id": gid, "outputs": [],
            "metadata": {"nbgrader": md}, "source": src}
nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {
      "display_name": "Python 3", "language": "python", "name": "python3"}},
      "cells": [cell("x = 1\n### BEGIN SOLUTION\nx = 2\n### END SOLUTION", "answer", solution=True),
                cell("1 / 3", "third", 1),
                cell("0.1 + 0.2", "tenths", 1),
                cell("assert x == 2", "full", 1)]}
json.dump(nb, open(sys.argv[1], "w"))
EOF
# partial credit (1/3, 0.1 + 0.2) is the point here, so the solution is short on
# purpose: the rubric is written unproven
"$GRADER" rubric import "$F/source/hw.ipynb" --assignment hw --duedate 2026-10-30T10:00:00Z \
	--late-policy 10%/day --no-validate -o "$F/hw.json" 2>/dev/null
check "fractional course: rubric imported" test -s "$F/hw.json"
"$GRADER" rubric release "$F/hw.json" -o "$F/release" >/dev/null 2>&1
/usr/bin/python3 -c "
import json, sys
nb = json.load(open(sys.argv[1]))
for c in nb['cells']:
    if c['metadata']['nbgrader']['grade_id'] == 'answer':
        c['source'] = 'x = 2'
json.dump(nb, open(sys.argv[2], 'w'))" "$F/release/hw.ipynb" "$F/submitted/s1/hw/hw.ipynb"
cp "$F/release/hw.ipynb" "$F/submitted/s2/hw/hw.ipynb"
echo "2026-10-31 11:22:33.123456 UTC" >"$F/submitted/s1/hw/timestamp.txt"
echo "2026-10-30 09:59:59.999999 UTC" >"$F/submitted/s2/hw/timestamp.txt"
# s3 hands in s1's notebook saved as nbformat 3 (by nbformat itself)
mkdir -p "$F/submitted/s3/hw"
nbg -c "
import sys, nbformat
nb = nbformat.read(sys.argv[1], as_version=4)
nbformat.write(nbformat.convert(nb, 3), sys.argv[2])" "$F/submitted/s1/hw/hw.ipynb" "$F/submitted/s3/hw/hw.ipynb"
cp "$F/submitted/s1/hw/timestamp.txt" "$F/submitted/s3/hw/timestamp.txt"
check "an nbformat 3 notebook made" grep -q '"worksheets"' "$F/submitted/s3/hw/hw.ipynb"
nbg_config "$F"
"$GRADER" grade --rubric "$F/hw.json" --submissions "$F/submitted" -o "$F/gradebook.json" -q $weaker
"$GRADER" export "$F/gradebook.json" --to nbgrader-db -o "$F/gradebook.db"
"$GRADER" export "$F/gradebook.json" --to csv -o "$T/frac-ours.csv"
check "csv: Python's shortest repr of non-round scores (as Python computes them)" /usr/bin/python3 -c "
import sys
raw = 1 / 3 + (0.1 + 0.2) + 1
pen = raw * 0.2  # 1 day 1 h late: two started days at 10 %
row = 'hw,2026-10-30 10:00:00,2026-10-31 11:22:33.123456,s1,,,,%r,%r,%r,3.0' % (raw, pen, raw - pen)
assert row in open(sys.argv[1]).read().splitlines(), row
raw = 1 / 3 + (0.1 + 0.2)  # s2 kept the stub: the last test fails
row = 'hw,2026-10-30 10:00:00,2026-10-30 09:59:59.999999,s2,,,,%r,0.0,%r,3.0' % (raw, raw)
assert row in open(sys.argv[1]).read().splitlines(), row
" "$T/frac-ours.csv"
check "csv: a timestamp's microseconds are kept" grep -q \
	'^hw,2026-10-30 10:00:00,2026-10-30 09:59:59.999999,s2,' "$T/frac-ours.csv"
check "an nbformat 3 notebook is graded like its nbformat 4 twin, with a note" /usr/bin/python3 -c "
import json, sys
gb = json.load(open(sys.argv[1]))
subs = {s['student_id']: s for s in gb['submissions']}
assert subs['s3']['status'] == 'graded', subs['s3']
assert subs['s3']['raw_score'] == subs['s1']['raw_score'], (subs['s3']['raw_score'], subs['s1']['raw_score'])
assert 'nbformat 3' in subs['s3']['notebooks'][0]['message'], subs['s3']['notebooks'][0]
" "$F/gradebook.json"
cd "$F" || exit 1
nbg -m nbgrader export --to "$T/frac-nbgrader.csv" >"$T/frac-export.log" 2>&1
check "nbgrader export of non-round scores: our CSV byte for byte" \
	cmp "$T/frac-nbgrader.csv" "$T/frac-ours.csv"
check "NbGraderAPI: fractional timestamps still count as autograded" nbg -c "
import sys
from traitlets.config import Config
from nbgrader.apps import NbGraderAPI
c = Config()
c.CourseDirectory.root = sys.argv[1]
c.CourseDirectory.db_url = 'sqlite:///' + sys.argv[1] + '/gradebook.db'
subs = {s['student']: s for s in NbGraderAPI(config=c).get_submissions('hw')}
assert subs['s1']['autograded'] and subs['s2']['autograded'], subs
assert subs['s1']['score'] == 1 / 3 + (0.1 + 0.2) + 1, subs['s1']['score']
" "$F"
finish
