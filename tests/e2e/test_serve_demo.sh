#!/bin/sh
# The README's walk-through of `make serve-demo`, step by step, on a copy of
# the demo course (so build/serve-demo of the checkout is left alone): alice
# pushes with git, the push is delivered signed with openssl as the README
# signs it, alice reads her result with her token, bob submits with
# `grader submit`, and `grader export` reads the service's gradebook.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
T=$E2E_TMP
need_root "the serve demo (the sandbox and --user need root)"
trap 'stop_server KILL; rm -rf "$T"' EXIT
# the demo's own secrets, as the README uses them
unset GRADER_WEBHOOK_SECRET GRADER_GITLAB_TOKEN GRADER_GITEA_SECRET GRADER_ADMIN_TOKEN GRADER_STUDENT_TOKENS
mkdir -p "$T/repo"
cp -r "$ROOT/rubrics" "$T/repo/"
W=$T/repo/build/serve-demo
SRV_PORT=$(free_port)
GRADER_LISTEN=127.0.0.1:$SRV_PORT sh "$T/repo/rubrics/examples/serve-demo.sh" "$GRADER" \
	>"$T/demo.out" 2>"$T/serve.log" &
SRV_PID=$!
i=0; while [ $i -lt 300 ] && ! $CURL -o /dev/null "http://127.0.0.1:$SRV_PORT/healthz"; do
	sleep 0.1; i=$((i + 1))
done
check "make serve-demo's script serves the demo course" $CURL -o /dev/null "http://127.0.0.1:$SRV_PORT/healthz"
check "one bare repository per demo student" test -d "$W/remote/alice.git" -a -d "$W/remote/bob.git" -a -d "$W/remote/carol.git"
export GRADER_ADMIN_TOKEN=demo-admin-token
# ---- the README's steps ----------------------------------------------------------
cd "$W/work/alice"
cp ../../gen/alice/ps1/ps1.ipynb .
git -c user.name=alice -c user.email=a@example.org commit -qam "ps1 done" && git push -q origin HEAD:main
head=$(git rev-parse HEAD)
body='{"ref":"refs/heads/main","after":"'$head'","repository":{"full_name":"demo/ps1-alice"}}'
sig=$(printf %s "$body" | openssl dgst -sha256 -hmac demo-webhook-secret | sed 's/.*= //')
$CURL -o "$T/hook.json" -H 'X-GitHub-Event: push' -H 'X-GitHub-Delivery: demo-1' \
	-H "X-Hub-Signature-256: sha256=$sig" -d "$body" "http://127.0.0.1:$SRV_PORT/hooks/github"
check "the signed push is queued as the README shows" grep -q '"status":"queued"' "$T/hook.json"
job=$(json_get "$T/hook.json" '["job"]')
check "alice's push graded" test "$(wait_job "$job")" = done
check "alice reads her result with her token" test "$(api /api/v1/results/ps1/alice alice-demo-token-0001)" = 200
check "her result is of her push" test "$(json_get "$T/resp" '["commit"]')" = "$head"
check "alice's token cannot read bob's" test "$(api /api/v1/results/ps1/bob alice-demo-token-0001)" = 403
cd "$T/repo"
GRADER_TOKEN=bob-demo-token-00002 "$GRADER" submit --server "http://127.0.0.1:$SRV_PORT" \
	--assignment ps1 build/serve-demo/gen/bob/ps1/ps1.ipynb >"$T/submit.out" 2>"$T/submit.err"
rc=$?
cat "$T/submit.out"
check "bob's grader submit: exit 0" test $rc -eq 0
check "bob's grader submit: the per-question table and the score" \
	sh -c "grep -q '^test_squares ' '$T/submit.out' && grep -q '^score ' '$T/submit.out'"
check "the export over the API" test "$(api '/api/v1/assignments/ps1/export?to=markdown')" = 200
cp "$T/resp" "$T/api.md"
"$GRADER" export build/serve-demo/state/gradebooks/ps1.json --to markdown >"$T/export.md" 2>"$T/export.err"
check "grader export reads the service's gradebook" test -s "$T/export.md"
check "grader export: the same markdown as the API" cmp -s "$T/export.md" "$T/api.md"
check "the gradebook lists alice and bob" sh -c "grep -q alice '$T/export.md' && grep -q bob '$T/export.md'"
stop_server TERM
check "the demo stops on SIGTERM" grep -q 'stopping: queued jobs stay queued' "$T/serve.log"
check "no demo secret in the log" sh -c "! grep -q -e demo-webhook-secret -e demo-gitlab-token -e demo-gitea-secret -e demo-admin-token -e demo-token '$T/serve.log'"
check "no sanitizer report from the service" sh -c "! grep -q -e 'Sanitizer' -e 'runtime error' '$T/serve.log'"
finish
