#!/bin/sh
# grader serve under one client's denial of service: an upload without a
# valid token and a delivery without a well-formed signature are refused as
# soon as their headers are in (the body is never read, nor held); one client
# address holds connections_per_ip connections at most (the rest are closed
# at once), so a slowloris from one address leaves room for the forge's
# deliveries; the upload bytes held in memory across requests are capped
# (503 beyond it), and a request's whole time is bounded.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
T=$E2E_TMP
need_root "grader serve (--user needs root)"
trap 'stop_server KILL; rm -rf "$T"' EXIT

make_course "$T" alice bob || { fail "course setup"; finish; }
/usr/bin/python3 - "$T/course.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c['limits'] = {'connections_per_ip': 8, 'upload_buffer_mib': 4, 'request_seconds': 60}
json.dump(c, open(sys.argv[1], 'w'), indent=1)
PY
start_server "$T" || { fail "server starts"; cat "$T/serve.log"; finish; }
BOB=bob-token-0123456789abc

# refused on the headers alone: the client sends a 15 MiB announcement and no body
early() { # early PATH HEADER...: the status answered before any body byte is sent
	/usr/bin/python3 - "$SRV_PORT" "$@" <<'PY'
import socket, sys
port, path, hdrs = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
s = socket.create_connection(('127.0.0.1', port), timeout=10)
req = 'POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 15000000\r\n' % path
req += ''.join(h + '\r\n' for h in hdrs) + '\r\n'
s.sendall(req.encode())
try:
    line = s.recv(4096).split(b'\r\n')[0].decode()
    print(line.split(' ')[1] if line.startswith('HTTP/') else 'none')
except socket.timeout:
    print('waited')  # the server waits for the body: it did not refuse at the headers
PY
}
MP='Content-Type: multipart/form-data; boundary=xx'
check "upload without a token: 401 before its body" test "$(early /api/v1/submissions "$MP")" = 401
check "upload with a wrong token: 401 before its body" test "$(early /api/v1/submissions "$MP" 'Authorization: Bearer wrong')" = 401
check "upload with a Basic credential: 401 before its body" test "$(early /api/v1/submissions "$MP" "Authorization: Basic $(printf 'x:%s' "$BOB" | base64)")" = 401
check "webhook without a signature: 401 before its body" test "$(early /hooks/github 'X-GitHub-Event: push')" = 401
check "webhook with a malformed signature: 401 before its body" test "$(early /hooks/github 'X-Hub-Signature-256: sha256=zz')" = 401
check "gitlab webhook with a wrong token: 401 before its body" test "$(early /hooks/gitlab 'X-Gitlab-Token: wrong')" = 401
check "an authorised upload is read (the server waits for its body)" test "$(early /api/v1/submissions "$MP" "Authorization: Bearer $BOB")" = waited

# slowloris from 127.0.0.1: 30 connections sending a header line now and then
/usr/bin/python3 - "$SRV_PORT" "$T/loris" <<'PY' &
import socket, sys, time
port, out = int(sys.argv[1]), sys.argv[2]
socks = []
for i in range(30):
    try:
        s = socket.create_connection(('127.0.0.1', port), timeout=5)
        s.sendall(b'GET /healthz HTTP/1.1\r\nHost: x\r\n')
        socks.append(s)
    except OSError:
        pass
time.sleep(1)
open_ = 0
for s in socks:
    s.settimeout(0.2)
    try:
        d = s.recv(1)
        if d:
            open_ += 1
    except socket.timeout:
        open_ += 1  # still open, waiting for the rest of the headers
    except OSError:
        pass
open(out, 'w').write('%d\n' % open_)
for k in range(8):
    for s in socks:
        try: s.sendall(b'X-a: b\r\n')
        except OSError: pass
    time.sleep(1)
