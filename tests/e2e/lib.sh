# Shared helpers for end-to-end tests (sourced by tests/e2e/test_*.sh).
# Each check records "pass NAME" or "fail NAME" in $E2E_RESULTS; tests/run.sh
# counts them. Scripts may also be run alone: GRADER=build/grader sh tests/e2e/test_x.sh
: "${GRADER:=$(pwd)/build/grader}"
: "${ROOT:=$(pwd)}"
: "${BUILD:=build}"
: "${E2E_RESULTS:=/dev/null}"
E2E_NAME=$(basename "$0" .sh)
E2E_TMP=$(mktemp -d "/tmp/grader-$E2E_NAME.XXXXXX")
chmod 755 "$E2E_TMP"
trap 'rm -rf "$E2E_TMP"' EXIT
E2E_FAILS=0

pass() { echo "ok   - $E2E_NAME: $1"; echo "pass $1" >>"$E2E_RESULTS"; }
fail() { echo "FAIL - $E2E_NAME: $1${2:+ ($2)}"; echo "fail $1" >>"$E2E_RESULTS"; E2E_FAILS=$((E2E_FAILS + 1)); }
# check NAME CMD...: pass when CMD succeeds
check() { n=$1; shift; if "$@"; then pass "$n"; else fail "$n"; fi; }
# json_get FILE EXPR: print a value from a JSON file with python3 (e.g. '["status"]')
json_get() { /usr/bin/python3 -c "import json,sys; v=json.load(open(sys.argv[1]))$2; print(v if not isinstance(v,(dict,list)) else json.dumps(v))" "$1"; }
finish() { exit 0; }
