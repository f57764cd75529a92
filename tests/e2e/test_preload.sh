#!/bin/sh
# rubric import preloads the system modules the notebooks import, unless told
# otherwise; a course file never passes for a system module; rubric check warns
# about a preload that cannot be imported; the grades do not change.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
SRC=$ROOT/rubrics/examples/ps1/source
T=$E2E_TMP
preload() { json_get "$1" '["preload"]'; }
# proving a rubric on its solution needs the sandbox: without root this test
# is about the preloads chosen only
nv=
[ "$(id -u)" = 0 ] || nv=--no-validate

"$GRADER" rubric import "$SRC/ps1.ipynb" --assignment ps1 --data "$SRC/data.csv" $nv \
	-o "$T/auto.json" 2>"$T/err"
check "import without --preload exits 0" test $? -eq 0
check "the demo's imports are preloaded" test "$(preload "$T/auto.json")" = \
	'["csv", "math", "matplotlib", "matplotlib.pyplot", "matplotlib.backends.backend_agg"]'
check "import says what it preloads" grep -q \
	'^preload: csv, math, matplotlib, matplotlib.pyplot, matplotlib.backends.backend_agg ' "$T/err"

"$GRADER" rubric import "$SRC/ps1.ipynb" --assignment ps1 --no-auto-preload --data "$SRC/data.csv" $nv -o "$T/none.json" 2>"$T/err"
check "--no-auto-preload preloads nothing" test "$(preload "$T/none.json")" = '[]'
# without its data file the demo's solution fails: only the preload matters here
"$GRADER" rubric import "$SRC/ps1.ipynb" --assignment ps1 --preload json --no-validate -o "$T/given.json" 2>"$T/err"
check "--preload is taken as given" test "$(preload "$T/given.json")" = '["json"]'
check "--preload: no detection line" sh -c "! grep -q '^preload:' '$T/err'"

# a course whose folder holds its own module and a numpy.py of its own
mkdir -p "$T/course"
cat >"$T/course/helpers.py" <<'PYEOF'
def f(): return 1
PYEOF
cp "$T/course/helpers.py" "$T/course/numpy.py"
$PY - "$T/course/c.ipynb" <<'PYEOF'
import json, sys
def cell(src, **nbg):
    base = dict(schema_version=3, grade=False, solution=False, locked=False)
    base.update(nbg)
    m = {"nbgrader": base} if nbg else {}
    return {"cell_type": "code", "metadata": m, "source": src, "outputs": [], "execution_count": None}
cells = [
    cell("import helpers\nimport numpy as np\nfrom json import dumps\nimport no_such_module_xyz\n"
         "%matplotlib inline\ndef later():\n    import sqlite3\n"),
    cell("x = 1\n", grade_id="answer", solution=True),
    cell("try:\n    import statistics\nexcept ImportError:\n    pass\nassert x == 1\n",
         grade_id="test", grade=True, locked=True, points=1),
    cell("from . import rel\n"),
    cell("if True:\n    import  xml.dom.minidom  as  md\n"),
    cell("this is not python (\n"),
]
nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}
json.dump(nb, open(sys.argv[1], "w"))
PYEOF
# the course imports modules that are not there on purpose: its solution
# cannot pass, only the preloads chosen matter here
(cd "$T/course" && "$GRADER" rubric import c.ipynb --assignment c --no-validate -o "$T/c.json" 2>"$T/err")
check "course import exits 0" test $? -eq 0
check "system modules kept, course files and unknown names left out" \
	test "$(preload "$T/c.json")" = '["matplotlib", "numpy", "json", "statistics", "xml", "xml.dom", "xml.dom.minidom", "matplotlib.backends.backend_agg"]'
check "a course module is named as left out" grep -q "^preload: 'helpers' left out: not installed" "$T/err"
check "an unknown module is named as left out" grep -q "^preload: 'no_such_module_xyz' left out" "$T/err"
check "imports inside functions are not preloaded" test -z "$(preload "$T/c.json" | grep sqlite3)"

# numpy, pandas and pyplot: what a hand-written --preload would add comes too
# (pyplot's parent, the sandbox's Agg backend, pandas' rendering and plotting glue)
mkdir -p "$T/sci"
$PY - "$T/sci/sci.ipynb" <<'PYEOF'
import json, sys
nbg = dict(schema_version=3, grade=True, solution=False, locked=True, grade_id="t", points=1)
cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
          "source": "import numpy as np\nimport pandas as pd\nimport matplotlib.pyplot as plt\n"},
         {"cell_type": "code", "metadata": {"nbgrader": nbg}, "outputs": [],
          "execution_count": None, "source": "assert np.ones(2).sum() == 2\n"}]
json.dump({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells},
          open(sys.argv[1], "w"))
PYEOF
"$GRADER" rubric import "$T/sci/sci.ipynb" --assignment sci --no-validate -o "$T/sci.json" \
	2>"$T/err"
check "sci import exits 0" test $? -eq 0
check "sci: parents, the Agg backend and pandas' heavy parts are preloaded" \
	test "$(preload "$T/sci.json")" = '["numpy", "pandas", "matplotlib", "matplotlib.pyplot", "matplotlib.backends.backend_agg", "pandas.io.formats.string", "pandas.plotting._matplotlib"]'

# rubric check warns about a preload that cannot be imported
$PY -c "
import json,sys; r=json.load(open(sys.argv[1])); r['preload']=['json','no_such_module_xyz']
json.dump(r, open(sys.argv[2],'w'), indent=2)" "$T/none.json" "$T/bad.json"
"$GRADER" rubric check "$T/bad.json" >"$T/out" 2>"$T/err"
check "check still validates the rubric" grep -q "^ok $T/bad.json" "$T/out"
check "check names the module that cannot be imported" grep -q "preload 'no_such_module_xyz' cannot be imported" "$T/err"
check "check does not blame the good module" sh -c "! grep -q \"preload 'json'\" '$T/err'"
"$GRADER" rubric check "$T/auto.json" >"$T/out" 2>"$T/err"
check "check is quiet about good preloads" sh -c "! grep -q preload '$T/err'"

# the same grades with the detected preloads as with none
"$GRADER" rubric release "$T/auto.json" -o "$T/rel" 2>/dev/null
$PY "$ROOT/rubrics/examples/make_submissions.py" "$T/rel/ps1.ipynb" "$T/sub" >/dev/null 2>&1
weaker=
[ "$(id -u)" = 0 ] || weaker=--allow-weaker
"$GRADER" grade --rubric "$T/auto.json" --submissions "$T/sub" -o "$T/gb_auto.json" -q $weaker 2>/dev/null
"$GRADER" grade --rubric "$T/none.json" --submissions "$T/sub" -o "$T/gb_none.json" -q $weaker 2>/dev/null
check "same scores with and without the detected preloads" $PY -c "
import json,sys
def scores(p):
    g=json.load(open(p))
    return sorted((s['student_id'], s['status'], s['score'], s['flags'],
                   [[(c['grade_id'], c['auto_score'], c['status']) for c in n['grades']] for n in s['notebooks']])
                  for s in g['submissions'])
a,b=scores(sys.argv[1]),scores(sys.argv[2]); sys.exit(a!=b or not a)" "$T/gb_auto.json" "$T/gb_none.json"
finish
