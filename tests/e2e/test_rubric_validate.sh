#!/bin/sh
# rubric import proves the rubric on the instructor's own solution, as
# nbgrader validate does: the source runs in the real sandbox as grade runs a
# submission; a solution short of full points, a failing import or a time
# limit hit refuses the rubric (nothing written) unless --no-validate.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
T=$E2E_TMP
# a TMPDIR of its own (validation works there): what is left in it is this
# script's, not another suite's on the same machine
mkdir "$T/tmp" && chmod 755 "$T/tmp"
export TMPDIR=$T/tmp

# the demo course validates clean, the same way make_rubric.sh builds it
mkdir -p "$T/ex" && cp -r "$ROOT/rubrics/examples/ps1" "$ROOT/rubrics/examples/make_rubric.sh" "$T/ex/"

# a malformed notebook gets its one-line error before anything runs (no root needed)
printf '{"cells": [' >"$T/broken.ipynb"
"$GRADER" rubric import "$T/broken.ipynb" --assignment b -o "$T/broken.json" 2>"$T/err"
check "malformed notebook: exit 1" test $? -eq 1
check "malformed notebook: one line naming the file" sh -c \
	"test \$(wc -l <'$T/err') -eq 1 && grep -q \"^grader rubric import: .*broken.ipynb\" '$T/err'"
check "malformed notebook: nothing written" test ! -e "$T/broken.json"

# --no-validate writes the rubric and runs nothing (no root needed either)
"$GRADER" rubric import "$T/ex/ps1/source/ps1.ipynb" --assignment ps1 --no-auto-preload \
	--no-validate -o "$T/nv.json" 2>"$T/err"
check "--no-validate: exit 0" test $? -eq 0
check "--no-validate: rubric written" test -s "$T/nv.json"
check "--no-validate: no validation line" sh -c "! grep -q 'validated\|grade cells' '$T/err'"
check "--help documents --no-validate" sh -c "'$GRADER' rubric --help | grep -q -- '--no-validate'"

if [ "$(id -u)" != 0 ]; then
	# without root the sandbox cannot run: one line, naming the flag
	"$GRADER" rubric import "$T/ex/ps1/source/ps1.ipynb" --assignment ps1 --no-auto-preload \
		-o "$T/nr.json" 2>"$T/err"
	check "no sandbox: exit 1" test $? -eq 1
	check "no sandbox: one line naming --no-validate" sh -c \
		"test \$(wc -l <'$T/err') -eq 1 && grep -q -- '--no-validate' '$T/err'"
	check "no sandbox: nothing written" test ! -e "$T/nr.json"
fi
need_root "validation runs the solution in the sandbox"

sh "$T/ex/make_rubric.sh" "$GRADER" 2>"$T/err"
check "demo: make_rubric.sh validates and writes" test -s "$T/ex/ps1.json"
check "demo: the summary line" grep -Eq \
	'^validated ps1: 5/5 grade cells full marks \(13 points\) in [0-9.]+ s$' "$T/err"
check "demo: no error or warning" sh -c "! grep -q '^error:\|^warning:' '$T/err'"
"$GRADER" rubric check --validate "$T/ex/ps1.json" >"$T/out" 2>"$T/err"
check "check --validate: the demo rubric passes" sh -c \
	"test \$? -eq 0 || exit 1; grep -q '^validated ps1: 5/5' '$T/err'"

# courses written here: `mk NAME <SPEC`, SPEC a JSON list of [kind, source(, points, grade_id)]
cat >"$T/mk.py" <<'PYEOF'
import json, sys
spec = json.load(open(sys.argv[2]))
cells = []
for i, c in enumerate(spec):
    kind, src = c[0], c[1]
    nbg = dict(schema_version=3, grade=False, solution=False, locked=False, task=False)
    if kind == "answer":
        nbg.update(grade_id="a%d" % i, solution=True)
    elif kind == "test":
        nbg.update(grade_id=c[3] if len(c) > 3 else "t%d" % i, grade=True, locked=True, points=c[2])
    md = {"nbgrader": nbg} if kind != "plain" else {}
    cells.append({"cell_type": "code", "metadata": md, "source": src, "outputs": [],
                  "execution_count": None})
