#!/bin/sh
# `grader ci` in a student's repository: exit codes, the step summary, reports.
. "$(dirname "$0")/lib.sh"
ex="$ROOT/rubrics/examples"
T=$E2E_TMP
"$GRADER" rubric release "$ex/ps1.json" -o "$T/release" >/dev/null
/usr/bin/python3 "$ex/make_submissions.py" "$T/release/ps1.ipynb" "$T/sub"

# a student's repository as the course template gives it: the released notebook,
# its data, and the public rubric (no hidden tests) in .grader/
make_repo() {
	mkdir -p "$T/$1/.grader"
	cp "$T/sub/$2/ps1/ps1.ipynb" "$T/release/data.csv" "$T/$1/"
	"$GRADER" rubric public "$ex/ps1.json" -o "$T/$1/.grader/rubric.json"
	git -C "$T/$1" init -q && git -C "$T/$1" add -A &&
		git -C "$T/$1" -c user.name=s -c user.email=s@x commit -qm work
}
make_repo pass alice
make_repo fail frank
check "public rubric has no hidden tests" sh -c "! grep -q 'HIDDEN TESTS' '$T/pass/.grader/rubric.json'"

(cd "$T/pass" && GITHUB_STEP_SUMMARY="$T/summary.md" "$GRADER" ci --junit "$T/pass.xml" \
	--gradebook "$T/pass.json" >"$T/out" 2>"$T/err")
check "passing repository exits 0" test $? -eq 0
check "table lists every question" test "$(grep -c '^test_' "$T/out")" -eq 5
check "table says all visible tests passed" grep -q '^5 of 5 visible tests passed' "$T/out"
check "step summary appended as Markdown" grep -q '^| test_fizzbuzz | 4 | 4 | passed' "$T/summary.md"
check "junit is well-formed XML" /usr/bin/python3 -c "import xml.etree.ElementTree as E, sys; E.parse(sys.argv[1])" "$T/pass.xml"
check "gradebook written" test "$(json_get "$T/pass.json" "['submissions'][0]['raw_score']")" = 13.0

GITHUB_STEP_SUMMARY="$T/summary.md" GITHUB_ACTOR=frank "$GRADER" ci "$T/fail" \
	--junit "$T/fail.xml" >"$T/out" 2>"$T/err"
check "failing repository exits 1" test $? -eq 1
check "failing question shown as partial" grep -q '^test_fizzbuzz  *3  *4  partial' "$T/out"
check "summary keeps the earlier run and adds this one" test "$(grep -c '^### grader: ps1' "$T/summary.md")" -eq 2
check "junit records one failure" /usr/bin/python3 -c "
import xml.etree.ElementTree as E, sys
r = E.parse(sys.argv[1]).getroot()
assert r.get('failures') == '1', r.get('failures')
assert r.find('testsuite').get('name').split('/')[1] == 'frank'" "$T/fail.xml"

# a hidden test is not run in students' CI: bob's case-sensitive palindrome passes
make_repo hidden bob
(cd "$T/hidden" && "$GRADER" ci >"$T/out" 2>&1)
check "hidden tests are not in the public rubric's run" grep -q '^test_is_palindrome  *3  *3  passed' "$T/out"
check "... and the table says they run when graded" \
	grep -q '^test_is_palindrome  *3  *3  passed  *hidden tests run when graded' "$T/out"
check "the step summary has the visible-tests line" grep -q '^5 of 5 visible tests passed' "$T/summary.md"

# the released notebook as handed out: the hand-graded answer left blank is no test
mkdir -p "$T/blank/.grader"
cp "$T/release/ps1.ipynb" "$T/release/data.csv" "$T/blank/"
cp "$T/pass/.grader/rubric.json" "$T/blank/.grader/"
(cd "$T/blank" && "$GRADER" ci >"$T/out" 2>&1)
check "manual cells are not counted as tests" grep -q '^0 of 5 visible tests passed' "$T/out"
check "... they are listed as graded by hand" grep -q '^palindrome_spaces .*graded by hand' "$T/out"

# usage and rubric errors exit 2
"$GRADER" ci "$T/nowhere" >/dev/null 2>"$T/err"
check "missing rubric exits 2" test $? -eq 2
check "missing rubric named" grep -q "nowhere/.grader/rubric.json" "$T/err"
echo '{"grader_rubric": 1}' >"$T/bad.json"
"$GRADER" ci --rubric "$T/bad.json" "$T/pass" >/dev/null 2>"$T/err"
check "invalid rubric exits 2" test $? -eq 2
"$GRADER" ci --bogus >/dev/null 2>&1
check "unknown flag exits 2" test $? -eq 2
rm "$T/pass/ps1.ipynb"
(cd "$T/pass" && "$GRADER" ci >"$T/out" 2>&1)
check "missing notebook exits 1" test $? -eq 1
check "missing notebook named" grep -q "no 'ps1.ipynb'" "$T/out"
finish
