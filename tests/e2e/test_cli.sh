#!/bin/sh
# The CLI: help, version, unknown commands and exit codes.
. "$(dirname "$0")/lib.sh"
out=$("$GRADER" --version); check "version prints" test "${out#grader }" != "$out"
"$GRADER" --help >"$E2E_TMP/h"; check "help exits 0" test $? -eq 0
check "help lists grade" grep -q '^  grade' "$E2E_TMP/h"
"$GRADER" nosuch 2>"$E2E_TMP/e"; rc=$?
check "unknown command exits 2" test $rc -eq 2
check "unknown command names it" grep -q "unknown command 'nosuch'" "$E2E_TMP/e"
for c in fetch rubric grade export ci nb run doctor; do
	"$GRADER" help $c >"$E2E_TMP/h" 2>&1; check "help $c" test $? -eq 0
done
finish
