#!/bin/sh
# Attacks on what a test reads, through the real sandbox with `grader grade`
# (and `grader nb run`): a student function a hidden test calls reading the
# test's code (its expected values) through frames, tracebacks, functions and
# gc, to print them in a later visible test; dict keys that equal a name only
# when a test looks it up; honest controls (logging, warnings, inspect.stack()
# reaching a hidden test's frames) that must keep working.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
T=$E2E_TMP
MK=$ROOT/tests/fixtures/frames/make_course.py
attack_course "$T" "$MK"
check "grade exits 0" test $? -eq 0
check "rubric imports" test -s "$T/rubric.json"
# sub STUDENT EXPR: EXPR holds for the student's submission s (g: grades by id)
sub() { gb_sub "$T/gb.json" "$@"; }
# the hidden test's constants: its expected value and its message
SECRET='1234321|1111|HIDDEN_SECRET_MARK'
check "honest: full marks, no flag" sub honest 's["score"] == 8 and not s["flags"]'
# logging, warnings, traceback's summaries and pandas walk through the hidden test's frames
check "honest_frames: full marks, no flag" sub honest_frames 's["score"] == 8 and not s["flags"]'
check "honest_frames: logging and stack summaries saw the hidden test's frames" sub honest_frames \
	'all(w in out("t3") for w in ("log:_hidden_check", "log:<module>", "summary:<genexpr>", "summary:_hidden_check", "pandas:True"))'
check "honest_frames: inspect.stack() in a visible test" sub honest_frames '"stack:square" in out("t3") and "stack:<module>" in out("t3")'
for a in getframe inspect traceback func_code referents get_objects locals stack gen_frame \
	lent_code capture_locals; do
	# the right answer keeps its points; the code it tried to read was refused
	check "$a: full marks for the right answer" sub $a 's["score"] == 8'
	check "$a: reading the hidden test's code refused" sub $a 'out("t3").startswith("LEAK [\x27PermissionError\x27")'
done
check "saved_exception: the hidden test fails" sub saved_exception 's["score"] == 4'
check "saved_exception: no local of the test's reached" sub saved_exception '"LEAK" in out("t3") and "1234321" not in out("t3")'
# a thread listing every frame while the hidden test runs is refused (the test fails)
check "threads: sys._current_frames refused during the hidden test" sub threads \
	'"PermissionError" in (g["t2"].get("output") or {}).get("stderr", "")'
# outputs NAME: no output of any cell in the gradebook holds a hidden constant
outputs() {
	$PY - "$T/gb.json" "$SECRET" <<'PYEOF'
import json, re, sys
gb = json.load(open(sys.argv[1]))
# (but the traceback of a hidden test that failed: the gradebook is the instructor's)
o = [x.get("output") for s in gb["submissions"] for nb in s["notebooks"] for x in nb["grades"]
     if s["student_id"] not in ("wrong_hidden", "saved_exception")]
sys.exit(1 if re.search(sys.argv[2], json.dumps(o)) else 0)
PYEOF
}
check "no hidden constant in any output" outputs
# what students see: Gradescope's results, JUnit, feedback pages
"$GRADER" export "$T/gb.json" --to gradescope -o "$T/gs" 2>/dev/null
check "gradescope export" test -d "$T/gs"
"$GRADER" export "$T/gb.json" --to junit -o "$T/junit.xml" 2>/dev/null
check "junit export" test -s "$T/junit.xml"
"$GRADER" feedback "$T/gb.json" -o "$T/fb" 2>/dev/null
check "feedback" test -d "$T/fb"
"$GRADER" feedback "$T/gb.json" -o "$T/fbmd" --to markdown 2>/dev/null
# a hidden test's own traceback shows only the exception's name (not its message)
check "wrong_hidden: the hidden test fails" sub wrong_hidden 's["score"] == 4'
for f in gs junit.xml fb fbmd; do
	check "no hidden constant in $f" sh -c "! grep -rq 1234321 '$T/$f'"
done
check "gradescope: the hidden test's exception by name" grep -q 'AssertionError (the rest is withheld' "$T/gs/wrong_hidden/results.json"
for f in gs junit.xml fb fbmd; do
	check "no hidden test's message in $f" sh -c "! grep -rq HIDDEN_SECRET_MARK '$T/$f'"
