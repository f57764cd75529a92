#!/bin/sh
# Rebuild rubrics/examples/ps1.json from the demo course's source notebook.
# Usage: sh rubrics/examples/make_rubric.sh [path/to/grader [import flags...]]
#        (default build/grader). Import proves the rubric on the solution first.
set -e
here=$(cd "$(dirname "$0")" && pwd)
grader=${1:-$here/../../build/grader}
[ $# -gt 0 ] && shift
"$grader" rubric import "$here/ps1/source/ps1.ipynb" \
	--assignment ps1 \
	--duedate 2026-10-30T10:00:00Z \
	--late-policy '10%/day,cap=50%' \
	--extension alice=2d \
	--preload numpy,matplotlib,matplotlib.pyplot \
	--data "$here/ps1/source/data.csv" \
	--seed 42 \
	--cell-timeout 5 \
	--notebook-timeout 120 \
	-o "$here/ps1.json" "$@"
