# Shared helpers of the bench/ scripts (sourced; they set $root first).

# The realistic mix of the demo course's submissions, without the 5 s
# infinite loop: correct, partial, syntax error, deleted/edited test cell,
# forgery, malformed, late (a script may narrow it).
kinds="alice bob carol erin frank grace heidi ivan"

# course DIR COUNT FROM ASSIGNMENT: DIR/s0..s{COUNT-1}/ASSIGNMENT, copies of
# FROM/KIND/ASSIGNMENT cycling through $kinds.
course() {
	i=0
	while [ $i -lt "$2" ]; do
		for k in $kinds; do
			[ $i -lt "$2" ] || break
			mkdir -p "$1/s$i"
			cp -r "$3/$k/$4" "$1/s$i/$4"
			i=$((i + 1))
		done
	done
}

# demo_submissions N NOTEBOOK DIR: N submissions of the demo course in
# DIR/sub/s0 .. s(N-1), made from the released NOTEBOOK by make_submissions.py
# (in DIR/kinds).
demo_submissions() {
	/usr/bin/python3 "$root/rubrics/examples/make_submissions.py" "$2" "$3/kinds"
	course "$3/sub" "$1" "$3/kinds" ps1
}
