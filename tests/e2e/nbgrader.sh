# The real nbgrader, for the end-to-end tests and bench/ scripts that compare
# with it (sourced once ROOT, the repository's top, is set): its checkout is
# $NBGRADER_DIR, else ../shared/nbgrader beside the repository.
NBG=${NBGRADER_DIR:-$ROOT/../shared/nbgrader}
# nbg ARGS...: Debian's python3 with nbgrader and its stubs importable
nbg() { PYTHONPATH=$NBG:$NBG/stubs PATH=$NBG/bin:$PATH /usr/bin/python3 "$@"; }
# nbg_config DIR [SETTING...]: DIR/nbgrader_config.py for a course rooted at
# DIR, its db DIR/gradebook.db, then each SETTING (`Execute.timeout = 60`)
nbg_config() {
	nbg_dir=$1
	shift
	{
		echo "c = get_config()"
		echo "c.CourseDirectory.root = '$nbg_dir'"
		echo "c.CourseDirectory.db_url = 'sqlite:///$nbg_dir/gradebook.db'"
		for nbg_set in "$@"; do
			echo "c.$nbg_set"
		done
	} >"$nbg_dir/nbgrader_config.py"
}
# nbg_need NAME: with no nbgrader, or one that does not run, skip NAME (an
# e2e script's check) saying why and finish the script
nbg_need() {
	if [ ! -f "$NBG/nbgrader/__init__.py" ]; then
		skip "$1" "the real nbgrader is not in '$NBG'"
		finish
	fi
	if ! nbg -m nbgrader --version >/dev/null 2>&1; then
		skip "$1" "nbgrader's Debian dependencies are missing (see $NBG/README.md)"
		finish
	fi
}
