#!/bin/sh
# `make demo`: release the demo course's problem set, generate one submission
# per scenario the grader must handle, grade them all, print the results.
# Usage: sh rubrics/examples/demo.sh [path/to/grader] [work folder]
set -e
here=$(cd "$(dirname "$0")" && pwd)
grader=$(cd "$(dirname "${1:-build/grader}")" && pwd)/$(basename "${1:-build/grader}")
work=${2:-build/demo}
rm -rf "$work"
mkdir -p "$work"
weaker=
full=1
"$grader" doctor >/dev/null 2>&1 || full=
if [ -n "$full" ]; then
	echo "== proving the rubric on the instructor's solution (as rubric import does)"
	"$grader" rubric check --validate "$here/ps1.json"
fi
echo "== releasing the student version of ps1 into $work/release"
"$grader" rubric release "$here/ps1.json" -o "$work/release"
echo "== generating submissions in $work/submitted (one per scenario)"
/usr/bin/python3 "$here/make_submissions.py" "$work/release/ps1.ipynb" "$work/submitted"
echo "== grading"
if [ -z "$full" ]; then
	# the demo's submissions are our own; real student work deserves the full sandbox
	echo "note: this host lacks part of the sandbox (see 'grader doctor'), so the demo" \
		"runs with --allow-weaker and its rubric is not proven; run it as root for the" \
		"full sandbox"
	weaker=--allow-weaker
fi
"$grader" grade --rubric "$here/ps1.json" --submissions "$work/submitted" \
	-o "$work/gradebook.json" $weaker
echo "== results ($work/gradebook.json)"
"$grader" export "$work/gradebook.json" --to markdown
