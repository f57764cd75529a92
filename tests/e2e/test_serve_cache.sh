#!/bin/sh
# grader serve's per-student git cache is bounded: only the graded branch is
# fetched (over smart HTTP, as from a forge), and a fetch stops past
# limits.fetch_mib received (here 4 MiB).
# carol pushes 8 MiB of random data to a side branch, then an ordinary push
# to main: graded, and her cache stays small. Then 6 MiB of random data on
# main itself: her job fails with the reason, the cache stays under the cap,
# and bob's push is graded meanwhile; once she force-pushes main without it,
# she is graded again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
T=$E2E_TMP
need_root "grader serve (the sandbox and --user need root)"
trap 'stop_server KILL; [ -n "${HTTP_PID:-}" ] && kill "$HTTP_PID"; rm -rf "$T"' EXIT

make_course "$T" bob carol || { fail "course setup"; finish; }
# the repositories over smart HTTP, as a forge serves them (libgit2's local
# transport sends every branch whatever is asked for: the cap still holds there)
/usr/bin/python3 "$ROOT/tests/e2e/fetch_git_http_server.py" "$T/remote" tok-cache "$T/port" 2>"$T/http.log" &
HTTP_PID=$!
for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
export GRADER_GIT_TOKEN=tok-cache
/usr/bin/python3 - "$T/course.json" "$(cat "$T/port")" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["limits"] = {"fetch_mib": 4}
c["assignments"][0]["clone"] = "http://127.0.0.1:%s/{student}.git" % sys.argv[2]
json.dump(c, open(sys.argv[1], "w"), indent=1)
PY
check "check-config takes limits.fetch_mib" "$GRADER" serve --config "$T/course.json" --check-config
start_server "$T" || { fail "server starts"; cat "$T/serve.log"; finish; }
CACHE=$T/state/submitted/.grader-cache
kib() { du -sk "$1" 2>/dev/null | cut -f1; }
# push_main STUDENT DELIVERY: deliver the student's main tip; prints the job's state
push_main() {
	c=$(git -C "$T/work/$1" rev-parse HEAD)
	github_body "$T/p.json" "course/ps1-$1" refs/heads/main "$c"
	deliver github "$T/p.json" "$2" >/dev/null
	wait_job "$(json_get "$T/resp" '["job"]')"
}

# main, then a side branch of 8 MiB of random data, never graded
push_nb "$T" carol carol 2026-10-29T10:00:00Z >/dev/null
(cd "$T/work/carol" && git checkout -q -b junk && head -c 8388608 /dev/urandom >junk.bin &&
	git add junk.bin && git commit -qm junk && git push -q origin junk 2>/dev/null &&
	git checkout -q main)
check "the side branch is on carol's remote" git -C "$T/remote/carol.git" rev-parse -q --verify junk
check "carol's push to main: graded" test "$(push_main carol c1)" = done
check "the side branch did not come into her cache" sh -c "test $(kib "$CACHE/carol.git") -lt 2048"
check "her cache has main only" test "$(git -C "$CACHE/carol.git" for-each-ref --format='%(refname)' | tr '\n' ' ')" = "refs/remotes/origin/main "

# 6 MiB of random data on main: over the cap
(cd "$T/work/carol" && head -c 6291456 /dev/urandom >big.bin && git add big.bin &&
	git commit -qm big && git push -q origin HEAD:main 2>/dev/null)
check "carol's push of 6 MiB: failed" test "$(push_main carol c2)" = failed
check "... for the cap, said in one line" grep -q 'more than 4 MiB to receive (the cap)' "$T/resp"
check "her cache stays under the cap" sh -c "test $(kib "$CACHE/carol.git") -le 4096"
check "the log names the student" grep -q "student 'carol': cannot fetch .*more than 4 MiB" "$T/serve.log"
push_nb "$T" bob bob 2026-10-29T10:00:00Z >/dev/null
check "bob's push meanwhile: graded" test "$(push_main bob b1)" = done
# main again without the big file, force-pushed
(cd "$T/work/carol" && git reset -q --hard HEAD~1 && git commit -q --allow-empty -m again &&
	git push -q -f origin HEAD:main 2>/dev/null)
check "carol's force push without it: graded" test "$(push_main carol c3)" = done
check "her cache is small again" sh -c "test $(kib "$CACHE/carol.git") -lt 2048"
stop_server TERM
check "no sanitizer report from the service" sh -c "! grep -q -e 'Sanitizer' -e 'runtime error' '$T/serve.log'"
finish
