#!/bin/sh
# The monkeypatch watcher, through the real sandbox: each way of swapping a
# tool the test cells trust (builtins.__import__, a module's class, a library
# function's defaults or code, a self-restoring fake installed by a thread,
# patching a module the rubric does not preload, a hand-made sys.modules
# entry, a submission file named like a system module) is flagged with a
# reason naming what was replaced, in `grader nb run` and in the gradebook of
# `grader grade`; the shadowing attacks also score 0. Honest notebooks (the
# demo course, matplotlib plots, pandas) raise no flag.
. "$(dirname "$0")/lib.sh"
T=$E2E_TMP

# A course whose test cells use numpy (not preloaded), math and statistics.
/usr/bin/python3 - "$T/course" <<'PY'
import json, os, sys
d = sys.argv[1]
os.makedirs(d)
def cell(src, **nbg):
    meta = {"nbgrader": dict(nbg, schema_version=3)} if nbg else {}
    return {"cell_type": "code", "execution_count": None, "metadata": meta, "outputs": [],
            "source": src}
cells = [
    cell("import math", grade_id="setup", grade=False, solution=False, locked=True),
    cell("def area(r):\n    ### BEGIN SOLUTION\n    return math.pi * r * r\n    ### END SOLUTION",
         grade_id="area", grade=False, solution=True, locked=False),
    cell("import numpy as np\nassert np.allclose(area(1.0), math.pi)",
         grade_id="test_area", grade=True, solution=False, locked=True, points=1),
    cell("import statistics\nassert math.isclose(statistics.fmean([area(2.0)]), 4 * math.pi)",
         grade_id="test_mean", grade=True, solution=False, locked=True, points=1),
]
nb = {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
      "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                  "language": "python"}}}
json.dump(nb, open(os.path.join(d, "hw.ipynb"), "w"))
PY
# nothing preloaded: every module the cells use is imported by student code first
"$GRADER" rubric import "$T/course/hw.ipynb" --assignment hw --cell-timeout 10 \
	--no-auto-preload -o "$T/hw.json" >/dev/null 2>"$T/err"
check "rubric built, preloading nothing" /usr/bin/python3 -c "
import json, sys
sys.exit(0 if json.load(open(sys.argv[1])).get('preload', []) == [] else 1)" "$T/hw.json"
"$GRADER" rubric release "$T/hw.json" -o "$T/release" >/dev/null

# student NAME ANSWER [FILE CONTENT]: a submission whose answer cell is ANSWER
student() {
	mkdir -p "$T/sub/$1/hw"
	/usr/bin/python3 - "$T/release/hw.ipynb" "$T/sub/$1/hw/hw.ipynb" "$2" <<'PY'
import json, sys
nb = json.load(open(sys.argv[1]))
for c in nb["cells"]:
    if c["metadata"].get("nbgrader", {}).get("grade_id") == "area":
        c["source"] = sys.argv[3]
json.dump(nb, open(sys.argv[2], "w"))
PY
	[ $# -gt 2 ] && printf '%s\n' "$4" >"$T/sub/$1/hw/$3"
	return 0
}
WRONG='def area(r):
    return 0.0'
student honest 'def area(r):
    return math.pi * r * r'
student imp "$WRONG
import builtins, types
_real = builtins.__import__
class _FakeNp(types.ModuleType):
    def allclose(self, *a, **k):
        return True
def _imp(name, *a, **k):
    return _FakeNp('numpy') if name == 'numpy' else _real(name, *a, **k)
builtins.__import__ = _imp"
student klass "$WRONG
import numpy, types
class Liar(types.ModuleType):
    def __getattribute__(self, n):
        if n == 'allclose':
            return lambda *a, **k: True
        return types.ModuleType.__getattribute__(self, n)
numpy.__class__ = Liar"
student defaults "$WRONG
import numpy as np
np.allclose.__wrapped__.__defaults__ = (1e300, 1e300, True)"
student code "$WRONG
import numpy as np
def _yes(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return True
np.allclose.__wrapped__.__code__ = _yes.__code__"
student thread "$WRONG
import threading, time, numpy
_real = numpy.allclose
def _flip():
    while True:
        numpy.allclose = lambda *a, **k: True
        time.sleep(0.3)
        numpy.allclose = _real
        time.sleep(0.001)
threading.Thread(target=_flip, daemon=True).start()
time.sleep(0.05)"
student nopreload "$WRONG
import numpy
numpy.allclose = lambda *a, **k: True"
student modules "$WRONG
import sys, types
_fake = types.ModuleType('statistics')
_fake.fmean = lambda xs: 4 * math.pi
sys.modules['statistics'] = _fake"
student modnumpy "$WRONG
import sys, types
_fake = types.ModuleType('numpy')
_fake.allclose = lambda *a, **k: True
sys.modules['numpy'] = _fake"
student method "$WRONG
import fractions
fractions.Fraction.__eq__ = lambda self, other: True"
student shadowfile "$WRONG" statistics.py 'import math
def fmean(xs):
    return 4 * math.pi'

"$GRADER" grade --rubric "$T/hw.json" --submissions "$T/sub" -o "$T/gb.json" 2>"$T/log"
check "grade exits 0" test $? -eq 0

# field STUDENT EXPR: s the submission, g its grades by id, why its flag reasons
field() { /usr/bin/python3 -c "
import json, sys
gb = json.load(open(sys.argv[1]))
s = [s for s in gb['submissions'] if s['student_id'] == sys.argv[2]][0]
g = {g['grade_id']: g for nb in s['notebooks'] for g in nb['grades']}
why = s.get('flag_reasons', {})
arg = sys.argv[3] if len(sys.argv) > 3 else ''
print($2)" "$T/gb.json" "$1" "${3:-}"; }
# expect STUDENT EXPR [ARG]: EXPR holds (ARG is `arg` in it)
expect() {
	got=$(field "$1" "$2" "${3:-}")
	if [ "$got" = True ]; then pass "$1: $2 ${3:-}"; else fail "$1: $2 ${3:-}" "$(field "$1" "[s['flags'], why]")"; fi
}
# flagged STUDENT FLAG REASON: the submission has FLAG, with REASON in its reasons
flagged() { expect "$1" "'$2' in s['flags'] and arg in why.get('$2', '')" "$3"; }

expect honest "s['score'] == 2 and s['flags'] == [] and why == {}"
flagged imp replaced_builtins 'builtins.__import__ rebound'
flagged klass replaced_builtins 'module numpy given the class Liar'
flagged defaults replaced_builtins 'allclose.__defaults__ replaced'
flagged code replaced_builtins 'allclose.__code__ replaced'
flagged thread background_threads 'still running when grade cell 3 started (Thread)'
flagged nopreload replaced_builtins 'numpy.allclose rebound (cell 2)'
flagged modules shadowed_module "sys.modules['statistics'] replaced by hand"
expect modules "g['test_mean']['auto_score'] == 0"
flagged modnumpy shadowed_module "sys.modules['numpy'] replaced by hand (cell 2)"
expect modnumpy "g['test_area']['auto_score'] == 0"
flagged method replaced_builtins 'fractions.Fraction.__eq__ rebound (cell 2)'
flagged shadowfile shadowed_module "submission file 'statistics.py' shadows the system module"
expect shadowfile "g['test_mean']['auto_score'] == 0"
expect shadowfile "all(nb['flagged'] for nb in s['notebooks'])"

# The reason reaches the marker's summary next to the flag.
"$GRADER" export "$T/gb.json" --to markdown -o "$T/summary.md" 2>"$T/err"
check "markdown summary shows the reason" grep -qF 'replaced\_builtins (builtins.\_\_import\_\_ rebound' "$T/summary.md"
# A gradebook written before reasons existed still reads; a reason for no flag is refused.
/usr/bin/python3 - "$T/gb.json" "$T/old.json" "$T/bad.json" <<'PY'
import json, sys
gb = json.load(open(sys.argv[1]))
old = json.loads(json.dumps(gb))
for s in old["submissions"]:
    s.pop("flag_reasons", None)
json.dump(old, open(sys.argv[2], "w"))
for s in gb["submissions"]:
    if s["student_id"] == "honest":
        s["flag_reasons"] = {"tampered": "made up"}
json.dump(gb, open(sys.argv[3], "w"))
PY
"$GRADER" export "$T/old.json" --to csv -o "$T/old.csv" 2>"$T/err"
check "gradebook without reasons reads" test $? -eq 0
"$GRADER" export "$T/bad.json" --to csv -o "$T/bad.csv" 2>"$T/err"
check "a reason for a missing flag is refused" grep -q "flag_reasons.tampered: 'tampered' is not one of the flags" "$T/err"

# grader nb run shows the same findings, whatever the rubric preloads.
"$GRADER" nb run --json --preload numpy "$T/sub/defaults/hw/hw.ipynb" "$T/sub/nopreload/hw/hw.ipynb" \
	>"$T/nb.json" 2>"$T/err"
check "nb run exits 0" test $? -eq 0
. "$ROOT/tests/e2e/nb_lib.sh"
is "nb run: defaults swap flagged with numpy preloaded" "$T/nb.json" 0 \
	'any("allclose.__defaults__ replaced (cell 2)" in f["reason"] for f in d["flags"])'
is "nb run: rebinding a preloaded module flagged" "$T/nb.json" 1 \
	'any(f["reason"] == "numpy.allclose rebound (cell 2)" for f in d["flags"])'

# Keyword defaults, and a class method of a module the student imported first.
cat >"$T/kwdefaults.py" <<'PY'
# %%
import json, pathlib
json.dumps.__kwdefaults__ = dict(json.dumps.__kwdefaults__, sort_keys=True)
# %%
pathlib.PurePath.__eq__ = lambda self, other: True
PY
"$GRADER" nb run --json "$T/kwdefaults.py" >"$T/kw.json" 2>"$T/err"
is "nb run: __kwdefaults__ swap flagged" "$T/kw.json" 0 \
	'any(f["reason"] == "json.dumps.__kwdefaults__ replaced (cell 1)" for f in d["flags"])'
is "nb run: a class's method rebound, flagged" "$T/kw.json" 0 \
	'any("pathlib.PurePath.__eq__ rebound" in f["reason"] and "(cell 2)" in f["reason"] for f in d["flags"])'

# Honest controls: the demo course, a matplotlib notebook, pandas.
ex="$ROOT/rubrics/examples"
"$GRADER" rubric release "$ex/ps1.json" -o "$T/demo" >/dev/null
/usr/bin/python3 "$ex/make_submissions.py" "$T/demo/ps1.ipynb" "$T/demosub"
"$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/demosub" -o "$T/demo.json" 2>"$T/log"
for s in alice bob carol dave ivan; do
	check "demo course: $s not flagged" /usr/bin/python3 -c "
import json, sys
gb = json.load(open(sys.argv[1]))
s = [s for s in gb['submissions'] if s['student_id'] == sys.argv[2]][0]
sys.exit(1 if s['flags'] or s.get('flag_reasons') else 0)" "$T/demo.json" $s
done

cat >"$T/plots.py" <<'PY'
# %%
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
# %%
fig, ax = plt.subplots()
ax.plot(np.arange(10) ** 2)
ax.set_title("squares")
fig.savefig("plot.png")
plt.show()
# %%
import tempfile, warnings, logging, json, csv, random, collections
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    plt.figure(); plt.hist(np.random.rand(100)); plt.close("all")
tempfile.gettempdir()
# %%
assert ax.get_title() == "squares"
PY
"$GRADER" nb run --json "$T/plots.py" >"$T/plots.json" 2>"$T/err"
is "matplotlib notebook: runs, no flag" "$T/plots.json" 0 \
	'all(x["status"] == "ok" for x in c) and d["flags"] == [] and d["replaced"] == []'

if /usr/bin/python3 -c 'import pandas' 2>/dev/null; then
	cat >"$T/honest_pandas.py" <<'PY'
# %%
import pandas as pd
import numpy as np
# %%
df = pd.DataFrame({"a": np.arange(5), "b": list("abcde")})
df["c"] = df.a * 2
summary = df.describe()
df.groupby("b").sum()
# %%
pd.to_datetime(["2026-01-01", "2026-02-01"]).month.tolist()
# %%
assert df.c.sum() == 20
PY
	# pandas rebinds time.tzname while it is imported: the library's change, not the student's
	"$GRADER" nb run --json "$T/honest_pandas.py" >"$T/honest_pandas.json" 2>"$T/err"
	is "pandas notebook: runs, no flag" "$T/honest_pandas.json" 0 \
		'all(x["status"] == "ok" for x in c) and d["flags"] == [] and d["replaced"] == []'
else
	skip "pandas notebook" "python3-pandas is not installed (make deps)"
fi
finish
