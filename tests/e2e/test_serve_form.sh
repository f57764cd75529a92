#!/bin/sh
# grader serve: malformed multipart forms from a student's token are answered
# with a 400 and never crash the HTTP side: a part without a name, a part with
# a filename but no name, a name left unquoted, a part with no headers at all.
# The HTTP side keeps running (the same process answers after them all).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
T=$E2E_TMP
need_root "grader serve (--user needs root)"
trap 'stop_server KILL; rm -rf "$T"' EXIT

serve_course "$T" alice
http_side() { ps -o pid=,user= --ppid "$SRV_PID" | awk '$2 == "nobody" {print $1}'; }
http_pid=$(http_side)
check "the HTTP side found" test -n "$http_pid"
n0=$(jobs_count "$T")
form() { # form PART: the status of an upload whose body is that one part
	/usr/bin/python3 - "$SRV_PORT" "$1" <<'PY'
import socket, sys
port, part = int(sys.argv[1]), sys.argv[2].encode().decode('unicode_escape').encode()
body = b'--XX\r\n' + part + b'\r\n--XX--\r\n'
raw = (b'POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer alice-token-0123456789\r\n'
       b'Content-Type: multipart/form-data; boundary=XX\r\nContent-Length: %d\r\nConnection: close\r\n\r\n'
       % len(body)) + body
s = socket.create_connection(('127.0.0.1', port), timeout=10)
s.sendall(raw)
d = s.recv(4096)
print(d.split(b' ')[1].decode() if d.startswith(b'HTTP/') else 'closed')
PY
}
check "a part without a name: 400" test "$(form 'Content-Disposition: form-data\r\n\r\nabc')" = 400
check "a part with a filename and no name: 400" test "$(form 'Content-Disposition: form-data; filename="a.ipynb"\r\n\r\nabc')" = 400
check "a name left unquoted: 400" test "$(form 'Content-Disposition: form-data; name=assignment\r\n\r\nps1')" = 400
check "a part with no headers: 400" test "$(form '\r\nabc')" = 400
check "a part with only a Content-Type: 400" test "$(form 'Content-Type: text/plain\r\n\r\nabc')" = 400
check "nothing queued" test "$(jobs_count "$T")" = "$n0"
check "the same HTTP side still runs" test "$(http_side)" = "$http_pid"
check "and answers" $CURL -o /dev/null "http://127.0.0.1:$SRV_PORT/healthz"
check "no restart of the HTTP side" sh -c "! grep -q 'the HTTP side exited' '$T/serve.log'"
stop_server TERM
check "no sanitizer report from the service" sh -c "! grep -q -e 'Sanitizer' -e 'runtime error' '$T/serve.log'"
finish
