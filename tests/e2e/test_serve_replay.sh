#!/bin/sh
# grader serve against replayed webhooks: the signature covers the body
# only, so a captured delivery can be sent again under a new delivery id. A
# push of the commit of the student's newest job is acknowledged and not
# queued, so the newest one is not graded again (late) after the deadline; an
# older commit's push is queued and superseded, the branch having moved past
# it, so it never replaces the result of a newer push; the same delivery sent
# to another forge's endpoint is a replay, and a GitLab secret (sent in clear)
# may not be another forge's key.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
T=$E2E_TMP
need_root "grader serve (the sandbox and --user need root)"
trap 'stop_server KILL; rm -rf "$T"' EXIT

make_course "$T" alice bob || { fail "course setup"; finish; }
# GitLab sends its secret in clear: it must not be another forge's signing key
sed 's/GRADER_GITLAB_TOKEN/GRADER_WEBHOOK_SECRET/' "$T/course.json" >"$T/shared.json"
"$GRADER" serve --config "$T/shared.json" --check-config 2>"$T/shared.err"; rc=$?
cat "$T/shared.err"
check "check-config: a GitLab secret shared with GitHub refused" sh -c "test $rc = 1 && grep -q 'webhooks.gitlab: the same secret as webhooks.github' '$T/shared.err'"
check "check-config: the refusal prints no secret" sh -c "! grep -q s3cret '$T/shared.err'"
sed 's/GRADER_GITEA_SECRET/GRADER_WEBHOOK_SECRET/' "$T/course.json" >"$T/shared2.json"
check "check-config: GitHub and Gitea may share theirs (both sign, neither sends it)" "$GRADER" serve --config "$T/shared2.json" --check-config
check "grader serve will not start with a shared GitLab secret" sh -c "! '$GRADER' serve --config '$T/shared.json' --listen 127.0.0.1:0 --user nobody 2>/dev/null"
start_server "$T" || { fail "server starts"; cat "$T/serve.log"; finish; }
result() { api /api/v1/results/ps1/alice >/dev/null; json_get "$T/resp" "$1"; }

# X, then Y: both graded, Y is alice's result
cx=$(push_nb "$T" alice carol 2026-10-29T10:00:00Z)
github_body "$T/x.json" course/ps1-alice refs/heads/main "$cx"
check "push X: 202" test "$(deliver github "$T/x.json" d3)" = 202
check "push X: graded" test "$(wait_job "$(json_get "$T/resp" '["job"]')")" = done
cp "$T/resp" "$T/x-job.json"
cy=$(push_nb "$T" alice bob 2026-10-29T11:00:00Z)
github_body "$T/y.json" course/ps1-alice refs/heads/main "$cy"
check "push Y: 202" test "$(deliver github "$T/y.json" d4)" = 202
jy=$(json_get "$T/resp" '["job"]')
check "push Y: graded" test "$(wait_job "$jy")" = done
check "the result is Y's" test "$(result '["commit"]')" = "$cy"
n0=$(jobs_count "$T")

