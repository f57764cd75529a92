#!/bin/sh
# grader serve's memory shares, which one party cannot take from everyone:
# one upload in flight per student token (a second is refused 429 with
# Retry-After before its body is read; other students and the instructor
# upload meanwhile), and webhook bodies held before their signature can be
# checked get a share of their own with a share per client address in it, so
# fake-signed bodies held open from several addresses leave room for a real
# GitHub delivery of realistic size (its `commits` list makes it 10-30 KB).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
T=$E2E_TMP
need_root "grader serve (--user needs root)"
trap 'stop_server KILL; rm -rf "$T"' EXIT

make_course "$T" alice bob carol || { fail "course setup"; finish; }
/usr/bin/python3 - "$T/course.json" "$T/bad.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c['limits'] = {'hook_buffer_per_ip_mib': 65}
json.dump(c, open(sys.argv[2], 'w'))
PY
"$GRADER" serve --config "$T/bad.json" --check-config >"$T/bad.out" 2>&1
check "a per-address webhook share over the whole share is a config problem" \
	grep -q 'limits.hook_buffer_per_ip_mib: must be an integer from 1 to 64' "$T/bad.out"
start_server "$T" || { fail "server starts"; cat "$T/serve.log"; finish; }
ALICE=alice-token-0123456789 BOB=bob-token-0123456789abc
c1=$(push_nb "$T" bob bob 2026-10-29T10:00:00Z)

# Held: alice's upload (all but its end), and from 127.0.0.2 .. 127.0.0.9 twelve
# fake-signed 1 MiB hook bodies each (96 MiB in all, over the webhooks' 64 MiB)
# and forty of 4 KiB, all but their last byte. Meanwhile: alice's second upload, bob's upload, the
# instructor's upload and a signed 20 KB push of bob's. Then every held body ends.
/usr/bin/python3 - "$SRV_PORT" "$ALICE" "$BOB" "$GRADER_ADMIN_TOKEN" "$T/gen/bob/ps1/ps1.ipynb" \
	"$c1" "$GRADER_WEBHOOK_SECRET" >"$T/out" <<'PY'
import hashlib, hmac, json, socket, sys
port, alice, bob, admin, nb, commit, secret = sys.argv[1:8]
port = int(port)
def conn(src='127.0.0.1'):
    s = socket.socket(); s.settimeout(60); s.bind((src, 0)); s.connect(('127.0.0.1', port))
    return s
def status(s):
    """(code, head, body) of the answer on s (000 when closed without one)"""
    d = b''
    while b'\r\n\r\n' not in d:
        x = s.recv(65536)
        if not x: break
        d += x
    head, _, body = d.partition(b'\r\n\r\n')
    head = head.decode('latin-1')
    if not head.startswith('HTTP/'):
        return '000', head, b''
    want = [int(l.split(':')[1]) for l in head.split('\r\n') if l.lower().startswith('content-length:')]
    while want and len(body) < want[0]:
        x = s.recv(65536)
        if not x: break
        body += x
    return head.split(' ')[1], head, body
def job(body):
    try:
        return json.loads(body.decode()).get('job', 0)
    except ValueError:
        return 0
def upload(tok, student=None, expect=b''):
    b = b'xx'
    body = b'--' + b + b'\r\nContent-Disposition: form-data; name="assignment"\r\n\r\nps1\r\n'
    if student:
        body += b'--' + b + b'\r\nContent-Disposition: form-data; name="student"\r\n\r\n' + student + b'\r\n'
    body += (b'--' + b + b'\r\nContent-Disposition: form-data; name="file"; filename="ps1.ipynb"\r\n\r\n' +
             open(nb, 'rb').read() + b'\r\n--' + b + b'--\r\n')
    s = conn()
    s.sendall(b'POST /api/v1/submissions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ' +
              tok.encode() + b'\r\nContent-Type: multipart/form-data; boundary=' + b +
              b'\r\nContent-Length: %d\r\n' % len(body) + expect + b'\r\n')
    return s, body
# its headers taken (the server says 100 Continue) before anything else is sent
held_up, held_body = upload(alice, expect=b'Expect: 100-continue\r\n')
print('alice-first-headers', held_up.recv(4096).split(b'\r\n')[0].decode())
held_up.sendall(held_body[:-10])
# alice again: refused on its headers (no byte of its body is sent)
s2, _ = upload(alice)
code, head, _ = status(s2)
print('alice-second', code, 'retry-after' if 'retry-after:' in head.lower() else 'no-retry-after')
n = 1048000
hooks = []
for a in range(2, 10):
    for i in range(12):
        s = conn('127.0.0.%d' % a)
        s.sendall(b'POST /hooks/github HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'
                  b'X-GitHub-Event: push\r\nX-GitHub-Delivery: fake-%d-%d\r\nX-Hub-Signature-256: sha256=' % (a, i) +
                  b'0' * 64 + b'\r\nContent-Length: %d\r\n\r\n' % n + b' ' * (n - 1))
        hooks.append((a, s))
