#!/bin/sh
# grader serve's log cannot be forged through a request: a path holding a
# newline (%0a), an escape sequence (a raw ESC byte), a bidi override or
# spaces, sent without a token, is logged on one line with those characters
# shown escaped; no line of the log is the attacker's.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
T=$E2E_TMP
need_root "grader serve (--user needs root)"
trap 'stop_server KILL; rm -rf "$T"' EXIT

serve_course "$T" alice
/usr/bin/python3 - "$SRV_PORT" <<'PY'
import socket, sys
port = int(sys.argv[1])
for path in [b'/x%0agrader%20serve:%20FAKE-LINE', b'/y\x1b[31mRED', b'/z\xe2\x80\xaeevil',
             b'/w%20202%20job%205', b'/v%0d%0aFAKE-CR']:
    s = socket.create_connection(('127.0.0.1', port), timeout=10)
    s.sendall(b'GET ' + path + b' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    while s.recv(4096):
        pass
    s.close()
PY
$CURL -o /dev/null "http://127.0.0.1:$SRV_PORT/healthz" # the last line is logged by now
stop_server TERM
grep "GET /" "$T/serve.log"
check "no forged line" sh -c "! grep -q -e '^grader serve: FAKE-LINE' -e '^grader+serve:+FAKE' -e '^FAKE' '$T/serve.log'"
check "the newline shown escaped, on the request's line" grep -q 'GET /x\\ngrader+serve:+FAKE-LINE 40[14]' "$T/serve.log"
check "CR LF shown escaped" grep -q 'GET /v\\r\\nFAKE-CR 40[14]' "$T/serve.log"
check "no raw escape byte in the log" sh -c "! grep -q \"\$(printf '\\033')\" '$T/serve.log'"
check "the escape byte shown escaped" grep -q 'GET /y\\x1b\[31mRED 40[14]' "$T/serve.log"
check "the bidi override shown escaped" grep -q 'GET /z\\u202eevil 40[14]' "$T/serve.log"
check "no raw bidi override in the log" sh -c "! grep -q \"\$(printf '\\342\\200\\256')\" '$T/serve.log'"
check "spaces in the path cannot forge a field" grep -q 'GET /w+202+job+5 40[14]' "$T/serve.log"
check "no sanitizer report from the service" sh -c "! grep -q -e 'Sanitizer' -e 'runtime error' '$T/serve.log'"
finish
