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

# without root (CI runs as root): $weaker for a weaker sandbox to grade or
# run in, $nv for a rubric written unproven; empty as root
weaker= nv=
[ "$(id -u)" = 0 ] || weaker=--allow-weaker nv=--no-validate

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
# student's submission in GRADEBOOK, as `s` (and `r`: its flag_reasons as JSON
# text; `g`: its grades by grade id; out(ID, FIELD): what grade cell ID's
# output holds in FIELD, stdout by default, "" when nothing)
gb_sub() {
	/usr/bin/python3 - "$@" <<'PYEOF'
import json, sys
gb = json.load(open(sys.argv[1]))
s = [x for x in gb["submissions"] if x["student_id"] == sys.argv[2]][0]
r = json.dumps(s.get("flag_reasons", {}))
g = {x["grade_id"]: x for nb in s.get("notebooks", []) for x in nb.get("grades", [])}
out = lambda k, f="stdout": (g[k].get("output") or {}).get(f) or ""
sys.exit(0 if eval(sys.argv[3]) else 1)
PYEOF
}
# attack_course DIR MAKE_COURSE [KIND]: the attack course MAKE_COURSE (a
# tests/fixtures/*/make_course.py) in DIR: its `sourceKIND` notebook imported
# into DIR/rubric.json and released into DIR/release, its `submitKIND`
# submissions made in DIR/sub and graded into DIR/gb.json (grade's stderr in
# DIR/err), with the script's $nv for the import and $weaker for the grade
# (set without root); returns grade's exit code.
attack_course() {
	mkdir -p "$1"
	/usr/bin/python3 "$2" "source$3" "$1/hw.ipynb"
	(cd "$1" && "$GRADER" rubric import hw.ipynb --assignment hw --no-auto-preload $nv \
		-o rubric.json 2>/dev/null)
	"$GRADER" rubric release "$1/rubric.json" -o "$1/release" 2>/dev/null
	/usr/bin/python3 "$2" "submit$3" "$1/release/hw.ipynb" "$1/sub"
	"$GRADER" grade --rubric "$1/rubric.json" --submissions "$1/sub" -o "$1/gb.json" -q \
		$weaker 2>"$1/err"
}
# wait_lines FILE N: wait until FILE holds N lines (a journal a grade run
# writes), 60 s at most
wait_lines() {
	wl_i=0
	while [ "$(cat "$1" 2>/dev/null | wc -l)" -lt "$2" ] && [ $wl_i -lt 600 ]; do
		sleep 0.1
		wl_i=$((wl_i + 1))
	done
}
# finish: exit 1 when any check of this script failed
finish() { if grep -q '^fail' "$E2E_OWN"; then exit 1; fi; exit 0; }
