#!/bin/sh
# grader serve: one file name rule on both sides. An upload holding a file
# the grading side keeps for itself (timestamp.txt, by which lateness is
# judged, .grader-*), or a name that is not plain, is refused by the HTTP
# side with a 400 naming the rule and nothing is queued (before, it was
# accepted and then failed, after five tries, by the grading side's writer).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
T=$E2E_TMP
need_root "grader serve (the sandbox needs root)"
trap 'stop_server KILL; rm -rf "$T"' EXIT

serve_course "$T" alice bob
NB=$T/gen/bob/ps1/ps1.ipynb
up() { # up FIELD...: bob's upload, prints the status
	$CURL -o "$T/resp" -w '%{http_code}' -H "Authorization: Bearer bob-token-0123456789abc" \
		-F assignment=ps1 -F "file=@$NB" "$@" "http://127.0.0.1:$SRV_PORT/api/v1/submissions"
}
echo '2020-01-01 00:00:00' >"$T/stamp"
n0=$(jobs_count "$T")
check "an upload holding timestamp.txt: 400" test "$(up -F "file=@$T/stamp;filename=timestamp.txt")" = 400
check "the refusal names the rule" grep -q 'timestamp.txt and .grader-\* are the grader' "$T/resp"
check "an upload holding .grader-provenance.json: 400" test "$(up -F "file=@$T/stamp;filename=.grader-provenance.json")" = 400
check "an upload holding ../x.py: 400" test "$(up -F "file=@$T/stamp;filename=../x.py")" = 400
check "an upload holding a/b.py: 400" test "$(up -F "file=@$T/stamp;filename=a/b.py")" = 400
check "refused uploads queue nothing" test "$(jobs_count "$T")" = "$n0"
echo 1,2 >"$T/data.csv"
check "an upload with a data file: 202" test "$(up -F "file=@$T/data.csv")" = 202
check "an upload with a data file: graded" test "$(wait_job "$(json_get "$T/resp" '["job"]')")" = done
check "its file is in the submission" test -f "$T/state/submitted/bob/ps1/data.csv"
check "its timestamp.txt is the grader's" sh -c "! grep -q 2020 '$T/state/submitted/bob/ps1/timestamp.txt'"
stop_server TERM
check "no sanitizer report from the service" sh -c "! grep -q -e 'Sanitizer' -e 'runtime error' '$T/serve.log'"
finish
