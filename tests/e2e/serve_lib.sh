# Helpers for the `grader serve` end-to-end tests (sourced after lib.sh):
# a course with bare repositories, a config, a server on 127.0.0.1, and
# webhook deliveries signed as GitHub, GitLab and Gitea sign them.
# Every request goes to 127.0.0.1 with a time limit.
export GIT_CONFIG_NOSYSTEM=1 HOME=$E2E_TMP
git config --global user.name t
git config --global user.email t@example.org
git config --global init.defaultBranch main
export GRADER_WEBHOOK_SECRET=s3cret-hook GRADER_GITLAB_TOKEN=s3cret-gitlab GRADER_GITEA_SECRET=s3cret-gitea
export GRADER_ADMIN_TOKEN=admin-tok
SRV_PID=
SRV_PORT=
RPID=
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
    "gitlab": {"env": "GRADER_GITLAB_TOKEN"},
    "gitea": {"env": "GRADER_GITEA_SECRET"}
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

# receiver PORT LOG [CODE]: a stand-in on 127.0.0.1:PORT for a forge's statuses
# API and a course's callback URL, in the background (its pid in $RPID,
# stop_receiver ends it; it ends itself after 600 s): each POST it gets is one
# line of LOG, JSON with its path, its Authorization, X-Grader-Signature-256 and
# X-Grader-Delivery headers and its body; it answers CODE (201, with {}, unless told)
receiver() {
	/usr/bin/python3 - "$1" "$2" "${3:-201}" <<'PY' &
import http.server, json, sys, threading
port, log, code = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', 0))).decode()
        with open(log, 'a') as f:
            f.write(json.dumps({'path': self.path, 'auth': self.headers.get('Authorization'),
                                'sig': self.headers.get('X-Grader-Signature-256'),
                                'id': self.headers.get('X-Grader-Delivery'), 'body': body}) + '\n')
        self.send_response(code)
        self.end_headers()
        if code != 204:
            self.wfile.write(b'{}')
    def log_message(self, *a): pass
srv = http.server.HTTPServer(('127.0.0.1', port), H)
threading.Timer(600, srv.shutdown).start()
srv.serve_forever()
PY
	RPID=$!
}
stop_receiver() { [ -n "$RPID" ] && kill "$RPID" 2>/dev/null; RPID=; }

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

# deliver FORGE BODYFILE DELIVERY [SECRET] [EVENT]: POST like the forge, signed with
# its secret (an empty SECRET sends no signature); prints the HTTP status, the body
# goes to $E2E_TMP/resp
deliver() {
	case $1 in
	gitlab) sec=${4-$GRADER_GITLAB_TOKEN} ;;
	gitea) sec=${4-$GRADER_GITEA_SECRET} ;;
	*) sec=${4-$GRADER_WEBHOOK_SECRET} ;;
	esac
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

# trickle PORT TOKEN NOTEBOOK SECONDS [STEP]: one upload of NOTEBOOK as ps1 whose body
# (chunked multipart, an ignored field first) comes a byte every STEP seconds for
# SECONDS, then the notebook and the end; prints the HTTP status (000: closed)
# and leaves the answer in $E2E_TMP/resp
trickle() {
	/usr/bin/python3 - "$1" "$2" "$3" "$4" "${5:-1}" "$E2E_TMP" <<'PY'
import os, socket, sys, time
port, tok, nb, secs = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])
step = float(sys.argv[5]) if len(sys.argv) > 5 else 1.0
b = b'----trickle7'
def chunk(data): return b'%x\r\n' % len(data) + data + b'\r\n'
s = socket.create_connection(('127.0.0.1', port), timeout=60)
out = b''
try:
    s.sendall(b'POST /api/v1/submissions HTTP/1.1\r\nHost: 127.0.0.1\r\n'
              b'Authorization: Bearer ' + tok.encode() + b'\r\n'
              b'Content-Type: multipart/form-data; boundary=' + b + b'\r\n'
              b'Transfer-Encoding: chunked\r\n\r\n')
    s.sendall(chunk(b'--' + b + b'\r\nContent-Disposition: form-data; name="pad"\r\n\r\n'))
    end = time.time() + secs
    while time.time() < end:
        s.sendall(chunk(b'x'))
        time.sleep(step)
    body = (b'\r\n--' + b + b'\r\nContent-Disposition: form-data; name="assignment"\r\n\r\nps1'
            b'\r\n--' + b + b'\r\nContent-Disposition: form-data; name="file"; filename="ps1.ipynb"\r\n'
            b'Content-Type: application/octet-stream\r\n\r\n' + open(nb, 'rb').read() +
            b'\r\n--' + b + b'--\r\n')
    s.sendall(chunk(body) + b'0\r\n\r\n')
    while True:
        d = s.recv(65536)
        if not d:
            break
        out += d
        if b'\r\n\r\n' in out and b'}' in out.split(b'\r\n\r\n', 1)[1]:
            break
except OSError:
    pass
head, _, rest = out.partition(b'\r\n\r\n')
open(sys.argv[6] + '/resp', 'wb').write(rest)
print(head.split(b' ')[1].decode() if head.startswith(b'HTTP/') else '000')
PY
}
