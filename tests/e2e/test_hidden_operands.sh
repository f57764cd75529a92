#!/bin/sh
# A hidden test's expected value handed to the student's code as an operand
# (`assert square(5) == 25` calls the student's __eq__ with 25): what the
# student's code printed or raised in a cell holding hidden tests is withheld
# from everything students see (Gradescope's results, JUnit, feedback pages),
# only the status, points and the exception's name are shown; the instructor's
# gradebook keeps it all. The same holds for every cell that runs after a
# hidden test, where the student's code may print what it kept of it: a later
# visible test, a visible test the student moved below the hidden one, a cell
# of the student's own at the end. Honest controls: a hidden test failing
# honestly still shows that it failed, and why by name; a visible test above
# the hidden one shows its whole message.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
T=$E2E_TMP
MK=$ROOT/tests/fixtures/operands/make_course.py
weaker= nv=
# without root: a weaker sandbox to grade, and the rubric written unproven
[ "$(id -u)" = 0 ] || weaker=--allow-weaker nv=--no-validate
$PY "$MK" source "$T/hw.ipynb"
(cd "$T" && "$GRADER" rubric import hw.ipynb --assignment hw --no-auto-preload $nv -o rubric.json 2>/dev/null)
check "rubric imports" test -s "$T/rubric.json"
"$GRADER" rubric release "$T/rubric.json" -o "$T/release" 2>/dev/null
check "released without the hidden test" sh -c "! grep -q 'square(5)' '$T/release/hw.ipynb'"
$PY "$MK" submit "$T/release/hw.ipynb" "$T/sub"
"$GRADER" grade --rubric "$T/rubric.json" --submissions "$T/sub" -o "$T/gb.json" -q $weaker 2>"$T/err"
check "grade exits 0" test $? -eq 0
# sub STUDENT EXPR: EXPR holds for the student's submission s (g: grades by id)
sub() {
	$PY - "$T/gb.json" "$1" "$2" <<'PYEOF'
import json, sys
gb = json.load(open(sys.argv[1]))
s = [x for x in gb["submissions"] if x["student_id"] == sys.argv[2]][0]
g = {x["grade_id"]: x for nb in s["notebooks"] for x in nb["grades"]}
o = lambda k, f: (g[k].get("output") or {}).get(f) or ""
sys.exit(0 if eval(sys.argv[3]) else 1)
PYEOF
}
check "right: full marks" sub right 's["score"] == 3'
check "wrong: the hidden test fails, the visible ones pass" sub wrong \
	'g["t1"]["auto_score"] == 0 and g["t0"]["auto_score"] == 1 and g["t2"]["auto_score"] == 1'
check "early: the visible test above the hidden one fails" sub early \
	'g["t0"]["auto_score"] == 0 and g["t1"]["auto_score"] == 1'
check "moved: the moved visible test fails, the hidden one too" sub moved \
	'g["t0"]["auto_score"] == 0 and g["t1"]["auto_score"] == 0 and g["t2"]["auto_score"] == 1'
# which cells ran after the hidden test, in the order the student's notebook ran them
check "gradebook: t2 ran after the hidden test, t0 did not" sub leak \
	'g["t2"]["output"].get("after_hidden_tests") is True and "after_hidden_tests" not in g["t0"]["output"]'
check "gradebook: the moved t0 ran after the hidden test" sub moved \
	'g["t0"]["output"].get("after_hidden_tests") is True'
check "gradebook keeps what the moved cell printed" sub moved \
	'"MOVED [25]" in o("t0", "stdout") and "MOVED-TB [25]" in o("t0", "traceback")'
check "leak: the hidden test fails" sub leak 'g["t1"]["auto_score"] == 0'
# the instructor's gradebook keeps everything the cell printed and raised
check "gradebook keeps the leak's message, stdout and stderr" sub leak \
	'"AssertionError: expected 25" in o("t1", "traceback") and "OUT-LEAK 25" in o("t1", "stdout") and "ERR-LEAK 25" in o("t1", "stderr")'
# what students see
"$GRADER" export "$T/gb.json" --to gradescope -o "$T/gs" 2>/dev/null
check "gradescope export" test -s "$T/gs/leak/results.json"
"$GRADER" export "$T/gb.json" --to junit -o "$T/junit.xml" 2>/dev/null
check "junit export" test -s "$T/junit.xml"
"$GRADER" feedback "$T/gb.json" -o "$T/fb" 2>/dev/null
check "feedback" test -s "$T/fb/leak/hw/hw.html"
"$GRADER" feedback "$T/gb.json" -o "$T/fbmd" --to markdown 2>/dev/null
check "markdown feedback" test -d "$T/fbmd"
# the hidden test's value reaches no student-facing output, through the hidden
# cell or any cell that ran after it
for f in gs junit.xml fb fbmd; do
	check "no 'expected 25', 'OUT-LEAK', 'ERR-LEAK' in $f" sh -c \
		"! grep -rqE 'expected 25|OUT-LEAK|ERR-LEAK' '$T/$f'"
	check "no 'LEAKED', 'MOVED', 'TAIL' in $f" sh -c \
		"! grep -rqE 'LEAKED|MOVED|TAIL' '$T/$f'"
