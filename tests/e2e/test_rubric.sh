#!/bin/sh
# grader rubric import/release/public/check on the demo course's source notebook.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
SRC=$ROOT/rubrics/examples/ps1/source
T=$E2E_TMP

# proving a rubric on its solution needs the sandbox: without root this test
# checks the rubric files only (test_rubric_validate.sh proves them)
nv=
[ "$(id -u)" = 0 ] || nv=--no-validate

# the committed demo rubric is reproducible from its script
mkdir -p "$T/ex" && cp -r "$ROOT/rubrics/examples/ps1" "$ROOT/rubrics/examples/make_rubric.sh" "$T/ex/"
sh "$T/ex/make_rubric.sh" "$GRADER" $nv 2>"$T/err"
check "make_rubric.sh runs" test -s "$T/ex/ps1.json"
check "demo rubric is reproducible" cmp -s "$T/ex/ps1.json" "$ROOT/rubrics/examples/ps1.json"

"$GRADER" rubric import "$SRC/ps1.ipynb" --assignment ps1 --duedate 2026-10-30T10:00:00Z \
	--late-policy zero --data "$SRC/data.csv" $nv -o "$T/ps1.json" 2>"$T/err"
check "import exits 0" test $? -eq 0
check "import reports points" grep -q "18 points" "$T/err"
out=$("$GRADER" rubric check "$T/ps1.json")
check "check summarizes" test "$out" = "ok $T/ps1.json: assignment ps1, 1 notebook(s), 7 graded cell(s), 18 points"

# checksums equal nbgrader's compute_checksum (a python reimplementation of its recipe)
cat >"$T/nbsum.py" <<'PYEOF'
import hashlib, json, sys
def is_locked(m):
    return False if m.get("solution") else True if m.get("grade") else m.get("locked", False)
def checksum(src, ctype, m):
    h = hashlib.md5()
    h.update(src.encode("utf-8")); h.update(ctype.encode("utf-8"))
    h.update(str(bool(m.get("grade"))).encode()); h.update(str(bool(m.get("solution"))).encode())
    h.update(str(bool(is_locked(m))).encode()); h.update(m["grade_id"].encode("utf-8"))
    if m.get("grade"):
        h.update(str(float(m["points"])).encode())
    return h.hexdigest()
nb = json.load(open(sys.argv[1]))
n = 0
for c in nb["cells"]:
    m = c["metadata"].get("nbgrader")
    if not m or "checksum" not in m:
        continue
    src = c["source"] if isinstance(c["source"], str) else "".join(c["source"])
    if checksum(src, c["cell_type"], m) != m["checksum"]:
        sys.exit("checksum differs for " + m["grade_id"])
    n += 1
print(n)
PYEOF

# the rubric's checksums of locked cells (hidden tests included) are nbgrader's too
n=$($PY - "$T/ps1.json" "$T/nbsum.py" <<'PYEOF'
import json, sys
exec(open(sys.argv[2]).read().split("nb = json.load")[0])
n = 0
for c in json.load(open(sys.argv[1]))["notebooks"][0]["cells"]:
    if "grade_id" in c and not c.get("solution"):
        assert checksum(c["source"], c["cell_type"], c) == c["checksum"], c["grade_id"]
        n += 1
print(n)
PYEOF
)
check "rubric checksums are nbgrader's" test "$n" = 7

"$GRADER" rubric release "$T/ps1.json" -o "$T/release" 2>"$T/err"
check "release exits 0" test $? -eq 0
check "release has the notebook" test -f "$T/release/ps1.ipynb"
check "release has the data file" cmp -s "$T/release/data.csv" "$SRC/data.csv"
check "released notebook has no solutions" sh -c "! grep -q 'BEGIN SOLUTION\|END SOLUTION\|t\[::-1\]\|n % 15' '$T/release/ps1.ipynb'"
check "released notebook has no hidden tests" sh -c "! grep -q 'HIDDEN TESTS\|Never odd or even' '$T/release/ps1.ipynb'"
check "released notebook has no mark scheme" sh -c "! grep -q 'MARK SCHEME' '$T/release/ps1.ipynb'"
check "released notebook keeps visible tests" grep -q 'kayak' "$T/release/ps1.ipynb"
n=$($PY "$T/nbsum.py" "$T/release/ps1.ipynb")
check "released checksums are nbgrader's" test "$n" = 13
$PY - "$T/release/ps1.ipynb" <<'PYEOF'
import json, sys
nb = json.load(open(sys.argv[1]))
assert nb["nbformat"] == 4 and nb["nbformat_minor"] == 5
for c in nb["cells"]:
    assert "id" in c
    if c["cell_type"] == "code":
        assert c["outputs"] == [] and c["execution_count"] is None
        compile("".join(c["source"]), c["id"], "exec")
stub = [c for c in nb["cells"] if c["id"] == "q3-answer"][0]
assert "".join(stub["source"]) == "def fizzbuzz(n):\n    # YOUR CODE HERE\n    raise NotImplementedError()"
md = [c for c in nb["cells"] if c["id"] == "q6-answer"][0]
assert "".join(md["source"]) == "YOUR ANSWER HERE"
PYEOF
check "released cells: outputs cleared, stubs indented, valid python" test $? -eq 0

