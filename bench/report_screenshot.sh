#!/bin/sh
# Render the course report of the demo course with Debian's headless Chromium
# and save a screenshot outside the repository, to look at it.
# Usage: sh bench/report_screenshot.sh [path/to/grader] [OUT.png]
# (default OUT: /tmp/grader-report.png; needs the `chromium` package)
set -e
grader=$(cd "$(dirname "${1:-build/grader}")" && pwd)/$(basename "${1:-build/grader}")
out=${2:-/tmp/grader-report.png}
command -v chromium >/dev/null || { echo "needs Debian's chromium (apt-get install chromium)"; exit 1; }
work=$(mktemp -d /tmp/grader-report.XXXXXX)
trap 'rm -rf "$work"' EXIT
sh "$(dirname "$0")/../rubrics/examples/demo.sh" "$grader" "$work/demo" >/dev/null 2>&1
"$grader" report "$work/demo/gradebook.json" -o "$work/report.html"
HOME=$work chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
	--window-size=1000,1500 --screenshot="$out" "file://$work/report.html" >/dev/null 2>&1
echo "report: $(wc -c <"$work/report.html") bytes of HTML; screenshot: $out"
