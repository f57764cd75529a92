#!/bin/sh
# The engine's own layers (docs/security.md), through `grader grade` and
# `grader nb run` in the real sandbox: attacks that fail, and the honest
# notebooks that must not pay for them (pandas, scipy, matplotlib without
# allow_ctypes; multiprocessing with fork and spawn).
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/e2e/nb_lib.sh"
T=$E2E_TMP
OUT=$T/out.json

# ---- grade: one assignment, a visible and a hidden test ----
mkdir -p "$T/src"
/usr/bin/python3 - "$T/src/s1.ipynb" "$T/sub" <<'PY'
import json, os, sys
meta = lambda **k: {"nbgrader": dict(dict(schema_version=3, grade=False, solution=False,
                                          locked=False), **k)}
def code(id, src, **k):
    return {"cell_type": "code", "id": id, "metadata": meta(**k), "execution_count": None,
            "outputs": [], "source": src}
def notebook(answer):
    cells = [
        code("a", answer, grade_id="answer", solution=True),
        code("v", "assert f(1) == 2", grade_id="test_visible", grade=True, locked=True, points=1),
        code("h", "assert f(2) == 4\n### BEGIN HIDDEN TESTS\n"
                  "assert f(10) == 20  # HIDDEN_MARK\n### END HIDDEN TESTS",
             grade_id="test_hidden", grade=True, locked=True, points=2),
    ]
    return {"nbformat": 4, "nbformat_minor": 5, "cells": cells,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}}}
json.dump(notebook("def f(x):\n    return 2 * x"), open(sys.argv[1], "w"))
students = {
    # honest: the libraries that import ctypes, and a plot
    "amy": "import numpy as np, pandas as pd, scipy.linalg\n"
           "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
           "def f(x):\n    return int(round(pd.Series([x, x]).sum() * scipy.linalg.det(np.eye(2))))\n"
           "plt.plot([1, 2]); plt.savefig('p.png')",
    # honest: a process pool, forked and spawned
    "bo": "import multiprocessing as mp\n"
          "def double(x):\n    return 2 * x\n"
          "def f(x):\n    with mp.get_context('fork').Pool(2) as p:\n        r = p.map(double, [x])[0]\n"
          "    with mp.get_context('spawn').Pool(1) as p:\n        return r + p.map(abs, [0])[0]",
    # wrong answer; finds the later cells (gc), blanks them, and prints the
    # hidden test's source in the visible test's output
    "mallory": "import gc\nleaked = []\n"
               "def f(x):\n    print(leaked)\n    return x + 1\n"
               "mark = ''.join(['HIDDEN', '_MARK'])\n"
               "for o in gc.get_objects():\n"
               "    for r in gc.get_referents(o):\n"
               "        if isinstance(r, str) and mark in r and r is not mark:\n            leaked.append(r)\n"
               "    if isinstance(o, list):\n"
               "        for k, e in enumerate(o):\n"
               "            if isinstance(e, tuple) and any(isinstance(x, type(f.__code__)) for x in e):\n"
               "                o[k] = (compile('pass', '<cell 3>', 'exec'),) + e[1:]\n",
    # wrong answer; forks, the parent leaves, the copy carries on as the kernel
    "fiona": "import os\ndef f(x):\n    return 0\nif os.fork():\n    os._exit(0)\n",
}
for name, answer in students.items():
    d = os.path.join(sys.argv[2], name, "s1")
    os.makedirs(d)
    json.dump(notebook(answer), open(os.path.join(d, "s1.ipynb"), "w"))
