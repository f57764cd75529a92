#!/bin/sh
# Attacks a red-team review ran through the real sandbox with `grader grade`,
# each a wrong answer plus a way to fake the test's tools while the tests run;
# each must be flagged with a reason, and the honest control must not be.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
T=$E2E_TMP
weaker=
[ "$(id -u)" = 0 ] || weaker=--allow-weaker
$PY "$ROOT/tests/fixtures/redteam/make_course.py" source "$T/hw.ipynb"
(cd "$T" && "$GRADER" rubric import hw.ipynb --assignment hw --no-auto-preload -o rubric.json 2>/dev/null)
check "rubric imports" test -s "$T/rubric.json"
"$GRADER" rubric release "$T/rubric.json" -o "$T/release" 2>/dev/null
$PY "$ROOT/tests/fixtures/redteam/make_course.py" submit "$T/release/hw.ipynb" "$T/sub"
"$GRADER" grade --rubric "$T/rubric.json" --submissions "$T/sub" -o "$T/gb.json" -q $weaker 2>"$T/err"
check "grade exits 0" test $? -eq 0
# sub STUDENT EXPR: EXPR holds for the student's submission s
sub() {
	$PY - "$T/gb.json" "$1" "$2" <<'PYEOF'
import json, sys
g = json.load(open(sys.argv[1]))
s = [x for x in g["submissions"] if x["student_id"] == sys.argv[2]][0]
sys.exit(0 if eval(sys.argv[3]) else 1)
PYEOF
}
check "honest: full marks, no flag" sub honest 's["score"] == 7 and not s["flags"]'
# the helper's hooks are the zygote's own references: rebinding their names does nothing
check "hooks: the wrong answer scores 0" sub hooks 's["score"] == 0'
for a in events pre_execute; do
	# the pre-test check runs after every piece of student code that precedes the test
	check "$a: flagged replaced_builtins" sub $a '"replaced_builtins" in s["flags"]'
	check "$a: the reason names builtins.abs" sub $a '"builtins.abs" in json.dumps(s.get("flag_reasons", {}))'
done
# frames run with builtins from their globals' __builtins__ key: rebinding it is flagged
for a in builtins_key builtins_sub; do
	check "$a: the wrong answer scores 0" sub $a 's["score"] == 0'
	check "$a: flagged replaced_builtins" sub $a '"__builtins__ rebound" in s.get("flag_reasons", {}).get("replaced_builtins", "")'
done
# a background thread faking abs only while a test's frame runs is flagged
check "frame_thread: flagged background_threads" sub frame_thread '"background_threads" in s["flags"]'
# student code writing to the result channel's fd never scores
check "channel: the wrong answer scores 0" sub channel 's["score"] == 0'
# the test's names are checked against the builtins right before it runs
check "shadow: flagged replaced_builtins" sub shadow '"replaced_builtins" in s["flags"]'
check "shadow: the reason names abs" sub shadow "\"binds 'abs' over builtins.abs\" in json.dumps(s.get('flag_reasons', {}))"
# signal handlers and interval timers are disarmed before a test, and flagged
check "sigalrm: the wrong answer scores 0" sub sigalrm 's["score"] == 0'
check "sigalrm: flagged with the timer and the handler" sub sigalrm '"interval timer" in json.dumps(s.get("flag_reasons", {})) and "handler of signal" in json.dumps(s.get("flag_reasons", {}))'
# a grade cell reads a fresh copy of the builtins; a write to builtins while it runs is
# flagged even when undone before the cell ends (no frame of the student's at check time)
check "gc_cb: the wrong answer scores 0" sub gc_cb 's["score"] == 0'
# finalizer: right for the visible values only, so the hidden test's 4 points are lost
check "finalizer: the hidden test fails" sub finalizer 's["score"] == 3'
check "gc_cb: flagged replaced_builtins" sub gc_cb '"gc.callbacks" in s.get("flag_reasons", {}).get("replaced_builtins", "") or "builtins written during grade cell" in s.get("flag_reasons", {}).get("replaced_builtins", "")'
check "finalizer: flagged builtins written" sub finalizer '"builtins written during grade cell 3" in s.get("flag_reasons", {}).get("replaced_builtins", "")'
# the engine's own signal keeps the engine's handler; a child process left running is flagged
check "usr2: the wrong answer scores 0" sub usr2 's["score"] == 0'
check "usr2: the engine's handler put back, flagged" sub usr2 '"(the engine\x27s) was replaced" in s.get("flag_reasons", {}).get("replaced_builtins", "")'
check "usr2: flagged background_processes" sub usr2 '"of the box still running when grade cell 2" in s.get("flag_reasons", {}).get("background_processes", "")'
check "pool: a closed and joined process pool is no flag" sub pool 's["score"] == 7 and not s["flags"]'
# numpy's dispatchers keep the implementation in a closure cell: replacing it is flagged, undone
if $PY -c 'import numpy' 2>/dev/null; then
	N=$T/np
	mkdir -p "$N"
	$PY "$ROOT/tests/fixtures/redteam/make_course.py" source-np "$N/hw.ipynb"
	(cd "$N" && "$GRADER" rubric import hw.ipynb --assignment hw --no-auto-preload -o rubric.json 2>/dev/null)
	"$GRADER" rubric release "$N/rubric.json" -o "$N/release" 2>/dev/null
	$PY "$ROOT/tests/fixtures/redteam/make_course.py" submit-np "$N/release/hw.ipynb" "$N/sub"
	"$GRADER" grade --rubric "$N/rubric.json" --submissions "$N/sub" -o "$T/gb.json" -q $weaker 2>"$T/err"
	check "numpy course: grade exits 0" test $? -eq 0
	check "numpy course: honest full marks, no flag" sub honest 's["score"] == 7 and not s["flags"]'
	check "closure: the wrong answer scores 0" sub closure 's["score"] == 0'
	check "closure: flagged with the function" sub closure '"closure cell of numpy" in s.get("flag_reasons", {}).get("replaced_builtins", "")'
else
	skip "closure" "numpy is not installed"
fi
finish
