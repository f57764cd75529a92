#!/bin/sh
# docs/ci/*.yml: the grader's source is an input with a working default (no
# placeholder to edit), and their build script takes a git URL or a vendored folder.
. "$(dirname "$0")/lib.sh"
T=$E2E_TMP
if ! /usr/bin/python3 -c "import yaml" 2>/dev/null; then
	skip "ci workflow files" "python3-yaml is missing"
	finish
fi
# stand-ins that record how they were called instead of cloning and building
mkdir -p "$T/bin"
for tool in git make sudo apt-get; do
	printf '#!/bin/sh\necho "%s $*" >>"%s/calls"\n[ "%s" = sudo ] && exec "$@"\nexit 0\n' \
		"$tool" "$T" "$tool" >"$T/bin/$tool"
	chmod +x "$T/bin/$tool"
done
# script KIND FILE: the shell that builds grader, with the variables' defaults applied
script() { /usr/bin/python3 - "$1" "$2" <<'PY'
import re, sys, yaml
kind, path = sys.argv[1:3]
doc = yaml.safe_load(open(path))
if kind == "github":
    job = doc["jobs"]["grade"]
    env = {k: re.fullmatch(r"\$\{\{ vars\.\w+ \|\| '(.*)' \}\}", v).group(1)
           for k, v in job["env"].items()}
    run = [s["run"] for s in job["steps"] if s.get("name") == "Build grader"][0]
else:
    job = doc["grade"]
    env = dict(job["variables"])
    run = "\n".join(l for l in job["script"] if "GRADER_SOURCE" in l)
for k, v in env.items():
    print("%s=${%s:-%s}" % (k, k, v))
print("RUNNER_TEMP=${RUNNER_TEMP:-/tmp}")
print(run)
PY
}
for kind in github gitlab; do
	f=$ROOT/docs/ci/$([ $kind = github ] && echo github-actions.yml || echo gitlab-ci.yml)
	script $kind "$f" >"$T/$kind.sh"
	check "$kind: the workflow parses and names GRADER_SOURCE" grep -q '^GRADER_SOURCE=' "$T/$kind.sh"
	check "$kind: no placeholder URL left" sh -c "! grep -q 'example.org\|your-course' '$f'"
	check "$kind: it says what is installed" grep -q 'What gets installed' "$f"
	: >"$T/calls"
	RUNNER_TEMP=$T PATH=$T/bin:$PATH sh -e "$T/$kind.sh"
	check "$kind: by default it clones the upstream repository" \
		grep -q '^git clone --depth 1 --branch main https://github.com/grader/grader.git' "$T/calls"
	check "$kind: ... and builds and installs it" grep -q '^make .*install PREFIX=/usr/local' "$T/calls"
	mkdir -p "$T/vendored"
	: >"$T/calls"
	GRADER_SOURCE=$T/vendored RUNNER_TEMP=$T PATH=$T/bin:$PATH sh -e "$T/$kind.sh"
	check "$kind: a vendored folder is built without cloning" sh -c \
		"! grep -q '^git' '$T/calls' && grep -q '^make -C $T/vendored' '$T/calls'"
done
finish