PY
"$GRADER" rubric import "$T/src/s1.ipynb" --assignment s1 -o "$T/r.json" 2>/dev/null
"$GRADER" grade --rubric "$T/r.json" --submissions "$T/sub" -o "$T/gb.json" --quiet 2>"$T/log"
check "grade exits 0" test $? -eq 0
# field STUDENT EXPR: a value of that student's submission (g: grades by id)
field() { /usr/bin/python3 -c "
import json, sys
gb = json.load(open(sys.argv[1]))
s = [s for s in gb['submissions'] if s['student_id'] == sys.argv[2]][0]
g = {g['grade_id']: g for nb in s['notebooks'] for g in nb['grades']}
print($2)" "$T/gb.json" "$1"; }
expect() { got=$(field "$1" "$2"); if [ "$got" = "$3" ]; then pass "$1: $2 = $3"; else fail "$1: $2 = $3" "got $got"; fi; }

expect amy "s['score']" 3.0
expect amy "'tampered' in s['flags']" False
expect bo "s['score']" 3.0
expect mallory "g['test_visible']['auto_score']" 1.0
expect mallory "g['test_hidden']['auto_score']" 0.0
expect mallory "g['test_visible']['output']['stdout']" "[]"
expect mallory "'HIDDEN_MARK' in json.dumps([x.get('output') for x in g.values()])" False
expect fiona "'tampered' in s['flags']" True
expect fiona "s['score']" 0.0
"$GRADER" export "$T/gb.json" --to gradescope -o "$T/gs" 2>"$T/err"
check "gradescope export" test -f "$T/gs/mallory/results.json"
check "the hidden test's source is in no Gradescope output" \
	sh -c '! grep -rq HIDDEN_MARK "$1"' sh "$T/gs"
"$GRADER" export "$T/gb.json" --to junit -o "$T/junit.xml" 2>"$T/err"
check "nor in JUnit's" sh -c 'test -s "$1" && ! grep -q HIDDEN_MARK "$1"' sh "$T/junit.xml"

# allow_jit: recorded by the rubric, off by default, a boolean
"$GRADER" rubric import "$T/src/s1.ipynb" --assignment s1 --allow-jit -o "$T/rj.json" 2>/dev/null
check "rubric records allow_jit" test "$(json_get "$T/rj.json" "['allow_jit']")" = True
check "allow_jit is off by default" test "$(json_get "$T/r.json" ".get('allow_jit', False)")" = False
echo '{"grader_rubric": 1, "assignment": "s1", "allow_jit": 1, "notebooks": []}' >"$T/bad.json"
"$GRADER" rubric check "$T/bad.json" 2>"$T/err"
check "allow_jit must be a boolean" grep -q "allow_jit: must be true or false" "$T/err"
# ... and reaches the sandbox: memory both writable and executable only with it
mkdir -p "$T/subj/jo/s1"
/usr/bin/python3 - "$T/src/s1.ipynb" "$T/subj/jo/s1/s1.ipynb" <<'PY'
import json, sys
nb = json.load(open(sys.argv[1]))
nb["cells"][0]["source"] = ("import mmap\n"
    "mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC).close()\n"
    "def f(x):\n    return 2 * x")
json.dump(nb, open(sys.argv[2], "w"))
PY
for r in r rj; do
	"$GRADER" grade --rubric "$T/$r.json" --submissions "$T/subj" -o "$T/gj-$r.json" --quiet 2>/dev/null
done
check "W^X holds by default" test "$(json_get "$T/gj-r.json" "['submissions'][0]['raw_score']")" = 0.0
check "allow_jit lifts it" test "$(json_get "$T/gj-rj.json" "['submissions'][0]['raw_score']")" = 3.0

# ---- nb run: honest notebooks ----
cat >"$T/libs.py" <<'PY'
# %%
import numpy as np, pandas as pd, scipy.linalg, scipy.stats, scipy.integrate, scipy.optimize
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
# %%
df = pd.DataFrame({"a": [1.0, 2.0, 3.0]})
float(df.a.mean() + scipy.linalg.det(np.eye(2)) + scipy.stats.norm.cdf(0))
# %%
round(scipy.integrate.quad(lambda x: x, 0, 1)[0] + scipy.optimize.minimize(lambda v: (v[0] - 1) ** 2, [0.0]).x[0], 3)
# %%
plt.plot(df.a); plt.savefig("p.png")
import ctypes
ctypes.CDLL
PY
"$GRADER" nb run --json "$T/libs.py" >"$OUT"
is "pandas, scipy, matplotlib run without allow_ctypes" "$OUT" 0 'all(x["status"] == "ok" for x in c)'
is "their values" "$OUT" 0 'c[1]["result"] == "3.5" and c[2]["result"] == "1.5"'
"$GRADER" nb run --json --preload numpy,pandas,scipy.linalg,matplotlib.pyplot "$T/libs.py" >"$OUT"
is "the same, preloaded" "$OUT" 0 'all(x["status"] == "ok" for x in c) and c[1]["result"] == "3.5"'

cat >"$T/mp.py" <<'PY'
# %%
import multiprocessing as mp, math, os
def square(x):
    return x * x
with mp.get_context("fork").Pool(2) as p:
    r = p.map(square, range(10))
sum(r)
# %%
with mp.get_context("spawn").Pool(2) as p:
    s = p.map(math.factorial, range(6))
s
# %%
pid = os.fork()
if pid == 0:
    print("child")
    os._exit(0)
os.waitpid(pid, 0)[1]
PY
"$GRADER" nb run --json "$T/mp.py" >"$OUT"
is "multiprocessing.Pool with fork" "$OUT" 0 'c[0]["status"] == "ok" and c[0]["result"] == "285"'
is "multiprocessing.Pool with spawn" "$OUT" 0 'c[1]["status"] == "ok" and c[1]["result"] == "[1, 1, 2, 6, 24, 120]"'
is "os.fork, the child prints" "$OUT" 0 'c[2]["result"] == "0" and c[2]["stdout"] == "child\n" and not d["tampered"]'

# ---- nb run: a record escaping would push past the channel, with a large cap ----
"$GRADER" nb run --json --output-cap 30000000 "$ROOT/tests/fixtures/nb/huge_values.py" >"$OUT"
is "huge values with a 30 MB cap: cut, not tampered" "$OUT" 0 \
	'not d["tampered"] and c[-1]["ename"] == "AssertionError" and len(c[2]["result"]) == 1 << 20'
finish
