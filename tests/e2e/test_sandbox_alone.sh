#!/bin/sh
# The sandbox is a leaf library: tests/sandbox_alone links with libsandbox.a
# and the system's libseccomp and jansson only, and runs a command through it.
. "$(dirname "$0")/lib.sh"
BIN=$BUILD/tests/sandbox_alone
check "links with libsandbox.a alone" test -x "$BIN"
check "sandbox includes no header above it" sh -c "! grep -rhn '#include \"grader/' '$ROOT/sandbox' | grep -v 'grader/\(base\|sandbox\)\.h'"
need_root "runs a command confined"
"$BIN" >"$E2E_TMP/out" 2>&1; rc=$?
cat "$E2E_TMP/out"
check "runs a command confined" test "$rc" -eq 0
finish
