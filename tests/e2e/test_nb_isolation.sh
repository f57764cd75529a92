#!/bin/sh
# Student code that runs while a grade cell runs (a function the test calls, a
# finalizer or weakref callback fired by the test's own `r = ...`, a dunder
# method the test triggers) changes a name or a module attribute the rest of
# the test reads and puts it back before the check after the cell; each route
# must be flagged with a reason, graded through the real sandbox with
# `grader grade`, and the honest controls must not be.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
T=$E2E_TMP
MK=$ROOT/tests/fixtures/isolation/make_course.py
# sub GRADEBOOK STUDENT EXPR: EXPR holds for the student's submission s
sub() {
	$PY - "$1" "$2" "$3" <<'PYEOF'
import json, sys
g = json.load(open(sys.argv[1]))
s = [x for x in g["submissions"] if x["student_id"] == sys.argv[2]][0]
r = s.get("flag_reasons", {})
sys.exit(0 if eval(sys.argv[3]) else 1)
PYEOF
}
attack_course "$T/c" "$MK"
check "grade exits 0" test $? -eq 0
G=$T/c/gb.json
check "honest: full marks, no flag" sub "$G" honest 's["score"] == 7 and not s["flags"]'
# a. a fake abs bound in the namespace while the test runs, removing itself when called:
# from the student's function the test calls (globals(), a frame's f_globals or f_locals,
# a traceback's frame): put back before the cell ended
for a in a_globals a_getframe a_flocals a_tbframe; do
	check "$a: flagged namespace_written, abs put back" sub "$G" $a \
		"\"'abs', read by grade cell 2, was bound by other code while the test ran and put back\" in r.get('namespace_written', '')"
done
# the same for abs read by close(), the helper the first test cell defined
check "a_helper: flagged namespace_written, abs put back, by the second test cell" sub "$G" a_helper \
	"\"'abs', read by grade cell 3, was bound by other code while the test ran and put back\" in r.get('namespace_written', '')"
# ... or its code swapped while the test runs
check "a_helper_code: flagged replaced_builtins, close.__code__" sub "$G" a_helper_code \
	"'close.__code__, of a function locked cell 2 defined, replaced (during grade cell 3)' in r.get('replaced_builtins', '')"
check "a_left: flagged replaced_builtins, abs left over the builtin" sub "$G" a_left \
	"\"binds 'abs' over builtins.abs while grade cell 2 runs\" in r.get('replaced_builtins', '')"
# ... from code the test did not call: a finalizer, weakref.finalize, a weakref callback,
# a C function (weakref.finalize(o, operator.setitem, ...)), a dunder method (r - 9)
for a in a_del a_finalize a_weakref a_partial a_dunder; do
	check "$a: flagged namespace_written, abs rebound uninvited" sub "$G" $a \
		"\"'abs', read by grade cell 2, was rebound by code the test did not call\" in r.get('namespace_written', '')"
done
# b. a module function the test reads replaced while it runs, put back by the fake
check "b_module: flagged replaced_builtins, naming math.isclose" sub "$G" b_module \
	"'math.isclose, read by grade cell 3, was replaced while the test ran' in r.get('replaced_builtins', '')"
check "b_class: flagged replaced_builtins, naming Counter.most_common" sub "$G" b_class \
	"'collections.Counter.most_common, read by grade cell 3, was replaced while the test ran' in r.get('replaced_builtins', '')"
# sys.modules swapped (or emptied) while the test runs: its own import gets the system's module
check "b_sysmod: flagged shadowed_module, the test's import got the system's" sub "$G" b_sysmod \
	"\"sys.modules['statistics'] replaced while grade cell 3 ran\" in r.get('shadowed_module', '') and s['score'] <= 3"
check "b_sysmod_del: flagged shadowed_module" sub "$G" b_sysmod_del \
	"\"sys.modules['statistics'] removed while grade cell 3 ran\" in r.get('shadowed_module', '')"
# the finalizer would fire when the test rebinds r, but what the namespace held when the
# cell started is held until it ends: the fake comes too late, the test fails
check "b_partial: the second test cell scores 0" sub "$G" b_partial 's["score"] == 3'

