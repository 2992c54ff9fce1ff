#!/bin/sh
# systemd-analyze verify on netbackd.service as configured for
# installation: syntax, known keys and values, the man pages its
# Documentation= names. verify wants ExecStart's program to exist, so a
# copy runs the built netbackd; the man pages come from the build too.
# Any complaint fails the test.
#
# usage: check-unit.sh UNIT NETBACKD PAGE...
set -u
if [ $# -lt 2 ]; then
	echo "usage: $0 UNIT NETBACKD PAGE..." >&2
	exit 2
fi
unit=$1 netbackd=$2
shift 2
case $netbackd in
/*) ;;
*) netbackd=$PWD/$netbackd ;; # meson passes it relative to the build
esac
if ! command -v systemd-analyze > /dev/null; then
	echo "SKIP: no systemd-analyze"
	exit 77
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
name=$(basename "$unit")
exec_line=$(grep '^ExecStart=' "$unit")
if [ -z "$exec_line" ]; then
	echo "FAIL $name has no ExecStart="
	exit 1
fi
prog=${exec_line#ExecStart=}
prog=${prog%% *}
# (and ExecReload's netbackctl, built beside it)
sed -e "s|^ExecStart=$prog|ExecStart=$netbackd|" \
	-e "s|^ExecReload=[^ ]*/netbackctl|ExecReload=$(dirname "$netbackd")/netbackctl|" \
	"$unit" > "$tmp/$name"
for page in "$@"; do
	sec=${page##*.}
	mkdir -p "$tmp/man/man$sec"
	cp "$page" "$tmp/man/man$sec/"
done
out=$(cd "$tmp" && MANPATH="$tmp/man" SYSTEMD_LOG_COLOR=0 \
	systemd-analyze verify "$tmp/$name" 2>&1)
rc=$?
if [ $rc -ne 0 ] || [ -n "$out" ]; then
	echo "FAIL systemd-analyze verify $name (exit $rc):"
	echo "$out" | sed 's/^/  /'
	exit 1
fi
echo "ok   systemd-analyze verify $name (ExecStart=$prog)"
# What issue #8 asks of it, lest an edit lose it.
fail=0
for want in '^After=.*xenstored\.service' '^After=.*xen\.service' \
	'^Restart=on-failure$' '^RuntimeDirectory=netbackd$' \
	'^Type=notify$'; do
	if ! grep -q "$want" "$unit"; then
		echo "FAIL $name: no line matching $want"
		fail=1
	fi
done
exit $fail
