#!/bin/sh
# `meson install` into a temporary DESTDIR puts every expected file in
# its place and nothing else; installing again keeps an edited
# configuration (the example is installed as the configuration only
# where there is none); the installed unit starts the installed
# daemon with the installed configuration, which parses.
#
# usage: check-install.sh MESON BUILDDIR PREFIX SYSCONFDIR SBINDIR MANDIR DATADIR
# (directories absolute, as configured)
set -u
if [ $# -ne 7 ]; then
	echo "usage: $0 MESON BUILDDIR PREFIX SYSCONFDIR SBINDIR MANDIR DATADIR" >&2
	exit 2
fi
meson=$1 build=$2 prefix=$3 etc=$4 sbin=$5 man=$6 data=$7
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/root
fail=0
bad() {
	echo "FAIL $*"
	fail=1
}

install_once() {
	if ! DESTDIR=$dest "$meson" install -C "$build" --no-rebuild \
		> "$tmp/install.log" 2>&1; then
		cat "$tmp/install.log"
		echo "FAIL meson install --destdir"
		exit 1
	fi
}
install_once

# path mode: everything meson install must put there
cat > "$tmp/want" <<WANT
$sbin/netbackd x
$sbin/netbackd-host-vif x
$etc/xen/scripts/vif-netbackd x
$prefix/lib/systemd/system/netbackd.service f
$prefix/lib/sysusers.d/netbackd.conf f
$man/man8/netbackd.8 f
$man/man5/netbackd.conf.5 f
$data/doc/netbackd/examples/netbackd.conf f
$etc/netbackd/netbackd.conf f
WANT
if [ -e "$build/backend/netbackctl" ]; then
	echo "$sbin/netbackctl x" >> "$tmp/want"
	echo "$man/man8/netbackctl.8 f" >> "$tmp/want"
fi
while read -r path mode; do
	if [ ! -f "$dest$path" ]; then
		bad "$path not installed"
	elif [ "$mode" = x ] && [ ! -x "$dest$path" ]; then
		bad "$path not executable"
	fi
done < "$tmp/want"
(cd "$dest" && find . \( -type f -o -type l \) | sed 's/^\.//' | sort) \
	> "$tmp/have"
cut -d' ' -f1 "$tmp/want" | sort > "$tmp/wanted"
extra=$(comm -13 "$tmp/wanted" "$tmp/have")
[ -z "$extra" ] || bad "installed but not expected:" $extra
[ $fail -ne 0 ] || echo "ok   meson install: $(wc -l < "$tmp/wanted") files, each in its place"

# The unit runs what was installed, with the installed configuration.
unit=$dest$prefix/lib/systemd/system/netbackd.service
conf=$etc/netbackd/netbackd.conf
if grep -qx "ExecStart=$sbin/netbackd --config $conf" "$unit"; then
	echo "ok   the unit starts $sbin/netbackd --config $conf"
else
	bad "the unit's ExecStart is not $sbin/netbackd --config $conf:" \
		"$(grep ExecStart "$unit")"
fi
# (as nobody: --check-config refuses a user this machine does not have,
# and the one the file names is created by systemd-sysusers on a host;
# that it is, is checked below)
if out=$("$dest$sbin/netbackd" --check-config --config "$dest$conf" \
	--user nobody 2>&1)
then
	echo "ok   the installed configuration parses: $out"
else
	bad "the installed configuration: $out"
fi

# The user the example configuration names comes from the installed
# sysusers.d file (systemd-sysusers --root needs root to write there).
if command -v systemd-sysusers > /dev/null && [ "$(id -u)" -eq 0 ]; then
	mkdir -p "$dest/etc"
	touch "$dest/etc/passwd" "$dest/etc/group"
	systemd-sysusers --root="$dest" > "$tmp/sysusers.log" 2>&1
	user=$(sed -n 's/^ *user *= *\([^ #]*\).*/\1/p' "$dest$conf")
	if [ -n "$user" ] && grep -q "^$user:" "$dest/etc/passwd"; then
		echo "ok   systemd-sysusers creates user $user"
	else
		bad "systemd-sysusers did not create the configured user" \
			"'$user': $(cat "$tmp/sysusers.log")"
	fi
	rm -f "$dest/etc/passwd" "$dest/etc/group" "$dest/etc/shadow" \
		"$dest/etc/gshadow"
fi

# An administrator's edit survives a second meson install.
echo "# edited by the administrator" >> "$dest$conf"
cp "$dest$conf" "$tmp/edited"
install_once
if cmp -s "$tmp/edited" "$dest$conf"; then
	echo "ok   a second meson install keeps the edited configuration"
else
	bad "a second meson install replaced the edited configuration"
fi
if cmp -s "$dest$data/doc/netbackd/examples/netbackd.conf" "$tmp/edited"
then
	bad "the example was not installed anew"
fi
exit $fail