# c. the test's own r rewritten by a finalizer its `r = ...` fires, by every route
for a in c_getframe c_flocals c_globals c_tbframe c_partial c_settrace; do
	check "$a: flagged namespace_written, naming r" sub "$G" $a \
		"\"'r', bound by grade cell 2 itself, was rebound by code the test did not call\" in r.get('namespace_written', '')"
done
# the checks switched off on the test's frame, then r rewritten (weakref.finalize)
check "c_off: flagged namespace_written" sub "$G" c_off \
	"'checks inside grade cell 2 were switched off' in r.get('namespace_written', '') or \"'r', bound by grade cell 2 itself, was rebound by code the test did not call\" in r.get('namespace_written', '')"
# honest: lazy imports (scipy.linalg when installed), warnings.catch_warnings and
# contextlib.redirect_stdout inside the student's function; a helper the first test cell
# defines used by the second; a test cell importing a module
check "honest_lazy: full marks, no flag" sub "$G" honest_lazy 's["score"] == 7 and not s["flags"]'
if $PY -c 'import scipy.linalg' 2>/dev/null; then
	check "honest_scipy: full marks, no flag" sub "$G" honest_scipy \
		's["score"] == 7 and not s["flags"]'
else
	skip "honest_scipy" "scipy is not installed"
fi
# a student function with `global count`: the test reads what it wrote, as in nbgrader
attack_course "$T/k" "$MK" -counter
check "counter course: grade exits 0" test $? -eq 0
check "counter: full marks, no flag" sub "$T/k/gb.json" honest 's["score"] == 7 and not s["flags"]'
# a locked cell's helper (not a grade cell) with its code or defaults replaced before the test
attack_course "$T/l" "$MK" -locked
check "locked course: grade exits 0" test $? -eq 0
check "locked: honest full marks, no flag" sub "$T/l/gb.json" honest 's["score"] == 1 and not s["flags"]'
check "d_code: flagged check.__code__" sub "$T/l/gb.json" d_code \
	"'check.__code__, of a function locked cell 1 defined, replaced (found before grade cell 3)' in r.get('replaced_builtins', '')"
check "d_defaults: flagged check.__defaults__" sub "$T/l/gb.json" d_defaults \
	"'check.__defaults__, of a function locked cell 1 defined, replaced (found before grade cell 3)' in r.get('replaced_builtins', '')"
# The zygote's own executable, which every box reaches as /proc/self/exe (a
# memfd when the zygote is the lean program the binary carries), takes nothing
# from a box: no xattr (which would outlive the box: a channel to the next
# student, kernel memory charged to the slot), no times, no write, no chmod;
# the next notebook of the same zygote sees no xattr.
cat >"$T/exe_a.py" <<'PYEOF'
# %%
import os
def tryit(name, f):
    try:
        f()
        print(name, "DONE")
    except OSError as e:
        print(name, "refused", e.errno)
exe = "/proc/self/exe"
tryit("setxattr user", lambda: os.setxattr(exe, "user.from_a", b"def squares(n): ..."))
tryit("setxattr security", lambda: os.setxattr(exe, "security.x", b"1"))
tryit("setxattr trusted", lambda: os.setxattr(exe, "trusted.x", b"1"))
tryit("utime now", lambda: os.utime(exe))
tryit("utime set", lambda: os.utime(exe, (1, 1)))
tryit("open for writing", lambda: open(exe, "r+b").close())
tryit("truncate", lambda: os.truncate(exe, 0))
tryit("chmod", lambda: os.chmod(exe, 0o777))
PYEOF
cat >"$T/exe_b.py" <<'PYEOF'
# %%
import os
print("SEEN", os.listxattr("/proc/self/exe"))
PYEOF
"$GRADER" nb run --json "$T/exe_a.py" "$T/exe_b.py" >"$T/exe.json" 2>"$T/exe.err"
# exe_out N: what notebook N printed
exe_out() { $PY -c 'import json, sys; print(json.load(open(sys.argv[1]))["notebooks"][int(sys.argv[2])]["cells"][0]["stdout"], end="")' "$T/exe.json" "$1"; }
check "/proc/self/exe: every write refused (8 ways)" test "$(exe_out 0 | grep -c ' refused ')" -eq 8
check "/proc/self/exe: nothing done" test "$(exe_out 0 | grep -c DONE)" -eq 0
check "/proc/self/exe: the next notebook sees no xattr" test "$(exe_out 1)" = "SEEN []"
finish