# and forty of 4 KiB from each, to take what room the big ones left
for a in range(2, 10):
    for i in range(40):
        s = conn('127.0.0.%d' % a)
        s.sendall(b'POST /hooks/github HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'
                  b'X-GitHub-Event: push\r\nX-GitHub-Delivery: small-%d-%d\r\nX-Hub-Signature-256: sha256=' % (a, i) +
                  b'0' * 64 + b'\r\nContent-Length: 4097\r\n\r\n' + b' ' * 4096)
        hooks.append((a, s))
# bob's upload and the instructor's, whole, while alice's is held
for tok, who, stu in ((bob, 'bob', None), (admin, 'admin', b'carol')):
    s, body = upload(tok, stu)
    s.sendall(body)
    code, head, body = status(s)
    print('upload-' + who, code, job(body))
# a real-size push: GitHub's body with 40 commits in its list (about 20 KB)
commits = [{'id': '%040x' % k, 'message': 'work on question %d' % k, 'timestamp': '2026-10-29T10:00:00Z',
            'author': {'name': 'bob', 'email': 'bob@example.org', 'username': 'bob'},
            'added': [], 'removed': [], 'modified': ['ps1.ipynb'] * 8,
            'url': 'https://github.com/course/ps1-bob/commit/%040x' % k} for k in range(40)]
push = json.dumps({'ref': 'refs/heads/main', 'before': '0' * 40, 'after': commit,
                   'repository': {'full_name': 'course/ps1-bob'}, 'commits': commits,
                   'head_commit': commits[-1]}).encode()
h = conn()
h.sendall(b'POST /hooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nX-GitHub-Event: push\r\n'
          b'X-GitHub-Delivery: real-1\r\nX-Hub-Signature-256: sha256=' +
          hmac.new(secret.encode(), push, hashlib.sha256).hexdigest().encode() +
          b'\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n' % len(push) + push)
code, head, body = status(h)
print('push-size', len(push))
print('push', code, job(body))
# the held bodies end: the ones held are checked (401), the others were over a share (503)
per = {}
for a, s in hooks:
    try:
        s.sendall(b' ')
        code = status(s)[0]
    except OSError:
        code = '000'
    per.setdefault(a, []).append(code)
for a in sorted(per):
    print('addr', a, 'held', per[a].count('401'), 'refused', per[a].count('503'), 'other',
          len(per[a]) - per[a].count('401') - per[a].count('503'))
held_up.sendall(held_body[-10:])
print('alice-first', status(held_up)[0])
PY
cat "$T/out"
check "a second upload of one token while its first is in flight: 429" grep -q '^alice-second 429 ' "$T/out"
check "... with Retry-After on its headers" grep -qx 'alice-second 429 retry-after' "$T/out"
check "another student uploads meanwhile: 202" grep -q '^upload-bob 202 ' "$T/out"
check "the instructor uploads meanwhile: 202" grep -q '^upload-admin 202 ' "$T/out"
size=$(sed -n 's/^push-size //p' "$T/out")
check "the push is real-size ($size bytes)" test "${size:-0}" -ge 10000
check "a signed push while fake-signed bodies are held from 8 addresses: 202" grep -q '^push 202 ' "$T/out"
check "every held body was read to its end and answered (401 or 503)" \
	sh -c "test \$(grep -c ' other 0\$' '$T/out') = 8"
check "one address holds 2 MiB of bodies at most: 2 of its 52 held, 50 refused" \
	sh -c "test \$(grep -c '^addr [2-9] held [0-2] refused 5[0-2] ' '$T/out') = 8"
check "alice's held upload, once whole: 202" grep -qx 'alice-first 202' "$T/out"
jp=$(sed -n 's/^push 202 //p' "$T/out")
check "the push is graded" test "$(wait_job "$jp")" = done
# the slot is given back: alice uploads again
code=$($CURL -o "$T/resp" -w '%{http_code}' -H "Authorization: Bearer $ALICE" \
	-F assignment=ps1 -F "file=@$T/gen/alice/ps1/ps1.ipynb" "http://127.0.0.1:$SRV_PORT/api/v1/submissions")
check "the token's slot is given back: alice's next upload 202" test "$code" = 202
stop_server TERM
check "no sanitizer report from the service" sh -c "! grep -q -e 'Sanitizer' -e 'runtime error' '$T/serve.log'"
finish
