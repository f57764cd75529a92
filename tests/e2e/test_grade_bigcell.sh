#!/bin/sh
# A notebook whose cells hold more code than any honest one (a literal list
# of a million numbers in one cell): the engine parses every cell before the
# box's limits apply, at some 500 bytes of its memory a byte of code, so a
# cell over 512 KiB, or cells over 4 MiB in all, fail that submission with a
# one-line reason naming the cell, before any of it is parsed; the other
# students of the batch are graded as always.
. "$(dirname "$0")/lib.sh"
ex="$ROOT/rubrics/examples"
T=$E2E_TMP
PY=/usr/bin/python3
weaker=
"$GRADER" doctor >/dev/null 2>&1 || weaker=--allow-weaker
"$GRADER" rubric release "$ex/ps1.json" -o "$T/release" >/dev/null
$PY "$ex/make_submissions.py" "$T/release/ps1.ipynb" "$T/gen"
mkdir -p "$T/sub"
cp -r "$T/gen/alice" "$T/gen/bob" "$T/sub/"
# mallory: alice's notebook with a first code cell of 800 KiB; trudy: ten of 450 KiB
$PY - "$T/gen/alice/ps1/ps1.ipynb" "$T/sub" <<'PYEOF'
import copy, json, os, sys
nb = json.load(open(sys.argv[1]))
def cell(src):
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": src}
for who, cells in (("mallory", [cell("x = [" + "1," * 400000 + "]\n")]),
                   ("trudy", [cell("y%d = [" % i + "2," * 230000 + "]\n") for i in range(10)])):
    b = copy.deepcopy(nb)
    b["cells"][1:1] = cells
    os.makedirs(os.path.join(sys.argv[2], who, "ps1"))
    json.dump(b, open(os.path.join(sys.argv[2], who, "ps1", "ps1.ipynb"), "w"))
PYEOF
"$GRADER" grade --rubric "$ex/ps1.json" --submissions "$T/sub" -o "$T/gb.json" -j 2 $weaker 2>"$T/log"
cat "$T/log"
# field STUDENT EXPR: a value of that student's submission (s)
field() { $PY -c "
import json, sys
s = [s for s in json.load(open(sys.argv[1]))['submissions'] if s['student_id'] == sys.argv[2]][0]
print($2)" "$T/gb.json" "$1"; }
check "the honest students graded: alice 13" test "$(field alice "s['score']")" = 13.0
check "the honest students graded: bob 9" test "$(field bob "s['score']")" = 9.0
check "a cell over 512 KiB: mallory's submission failed" test "$(field mallory "s['status']")" = error
check "... with the cell and the cap named" grep -q "mallory: cell 1 holds 781 KiB of code, over the 512 KiB a cell may hold" "$T/log"
check "cells over 4 MiB in all: trudy's submission failed" test "$(field trudy "s['status']")" = error
check "... with the total and the cap named" grep -q "trudy.*the cells hold [0-9]* KiB of code, over the 4096 KiB a notebook may hold" "$T/log"
# nb run says the same, for one notebook, and runs the next
"$GRADER" nb run $weaker "$T/sub/mallory/ps1/ps1.ipynb" "$T/gen/carol/ps1/ps1.ipynb" >"$T/out" 2>"$T/err"
check "nb run: the big cell refused, named" grep -q "ps1.ipynb': cell 1 holds 781 KiB of code" "$T/err"
check "nb run: the next notebook still runs" grep -q "carol/ps1/ps1.ipynb: " "$T/out"
finish