done
# gs T STUDENT EXPR: EXPR holds for the Gradescope test t of student STUDENT's results
gs() {
	$PY - "$T/gs/$1/results.json" "$2" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
t = {x["name"]: x for x in r["tests"]}["hw/t1"]
sys.exit(0 if eval(sys.argv[2]) else 1)
PYEOF
}
check "gradescope leak: failed, points and the exception's name, and why the rest is withheld" gs leak \
	't["status"] == "failed" and t["score"] == 0 and t["output"].startswith("AssertionError (the rest is withheld: this cell holds hidden tests")'
# honest control: the failure and its name are shown
check "gradescope wrong: failed with AssertionError" gs wrong \
	't["status"] == "failed" and t["score"] == 0 and t["max_score"] == 1 and "AssertionError" in t["output"]'
check "gradescope right: passed" gs right 't["status"] == "passed" and t["score"] == 1'
check "junit: the hidden cell's failures by name (leak, moved, wrong)" sh -c \
	"[ \$(grep -c 'AssertionError (the rest is withheld: this cell holds hidden tests' '$T/junit.xml') -eq 3 ]"
check "junit: the moved cell's failure by name" sh -c \
	"[ \$(grep -c 'AssertionError (the rest is withheld: this cell ran after' '$T/junit.xml') -eq 1 ]"
check "feedback wrong: the hidden test's failure shown by name" $PY - "$T/fb/wrong/hw/hw.html" <<'PYEOF'
import sys
t = open(sys.argv[1]).read()
assert "t1</b>: 0 / 1 points, failed" in t, "the result"
assert "<pre class=\"out err\">AssertionError</pre>" in t, "the exception's name"
assert "the rest is withheld: this cell holds hidden tests" in t, "why"
assert "square(5)" not in t, "the hidden test"
PYEOF
check "markdown feedback wrong: the exception's name" grep -rq AssertionError "$T/fbmd"
# what was withheld after the hidden test, and why
check "feedback moved: the moved cell's failure by name, and why the rest is withheld" \
	$PY - "$T/fb/moved/hw/hw.html" <<'PYEOF'
import sys
t = open(sys.argv[1]).read()
assert "t0</b>: 0 / 1 points, failed" in t, "the result"
assert "ran after a cell holding hidden tests" in t, "why"
PYEOF
check "gradescope moved: t0 failed, the exception's name and why" $PY - "$T/gs/moved/results.json" <<'PYEOF'
import json, sys
t = {x["name"]: x for x in json.load(open(sys.argv[1]))["tests"]}["hw/t0"]
assert t["status"] == "failed" and t["output"].startswith("AssertionError (the rest is withheld: this cell ran after"), t
PYEOF
check "gradescope early: the visible test above the hidden one shows its message" \
	grep -q "square(2) should be 4" "$T/gs/early/results.json"
check "junit early: the message shown" grep -q "square(2) should be 4" "$T/junit.xml"
check "feedback early: the message shown" grep -q "square(2) should be 4" "$T/fb/early/hw/hw.html"
# how long a cell ran is the student code's choice: timed sleeps by what the
# hidden test handed it; the withheld cells' times reach no student view
check "timed: full marks, the gradebook keeps its cells' times" sub timed \
	's["score"] == 3 and g["t1"]["time"] >= 0.3 and g["t2"]["time"] >= 0.4'
check "gradescope timed: execution time only of the cells shown" $PY - "$T/gs/timed/results.json" "$T/gb.json" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
s = [x for x in json.load(open(sys.argv[2]))["submissions"] if x["student_id"] == "timed"][0]
g = {x["grade_id"]: x for nb in s["notebooks"] for x in nb["grades"]}
assert abs(r["execution_time"] - g["t0"]["time"]) < 1e-9, (r["execution_time"], g["t0"]["time"])
PYEOF
check "junit timed: no time on the withheld cells, the suite's time without them" $PY - "$T/junit.xml" <<'PYEOF'
import sys, xml.etree.ElementTree as ET
suite = [s for s in ET.parse(sys.argv[1]).getroot().iter("testsuite") if "timed" in s.get("name", "")][0]
cases = {c.get("name"): c for c in suite.iter("testcase")}
assert cases["t0"].get("time") is not None, "t0 shown"
assert cases["t1"].get("time") is None and cases["t2"].get("time") is None, "t1, t2 withheld"
assert abs(float(suite.get("time")) - float(cases["t0"].get("time"))) < 0.002, suite.get("time")
PYEOF
finish
