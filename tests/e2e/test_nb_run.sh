#!/bin/sh
# grader nb run on ordinary notebooks: results, capture, tracebacks, IPython
# syntax, seeds, isolation between notebooks, the box, malformed input.
. "$(dirname "$0")/lib.sh"
T="$E2E_TMP"
OUT="$T/out.json"

. "$(dirname "$0")/nb_lib.sh"

"$GRADER" nb --help >/dev/null; check "nb --help exits 0" test $? -eq 0
"$GRADER" nb run --help | grep -q -- '--timeout-cell'; check "help lists --timeout-cell" test $? -eq 0
"$GRADER" nb run 2>/dev/null; check "no notebook is a usage error" test $? -eq 2
"$GRADER" nb run --timeout-cell x a.py 2>/dev/null; check "bad number is a usage error" test $? -eq 2

mkdir -p "$T/hw/data"
cat >"$T/hw/basic.py" <<'PY'
# %%
1 + 1
# %%
None
# %%
x = 3
# %%
x;
# %%
print("out"); import sys, os; sys.stderr.write("err\n"); sys.stderr.flush(); os.write(2, b"fd2\n")
# %%
print("second")
# %%
import json
json.loads("{")
# %%
open("data.txt").read().strip() + open("data/more.txt").read().strip()
# %%
input()
# %%
sys.exit(2)
# %%
sys.stdout.close(); os.close(1)
# %%
print("back"); 'SECRET_TOKEN' in os.environ, os.getcwd(), os.environ["HOME"]
# %%
def g():
    raise ValueError("deep")
def h():
    g()
h()
PY
echo "data" >"$T/hw/data.txt"
echo "more" >"$T/hw/data/more.txt"
sum_before=$(sha256sum "$T/hw/basic.py")
mkdir "$T/tmpd"
SECRET_TOKEN=hunter2 TMPDIR="$T/tmpd" "$GRADER" nb run --json "$T/hw/basic.py" >"$OUT"
check "basic runs" test $? -eq 0
is "trailing expression gives its repr" "$OUT" 0 'c[0]["result"] == "2"'
is "None gives no result" "$OUT" 0 'c[1]["result"] is None and c[1]["status"] == "ok"'
is "assignment gives no result" "$OUT" 0 'c[2]["result"] is None'
is "trailing semicolon hides the result" "$OUT" 0 'c[3]["result"] is None'
is "stdout captured" "$OUT" 0 'c[4]["stdout"] == "out\n"'
is "stderr captured, python and fd level" "$OUT" 0 'c[4]["stderr"] == "err\nfd2\n"'
is "capture is per cell" "$OUT" 0 'c[5]["stdout"] == "second\n" and c[5]["stderr"] == ""'
is "error fields" "$OUT" 0 'c[6]["status"] == "error" and c[6]["ename"] == "JSONDecodeError"'
is "traceback keeps the cell frame" "$OUT" 0 '"File \"<cell 7>\", line 2, in <module>\n    json.loads(\"{\")" in c[6]["traceback"]'
is "traceback drops library frames" "$OUT" 0 '"frames in library code" in c[6]["traceback"] and "decoder.py" not in c[6]["traceback"]'
is "files next to the notebook are in the box" "$OUT" 0 'c[7]["result"] == repr("datamore")'
is "input() raises what a Jupyter kernel without stdin raises" "$OUT" 0 \
	'c[8]["ename"] == "StdinNotImplementedError"'
is "sys.exit is a cell error" "$OUT" 0 'c[9]["ename"] == "SystemExit" and c[9]["evalue"] == "2"'
is "closing stdout does not stop the run" "$OUT" 0 'c[10]["status"] == "ok" and c[11]["stdout"] == "back\n"'
is "no caller environment, cwd and HOME are /box" "$OUT" 0 'c[11]["result"] == repr((False, "/box", "/box"))'
is "nested frames in order" "$OUT" 0 'c[12]["traceback"].index("in <module>") < c[12]["traceback"].index("in h") < c[12]["traceback"].index("in g")'
is "notebook status ok" "$OUT" 0 'd["status"] == "ok" and not d["tampered"] and d["replaced"] == []'
is "json shape" "$OUT" 0 'set(c[0]) == {"index","number","status","ename","evalue","traceback","stdout","stderr","stdout_dropped","stderr_dropped","result","note","time","outputs"}'
check "notebook file unchanged" test "$(sha256sum "$T/hw/basic.py")" = "$sum_before"
check "box removed after the run" test -z "$(ls -A "$T/tmpd")"

# Output cap
printf '# %%%%\nprint("x" * 100000)\n' >"$T/cap.py"
"$GRADER" nb run --json --output-cap 1000 "$T/cap.py" >"$OUT"
is "stdout capped" "$OUT" 0 'len(c[0]["stdout"]) == 1000 and c[0]["stdout_dropped"] == 99001'

