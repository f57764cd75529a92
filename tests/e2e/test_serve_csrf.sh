#!/bin/sh
# grader serve against cross-site request forgery: the instructor's browser,
# once logged in to the page (GET /, the token as a Basic password), attaches
# that credential to every request to the service, those a page of another
# site makes it send too. The credential opens the page and nothing else; the
# API takes Bearer tokens only; a state-changing request a browser marks as
# cross-site (Sec-Fetch-Site) or sends from a foreign Origin is refused
# before its body is read. Each forged request is sent as a browser sends it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
T=$E2E_TMP
need_root "grader serve (--user needs root)"
trap 'stop_server KILL; rm -rf "$T"' EXIT

serve_course "$T" alice bob
NB=$T/gen/bob/ps1/ps1.ipynb
st() { $CURL -o "$T/resp" -w '%{http_code}' "$@"; }
n0=$(jobs_count "$T")

check "the page: Basic credential 200" test "$(st -u "x:$GRADER_ADMIN_TOKEN" "$URL/")" = 200
check "the page: a student's token as Basic is not the instructor's (401)" test "$(st -u "x:bob-token-0123456789abc" "$URL/")" = 401
# what the evil page's fetch(..., {credentials: "include", mode: "no-cors"}) sends
code=$(st -u "x:$GRADER_ADMIN_TOKEN" -H 'Origin: https://evil.example' -H 'Sec-Fetch-Site: cross-site' \
	-F student=bob -F assignment=ps1 -F "file=@$NB;filename=ps1.ipynb" "$URL/api/v1/submissions")
check "upload with the page's Basic credential from another site, naming bob: refused ($code)" \
	sh -c "test $code = 401 -o $code = 403"
check "upload with the Basic credential alone (no browser headers): 401" test "$(st -u "x:$GRADER_ADMIN_TOKEN" \
	-F student=bob -F assignment=ps1 -F "file=@$NB;filename=ps1.ipynb" "$URL/api/v1/submissions")" = 401
check "API read with the Basic credential: 401" test "$(st -u "x:$GRADER_ADMIN_TOKEN" "$URL/api/v1/results/ps1/bob")" = 401
check "gradebook with the Basic credential: 401" test "$(st -u "x:$GRADER_ADMIN_TOKEN" "$URL/api/v1/assignments/ps1/gradebook")" = 401
# even a Bearer token is refused on a request a browser marks as another site's
check "upload marked Sec-Fetch-Site: cross-site: 403" test "$(st -H "Authorization: Bearer $GRADER_ADMIN_TOKEN" \
	-H 'Sec-Fetch-Site: cross-site' -F student=bob -F assignment=ps1 -F "file=@$NB" "$URL/api/v1/submissions")" = 403
check "upload marked Sec-Fetch-Site: same-site: 403" test "$(st -H "Authorization: Bearer $GRADER_ADMIN_TOKEN" \
	-H 'Sec-Fetch-Site: same-site' -F student=bob -F assignment=ps1 -F "file=@$NB" "$URL/api/v1/submissions")" = 403
check "upload from a foreign Origin: 403" test "$(st -H "Authorization: Bearer $GRADER_ADMIN_TOKEN" \
	-H 'Origin: https://evil.example' -F student=bob -F assignment=ps1 -F "file=@$NB" "$URL/api/v1/submissions")" = 403
check "upload from Origin null (a sandboxed frame): 403" test "$(st -H "Authorization: Bearer $GRADER_ADMIN_TOKEN" \
	-H 'Origin: null' -F student=bob -F assignment=ps1 -F "file=@$NB" "$URL/api/v1/submissions")" = 403
check "cross-site refusal says why" grep -q 'cross-site request refused' "$T/resp"
c1=$(push_nb "$T" bob bob 2026-10-29T10:00:00Z)
github_body "$T/p.json" course/ps1-bob refs/heads/main "$c1"
check "webhook from a foreign Origin: 403" test "$($CURL -o "$T/resp" -w '%{http_code}' -H 'Origin: https://evil.example' \
	-H 'X-GitHub-Event: push' -H 'X-GitHub-Delivery: csrf-1' \
	-H "X-Hub-Signature-256: sha256=$(hmac_hex "$T/p.json" "$GRADER_WEBHOOK_SECRET")" \
	--data-binary "@$T/p.json" "$URL/hooks/github")" = 403
check "nothing queued by the forged requests" test "$(jobs_count "$T")" = "$n0"

# what the service's own clients send still works
check "upload with the Bearer token from the service's own Origin: 202" test "$(st -H "Authorization: Bearer $GRADER_ADMIN_TOKEN" \
	-H "Origin: $URL" -F student=bob -F assignment=ps1 -F "file=@$NB" "$URL/api/v1/submissions")" = 202
check "the webhook as the forge sends it: 202" test "$(deliver github "$T/p.json" csrf-2)" = 202
check "API read with the Bearer token: 200 or 404 (nothing graded yet)" sh -c "c=\$($CURL -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer $GRADER_ADMIN_TOKEN' '$URL/api/v1/results/ps1/bob'); test \$c = 200 -o \$c = 404"
stop_server TERM
check "no sanitizer report from the service" sh -c "! grep -q -e 'Sanitizer' -e 'runtime error' '$T/serve.log'"
finish