done
# dict keys that are no plain str, equal to a name only when a test's frame asks
for a in key_ns key_obj key_modules key_module_dict; do
	check "$a: the wrong answer scores 0" sub $a 's["score"] == 0'
done
check "key_ns: flagged with the key" sub key_ns \
	'"the notebook\x27s namespace holds a key of type S equal to \x27math\x27" in s.get("flag_reasons", {}).get("replaced_builtins", "")'
check "key_obj: flagged with the key's type" sub key_obj \
	'"the notebook\x27s namespace holds a key of type K, not a str" in s.get("flag_reasons", {}).get("replaced_builtins", "")'
check "key_modules: flagged shadowed_module" sub key_modules \
	'"sys.modules holds a key of type S equal to \x27math\x27" in s.get("flag_reasons", {}).get("shadowed_module", "")'
check "key_module_dict: flagged with the module" sub key_module_dict \
	'"module math holds a key of type S equal to \x27isclose\x27" in s.get("flag_reasons", {}).get("replaced_builtins", "")'
check "key_builtins: flagged with the key" sub key_builtins \
	'"builtins holds a key of type S equal to \x27len\x27" in s.get("flag_reasons", {}).get("replaced_builtins", "")'
# a module name the test reads bound to another system module, given the attribute it reads
for a in other_module other_alias other_builtin; do
	check "$a: the wrong answer scores 0" sub $a 's["score"] == 0'
	check "$a: flagged with both modules" sub $a \
		'"bound by cell 1 to another system module \x27keyword\x27, not the system module \x27math\x27 (the test gets the system\x27s)" in s.get("flag_reasons", {}).get("shadowed_module", "")'
	check "$a: the attribute added is flagged" sub $a \
		'"keyword.isclose added: a callable that is not the module\x27s own (cell 1)" in s.get("flag_reasons", {}).get("replaced_builtins", "")'
done
check "honest_modules: submodules and modules under their own names, no flag" sub honest_modules 's["score"] == 8 and not s["flags"]'
check "key_type: a builtin type's dict, flagged with the key" sub key_type \
	'"the builtin type int holds a key of type S equal to \x27bit_length\x27" in s.get("flag_reasons", {}).get("replaced_builtins", "")'
# the statistics course: the test's own import must get the system's module
S=$T/stats
attack_course "$S" "$MK" -stats
check "statistics course: grade exits 0" test $? -eq 0
# stat_sub STUDENT EXPR: as sub, in the statistics course
stat_sub() { gb_sub "$S/gb.json" "$@"; }
check "statistics course: honest full marks, no flag" stat_sub honest 's["score"] == 1 and not s["flags"]'
check "honest_path: a helper folder on sys.path, no flag" stat_sub honest_path 's["score"] == 1 and not s["flags"]'
for a in cache_finder cache_other_dir path_file; do
	check "$a: the wrong answer scores 0" stat_sub $a 's["score"] == 0'
	check "$a: flagged shadowed_module" stat_sub $a '"shadowed_module" in s["flags"]'
done
for a in finder_rebound loader_exec; do
	check "$a: the wrong answer scores 0" stat_sub $a 's["score"] == 0'
	check "$a: flagged, undone for the tests" stat_sub $a '"(cell 1; put back for the tests)" in r or "(cell 1; removed for the tests)" in r'
done
check "cache_finder: the reason names the cache" stat_sub cache_finder '"sys.path_importer_cache held a _F" in r'
check "path_file: the reason names the file" stat_sub path_file '"/tmp/zz/statistics.py\x27 on sys.path shadows the system module" in r'
# nb run of the instructor's notebook with a leaking answer: its hidden tests are guarded too
$PY - "$T/hw.ipynb" "$T/sub/getframe/hw/hw.ipynb" "$T/nb.ipynb" <<'PYEOF'
import json, sys
src, att = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
src["cells"][0]["source"] = att["cells"][0]["source"]
json.dump(src, open(sys.argv[3], "w"))
PYEOF
"$GRADER" nb run --json $weaker "$T/nb.ipynb" >"$T/nb.json" 2>"$T/nb.err"
check "nb run exits 0" test $? -eq 0
check "nb run: the hidden test's code refused" grep -q "LEAK \[.PermissionError" "$T/nb.json"
# (not 1111: a time in the JSON may hold those digits)
check "nb run: no hidden constant in its output" sh -c "! grep -Eq '1234321|HIDDEN_SECRET_MARK' '$T/nb.json'"
finish
