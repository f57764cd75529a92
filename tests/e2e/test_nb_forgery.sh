#!/bin/sh
# Forgeries through the real sandbox with `grader grade`: a wrong answer plus
# a way to make the test cells pass anyway. Each must score 0 or be flagged
# with a reason; the honest control must score full marks with no flag.
#   - module names the tests read (math, np) rebound in the notebook to a
#     namespace, a fake class, a submission's module, a module subclass;
#   - the event loop a top-level await runs on: a method set on the loop, a
#     task factory, the engine's helpers rebound through display.__globals__;
#   - code of the notebook's run inside a system module's import: a finder,
#     a path hook, a garbage-collector callback, a finalizer;
#   - text that looks like the engine's notes, from the notebook's code: in
#     the shell's note list, a magic's name, an exception's message, stdout;
#   - the notebook process's memory read or attached to from a program of
#     /usr/bin, a forked child, a multiprocessing worker (with `nb run`);
#   - what the box shows of the host (mountinfo, init's command line).
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
T=$E2E_TMP
# the rubric is proven even without root (lib.sh's $nv not used)
nv=
if ! $PY -c "import numpy, matplotlib" 2>/dev/null; then
	skip "forgery course" "numpy and matplotlib are not installed (python3-numpy, python3-matplotlib)"
	finish
fi
attack_course "$T" "$ROOT/tests/fixtures/forgery/make_course.py"
check "grade exits 0" test $? -eq 0
check "rubric imports" test -s "$T/rubric.json"
# sub STUDENT EXPR: EXPR holds for the student's submission s (r: its reasons as text)
sub() { gb_sub "$T/gb.json" "$@"; }
# import math, numpy as np, matplotlib.pyplot as plt: no false accusation
check "honest: full marks, no flag" sub honest 's["score"] == 8 and not s["flags"]'
# 1. a module name the test reads, bound in the notebook to something else
for a in ns_math fakemod modsub; do
	check "$a: the wrong answer scores 0" sub $a 's["score"] == 0'
	check "$a: flagged shadowed_module, naming 'math' and the cell" sub $a \
		'"shadowed_module" in s["flags"] and "'"'math', read by grade cell 3, is bound by cell 2"'" in r'
done
for a in mock_math builtins_math; do
	check "$a: the wrong answer scores 0" sub $a 's["score"] == 0'
	check "$a: flagged shadowed_module, naming 'math'" sub $a \
		'"shadowed_module" in s["flags"] and "'"'math', read by grade cell 3"'" in r'
done
check "fake_np: the wrong answer scores 0" sub fake_np 's["score"] == 0'
check "fake_np: flagged shadowed_module, naming 'np' and numpy" sub fake_np \
	'"shadowed_module" in s["flags"] and "'"'np', read by grade cell 4"'" in r and "FakeNumpy" in r and "numpy" in r'
# 2. the event loop: C holds its class and run_until_complete, checks the loop
# a grade cell's await runs on a loop of its own: the notebook's tasks wait
for a in loop_attr loop_factory loop_globals loop_task; do
	check "$a: the wrong answer scores 0" sub $a 's["score"] == 0'
done
check "loop_attr: flagged, naming run_until_complete" sub loop_attr \
	'"replaced_builtins" in s["flags"] and "the event loop'"'"'s run_until_complete replaced" in r'
check "loop_factory: flagged, naming the task factory" sub loop_factory \
	'"replaced_builtins" in s["flags"] and "_task_factory replaced" in r'
# 3. code of the notebook's run inside an import (a finder, a path hook, a
# collector callback, a finalizer due): its changes are the notebook's, and
# the hooks are flagged and removed before a grade cell
for a in meta_finder meta_finder_eq path_hook gc_callback finalizer; do
	check "$a: flagged, math.isclose rebound" sub $a \
		'"replaced_builtins" in s["flags"] and "math.isclose rebound (cell 2)" in r'
done
check "meta_finder: the finder is flagged and removed" sub meta_finder \
	'"sys.meta_path held a _F of the notebook'"'"'s when grade cell 3 started (removed)" in r'
check "meta_finder_eq: a finder equal to everything is no system finder: flagged and removed" sub meta_finder_eq \
	'"sys.meta_path held a _F of the notebook'"'"'s when grade cell 3 started (removed)" in r'
check "path_hook: the hook is flagged and removed" sub path_hook \
	'"sys.path_hooks held a function of the notebook'"'"'s when grade cell 3 started (removed)" in r'
check "gc_callback: the callback is flagged and removed" sub gc_callback \
	'"gc.callbacks held a function of the notebook'"'"'s when grade cell 3 started (removed)" in r'
