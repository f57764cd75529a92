# Helpers for the `grader serve` end-to-end tests (sourced after lib.sh):
# a course with bare repositories, a config, a server on 127.0.0.1, and
# webhook deliveries signed as GitHub, GitLab and Gitea sign them.
# Every request goes to 127.0.0.1 with a time limit.
export GIT_CONFIG_NOSYSTEM=1 HOME=$E2E_TMP
git config --global user.name t
git config --global user.email t@example.org
git config --global init.defaultBranch main
export GRADER_WEBHOOK_SECRET=s3cret-hook GRADER_ADMIN_TOKEN=admin-tok
SRV_PID=
SRV_PORT=
CURL="curl -s -m 20 --noproxy 127.0.0.1"

# free_port: a port nobody listens on now
free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# make_course DIR STUDENT...: release ps1, one bare repo and clone per student,
# a roster and a config (DIR/course.json) with all three forges enabled
make_course() {
	d=$1; shift
	mkdir -p "$d/remote" "$d/work"
	"$GRADER" rubric release "$ROOT/rubrics/examples/ps1.json" -o "$d/release" >/dev/null || return 1
	/usr/bin/python3 "$ROOT/rubrics/examples/make_submissions.py" "$d/release/ps1.ipynb" "$d/gen" || return 1
	echo "student_id,first_name,last_name,email" >"$d/roster.csv"
	for s in "$@"; do
		git init -q --bare "$d/remote/$s.git"
		git clone -q "$d/remote/$s.git" "$d/work/$s" 2>/dev/null
		echo "$s,$s,T,$s@example.org" >>"$d/roster.csv"
	done
	printf 'alice alice-token-0123456789\nbob bob-token-0123456789abc\n' >"$d/tokens.txt"
	cat >"$d/course.json" <<JSON
{
  "state": "state",
  "student_tokens": {"file": "tokens.txt"},
  "roster": "roster.csv",
  "webhooks": {
    "github": {"env": "GRADER_WEBHOOK_SECRET"},
    "gitlab": {"env": "GRADER_WEBHOOK_SECRET"},
    "gitea": {"env": "GRADER_WEBHOOK_SECRET"}
  },
  "admin_token": {"env": "GRADER_ADMIN_TOKEN"},
  "queue": {"max": 50, "per_student": 5},
  "workers": 2,
  "assignments": [
    {"name": "ps1", "rubric": "$ROOT/rubrics/examples/ps1.json",
     "repository": "course/ps1-{student}", "clone": "remote/{student}.git", "branch": "main"}
  ]
}
JSON
}

# push_nb DIR STUDENT SCENARIO_STUDENT DATE: commit gen/SCENARIO's notebook as STUDENT's
# ps1.ipynb with that commit date, push, print the commit id
push_nb() {
	cp "$1/gen/$3/ps1/ps1.ipynb" "$1/work/$2/ps1.ipynb"
	(cd "$1/work/$2" && git add -A && GIT_AUTHOR_DATE=$4 GIT_COMMITTER_DATE=$4 \
		git commit -qm "work" --allow-empty && git push -q origin HEAD:main 2>/dev/null &&
		git rev-parse HEAD)
}

# start_server DIR [ARGS...]: run grader serve on a free port, log in DIR/serve.log
start_server() {
	d=$1; shift
	SRV_PORT=$(free_port)
	"$GRADER" serve --config "$d/course.json" --listen "127.0.0.1:$SRV_PORT" --user nobody \
		"$@" 2>>"$d/serve.log" &
	SRV_PID=$!
	i=0
	while [ $i -lt 100 ]; do
		$CURL -o /dev/null "http://127.0.0.1:$SRV_PORT/healthz" && return 0
		sleep 0.1; i=$((i + 1))
	done
	return 1
}

# serve_course DIR STUDENT...: the course (make_course) and a server started
# on it (start_server), at $URL; a step that fails fails the script there
serve_course() {
	sc_dir=$1
	make_course "$@" || { fail "course setup"; finish; }
	start_server "$sc_dir" || { fail "server starts"; cat "$sc_dir/serve.log"; finish; }
	URL=http://127.0.0.1:$SRV_PORT
}

