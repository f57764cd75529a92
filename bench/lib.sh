# Shared helpers of the bench/ scripts (sourced; they set $root first).

# demo_submissions N NOTEBOOK DIR: N submissions of the demo course in
# DIR/sub/s0 .. s(N-1), made from the released NOTEBOOK by make_submissions.py
# (in DIR/kinds) and cycling through a realistic mix without the 5 s infinite
# loop: correct, partial, syntax error, deleted/edited test cell, forgery,
# malformed, late.
demo_submissions() {
	/usr/bin/python3 "$root/rubrics/examples/make_submissions.py" "$2" "$3/kinds"
	i=0
	while [ $i -lt "$1" ]; do
		for k in alice bob carol erin frank grace heidi ivan; do
			[ $i -lt "$1" ] || break
			mkdir -p "$3/sub/s$i"
			cp -r "$3/kinds/$k/ps1" "$3/sub/s$i/ps1"
			i=$((i + 1))
		done
	done
}
