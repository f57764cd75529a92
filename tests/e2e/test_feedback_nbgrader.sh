#!/bin/sh
# Feedback from notebooks autograded by the real nbgrader (../shared/nbgrader):
# the demo course's source generated and autograded by nbgrader for three
# students, then `grader feedback` on nbgrader's autograded/ folder. nbgrader
# keeps hidden tests in autograded notebooks: our pages must not show them.
. "$(dirname "$0")/lib.sh"
T=$E2E_TMP
PY=/usr/bin/python3
. "$(dirname "$0")/nbgrader.sh"
if [ ! -d "$NBG/nbgrader" ] || ! PYTHONPATH=$NBG:$NBG/stubs $PY -c 'import nbgrader, nbclient' 2>/dev/null; then
	skip "feedback from nbgrader's autograded notebooks" "the real nbgrader is not at $NBG (or Debian's Jupyter packages are missing)"
	finish
fi
sh "$ROOT/rubrics/examples/demo.sh" "$GRADER" "$T/demo" >"$T/demo.out" 2>&1
check "demo graded" test $? -eq 0

C=$T/course
mkdir -p "$C/source/ps1" "$C/submitted"
cp "$ROOT/rubrics/examples/ps1/source/"* "$C/source/ps1/"
for s in alice bob carol; do cp -r "$T/demo/submitted/$s" "$C/submitted/"; done
nbg_config "$C" "Execute.timeout = 10"
nbgrader() { (cd "$C" && HOME=$T nbg -m nbgrader "$@"); }
nbgrader generate_assignment ps1 --force >"$T/gen.log" 2>&1
check "nbgrader generate_assignment" test $? -eq 0
nbgrader autograde ps1 >"$T/ag.log" 2>&1
check "nbgrader autograde" test -s "$C/autograded/bob/ps1/ps1.ipynb"
check "nbgrader's autograded notebook holds the hidden tests" grep -q 'Never odd or even' "$C/autograded/bob/ps1/ps1.ipynb"

"$GRADER" feedback "$T/demo/gradebook.json" --autograded "$C/autograded" -o "$T/fb" 2>"$T/fb.err"
check "grader feedback on nbgrader's autograded folder" test $? -eq 0
check "... with the notebook for the three autograded students" sh -c "
	for s in alice bob carol; do grep -q 'Your notebook' '$T/fb/'\$s/ps1/ps1.html || exit 1; done"
check "... and scores only for the others" sh -c "! grep -q 'Your notebook' '$T/fb/dave/ps1/ps1.html'"
check "hidden tests of nbgrader's notebooks never shown" sh -c "! grep -rq 'Never odd or even' '$T/fb'"
# unlike nbgrader's own feedback, a cell holding hidden tests shows only the
# exception's name (what the student's code printed or raised there may
# carry the hidden tests' values): bob fails the hidden palindrome test
check "a hidden-test cell of nbgrader's notebook: its exception's name, the rest withheld" $PY - "$T/fb/bob/ps1/ps1.html" "$C/autograded/bob/ps1/ps1.ipynb" <<'PYEOF'
import json, sys
t = open(sys.argv[1]).read()
nb = json.load(open(sys.argv[2]))
c = [c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "test_is_palindrome"][0]
errs = [o for o in c["outputs"] if o["output_type"] == "error"]
assert errs and errs[0]["ename"] == "AssertionError", "nbgrader's run failed bob's hidden test"
assert '<pre class="out err">AssertionError</pre>' in t
assert "the rest is withheld: this cell holds hidden tests" in t
PYEOF
check "nbgrader's outputs shown as text: carol's SyntaxError, no terminal colours" $PY - "$T/fb/carol/ps1/ps1.html" <<'PYEOF'
import sys
t = open(sys.argv[1], "rb").read()
assert b"\x1b" not in t
assert b"SyntaxError" in t and b"NameError" in t
assert b"In [2]:" in t  # execution counts from nbgrader's run
PYEOF
finish