# the captured delivery of X, its body and signature unchanged, under a new id
check "X replayed under its own id: 409" test "$(deliver github "$T/x.json" d3)" = 409
check "X replayed under a new id: queued (202: X is not alice's newest job)" test "$(deliver github "$T/x.json" d3-REPLAYED)" = 202
check "X replayed: superseded (the branch moved past X)" test "$(wait_job "$(json_get "$T/resp" '["job"]')")" = superseded
n0=$(jobs_count "$T")
# the captured GitHub signature's hex as X-Gitea-Signature: refused, each forge has its own secret
check "X replayed to the Gitea endpoint with its GitHub signature: 401" test "$(deliver gitea "$T/x.json" d3 "$GRADER_WEBHOOK_SECRET")" = 401
check "X's delivery id, signed for Gitea: 409 (one delivery id across the endpoints)" test "$(deliver gitea "$T/x.json" d3)" = 409
check "Y replayed under a new id: acknowledged (200)" test "$(deliver github "$T/y.json" d4-again)" = 200
check "Y replayed: said why" grep -q 'queued or graded already' "$T/resp"
check "the replays of X's and Y's ids and Y's commit queued nothing" test "$(jobs_count "$T")" = "$n0"
sleep 2 # a replayed job, had one been queued, would have been taken by now
check "the result is still Y's" test "$(result '["commit"]')" = "$cy"
check "the result is still Y's job" test "$(result '["id"]')" = "$jy"
sy=$(result '["score"]')
check "the gradebook has Y's score ($sy)" sh -c "$CURL -H 'Authorization: Bearer $GRADER_ADMIN_TOKEN' http://127.0.0.1:$SRV_PORT/api/v1/assignments/ps1/gradebook | /usr/bin/python3 -c '
import json,sys; g=json.load(sys.stdin); a=[s for s in g[\"submissions\"] if s[\"student_id\"]==\"alice\"][0]
sys.exit(not (str(a[\"score\"]) == \"$sy\" or float(a[\"score\"]) == float(\"$sy\")))'"
sx=$(json_get "$T/x-job.json" '["score"]')
check "X and Y score differently ($sx, $sy: the check above tells them apart)" test "$sx" != "$sy"

# a new commit is graded as always
cz=$(push_nb "$T" alice bob 2026-10-29T12:00:00Z)
github_body "$T/z.json" course/ps1-alice refs/heads/main "$cz"
check "a new push Z: 202" test "$(deliver github "$T/z.json" d5)" = 202
check "a new push Z: graded" test "$(wait_job "$(json_get "$T/resp" '["job"]')")" = done
check "the result is Z's" test "$(result '["commit"]')" = "$cz"
# a failed commit may be tried again while it is the newest (the repository was away)
cb=$(push_nb "$T" bob bob 2026-10-29T13:00:00Z)
mv "$T/remote/bob.git" "$T/remote/bob.gone"
github_body "$T/b.json" course/ps1-bob refs/heads/main "$cb"
check "bob's push while his repository is away: 202" test "$(deliver github "$T/b.json" b1)" = 202
check "bob's push: failed" test "$(wait_job "$(json_get "$T/resp" '["job"]')")" = failed
mv "$T/remote/bob.gone" "$T/remote/bob.git"
check "bob's failed commit delivered again: 202" test "$(deliver github "$T/b.json" b2)" = 202
check "bob's failed commit: graded now" test "$(wait_job "$(json_get "$T/resp" '["job"]')")" = done
# out of order: V and W pushed, W's delivery first, then V's (late, reordered or
# forged by one who saw a GitLab token): V is no longer the branch's tip, so its
# job is superseded, and W stays the result
cv=$(push_nb "$T" alice carol 2026-10-29T14:00:00Z)
cw=$(push_nb "$T" alice alice 2026-10-29T15:00:00Z)
github_body "$T/w.json" course/ps1-alice refs/heads/main "$cw"
check "out of order: W's delivery first: 202" test "$(deliver github "$T/w.json" o1)" = 202
check "out of order: W graded" test "$(wait_job "$(json_get "$T/resp" '["job"]')")" = done
github_body "$T/v.json" course/ps1-alice refs/heads/main "$cv"
check "out of order: V's delivery then: 202" test "$(deliver github "$T/v.json" o2)" = 202
check "out of order: V is superseded (the branch moved on)" test "$(wait_job "$(json_get "$T/resp" '["job"]')")" = superseded
check "out of order: the result is still W's" test "$(result '["commit"]')" = "$cw"
check "out of order: the log says why" grep -q "superseded in .*is no longer the tip of 'main'" "$T/serve.log"
stop_server TERM
check "no sanitizer report from the service" sh -c "! grep -q -e 'Sanitizer' -e 'runtime error' '$T/serve.log'"
finish
