#!/bin/sh
# grader serve with its state folder on a small tmpfs that fills up: requests
# that would write get 503 with Retry-After and queue nothing, grading pauses,
# nothing accepted is lost, and the service recovers when space returns.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
T=$E2E_TMP
need_root "serve on a full file system (mounts a tmpfs)"
mkdir -p "$T/st"
if ! mount -t tmpfs -o size=24m,mode=755 tmpfs "$T/st" 2>"$T/mount.err"; then
	skip "full file system" "cannot mount a tmpfs here: $(cat "$T/mount.err")"
	finish
fi
trap 'stop_server KILL; umount "$T/st" 2>/dev/null; rm -rf "$T"' EXIT

make_course "$T" alice bob carol || { fail "course setup"; finish; }
start_server "$T" --state "$T/st" || { fail "server starts"; cat "$T/serve.log"; finish; }
c1=$(push_nb "$T" alice alice 2026-10-29T10:00:00Z)
github_body "$T/p1.json" course/ps1-alice refs/heads/main "$c1"
deliver github "$T/p1.json" full-1 >/dev/null
check "graded before the disk fills" test "$(wait_job "$(json_get "$T/resp" '["job"]')")" = done

# a job accepted just before the disk fills
c3=$(push_nb "$T" carol carol 2026-10-29T10:00:00Z)
github_body "$T/p3.json" course/ps1-carol refs/heads/main "$c3"
check "accepted before the disk fills" test "$(deliver github "$T/p3.json" full-3)" = 202
job3=$(json_get "$T/resp" '["job"]')
dd if=/dev/zero of="$T/st/filler" bs=64k 2>/dev/null
check "the disk is full" test "$(df --output=avail "$T/st" | tail -1)" -lt 1024

n0=$(sqlite3 "$T/st/db/grader.sqlite" "select count(*) from jobs")
c2=$(push_nb "$T" bob bob 2026-10-29T10:00:00Z)
github_body "$T/p2.json" course/ps1-bob refs/heads/main "$c2"
code=$($CURL -o "$T/resp" -D "$T/hdr" -w '%{http_code}' -H 'Content-Type: application/json' \
	-H 'X-GitHub-Event: push' -H 'X-GitHub-Delivery: full-2' \
	-H "X-Hub-Signature-256: sha256=$(hmac_hex "$T/p2.json" "$GRADER_WEBHOOK_SECRET")" \
	--data-binary "@$T/p2.json" "http://127.0.0.1:$SRV_PORT/hooks/github")
check "push on a full disk: 503" test "$code" = 503
check "push on a full disk: Retry-After" grep -qi '^Retry-After: ' "$T/hdr"
code=$($CURL -o /dev/null -w '%{http_code}' -H "Authorization: Bearer bob-token-0123456789abc" \
	-F assignment=ps1 -F "file=@$T/gen/bob/ps1/ps1.ipynb" "http://127.0.0.1:$SRV_PORT/api/v1/submissions")
check "upload on a full disk: 503" test "$code" = 503
check "nothing queued on a full disk" test "$(sqlite3 "$T/st/db/grader.sqlite" "select count(*) from jobs")" = "$n0"
check "still answers reads" test "$(api /healthz)" = 200
# the job running when the disk filled ends first (it goes back to the queue)
i=0; while [ $i -lt 1200 ] && ! grep -q 'grading paused' "$T/serve.log"; do sleep 0.1; i=$((i + 1)); done
check "grading pauses" grep -q "state folder '.*' is full: grading paused" "$T/serve.log"

rm -f "$T/st/filler"
check "space back: the refused delivery is accepted" test "$(deliver github "$T/p2.json" full-2)" = 202
job2=$(json_get "$T/resp" '["job"]')
check "the job accepted before the disk filled is graded" test "$(wait_job "$job3")" = done
check "the job accepted after is graded" test "$(wait_job "$job2")" = done
check "grading resumed" grep -q 'grading resumed' "$T/serve.log"
check "each job finished once" test "$(grep -c "job $job3: .*: done in" "$T/serve.log")" = 1
stop_server TERM
check "no sanitizer report from the service" sh -c "! grep -q -e 'Sanitizer' -e 'runtime error' '$T/serve.log'"
finish
