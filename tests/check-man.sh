#!/bin/sh
# Each man page renders without a warning from groff (-ww: all of them)
# or from man(1), and has no @VARIABLE@ left unconfigured.
#
# usage: check-man.sh PAGE...
set -u
if [ $# -eq 0 ]; then
	echo "usage: $0 PAGE..." >&2
	exit 2
fi
if ! command -v groff > /dev/null || ! command -v man > /dev/null; then
	echo "SKIP: groff or man is missing"
	exit 77
fi
fail=0
for page in "$@"; do
	name=$(basename "$page")
	err=$(groff -ww -z -man "$page" 2>&1) || err="groff failed: $err"
	if [ -n "$err" ]; then
		echo "FAIL $name: groff -ww -z -man:"
		echo "$err" | sed 's/^/  /'
		fail=1
		continue
	fi
	err=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$page" \
		2>&1 > /dev/null) || err="man failed: $err"
	if [ -n "$err" ]; then
		echo "FAIL $name: man --warnings:"
		echo "$err" | sed 's/^/  /'
		fail=1
		continue
	fi
	if grep -n '@[A-Z_]*@' "$page"; then
		echo "FAIL $name: unconfigured @VARIABLE@ above"
		fail=1
		continue
	fi
	echo "ok   $name"
done
exit $fail
