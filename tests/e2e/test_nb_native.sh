#!/bin/sh
# No native code of the student's in the notebook process, and the scientific
# stack still works under the same sandbox (noexec writable mounts, the W^X
# seccomp filter, no memfd_create): numpy, pandas, matplotlib (Agg) and scipy
# import and compute through `grader nb run`; a shared object the notebook
# writes into /box, /tmp or /dev/shm does not load, anonymous executable
# memory is refused, /proc/1/cmdline is empty.
. "$(dirname "$0")/lib.sh"
need_root "native code in notebooks"
. "$(dirname "$0")/nb_lib.sh"
T=$E2E_TMP
PY=/usr/bin/python3
# The audit hook refuses ctypes, which Debian's pandas and scipy import; that
# is another layer than the one tested here, so these two run with
# --allow-ctypes. The seccomp filter and the mounts are the default ones.
ctypes_for() { case $1 in pandas | scipy) echo --allow-ctypes ;; esac; }

mkdir "$T/numpy" "$T/pandas" "$T/matplotlib" "$T/scipy" "$T/hostile"
cat >"$T/numpy/nb.py" <<'PY'
# %%
import numpy as np
# %%
a = np.array([[3.0, 1.0], [1.0, 2.0]]); [round(float(v), 6) for v in np.linalg.solve(a, [9.0, 8.0])]
# %%
round(float(np.abs(np.fft.fft(np.ones(8)))[0]), 6), np.random.default_rng(1).integers(0, 10, 3).shape
PY
numpy_want='["[2.0, 3.0]", "(8.0, (3,))"]'
cat >"$T/pandas/nb.py" <<'PY'
# %%
import pandas as pd
# %%
df = pd.DataFrame({"k": ["a", "b", "a", "b"], "v": [1, 2, 3, 4]}); df.to_csv("t.csv", index=False)
# %%
d2 = pd.read_csv("t.csv"); d2.groupby("k")["v"].sum().to_dict(), int(d2["v"].describe()["max"])
# %%
pd.to_datetime(["2026-10-30"]).year.tolist(), int(pd.Series([1.5, None]).isna().sum())
PY
pandas_want='["({'"'"'a'"'"': 4, '"'"'b'"'"': 6}, 4)", "([2026], 1)"]'
cat >"$T/matplotlib/nb.py" <<'PY'
# %%
import io
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
# %%
fig, ax = plt.subplots(); ax.plot([0, 1, 2], [0, 1, 4]); ax.set_title("t")
buf = io.BytesIO(); fig.savefig(buf, format="png")
buf.getvalue()[:8] == b"\x89PNG\r\n\x1a\n", len(buf.getvalue()) > 1000
PY
matplotlib_want='["(True, True)"]'
cat >"$T/scipy/nb.py" <<'PY'
# %%
import numpy as np
from scipy import linalg, optimize, integrate, stats, sparse, interpolate
# %%
[round(float(v), 6) for v in linalg.solve([[3.0, 1.0], [1.0, 2.0]], [9.0, 8.0])], round(float(linalg.det(np.eye(3) * 2)), 6)
# %%
round(float(optimize.minimize(lambda x: (x[0] - 3) ** 2, [0.0]).x[0]), 3), round(integrate.quad(lambda x: x * x, 0, 1)[0], 6)
# %%
round(float(stats.norm.cdf(0)), 6), int(sparse.eye(5).sum()), round(float(interpolate.interp1d([0, 1], [0, 2])(0.5)), 6)
PY
scipy_want='["([2.0, 3.0], 8.0)", "(3.0, 0.333333)", "(0.5, 5, 1.0)"]'

for m in numpy pandas matplotlib scipy; do
	if ! $PY -c "import $m" 2>/dev/null; then
		skip "$m imports and computes in the box" "python3 module '$m' is not installed (make deps)"
		continue
	fi
	# shellcheck disable=SC2046
	"$GRADER" nb run --json $(ctypes_for $m) "$T/$m/nb.py" >"$T/$m.json"
	check "$m: nb run exits 0" test $? -eq 0
	eval "want=\$${m}_want"
	is "$m imports and computes in the box (every cell ok, the expected values)" "$T/$m.json" 0 \
		"all(x['status'] == 'ok' for x in c) and [x['result'] for x in c if x['result'] is not None] == $want"
done

# The attack: write a shared object (a copy of a system library, standing in
# for one the student built) where the box may write, and load it. --allow-ctypes,
# so that only the sandbox stands in the way.
cat >"$T/hostile/nb.py" <<'PY'
# %%
import ctypes, mmap, os, shutil, sqlite3
lib = "/usr/lib/x86_64-linux-gnu/libm.so.6"
def tries(f):
    try:
        f()
        return "LOADED"
    except Exception as e:
        return type(e).__name__ + ": " + str(e)
# %%
out = {}
for d in ("/box", "/tmp", "/dev/shm"):
    shutil.copy(lib, d + "/evil.so")
    out[d] = tries(lambda: ctypes.CDLL(d + "/evil.so"))
out
# %%
fd = os.open("/box/evil.so", os.O_RDONLY)
tries(lambda: ctypes.CDLL("/proc/self/fd/%d" % fd))
# %%
con = sqlite3.connect(":memory:")
def ext():
    con.enable_load_extension(True)
    con.load_extension("/box/evil.so")
tries(ext)
# %%
tries(lambda: mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC))
# %%
tries(lambda: os.memfd_create("x"))
# %%
open("/proc/1/cmdline", "rb").read()
# %%
tries(lambda: ctypes.CDLL("libm.so.6"))
PY
"$GRADER" nb run --json --allow-ctypes "$T/hostile/nb.py" >"$T/h.json"
check "hostile notebook: nb run exits 0" test $? -eq 0
is "a .so written to /box, /tmp, /dev/shm does not load (noexec)" "$T/h.json" 0 \
	"all('failed to map segment' in v for v in eval(c[1]['result']).values())"
is "... nor through /proc/self/fd" "$T/h.json" 0 "'failed to map segment' in c[2]['result']"
# the audit hook refuses SQLite extensions first; without it, noexec would
is "... nor as an sqlite3 extension" "$T/h.json" 0 \
	"c[3]['result'].startswith(\"'OperationalError\") or 'SQLite extension (native code) is not allowed' in c[3]['result']"
is "anonymous RWX memory refused (W^X)" "$T/h.json" 0 "c[4]['result'].startswith(\"'PermissionError\")"
is "memfd_create refused" "$T/h.json" 0 "c[5]['result'].startswith(\"'PermissionError\")"
is "/proc/1/cmdline is empty" "$T/h.json" 0 "c[6]['result'] == \"b''\""
is "control: a system library still loads" "$T/h.json" 0 "c[7]['result'] == \"'LOADED'\""
finish
