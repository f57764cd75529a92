# Shared helpers for end-to-end tests (sourced by tests/e2e/test_*.sh).
# Each check records "pass NAME", "fail NAME" or "skip NAME" in $E2E_RESULTS;
# tests/run.sh counts them. Scripts may also be run alone, and then exit 1
# when a check failed: GRADER=build/grader sh tests/e2e/test_x.sh
# REQUIRE_ROOT=1 (set by CI) turns a skip for want of root into a failure.
: "${GRADER:=$(pwd)/build/grader}"
: "${ROOT:=$(pwd)}"
: "${BUILD:=build}"
: "${E2E_RESULTS:=/dev/null}"
E2E_NAME=$(basename "$0" .sh)
E2E_TMP=$(mktemp -d "/tmp/grader-$E2E_NAME.XXXXXX")
chmod 755 "$E2E_TMP"
trap 'rm -rf "$E2E_TMP"' EXIT
E2E_OWN=$E2E_TMP/.results
: >"$E2E_OWN"

record() { echo "$1 $2" >>"$E2E_RESULTS"; echo "$1 $2" >>"$E2E_OWN"; }
pass() { echo "ok   - $E2E_NAME: $1"; record pass "$1"; }
fail() { echo "FAIL - $E2E_NAME: $1${2:+ ($2)}"; record fail "$1"; }
# skip NAME WHY: a check not run here, counted and explained
skip() { echo "skip - $E2E_NAME: $1: $2"; record skip "$1"; }
# need_root WHAT: the rest of the script needs root; skip it (or fail under
# REQUIRE_ROOT=1) and finish when we are not root
need_root() {
	[ "$(id -u)" = 0 ] && return 0
	if [ "${REQUIRE_ROOT:-0}" = 1 ]; then
		fail "$1" "needs root and REQUIRE_ROOT=1"
	else
		skip "$1" "needs root (CI runs as root)"
	fi
	finish
}
# check NAME CMD...: pass when CMD succeeds
check() { n=$1; shift; if "$@"; then pass "$n"; else fail "$n"; fi; }
# json_get FILE EXPR: print a value from a JSON file with python3 (e.g. '["status"]')
json_get() { /usr/bin/python3 -c "import json,sys; v=json.load(open(sys.argv[1]))$2; print(v if not isinstance(v,(dict,list)) else json.dumps(v))" "$1"; }
# gb_sub GRADEBOOK STUDENT EXPR: succeed when the Python EXPR holds for the
# student's submission in GRADEBOOK, as `s` (and `r`: its flag_reasons as JSON text)
gb_sub() {
	/usr/bin/python3 - "$@" <<'PYEOF'
import json, sys
g = json.load(open(sys.argv[1]))
s = [x for x in g["submissions"] if x["student_id"] == sys.argv[2]][0]
r = json.dumps(s.get("flag_reasons", {}))
sys.exit(0 if eval(sys.argv[3]) else 1)
PYEOF
}
# finish: exit 1 when any check of this script failed
finish() { if grep -q '^fail' "$E2E_OWN"; then exit 1; fi; exit 0; }
