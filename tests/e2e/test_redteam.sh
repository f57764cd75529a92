#!/bin/sh
# Attacks a red-team review ran through the real sandbox with `grader grade`,
# each a wrong answer plus a way to fake the test's tools while the tests run;
# each must be flagged with a reason, and the honest control must not be.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
T=$E2E_TMP
attack_course "$T" "$ROOT/tests/fixtures/redteam/make_course.py"
check "grade exits 0" test $? -eq 0
check "rubric imports" test -s "$T/rubric.json"
# sub STUDENT EXPR: EXPR holds for the student's submission s
sub() { gb_sub "$T/gb.json" "$@"; }
sub2() { gb_sub "$T/gb2.json" "$@"; }
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
	attack_course "$N" "$ROOT/tests/fixtures/redteam/make_course.py" -np
	check "numpy course: grade exits 0" test $? -eq 0
	check "numpy course: honest full marks, no flag" gb_sub "$N/gb.json" honest 's["score"] == 7 and not s["flags"]'
	check "closure: the wrong answer scores 0" gb_sub "$N/gb.json" closure 's["score"] == 0'
	check "closure: flagged with the function" gb_sub "$N/gb.json" closure '"closure cell of numpy" in s.get("flag_reasons", {}).get("replaced_builtins", "")'
else
	skip "closure" "numpy is not installed"
fi
# the import-time attacks, graded in a run of their own
$PY "$ROOT/tests/fixtures/redteam/make_course.py" submit-more "$T/release/hw.ipynb" "$T/sub2"
"$GRADER" grade --rubric "$T/rubric.json" --submissions "$T/sub2" -o "$T/gb2.json" -q $weaker 2>"$T/err2"
check "grade of the import-time attacks exits 0" test $? -eq 0
check "honest (second run): full marks, no flag" sub2 honest 's["score"] == 7 and not s["flags"]'
# a submission module's import is the student's code: what it replaces is flagged
check "in_import: flagged replaced_builtins for builtins.abs" sub2 in_import '"builtins.abs" in s.get("flag_reasons", {}).get("replaced_builtins", "")'
check "in_import: flagged shadowed_module for statistics" sub2 in_import '"statistics" in s.get("flag_reasons", {}).get("shadowed_module", "")'
check "in_import_attr: flagged statistics.mean" sub2 in_import_attr '"statistics.mean rebound" in s.get("flag_reasons", {}).get("replaced_builtins", "")'
# a module made by hand is flagged even when its spec claims a system file
check "forged_spec: flagged shadowed_module" sub2 forged_spec '"sys.modules[\x27statistics\x27] replaced by hand" in s.get("flag_reasons", {}).get("shadowed_module", "")'
# a fresh interpreter (no audit hook, real ctypes) started by the notebook cannot reach it
cp "$ROOT/tests/fixtures/redteam/reach.py" "$T/reach.py"
"$GRADER" nb run --json $weaker "$T/reach.py" >"$T/reach.json" 2>"$T/reach.err"
check "reach: nb run exits 0" test $? -eq 0
# line RESULT.json WORD: what the notebook printed after WORD
line() {
	$PY - "$1" "$2" <<'PYEOF'
import json, sys
for c in json.load(open(sys.argv[1]))["notebooks"][0]["cells"]:
    for l in (c["stdout"] or "").splitlines():
        if l.startswith(sys.argv[2] + " "):
            print(l[len(sys.argv[2]) + 1:])
PYEOF
}
line "$T/reach.json" REACH >"$T/reach.out"
reach() { $PY -c 'import json, sys; r = json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$T/reach.out" "$1"; }
for k in process_vm_readv ptrace_attach pidfd_getfd; do
	check "reach: $k refused (EPERM)" reach "r['$k'] == [-1, 1]"
done
if [ -z "$weaker" ]; then
	check "reach: /proc of the notebook and of pid 1 not readable" reach 'all(v == 13 for k, v in r.items() if k.startswith("/proc/"))'
else
	skip "reach: /proc of the notebook and of pid 1 not readable" "as non-root the box keeps the caller's uid"
fi
line "$T/reach.json" PRELOAD >"$T/preload.out"
check "preload: a box-written library is not preloaded into a program" grep -q 'cannot be preloaded' "$T/preload.out"
line "$T/reach.json" EXTENSION >"$T/ext.out"
check "extension: a box-written extension does not load in a fresh interpreter" grep -q 'failed to map segment' "$T/ext.out"
# bytecode from a zip on sys.path is unmarshalled by zipimport, not importlib: refused
cp "$ROOT/tests/fixtures/redteam/bytecode_zip.py" "$T/bytecode_zip.py"
"$GRADER" nb run --json $weaker "$T/bytecode_zip.py" >"$T/zip.json" 2>"$T/zip.err"
check "zipimport: nb run exits 0" test $? -eq 0
line "$T/zip.json" ZIP >"$T/zip.out"
check "zipimport: the .pyc is refused" grep -qx 'refused PermissionError' "$T/zip.out"
# a notebook's outputs are capped as a whole, and a cell's displays are counted
cp "$ROOT/tests/fixtures/redteam/outputs.py" "$T/outputs.py"
"$GRADER" nb run --json --output-cap 1048576 $weaker "$T/outputs.py" >"$T/out.json" 2>"$T/out.err"
check "outputs: nb run exits 0" test $? -eq 0
outputs() { $PY -c 'import json, sys; n = json.load(open(sys.argv[1]))["notebooks"][0]; sys.exit(0 if eval(sys.argv[2]) else 1)' "$T/out.json" "$1"; }
check "outputs: not tampered, every cell ok" outputs 'not n["tampered"] and all(c["status"] == "ok" for c in n["cells"])'
check "outputs: the total is capped" outputs 'sum(len(c["stdout"] or "") + len(c["result"] or "") for c in n["cells"]) <= 17 << 20'
check "outputs: the later cells say their outputs were dropped" outputs '"outputs dropped" in (n["cells"][-1]["note"] or "")'
check "outputs: 30 000 displays, 10 000 kept, noted" outputs 'any(5000 <= len(c["outputs"]) <= 10001 and "30000 displays, 10000 kept" in (c["note"] or "") for c in n["cells"])'
finish