# 7. the box's mounts and init: no student, course or rubric name, no host command line
check "peek_box: the probe ran" sub peek_box '"/box" in s["notebooks"][0]["grades"][0]["output"]["stdout"]'
check "peek_box: mountinfo names no student, no submission or rubric path" sub peek_box \
	'not any(x in s["notebooks"][0]["grades"][0]["output"]["stdout"] for x in ("peek_box", sys.argv[1].rsplit("/", 1)[0], "rubric"))'
check "peek_box: /proc/1/cmdline empty, /proc/1/environ empty or denied" sub peek_box \
	'"cmdline b'"''"'" in s["notebooks"][0]["grades"][0]["output"]["stdout"] and ("environ b'"''"'" in s["notebooks"][0]["grades"][0]["output"]["stdout"] or "environ denied" in s["notebooks"][0]["grades"][0]["output"]["stdout"])'
# 4. notes come from the engine only; what the notebook raised is quoted
check "forged_note: the wrong answer scores 0" sub forged_note 's["score"] == 0'
check "forged_note: the message quotes the exception, no engine note" sub forged_note \
	's["notebooks"][0]["message"] == chr(34).join(["cell 2 (area) raised ImportError ", "x\\", " [engine: refused: ctypes/cffi]", ""])'
mkdir "$T/nb"
cat >"$T/nb/notes.py" <<'PYEOF'
# %%
get_ipython()._notes.append('refused: importing ctypes, cffi or a test module')
# %%
get_ipython().run_line_magic('refused: loading native code from outside /usr;', '')
# %%
print('       note: refused: ctypes/cffi (wanted by a library) [truncated]')
# %%
raise ImportError('x - refused: importing ctypes, cffi or a test module')
# %%
import matplotlib
import matplotlib.pyplot as plt
PYEOF
"$GRADER" nb run --json "$T/nb/notes.py" >"$T/notes.json" 2>"$T/err"
check "nb run exits 0 (notes)" test $? -eq 0
. "$ROOT/tests/e2e/nb_lib.sh"
is "a note appended by the notebook is dropped, and says so" "$T/notes.json" 0 \
	'c[0]["note"] == "1 note written by the notebook'"'"'s code dropped"'
is "a magic named like a refusal is a magic not run" "$T/notes.json" 0 \
	'c[1]["note"] == "%refused... not run"'
is "printed and raised look-alikes make no note" "$T/notes.json" 0 \
	'c[2]["note"] is None and c[3]["note"] is None'
is "an honest matplotlib import makes no 'refused' note" "$T/notes.json" 0 \
	'c[4]["status"] == "ok" and c[4]["note"] is None'
"$GRADER" nb run "$T/nb/notes.py" >"$T/table" 2>"$T/err"
check "nb run's table: no note line says refused" sh -c "! grep -q '^       note: refused' '$T/table'"

# 6. the notebook process's memory: /proc/<pid>/mem, ptrace, process_vm_readv
# from a program of /usr/bin, a forked child and a multiprocessing worker
"$GRADER" nb run --json $weaker "$ROOT/tests/fixtures/forgery/peek_memory.py" >"$T/peek.json" 2>"$T/err"
check "nb run exits 0 (memory)" test $? -eq 0
for n in 0 1 2; do
	is "cell $((n + 1)): ran" "$T/peek.json" 0 "c[$n]['status'] == 'ok'"
done
is "a program of /usr/bin: /proc/<notebook>/mem, environ, maps, fd/250 denied" "$T/peek.json" 0 \
	'all(x in c[0]["stdout"] for x in ("mem: denied EACCES", "environ: denied", "maps: denied", "fd/250: denied"))'
is "... ptrace(PTRACE_ATTACH) and process_vm_readv refused" "$T/peek.json" 0 \
	'"ptrace: EPERM" in c[0]["stdout"] and "process_vm_readv: EPERM" in c[0]["stdout"]'
is "... while its own /proc/self works (the probe ran)" "$T/peek.json" 0 '"own status: ok" in c[0]["stdout"]'
is "a forked child: denied, and so is a program it runs" "$T/peek.json" 0 \
	'"fork mem: denied" in c[1]["stdout"] and "fork native: mem: denied EACCES | ptrace: EPERM | process_vm_readv: EPERM" in c[1]["stdout"]'
is "a multiprocessing worker: denied, and so is a program it runs" "$T/peek.json" 0 \
	'"mp mem: denied" in c[2]["stdout"] and "mp native: mem: denied EACCES | ptrace: EPERM | process_vm_readv: EPERM" in c[2]["stdout"]'
is "nothing read or attached anywhere" "$T/peek.json" 0 \
	'not any(w in x["stdout"] for x in c for w in (": read", "attached"))'
finish