nb = {"nbformat": 4, "nbformat_minor": 5, "cells": cells,
      "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}}
json.dump(nb, open(sys.argv[1], "w"))
PYEOF
mk() { cat >"$T/spec.json" && $PY "$T/mk.py" "$T/$1" "$T/spec.json"; }

# a wrong solution: one test fails; refused, naming grade_id and points, nothing written
mk wrong.ipynb <<'EOF'
[["answer", "def double(x):\n    ### BEGIN SOLUTION\n    return x + 2\n    ### END SOLUTION"],
 ["test", "assert double(2) == 4", 1, "test_two"],
 ["test", "assert double(5) == 10, 'double(5) is not 10'", 3, "test_five"]]
EOF
"$GRADER" rubric import "$T/wrong.ipynb" --assignment w -o "$T/wrong.json" 2>"$T/err"
check "wrong solution: exit 1" test $? -eq 1
check "wrong solution: no rubric written" test ! -e "$T/wrong.json"
check "wrong solution: names grade_id, points and the error" grep -qx \
	"error: wrong.ipynb cell 3 test_five: 0/3 points: AssertionError: double(5) is not 10" "$T/err"
check "wrong solution: the passing test is not blamed" sh -c "! grep -q test_two '$T/err'"
check "wrong solution: the summary counts" grep -qx \
	"w: 1/2 grade cells full marks (1/4 points) in [0-9.]* s" "$T/err"
check "wrong solution: the refusal names --no-validate" grep -q \
	"the rubric is not written (--no-validate writes it unproven)" "$T/err"
"$GRADER" rubric import "$T/wrong.ipynb" --assignment w --no-validate -o "$T/wrong.json" 2>/dev/null
check "wrong solution: --no-validate writes it" test -s "$T/wrong.json"
"$GRADER" rubric check --validate "$T/wrong.json" >/dev/null 2>"$T/err"
check "check --validate: the wrong rubric fails" test $? -eq 1
check "check --validate: the same finding" grep -q "^error: wrong.ipynb cell 3 test_five: 0/3" "$T/err"

# an import of a module that is not installed
mk missing.ipynb <<'EOF'
[["plain", "import no_such_module_for_grader_e2e as m"],
 ["answer", "x = 1"],
 ["test", "assert x == 1", 1]]
EOF
"$GRADER" rubric import "$T/missing.ipynb" --assignment m -o "$T/missing.json" 2>"$T/err"
check "missing module: exit 1" test $? -eq 1
check "missing module: nothing written" test ! -e "$T/missing.json"
check "missing module: names the module" grep -q \
	"^error: missing.ipynb cell 1: import of 'no_such_module_for_grader_e2e' failed: ModuleNotFoundError" "$T/err"

# like the real public course: scipy's expm in an ungraded answer cell the
# tests depend on; when that cell fails, the solution scores 5 of 10
expm_course() {
	mk "$1" <<EOF
[["plain", "import numpy as np"],
 ["answer", "### BEGIN SOLUTION\\nfrom scipy.linalg import $2\\nE = $2(np.zeros((2, 2)))\\n### END SOLUTION"],
 ["test", "assert 1 + 1 == 2", 5, "test_basics"],
 ["test", "assert np.allclose(E, np.eye(2))", 5, "test_expm"]]
EOF
}
expm_course expm.ipynb expm
"$GRADER" rubric import "$T/expm.ipynb" --assignment expm -o "$T/expm.json" 2>"$T/err"
rc=$?
if $PY -c "import scipy.linalg" 2>/dev/null; then
	check "expm course: validates where scipy is installed" test $rc -eq 0
	check "expm course: 2/2 full marks" grep -q "^validated expm: 2/2 grade cells full marks (10 points)" "$T/err"
	# the same course when the name cannot be imported (as from an older scipy)
	expm_course expm2.ipynb expm_of_a_newer_scipy
	"$GRADER" rubric import "$T/expm2.ipynb" --assignment expm -o "$T/expm2.json" 2>"$T/err"
	check "expm course, import fails: exit 1" test $? -eq 1
	check "expm course, import fails: the module is named" grep -q \
		"^error: expm2.ipynb cell 2 a1: import of 'scipy.linalg' failed: ImportError: cannot import name 'expm_of_a_newer_scipy'" "$T/err"
else
	check "expm course without scipy: exit 1" test $rc -eq 1
	check "expm course without scipy: the module is named" grep -q \
		"^error: expm.ipynb cell 2 a1: import of 'scipy' failed: ModuleNotFoundError" "$T/err"
fi
check "expm course, answer cell fails: the test that depends on it" grep -Eq \
	"^error: expm2?.ipynb cell 4 test_expm: 0/5 points: NameError: name 'E' is not defined" "$T/err"
check "expm course, answer cell fails: 5 of 10" grep -q "^expm: 1/2 grade cells full marks (5/10 points)" "$T/err"
# the same shape whatever is installed: the answer cell raises, the tests score 5 of 10
mk fails.ipynb <<'EOF'
[["plain", "import math"],
 ["answer", "### BEGIN SOLUTION\nE = math.log(-1)\n### END SOLUTION"],
 ["test", "assert 1 + 1 == 2", 5, "test_basics"],
 ["test", "assert E == 0", 5, "test_e"]]
EOF
"$GRADER" rubric import "$T/fails.ipynb" --assignment f -o "$T/fails.json" 2>"$T/err"
check "an answer cell that fails: exit 1" test $? -eq 1
check "an answer cell that fails: its error is shown" grep -q \
	"^note: fails.ipynb cell 2 a1 raised ValueError: math domain error" "$T/err"
check "an answer cell that fails: 5 of 10" grep -q "^f: 1/2 grade cells full marks (5/10 points)" "$T/err"

# the solution itself replaces a builtin: every student would be flagged
mk builtins.ipynb <<'EOF'
[["answer", "import builtins\nbuiltins.len = lambda s: 3\nx = 1"],
 ["test", "assert x == 1", 1]]
EOF
"$GRADER" rubric import "$T/builtins.ipynb" --assignment b -o "$T/builtins.json" 2>"$T/err"
check "a flag on the solution: exit 1" test $? -eq 1
check "a flag on the solution: named" grep -q "^error: flag replaced_builtins on the solution itself" "$T/err"

# a slow solution cell gets a timeout suggestion (and still validates)
mk slow.ipynb <<'EOF'
[["answer", "import time\ntime.sleep(1.2)\nx = 1"],
 ["test", "assert x == 1", 1]]
EOF
"$GRADER" rubric import "$T/slow.ipynb" --assignment s --cell-timeout 3 -o "$T/slow.json" 2>"$T/err"
check "slow cell: still written" test -s "$T/slow.json"
check "slow cell: a --cell-timeout suggestion" grep -Eq \
	"^warning: slow.ipynb cell 1 a0: 1\.[0-9] s of the 3 s cell limit: suggest --cell-timeout [4-9]$" "$T/err"
"$GRADER" rubric import "$T/slow.ipynb" --assignment s --cell-timeout 3 --notebook-timeout 3 \
	-o "$T/slow2.json" 2>"$T/err"
check "slow notebook: a --notebook-timeout suggestion" grep -Eq \
	"^warning: slow.ipynb: [0-9.]+ s of the 3 s notebook limit: suggest --notebook-timeout [0-9]+$" "$T/err"
# a solution cell beyond the limit is a timeout: refused
"$GRADER" rubric import "$T/slow.ipynb" --assignment s --cell-timeout 1 -o "$T/slow3.json" 2>"$T/err"
check "timeout: exit 1" test $? -eq 1
check "timeout: named with the flag to raise" grep -q \
	"^error: slow.ipynb cell 1 a0: timed out at the 1 s cell limit (raise --cell-timeout" "$T/err"
check "timeout: nothing written" test ! -e "$T/slow3.json"

# data files and the rubric's limits apply as in grade
mk data.ipynb <<'EOF'
[["answer", "### BEGIN SOLUTION\nv = open('input.txt').read().strip()\n### END SOLUTION"],
 ["test", "assert v == 'forty-two'", 2, "test_data"]]
EOF
echo forty-two >"$T/input.txt"
"$GRADER" rubric import "$T/data.ipynb" --assignment d -o "$T/data.json" 2>"$T/err"
check "data file not declared: refused (grade would not have it)" grep -q \
	"^error: data.ipynb cell 2 test_data: 0/2 points" "$T/err"
"$GRADER" rubric import "$T/data.ipynb" --assignment d --data "$T/input.txt" -o "$T/data.json" 2>"$T/err"
check "data file declared with --data: validates" grep -q "^validated d: 1/1 grade cells full marks (2 points)" "$T/err"

# it works in TMPDIR: one that cannot hold a folder is named in its error
TMPDIR=$T/no-such-dir "$GRADER" rubric import "$T/data.ipynb" --assignment d --data "$T/input.txt" \
	-o "$T/data2.json" 2>"$T/err"
check "validation works in TMPDIR: one that is not there is named" \
	grep -q "cannot make a folder in '$T/no-such-dir'" "$T/err"
check "validation leaves nothing in its TMPDIR" sh -c "! ls -d '$TMPDIR'/grader-validate.* 2>/dev/null | grep -q ."
finish
