#!/bin/sh
# grader nb run: per-cell and per-notebook time limits, crashes, memory.
. "$(dirname "$0")/lib.sh"
T="$E2E_TMP"
OUT="$T/out.json"
. "$(dirname "$0")/nb_lib.sh"

cat >"$T/slow.py" <<'PY'
# %%
import time
time.sleep(30)
# %%
n = 0
while True:
    n += 1
# %%
print("after")
PY
start=$(date +%s)
"$GRADER" nb run --json --timeout-cell 1 --grace 1 "$T/slow.py" >"$OUT"
check "timeouts: exit 0" test $? -eq 0
check "timeouts: interrupted, not waited for" test $(( $(date +%s) - start )) -lt 10
is "sleeping cell interrupted" "$OUT" 0 'c[0]["status"] == "timeout" and c[0]["ename"] == "TimeoutError"'
is "busy loop interrupted" "$OUT" 0 'c[1]["status"] == "timeout" and 0.9 < c[1]["time"] < 2'
is "the next cell still runs" "$OUT" 0 'c[2]["status"] == "ok" and c[2]["stdout"] == "after\n"'
is "notebook flagged timed_out" "$OUT" 0 'd["timed_out"] and d["status"] == "timeout"'

cat >"$T/long.py" <<'PY'
# %%
import time
time.sleep(0.7)
# %%
time.sleep(0.7)
# %%
print("never")
PY
"$GRADER" nb run --json --timeout 1 --grace 1 "$T/long.py" >"$OUT"
is "notebook limit stops the run" "$OUT" 0 'c[0]["status"] == "ok" and c[1]["status"] == "timeout" and c[2]["status"] == "not_run"'
is "notebook limit reported" "$OUT" 0 'd["timed_out"] and "notebook time limit" in d["message"]'

cat >"$T/crash.py" <<'PY'
# %%
x = 1
# %%
import faulthandler
faulthandler._sigsegv()
# %%
x
PY
cat >"$T/mem.py" <<'PY'
# %%
blocks = []
while True:
    blocks.append(bytearray(16 << 20))
# %%
1
PY
printf '# %%%%\n40 + 2\n' >"$T/fine.py"
"$GRADER" nb run --json --mem 200 "$T/crash.py" "$T/mem.py" "$T/fine.py" >"$OUT"
check "crashes do not stop the batch" test $? -eq 0
is "segfault: cell error, rest not run" "$OUT" 0 'c[0]["status"] == "ok" and c[1]["ename"] == "DeadKernelError" and "signal 11" in c[1]["evalue"] and c[2]["status"] == "not_run"'
is "segfault: notebook crashed, not tampered" "$OUT" 0 'd["status"] == "crashed" and not d["tampered"]'
is "memory limit: the cell fails" "$OUT" 1 'c[0]["status"] == "error" and c[0]["ename"] == "MemoryError"'
is "memory limit: a MemoryError in the cell, the next cell runs" "$OUT" 1 'c[1]["status"] == "ok" and d["status"] == "ok"'
is "next notebook runs after a crash" "$OUT" 2 'c[0]["result"] == "42"'
finish