stop_server() { # stop_server [SIGNAL]
	[ -n "$SRV_PID" ] || return 0
	kill -"${1:-TERM}" "$SRV_PID" 2>/dev/null
	wait "$SRV_PID" 2>/dev/null
	SRV_PID=
	# the HTTP side follows its parent; wait until the port is free
	i=0
	while [ $i -lt 50 ] && $CURL -o /dev/null "http://127.0.0.1:$SRV_PORT/healthz" 2>/dev/null; do
		sleep 0.1; i=$((i + 1))
	done
}

# github_body FILE REPO REF AFTER: a push body shaped like GitHub's (and Gitea's)
github_body() {
	cat >"$1" <<JSON
{"ref": "$3", "before": "0000000000000000000000000000000000000000", "after": "$4",
 "deleted": false, "repository": {"full_name": "$2", "clone_url": "https://example.org/$2.git"},
 "pusher": {"name": "student"}, "head_commit": {"id": "$4", "timestamp": "2026-10-29T10:00:00Z"}}
JSON
}

# gitlab_body FILE REPO REF AFTER
gitlab_body() {
	cat >"$1" <<JSON
{"object_kind": "push", "ref": "$3", "before": "0000000000000000000000000000000000000000",
 "after": "$4", "checkout_sha": "$4", "user_username": "student",
 "project": {"path_with_namespace": "$2", "git_http_url": "https://example.org/$2.git"}}
JSON
}

hmac_hex() { # hmac_hex FILE SECRET
	/usr/bin/python3 -c 'import hmac,hashlib,sys; print(hmac.new(sys.argv[2].encode(), open(sys.argv[1],"rb").read(), hashlib.sha256).hexdigest())' "$1" "$2"
}

# deliver FORGE BODYFILE DELIVERY [SECRET] [EVENT]: POST like the forge (an empty
# SECRET sends no signature); prints the HTTP status, the body goes to $E2E_TMP/resp
deliver() {
	sec=${4-$GRADER_WEBHOOK_SECRET}
	case $1 in
	github) h1="X-GitHub-Event: ${5:-push}"; h2="X-GitHub-Delivery: $3"
		h3="X-Hub-Signature-256: sha256=$(hmac_hex "$2" "$sec")" ;;
	gitea) h1="X-Gitea-Event: ${5:-push}"; h2="X-Gitea-Delivery: $3"
		h3="X-Gitea-Signature: $(hmac_hex "$2" "$sec")" ;;
	gitlab) h1="X-Gitlab-Event: ${5:-Push Hook}"; h2="X-Gitlab-Event-UUID: $3"
		h3="X-Gitlab-Token: $sec" ;;
	esac
	[ -n "$sec" ] || h3="X-Unsigned: 1"
	$CURL -o "$E2E_TMP/resp" -w '%{http_code}' -H 'Content-Type: application/json' \
		-H "$h1" -H "$h2" -H "$h3" --data-binary "@$2" "http://127.0.0.1:$SRV_PORT/hooks/$1"
}

# api PATH [TOKEN]: GET with the admin token (or TOKEN); body in $E2E_TMP/resp
api() {
	$CURL -o "$E2E_TMP/resp" -w '%{http_code}' -H "Authorization: Bearer ${2-$GRADER_ADMIN_TOKEN}" \
		"http://127.0.0.1:$SRV_PORT$1"
}

# wait_job ID [SECONDS]: poll until the job is done or failed; prints its state
wait_job() {
	[ -n "$1" ] || { echo "no-job"; return 0; }
	i=0; lim=$((${2:-180} * 5))
	while [ $i -lt $lim ]; do
		api "/api/v1/jobs/$1" >/dev/null
		st=$(json_get "$E2E_TMP/resp" '["state"]' 2>/dev/null)
		case $st in done|failed|superseded) echo "$st"; return 0 ;; esac
		sleep 0.2; i=$((i + 1))
	done
	echo timeout
}

# jobs_count DIR: rows in the job table
jobs_count() { sqlite3 "$1/state/db/grader.sqlite" "select count(*) from jobs"; }