# IPython syntax without IPython
cat >"$T/magic.py" <<'PY'
# %%
%matplotlib inline
import math
!ls
files = !ls
math?
y = 5
# %%
%%bash
echo hi
# %%
y
PY
"$GRADER" nb run --json --no-ipython "$T/magic.py" >"$OUT"
is "magics become no-ops" "$OUT" 0 'c[0]["status"] == "ok" and "no-ops" in c[0]["note"]'
is "unknown cell magic not run, noted" "$OUT" 0 'c[1]["status"] == "ok" and "%%bash" in c[1]["note"]'
is "code around magics ran" "$OUT" 0 'c[2]["result"] == "5"'
if /usr/bin/python3 -c 'import IPython' 2>/dev/null; then
	printf '# %%%%\n%%matplotlib inline\n%%time z = 2\n!echo shell\nz + 1\n' >"$T/ipy.py"
	"$GRADER" nb run --json "$T/ipy.py" >"$OUT"
	is "IPython transformer path" "$OUT" 0 'c[0]["status"] == "ok" and c[0]["result"] == "3" and "shell" in c[0]["stdout"]'
fi

# Seeds and isolation between notebooks of one batch
cat >"$T/r1.py" <<'PY'
# %%
import random, numpy as np, json
json.leak = 1
leak = 1
open("written.txt", "w").write("x")
random.random(), float(np.random.rand())
PY
cat >"$T/r2.py" <<'PY'
# %%
import random, numpy as np, json, os
random.random(), float(np.random.rand())
# %%
assert "leak" not in globals() and not hasattr(json, "leak") and not os.path.exists("written.txt")
PY
"$GRADER" nb run --json --preload numpy "$T/r1.py" "$T/r2.py" >"$OUT"
a=$(q "$OUT" 0 'c[0]["result"]'); b=$(q "$OUT" 1 'c[0]["result"]')
check "same seed, same numbers in every notebook" test "$a" = "$b"
is "nothing leaks from one notebook to the next" "$OUT" 1 'c[1]["status"] == "ok"'
"$GRADER" nb run --json --preload numpy --seed 7 "$T/r2.py" >"$OUT"
check "another seed, other numbers" test "$(q "$OUT" 0 'c[0]["result"]')" != "$a"

# An ordinary numpy/matplotlib notebook: nothing refused, nothing flagged
cat >"$T/plot.py" <<'PY'
# %%
import numpy as np
import matplotlib.pyplot as plt
import random, math, collections, re, json, statistics, warnings
# %%
x = np.linspace(0, 10, 100)
plt.figure(); plt.plot(x, np.sin(x)); plt.savefig("p.png"); plt.show()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    warnings.warn("x")
np.seterr(all="ignore"); np.set_printoptions(precision=3)
np.array([1.5, 2.25])
PY
"$GRADER" nb run --json --preload numpy,matplotlib.pyplot "$T/plot.py" >"$OUT"
is "plotting notebook runs clean" "$OUT" 0 'all(x["status"] == "ok" and x["stderr"] == "" for x in c) and d["replaced"] == []'
is "numpy repr as result" "$OUT" 0 'c[1]["result"] == "array([1.5 , 2.25])"'
if /usr/bin/python3 -c 'import scipy' 2>/dev/null; then
	printf '# %%%%
import scipy.special
float(scipy.special.gamma(5))
' >"$T/sp.py"
	"$GRADER" nb run --json "$T/sp.py" >"$OUT"
	is "scipy runs by default (an inert ctypes)" "$OUT" 0 'c[0]["result"] == "24.0"'
	"$GRADER" nb run --json --allow-ctypes "$T/sp.py" >"$OUT"
	is "scipy with --allow-ctypes" "$OUT" 0 'c[0]["result"] == "24.0"'
fi

# .ipynb with markdown cells; a malformed notebook does not stop the others
cat >"$T/nb.ipynb" <<'JSON'
{"cells": [
 {"cell_type": "markdown", "metadata": {}, "source": ["# Title"]},
 {"cell_type": "code", "metadata": {}, "execution_count": null, "outputs": [], "source": ["a = 20\n", "a"]},
 {"cell_type": "markdown", "metadata": {}, "source": ["text"]},
 {"cell_type": "code", "metadata": {}, "execution_count": null, "outputs": [], "source": "a * 2"}
], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
JSON
echo '{"cells": [' >"$T/bad.ipynb"
"$GRADER" nb run --json "$T/bad.ipynb" "$T/nb.ipynb" >"$OUT" 2>"$T/err"
check "malformed notebook: exit 1" test $? -eq 1
check "malformed notebook: one line naming it" test "$(grep -c 'bad.ipynb' "$T/err")" -eq 1
is "other notebook still ran" "$OUT" 0 'd["notebook"].endswith("nb.ipynb") and [x["result"] for x in c] == ["20", "40"]'
is "index is the notebook cell index" "$OUT" 0 '[x["index"] for x in c] == [1, 3] and [x["number"] for x in c] == [1, 2]'

# Table output
"$GRADER" nb run "$T/nb.ipynb" >"$T/table"
check "table names the notebook" grep -q "nb.ipynb: ok (2 cells" "$T/table"
check "table shows results" grep -q "\[2\] ok .*40" "$T/table"

# A module that cannot be preloaded
"$GRADER" nb run --preload nosuchmodule "$T/nb.ipynb" 2>"$T/err" >/dev/null
check "bad preload: exit 1" test $? -eq 1
check "bad preload named" grep -q "cannot preload 'nosuchmodule'" "$T/err"
finish
