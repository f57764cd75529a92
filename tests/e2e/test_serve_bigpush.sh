#!/bin/sh
# grader serve fetches a push under the caps of an upload, not of a batch
# `grader fetch`: a few MB pushed can be a GiB checked out (zeros compress),
# and every gradebook write reads every folder. A file over 16 MiB is left
# out (the notebook is still graded); a push over 16 MiB in all fails its
# job with the reason; an ordinary student's push is graded as ever.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
T=$E2E_TMP
need_root "grader serve (the sandbox needs root)"
trap 'stop_server KILL; rm -rf "$T"' EXIT
SUB=$T/state/submitted

make_course "$T" alice bob carol || { fail "course setup"; finish; }
start_server "$T" || { fail "server starts"; cat "$T/serve.log"; finish; }

# push_with STUDENT DELIVERY FILE:MB...: the demo notebook and zero-filled files, pushed and delivered
push_with() {
	s=$1 dl=$2; shift 2
	for f in "$@"; do
		head -c "$((${f#*:} * 1048576))" /dev/zero >"$T/work/$s/${f%%:*}"
	done
	c=$(push_nb "$T" "$s" alice 2026-10-29T10:00:00Z)
	github_body "$T/p.json" "course/ps1-$s" refs/heads/main "$c"
	deliver github "$T/p.json" "$dl" >/dev/null
	json_get "$T/resp" '["job"]'
}

# ---- one file over the cap: left out, the notebook graded ---------------------------
ja=$(push_with alice big-1 zeros.bin:17)
check "a push with a 17 MiB file: graded" test "$(wait_job "$ja")" = done
check "the big file is not in the state folder" test ! -e "$SUB/alice/ps1/zeros.bin"
check "the notebook is" test -s "$SUB/alice/ps1/ps1.ipynb"
check "the log says a file was left out, and why" grep -q "job $ja: fetch: 1 file(s) left out, the first: .* over the cap" "$T/serve.log"

# ---- over the cap in all: the job fails with the reason -------------------------------
jb=$(push_with bob big-2 a.bin:9 b.bin:9)
check "a push of 18 MiB in all: failed" test "$(wait_job "$jb")" = failed
api "/api/v1/jobs/$jb" >/dev/null
why=$(json_get "$T/resp" '["error"]')
check "the reason names the cap" sh -c "echo '$why' | grep -q cap"
check "nothing of it in the state folder" test ! -e "$SUB/bob/ps1/a.bin"

# ---- an ordinary push goes on -------------------------------------------------------
c=$(push_nb "$T" carol carol 2026-10-29T10:00:00Z)
github_body "$T/p.json" course/ps1-carol refs/heads/main "$c"
deliver github "$T/p.json" big-3 >/dev/null
jc=$(json_get "$T/resp" '["job"]')
check "an ordinary push: graded" test "$(wait_job "$jc")" = done
check "the state folder stays small" test "$(du -sm "$SUB" | cut -f1)" -lt 20
stop_server TERM
check "no sanitizer report from the service" sh -c "! grep -q -e 'Sanitizer' -e 'runtime error' '$T/serve.log'"
finish
