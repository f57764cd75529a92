#!/bin/sh
# grader serve under slow headers from several addresses (a slowloris spread
# over 127.0.0.2 .. 127.0.0.9, 64 connections each: every connection slot).
# The slots are shared: past 480 of the 512, a new connection evicts one that
# holds a slot for nothing (no complete request yet) from the address holding
# the most, so a signed push from 127.0.0.1 during the attack is answered and
# graded, even with a header deadline longer than the attack. And the header
# phase is bounded in total (limits.header_seconds): a connection that has not
# sent a complete request by then is closed whatever it trickles (the idle
# timeout alone never closes one sending a header line a second).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
T=$E2E_TMP
need_root "grader serve (--user needs root)"
trap 'kill $LORIS 2>/dev/null; stop_server KILL; rm -rf "$T"' EXIT
LORIS=

make_course "$T" alice bob || { fail "course setup"; finish; }
limits() { # limits HEADER_SECONDS: the course's config with that header deadline
	/usr/bin/python3 - "$T/course.json" "$1" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c['limits'] = {'header_seconds': int(sys.argv[2])}
json.dump(c, open(sys.argv[1], 'w'), indent=1)
PY
}

# loris NADDR PER SECONDS RECONNECT OUT: PER connections from each of 127.0.0.2.. sending
# a request's first line and then a header line a second, for SECONDS; with RECONNECT 1 a
# connection the server closed is opened again. OUT gets "open N" once they are open,
# then "closed C of N first reopened R" (C: closed by the server while trickling).
loris() {
	/usr/bin/python3 - "$SRV_PORT" "$@" <<'PY' &
import socket, sys, time
port, na, per, secs, again, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), \
    float(sys.argv[4]), sys.argv[5] == '1', sys.argv[6]
def opened(src):
    try:
        s = socket.socket(); s.settimeout(2); s.bind((src, 0)); s.connect(('127.0.0.1', port))
        s.sendall(b'GET /healthz HTTP/1.1\r\nHost: x\r\n')
        s.settimeout(None)  # blocking: MSG_DONTWAIT below says at once whether it was closed
        return s
    except OSError:
        return None
def gone(s):
    try:
        return s.recv(1, socket.MSG_DONTWAIT) == b''
    except BlockingIOError:
        return False
    except OSError:
        return True
first = [(('127.0.0.%d' % (a + 2)), opened('127.0.0.%d' % (a + 2))) for a in range(na) for i in range(per)]
first = [(src, s) for src, s in first if s]
open(out, 'w').write('open %d\n' % len(first))
live = list(first)
ids = set(id(s) for _, s in first)
closed_first, reopened = set(), 0
end = time.time() + secs
while time.time() < end:
    time.sleep(1)
    nxt = []
    for src, s in live:
        if gone(s):
            if id(s) in ids:
                closed_first.add(id(s))
            s.close()
            if again:
                n = opened(src)
                if n:
                    reopened += 1
                    nxt.append((src, n))
            continue
        try:
            s.sendall(b'X-a: b\r\n')
            nxt.append((src, s))
        except OSError:
            if id(s) in ids:
                closed_first.add(id(s))
    live = nxt
open(out, 'a').write('closed %d of %d first reopened %d\n' % (len(closed_first), len(first), reopened))
PY
	LORIS=$!
	i=0; while [ $i -lt 300 ] && ! grep -q '^open' "$5" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
}

# ---- every slot wanted by slow headers from 8 addresses; a deadline longer than the attack
limits 60
start_server "$T" || { fail "server starts"; cat "$T/serve.log"; finish; }
loris 8 64 12 1 "$T/a"
opened=$(sed -n 's/^open //p' "$T/a")
check "the slowloris opened its connections ($opened)" test "${opened:-0}" -ge 400
code=$($CURL -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SRV_PORT/healthz")
check "/healthz from another address during the attack: 200" test "$code" = 200
c1=$(push_nb "$T" alice alice 2026-10-29T10:00:00Z)
github_body "$T/p.json" course/ps1-alice refs/heads/main "$c1"
code=$(deliver github "$T/p.json" loris-1)
check "a signed push from 127.0.0.1 during the attack: 202" test "$code" = 202
job=$(json_get "$T/resp" '["job"]' 2>/dev/null)
check "... and graded" test "$(wait_job "$job")" = done
wait "$LORIS"; LORIS=
cat "$T/a"
reopened=$(sed -n 's/.* reopened //p' "$T/a")
check "the slow connections were evicted for the others ($reopened reopened)" test "${reopened:-0}" -ge 1
stop_server TERM

# ---- the header deadline: 3 s, connections trickling a header line a second for 12 s
limits 3
start_server "$T" || { fail "server restarts"; cat "$T/serve.log"; finish; }
loris 2 20 12 0 "$T/b"
wait "$LORIS"; LORIS=
cat "$T/b"
check "every trickling connection is closed by the deadline" grep -qx 'closed 40 of 40 first reopened 0' "$T/b"
check "the closing is logged" grep -q 'without a complete request in 3 s' "$T/serve.log"
code=$(deliver github "$T/p.json" loris-2)
check "the service answers afterwards (a replayed commit: 200)" test "$code" = 200
stop_server TERM
check "no sanitizer report from the service" sh -c "! grep -q -e 'Sanitizer' -e 'runtime error' '$T/serve.log'"
finish
