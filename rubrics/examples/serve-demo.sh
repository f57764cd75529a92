#!/bin/sh
# `make serve-demo`: one bare repository per demo student (alice's with the
# released notebook pushed), then `grader serve` on 127.0.0.1:8080 with the
# demo course's config (rubrics/examples/serve.json). The README walks
# through a push and an upload against it. Stop it with Ctrl-C.
# Usage: sh rubrics/examples/serve-demo.sh [path/to/grader]
set -e
here=$(cd "$(dirname "$0")" && pwd)
grader=$(cd "$(dirname "${1:-build/grader}")" && pwd)/$(basename "${1:-build/grader}")
work=$here/../../build/serve-demo
rm -rf "$work"
mkdir -p "$work/remote" "$work/work"
"$grader" rubric release "$here/ps1.json" -o "$work/release" >/dev/null
/usr/bin/python3 "$here/make_submissions.py" "$work/release/ps1.ipynb" "$work/gen"
for s in alice bob carol; do
	git init -q --bare -b main "$work/remote/$s.git"
done
git clone -q "$work/remote/alice.git" "$work/work/alice" 2>/dev/null
cp "$work/release/ps1.ipynb" "$work/work/alice/"
(cd "$work/work/alice" && git add ps1.ipynb &&
	git -c user.name=alice -c user.email=alice@example.org commit -qm "start ps1" &&
	git push -q origin HEAD:main)
# the demo's secrets; a real course keeps them in files or the service's environment
# (one secret per forge: GitLab sends its own in clear, so it must sign nothing else)
export GRADER_WEBHOOK_SECRET=${GRADER_WEBHOOK_SECRET:-demo-webhook-secret}
export GRADER_GITLAB_TOKEN=${GRADER_GITLAB_TOKEN:-demo-gitlab-token}
export GRADER_GITEA_SECRET=${GRADER_GITEA_SECRET:-demo-gitea-secret}
export GRADER_ADMIN_TOKEN=${GRADER_ADMIN_TOKEN:-demo-admin-token}
export GRADER_STUDENT_TOKENS="alice alice-demo-token-0001
bob bob-demo-token-00002
carol carol-demo-token-003"
"$grader" serve --config "$here/serve.json" --check-config
weaker=
if ! "$grader" doctor >/dev/null 2>&1; then
	echo "note: this host lacks part of the sandbox (see 'grader doctor'): --allow-weaker"
	weaker=--allow-weaker
fi
user=
if [ "$(id -u)" = 0 ]; then
	user="--user nobody" # the HTTP side's unprivileged user
fi
echo "== grader serve on http://${GRADER_LISTEN:-127.0.0.1:8080} (state in build/serve-demo/state); Ctrl-C stops"
exec "$grader" serve --config "$here/serve.json" ${GRADER_LISTEN:+--listen "$GRADER_LISTEN"} $user $weaker
