#!/bin/sh
# grader nb run on hostile notebooks (tests/fixtures/nb): every attempt to
# forge a result, hide a failure or escape the interpreter's rules must leave
# the final test cell (`assert f(2) == 4`, false) NOT reported ok, and the
# notebook flagged where the attempt is detectable.
. "$(dirname "$0")/lib.sh"
FIX="$ROOT/tests/fixtures/nb"
OUT="$E2E_TMP/out.json"

"$GRADER" nb run --json --preload numpy --timeout-cell 2 --grace 0.5 \
	"$FIX"/*.py >"$OUT" 2>"$E2E_TMP/err"
check "hostile batch exits 0" test $? -eq 0

# q NAME EXPR: evaluate EXPR on the result of fixture NAME (d: notebook, c: cells)
q() {
	/usr/bin/python3 - "$OUT" "$1" "$2" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
d = [n for n in doc["notebooks"] if n["notebook"].endswith("/" + sys.argv[2] + ".py")][0]
c = d["cells"]
print(eval(sys.argv[3]))
PY
}
# is NAME EXPR: pass when EXPR is True for fixture NAME
is() { check "$1: $2" test "$(q "$1" "$2")" = True; }

for name in forge_fd_write forge_stdout hide_traceback exit_early fork_exit ctypes_poke \
	timeout_catcher proc_mem settrace_jump thread_garbage code_object later_cells \
	fork_channel native_routes huge_values; do
	is $name 'c[-1]["status"] != "ok"'
done

is forge_fd_write 'd["tampered"] and d["status"] == "tampered"'
is forge_fd_write 'c[-1]["status"] == "not_run" and c[-2]["ename"] == "TamperingDetected"'
is thread_garbage 'd["tampered"]'
is exit_early 'd["tampered"] and c[-1]["status"] == "not_run"'
is exit_early '"os._exit" in c[-2]["evalue"]'

is forge_stdout 'c[-1]["ename"] == "AssertionError" and not d["tampered"]'
is forge_stdout '"assert f(2) == 4" in c[-1]["traceback"]'
is hide_traceback 'c[-1]["ename"] == "AssertionError"'
is hide_traceback '"<cell 4>" in c[-1]["traceback"] and "assert f(2) == 4" in c[-1]["traceback"]'
is hide_traceback '"traceback.format_exc" in d["replaced"]'

# Forking is allowed; a forked process has no channel and no key: the copy
# that carries on after its parent exited reports nothing.
is fork_exit 'd["tampered"] and "without reporting" in d["message"]'
is fork_exit 'c[2]["ename"] == "DeadKernelError" and c[-1]["status"] == "not_run"'
is fork_channel 'c[2]["status"] == "ok" and c[2]["stdout"].strip() == "child reached []"'
is fork_channel 'c[3]["status"] == "ok" and c[-1]["ename"] == "AssertionError" and not d["tampered"]'
# `import ctypes` gives an inert module (pandas imports ctypes); the real one never loads.
is ctypes_poke 'c[2]["status"] == "ok" and all(x["status"] == "error" for x in c[3:6])'
is ctypes_poke 'c[6]["status"] == "ok"'
is proc_mem 'all(x["ename"] == "PermissionError" for x in c[2:8])'
is settrace_jump 'c[2]["ename"] == "PermissionError" and c[3]["ename"] == "PermissionError"'
is settrace_jump 'c[-1]["ename"] == "AssertionError"'
is code_object 'all(x["ename"] == "PermissionError" for x in c[2:8])'

is timeout_catcher 'd["timed_out"] and d["status"] == "timeout"'
is timeout_catcher 'c[2]["status"] == "timeout" and c[-1]["status"] == "not_run"'

# A cell not yet run is no Python object: nothing to find, replace or print.
is later_cells 'c[2]["status"] == "ok" and c[2]["stdout"].startswith("found 0 replaced 0 ")'
is later_cells 'c[-1]["ename"] == "AssertionError" and "secret_expected" in c[-1]["traceback"]'
is later_cells 'c[3]["ename"] == "ZeroDivisionError" and "<cell 6>\", line 3" in c[3]["traceback"]'
is later_cells 'not any("SECRET" in (x["stdout"] + x["stderr"] + (x["traceback"] or "")) for x in c[:-1])'

# No route from Python to native code or to an address.
is native_routes 'all(x["status"] == "error" for x in c[2:12])'
is native_routes '"SQLite extension" in c[2]["evalue"] and "SQLite extension" in c[3]["evalue"]'
is native_routes 'c[4]["ename"] == "ImportError" and "_tkinter" in c[5]["evalue"]'
is native_routes 'all(x["ename"] in ("PermissionError", "AttributeError") for x in c[6:11])'
is native_routes 'c[11]["ename"] in ("OSError", "PermissionError") and c[-1]["ename"] == "AssertionError"'

# What a student prints is cut in the child, never taken for tampering.
is huge_values 'not d["tampered"] and d["status"] == "ok" and c[-1]["ename"] == "AssertionError"'
is huge_values 'len(c[2]["result"]) == 65536 and "result truncated" in c[2]["note"]'
is huge_values 'len(c[3]["evalue"]) == 65536 and "evalue truncated" in c[3]["note"]'
is huge_values '"ename truncated" in c[4]["note"] and "ename truncated" in c[6]["note"]'

# Monkeypatching can make a test pass; it cannot go unnoticed.
is monkeypatch '"builtins.len" in d["replaced"] and "numpy.allclose" in d["replaced"]'

# Nothing student code printed was taken for a result.
is forge_stdout 'c[2]["status"] == "ok" and c[2]["stdout"].startswith("{")'

# Native code planted in the box: an extension module built here, imported there.
if command -v cc >/dev/null && [ -f /usr/include/python3.11/Python.h ]; then
	mkdir -p "$E2E_TMP/native"
	cat >"$E2E_TMP/native/evil.c" <<'C'
#include <Python.h>
static struct PyModuleDef m = { PyModuleDef_HEAD_INIT, "evil", NULL, -1, NULL };
PyMODINIT_FUNC PyInit_evil(void) { return PyModule_Create(&m); }
C
	cc -shared -fPIC -I/usr/include/python3.11 -o "$E2E_TMP/native/evil.cpython-311-x86_64-linux-gnu.so" \
		"$E2E_TMP/native/evil.c" && rm "$E2E_TMP/native/evil.c"
	cat >"$E2E_TMP/native/nb.py" <<'PY'
# %%
import evil
# %%
import importlib.util
spec = importlib.util.spec_from_file_location("evil", "/box/evil.cpython-311-x86_64-linux-gnu.so")
importlib.util.module_from_spec(spec)
# %%
import _bz2
PY
	"$GRADER" nb run --json "$E2E_TMP/native/nb.py" >"$E2E_TMP/native.json"
	r=$(/usr/bin/python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["notebooks"][0]["cells"]; print([x["ename"] for x in c])' "$E2E_TMP/native.json")
	check "no native code from the box (import, spec loader); system extensions load" \
		test "$r" = "['ImportError', 'ImportError', None]"
fi
finish