# the instructor's solutions pass every test, and the partial-credit cell scores 4
(cd "$SRC" && $PY - ps1.ipynb <<'PYEOF'
import json, sys
g = {}
for c in json.load(open(sys.argv[1]))["cells"]:
    if c["cell_type"] == "code":
        exec(compile("".join(c["source"]), "cell", "exec"), g)
assert g["earned"] == 4
PYEOF
)
check "demo source solutions pass their tests" test $? -eq 0

"$GRADER" rubric public "$T/ps1.json" -o "$T/public.json"
check "public exits 0" test $? -eq 0
check "public has no hidden tests" sh -c "! grep -q 'HIDDEN TESTS\|Never odd or even' '$T/public.json'"
check "public has no solutions" sh -c "! grep -q 'BEGIN SOLUTION\|t\[::-1\]\|word breaks' '$T/public.json'"
check "public is marked public" test "$(json_get "$T/public.json" '["public"]')" = True
check "public rubric validates" sh -c "'$GRADER' rubric check '$T/public.json' | grep -q '(public)'"

if $PY -c "import jsonschema" 2>/dev/null; then
	for f in "$T/ps1.json" "$T/public.json" "$ROOT/rubrics/examples/ps1.json"; do
		$PY -c "
import json, sys, jsonschema
s = json.load(open(sys.argv[1])); jsonschema.Draft7Validator.check_schema(s)
jsonschema.validate(json.load(open(sys.argv[2])), s)" "$ROOT/rubrics/rubric.schema.json" "$f"
		check "schema accepts $(basename "$f")" test $? -eq 0
	done
else
	skip "JSON Schema check" "python3-jsonschema not installed"
fi

# errors: one line, exit codes
"$GRADER" rubric import "$SRC/ps1.ipynb" -o "$T/x.json" 2>"$T/err"
check "import without --assignment exits 2" test $? -eq 2
$PY -c "
import json, sys
nb = json.load(open(sys.argv[1]))
del nb['cells'][4]['metadata']['nbgrader']['points']
json.dump(nb, open(sys.argv[2], 'w'))" "$SRC/ps1.ipynb" "$T/bad.ipynb"
"$GRADER" rubric import "$T/bad.ipynb" --assignment ps1 -o "$T/x.json" 2>"$T/err"
check "bad source exits 1" test $? -eq 1
check "bad source names the cell" grep -q "'bad.ipynb': cell 5 (grade_id 'test_squares'): grade cell has no points" "$T/err"
check "no rubric written on error" test ! -e "$T/x.json"
$PY -c "
import json, sys
r = json.load(open(sys.argv[1])); r['notebooks'][0]['cells'][4]['points'] = -2
json.dump(r, open(sys.argv[2], 'w'))" "$T/ps1.json" "$T/neg.json"
"$GRADER" rubric check "$T/neg.json" 2>"$T/err"
check "bad rubric exits 1" test $? -eq 1
check "bad rubric message" grep -qx "rubric '$T/neg.json': notebooks\[0\].cells\[4\]: points must be a number >= 0" "$T/err"
"$GRADER" rubric release "$T/ps1.json" 2>/dev/null
check "release without -o exits 2" test $? -eq 2
"$GRADER" rubric --help >"$T/help"
check "help exits 0" test $? -eq 0
for f in --assignment --duedate --late-policy --extension --preload --data --seed --cell-timeout \
	--notebook-timeout --memory --processes --output-limit; do
	check "help lists $f" grep -q -- "$f" "$T/help"
done

# regions that nest or never close: one location and a reason, as real courses hit them
$PY - "$T" <<'EOF'
import json, sys
def nb(src, gid, **kw):
    md = {"grade": False, "grade_id": gid, "locked": False, "schema_version": 3, "solution": True}
    md.update(kw)
    return {"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": "intro"},
        {"cell_type": "code", "execution_count": None, "metadata": {"nbgrader": md},
         "outputs": [], "source": src}]}
json.dump(nb("x = 0\n### BEGIN SOLUTION\nx = 1\n### BEGIN SOLUTION\nx = 2\n### END SOLUTION\n",
             "nest"), open(sys.argv[1] + "/Review Questions.ipynb", "w"))
json.dump(nb("assert x\n### BEGIN HIDDEN TESTS\nassert x > 0\n", "unterm", grade=True,
             solution=False, locked=True, points=1), open(sys.argv[1] + "/unterm.ipynb", "w"))
EOF
"$GRADER" rubric import "$T/Review Questions.ipynb" --assignment ps1 -o "$T/x.json" 2>"$T/err"
check "nested regions: exit 1" test $? -eq 1
check "nested regions: one location, then the reason" grep -qx "grader rubric import: 'Review Questions.ipynb': cell 2 (grade_id 'nest'): line 4: a 'BEGIN SOLUTION' inside the region opened on line 2 (regions cannot nest)" "$T/err"
"$GRADER" rubric import "$T/unterm.ipynb" --assignment ps1 -o "$T/x.json" 2>"$T/err"
check "unterminated region: one location, then the reason" grep -qx "grader rubric import: 'unterm.ipynb': cell 2 (grade_id 'unterm'): line 2: the 'BEGIN HIDDEN TESTS' region is never closed (no END line)" "$T/err"
finish
