#!/bin/sh
# An uploaded zip unpacks to a push's caps at most (16 MiB in all and per
# file), not more: a zip well under the compression-ratio limit (a few
# hundred KB) that would put 18 MiB in the student's folder, which every
# gradebook write then reads, is refused 422 with a one-line reason naming
# the limit, and nothing is queued; the same files under the cap are graded.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
T=$E2E_TMP
need_root "grader serve (--user needs root)"
trap 'stop_server KILL; rm -rf "$T"' EXIT

make_course "$T" alice bob || { fail "course setup"; finish; }
start_server "$T" || { fail "server starts"; cat "$T/serve.log"; finish; }
BOB=bob-token-0123456789abc
# data MIB: a MIB MiB file of zeros with a random byte every 400 (ratio about 100)
/usr/bin/python3 - "$T" "$T/gen/bob/ps1/ps1.ipynb" <<'PY'
import os, random, sys, zipfile
t, nb = sys.argv[1], sys.argv[2]
random.seed(7)
def data(mib):
    b = bytearray(mib << 20)
    for i in range(0, len(b), 400):
        b[i] = random.randrange(256)
    return bytes(b)
for name, sizes in (('over', (9, 9)), ('under', (4, 4))):
    with zipfile.ZipFile('%s/%s.zip' % (t, name), 'w', zipfile.ZIP_DEFLATED) as z:
        z.write(nb, 'ps1/ps1.ipynb')
        for k, mib in enumerate(sizes):
            z.writestr('ps1/data%d.bin' % k, data(mib))
    print(name, os.path.getsize('%s/%s.zip' % (t, name)))
PY
size=$(stat -c %s "$T/over.zip")
before=$(jobs_count "$T")
code=$($CURL -o "$T/resp" -w '%{http_code}' -H "Authorization: Bearer $BOB" \
	-F assignment=ps1 -F "file=@$T/over.zip" "http://127.0.0.1:$SRV_PORT/api/v1/submissions")
cat "$T/resp"; echo
check "a $size-byte zip unpacking to 18 MiB: 422" test "$code" = 422
check "... with a one-line reason" sh -c "test \$(wc -l <'$T/resp') -le 1 && grep -q '\"error\"' '$T/resp'"
check "... and nothing queued" test "$(jobs_count "$T")" = "$before"
code=$($CURL -o "$T/resp" -w '%{http_code}' -H "Authorization: Bearer $BOB" \
	-F assignment=ps1 -F "file=@$T/under.zip" "http://127.0.0.1:$SRV_PORT/api/v1/submissions")
check "the same under the cap (8 MiB): 202" test "$code" = 202
check "... and graded" test "$(wait_job "$(json_get "$T/resp" '["job"]')")" = done
stop_server TERM
check "no sanitizer report from the service" sh -c "! grep -q -e 'Sanitizer' -e 'runtime error' '$T/serve.log'"
finish
