#!/bin/sh
# The CLI: help, version, unknown commands and exit codes.
. "$(dirname "$0")/lib.sh"
out=$("$GRADER" --version); check "version prints" test "${out#grader }" != "$out"
"$GRADER" --help >"$E2E_TMP/h"; check "help exits 0" test $? -eq 0
check "help lists grade" grep -q '^  grade' "$E2E_TMP/h"
"$GRADER" nosuch 2>"$E2E_TMP/e"; rc=$?
check "unknown command exits 2" test $rc -eq 2
check "unknown command names it" grep -q "unknown command 'nosuch'" "$E2E_TMP/e"
for c in fetch rubric grade merge export ci nb run doctor; do
	"$GRADER" help $c >"$E2E_TMP/h" 2>&1; check "help $c" test $? -eq 0
done

# option values: the whole string is the number, in range, or exit 2 naming the flag
# usage_error NAME BAD CMD...: CMD exits 2 with one line quoting the bad value
usage_error() {
	n=$1 bad=$2; shift 2
	"$GRADER" "$@" >/dev/null 2>"$E2E_TMP/e"
	check "$n exits 2" test $? -eq 2
	check "$n names '$bad'" grep -qF -- "$bad" "$E2E_TMP/e"
}
usage_error "grade -j 0" "0" grade -j 0 -o "$E2E_TMP/gb.json" "$E2E_TMP/none.json" "$E2E_TMP"
usage_error "grade -j 2x" "2x" grade -j 2x -o "$E2E_TMP/gb.json" "$E2E_TMP/none.json" "$E2E_TMP"
usage_error "nb run --mem nan" "nan" nb run --mem nan "$E2E_TMP/x.ipynb"
usage_error "nb run --timeout -1" "-1" nb run --timeout -1 "$E2E_TMP/x.ipynb"
usage_error "run --time 1e" "1e" run --time 1e -- /bin/true
usage_error "run --mem inf" "inf" run --mem inf -- /bin/true
usage_error "rubric import --memory 0" "0" rubric import --memory 0 "$E2E_TMP/x.ipynb"
usage_error "rubric import --seed 1.5" "1.5" rubric import --seed 1.5 "$E2E_TMP/x.ipynb"
usage_error "fetch archive --jobs 99999999999999999999k" "99999999999999999999k" fetch archive --jobs 99999999999999999999k --assignment a --dest "$E2E_TMP/d" "$E2E_TMP/a.zip"
usage_error "fetch archive --max-file-size 17179869184G" "17179869184G" fetch archive --max-file-size 17179869184G --assignment a --dest "$E2E_TMP/d" "$E2E_TMP/a.zip"
# every subcommand: an unknown flag and a flag missing its value exit 2, naming the flag
for c in "export" "feedback" "report" "grade" "merge" "ci" "serve" "submit" "nb run" \
	"run" "rubric import" "rubric release" "rubric public" "fetch git" "fetch archive"; do
	# shellcheck disable=SC2086 # $c is a command and its subcommand
	usage_error "$c --no-such-flag" "--no-such-flag" $c --no-such-flag "$E2E_TMP/x"
done
usage_error "export --to (no value)" "--to" export "$E2E_TMP/gb.json" --to
usage_error "feedback -o (no value)" "-o" feedback "$E2E_TMP/gb.json" -o
usage_error "report -o (no value)" "-o" report "$E2E_TMP/gb.json" -o
usage_error "grade --rubric (no value)" "--rubric" grade --rubric
usage_error "merge -o (no value)" "-o" merge -o
usage_error "ci --rubric (no value)" "--rubric" ci --rubric
usage_error "serve --config (no value)" "--config" serve --config
usage_error "submit --server (no value)" "--server" submit --server
usage_error "nb run --mem (no value)" "--mem" nb run --mem
usage_error "run --time (no value)" "--time" run --time
usage_error "rubric import --assignment (no value)" "--assignment" rubric import "$E2E_TMP/x.ipynb" --assignment
usage_error "rubric release -o (no value)" "-o" rubric release "$E2E_TMP/r.json" -o
usage_error "fetch git --dest (no value)" "--dest" fetch git --dest
usage_error "fetch archive --layout (no value)" "--layout" fetch archive --layout
finish
