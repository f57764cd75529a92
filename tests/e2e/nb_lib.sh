# Helpers for the `grader nb run` end-to-end tests (sourced after lib.sh).
# q FILE NB EXPR: evaluate EXPR on notebook NB (0-based) of a --json result,
# with d the notebook's result and c its cells.
q() {
	/usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["notebooks"][int(sys.argv[2])]
c = d["cells"]
print(eval(sys.argv[3]))
PY
}
# is NAME FILE NB EXPR: a check that EXPR holds
is() { check "$1" test "$(q "$2" "$3" "$4")" = True; }