PY
LORIS=$!
i=0; while [ $i -lt 100 ] && [ ! -s "$T/loris" ]; do sleep 0.1; i=$((i + 1)); done
kept=$(cat "$T/loris")
check "one address holds 8 connections at most ($kept kept of 30)" test "${kept:-99}" -le 8
# the forge's delivery, from another address, is answered meanwhile
c1=$(push_nb "$T" alice alice 2026-10-29T10:00:00Z)
github_body "$T/p.json" course/ps1-alice refs/heads/main "$c1"
code=$($CURL --interface 127.0.0.2 -o "$T/resp" -w '%{http_code}' -H 'X-GitHub-Event: push' \
	-H 'X-GitHub-Delivery: dos-1' -H "X-Hub-Signature-256: sha256=$(hmac_hex "$T/p.json" "$GRADER_WEBHOOK_SECRET")" \
	--data-binary "@$T/p.json" "http://127.0.0.1:$SRV_PORT/hooks/github")
check "a signed push from another address during the slowloris: 202" test "$code" = 202
kill "$LORIS" 2>/dev/null; wait "$LORIS" 2>/dev/null

# two authorised uploads (bob's, alice's: one token has one in flight at a time) of 3.5
# and 3 MiB, held open together: over the 4 MiB cap, the second gets 503; a signed push
# of 900 kB meanwhile is not starved (webhooks have their own share)
c2=$(push_nb "$T" alice bob 2026-10-29T11:00:00Z)
/usr/bin/python3 - "$SRV_PORT" "$BOB" "$T/gen/bob/ps1/ps1.ipynb" "$c2" "$GRADER_WEBHOOK_SECRET" \
	alice-token-0123456789 >"$T/held" <<'PY'
import hashlib, hmac, json, socket, sys, time
port, tok, nb, commit, secret = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
b = b'xx'
def upload(pad, tok=tok):
    body = (b'--' + b + b'\r\nContent-Disposition: form-data; name="assignment"\r\n\r\nps1\r\n'
            b'--' + b + b'\r\nContent-Disposition: form-data; name="file"; filename="ps1.ipynb"\r\n\r\n' +
            open(nb, 'rb').read() + b'\r\n--' + b + b'\r\nContent-Disposition: form-data; name="file"; '
            b'filename="pad.txt"\r\n\r\n' + b'p' * pad + b'\r\n--' + b + b'--\r\n')
    s = socket.create_connection(('127.0.0.1', port), timeout=30)
    s.sendall(b'POST /api/v1/submissions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ' +
              tok.encode() + b'\r\nContent-Type: multipart/form-data; boundary=' + b +
              b'\r\nContent-Length: %d\r\n\r\n' % len(body))
    return s, body
def status(s):
    d = b''
    while b'\r\n' not in d:
        x = s.recv(4096)
        if not x: break
        d += x
    return d.split(b' ')[1].decode() if d.startswith(b'HTTP/') else 'none'
a, ab = upload(7 << 19)
a.sendall(ab[:-10])           # all but the end: held by the service
time.sleep(1)
push = json.dumps({'ref': 'refs/heads/main', 'after': commit, 'repository': {'full_name': 'course/ps1-alice'},
                   'commits': [{'message': 'x' * 900000}]}).encode()
h = socket.create_connection(('127.0.0.1', port), timeout=30)
h.sendall(b'POST /hooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nX-GitHub-Event: push\r\n'
          b'X-GitHub-Delivery: dos-big\r\nX-Hub-Signature-256: sha256=' +
          hmac.new(secret.encode(), push, hashlib.sha256).hexdigest().encode() +
          b'\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n' % len(push) + push)
print('push', status(h))
c, cb = upload(3 << 20, sys.argv[6])
c.sendall(cb)
print('second', status(c))
a.sendall(ab[-10:])
print('first', status(a))
PY
cat "$T/held"
check "a 900 kB signed push while uploads hold the upload share: 202" grep -qx 'push 202' "$T/held"
check "uploads over the memory cap: 503" grep -qx 'second 503' "$T/held"
check "the upload within it: 202" grep -qx 'first 202' "$T/held"
code=$($CURL -o "$T/resp" -w '%{http_code}' -H "Authorization: Bearer $BOB" \
	-F assignment=ps1 -F "file=@$T/gen/bob/ps1/ps1.ipynb" "http://127.0.0.1:$SRV_PORT/api/v1/submissions")
check "the cap is given back: an upload afterwards 202" test "$code" = 202
check "refusals logged one line each" grep -q 'POST /api/v1/submissions 401' "$T/serve.log"
stop_server TERM
check "no sanitizer report from the service" sh -c "! grep -q -e 'Sanitizer' -e 'runtime error' '$T/serve.log'"
finish
