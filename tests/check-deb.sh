#!/bin/sh
# The Debian package as an administrator gets it: `dpkg-buildpackage -b
# -us -uc` on a copy of the tree, then, in a Debian 12 chroot made afresh
# by debootstrap from this machine's apt mirror, `apt install` of the
# .deb with its dependencies from the archive. There:
#   - the example configuration and the installed one pass
#     `netbackd --check-config`; the daemon has no simulator (--sim);
#   - `systemd-analyze verify` says nothing about the installed unit;
#   - systemd-sysusers made the user the configuration names;
#   - the service is neither enabled nor started (a policy-rc.d records
#     every start or stop the maintainer scripts ask for, with
#     /run/systemd/system there so that they would ask);
#   - reinstalling keeps an edited configuration and only try-restarts;
#     removing stops the service and keeps the configuration;
#   - purging leaves the chroot as it was before the install: every
#     path, mode, owner and file content outside dpkg's, apt's and
#     man-db's own records, caches and logs.
# Needs root (debootstrap, chroot) and the mirror. The chroot's mounts
# live in a mount namespace of its own, gone when the test ends.
#
# usage: check-deb.sh SRCDIR VERSION
# env:   PKG_MIRROR, PKG_SECURITY_MIRROR (default: the ones this machine's
#        apt uses); DEB_BUILD_OPTIONS (e.g. parallel=1) reaches the build
set -u
if [ $# -ne 2 ]; then
	echo "usage: $0 SRCDIR VERSION" >&2
	exit 2
fi
srcdir=$1 version=$2
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (debootstrap, chroot)"
	exit 77
fi
for tool in dpkg-buildpackage dh debootstrap unshare; do
	if ! command -v "$tool" > /dev/null; then
		echo "FAIL $tool is missing (tests/setup.sh installs it)"
		exit 1
	fi
done
if [ -z "${CHECK_DEB_NS:-}" ]; then
	CHECK_DEB_NS=1 exec unshare --mount --propagation private "$0" "$@"
fi

start=$(date +%s)
tmp=$(mktemp -d) || exit 1
root=$tmp/root
cleanup() {
	umount "$root/proc" 2> /dev/null
	# --one-file-system: never into a mount still there
	rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM
fail=0
bad() {
	echo "FAIL $*"
	fail=1
}
die() {
	echo "FAIL $*"
	exit 1
}
elapsed() {
	echo "$(($(date +%s) - start)) s"
}

# --- build, on a copy: dpkg-buildpackage writes beside the tree and
# into debian/ ---
mkdir "$tmp/src"
if git -C "$srcdir" rev-parse > /dev/null 2>&1; then
	# tracked and new files, not what .gitignore names (build dirs)
	git -C "$srcdir" ls-files -z -c -o --exclude-standard |
		tar -C "$srcdir" --null -T - --ignore-failed-read -cf - |
		tar -C "$tmp/src" -xf -
else
	tar -C "$srcdir" --exclude=./.git --exclude='./build*' \
		--exclude='./obj-*' -cf - . | tar -C "$tmp/src" -xf -
fi
if ! (cd "$tmp/src" && dpkg-buildpackage -b -us -uc) \
	> "$tmp/build.log" 2>&1; then
	tail -40 "$tmp/build.log"
	die "dpkg-buildpackage -b -us -uc"
fi
warnings=$(grep -E '^(dh_[a-z_]+|dpkg-[a-z]+): warning' "$tmp/build.log")
[ -z "$warnings" ] || bad "the package build warns: $warnings"
arch=$(dpkg --print-architecture)
deb=netbackd_${version}_$arch.deb
[ -f "$tmp/$deb" ] || die "no $deb (debian/changelog's version is" \
	"not meson.build's $version?): $(ls "$tmp"/*.deb)"
echo "ok   dpkg-buildpackage -b -us -uc: $deb ($(elapsed))"

# What the package holds: what `meson install` installs
# (check-install.sh), Debian's places, plus the package's own docs.
dpkg-deb --fsys-tarfile "$tmp/$deb" | tar -tf - | grep -v '/$' |
	sed 's|^\./|/|' | sort > "$tmp/have"
sort > "$tmp/want" <<WANT
/etc/netbackd/netbackd.conf
/etc/xen/scripts/vif-netbackd
/lib/systemd/system/netbackd.service
/usr/lib/sysusers.d/netbackd.conf
/usr/sbin/netbackctl
/usr/sbin/netbackd
/usr/sbin/netbackd-host-vif
/usr/share/doc/netbackd/README.md.gz
/usr/share/doc/netbackd/changelog.gz
/usr/share/doc/netbackd/copyright
/usr/share/doc/netbackd/examples/netbackd.conf
/usr/share/man/man5/netbackd.conf.5.gz
/usr/share/man/man8/netbackctl.8.gz
/usr/share/man/man8/netbackd.8.gz
WANT
if cmp -s "$tmp/want" "$tmp/have"; then
	echo "ok   the package holds $(wc -l < "$tmp/want") files, each in its place"
else
	bad "the package's files (- missing, + unexpected):" \
		"$(diff "$tmp/want" "$tmp/have" | grep '^[<>]' |
			sed 's/^</-/; s/^>/+/' | tr '\n' ' ')"
fi
conffiles=$(dpkg-deb --ctrl-tarfile "$tmp/$deb" | tar -xOf - ./conffiles |
	sort | tr '\n' ' ')
want_conffiles="/etc/netbackd/netbackd.conf /etc/xen/scripts/vif-netbackd "
if [ "$conffiles" = "$want_conffiles" ]; then
	echo "ok   conffiles: $conffiles"
else
	bad "conffiles are '$conffiles'"
fi

# --- a clean Debian 12 chroot, with this machine's mirrors ---
uris=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
	/etc/apt/sources.list.d/*.sources 2> /dev/null |
	sed -n -e 's/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\) .*/\2/p' \
		-e 's/^URIs: *//p' | tr ' ' '\n')
mirror=${PKG_MIRROR:-$(echo "$uris" | grep -v security |
	grep -m1 '/debian/\{0,1\}$')}
mirror=${mirror:-http://deb.debian.org/debian}
security=${PKG_SECURITY_MIRROR:-$(echo "$uris" |
	grep -m1 '/debian-security/\{0,1\}$')}
security=${security:-http://deb.debian.org/debian-security}
if ! debootstrap --variant=minbase bookworm "$root" "$mirror" \
	> "$tmp/debootstrap.log" 2>&1; then
	tail -20 "$tmp/debootstrap.log"
	die "debootstrap bookworm from $mirror"
fi
cat > "$root/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security bookworm-security main
EOF
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
# A policy-rc.d that records what the maintainer scripts ask of
# services and lets nothing run; /run/systemd/system makes them ask as
# on a host running systemd (the chroot's systemctl ignores
# daemon-reload: /proc shows it is in a chroot).
cat > "$root/usr/sbin/policy-rc.d" <<'EOF'
#!/bin/sh
echo "$*" >> /var/log/policy-rc.d.log
exit 101
EOF
chmod 755 "$root/usr/sbin/policy-rc.d"
mkdir -p "$root/run/systemd/system"
mount -t proc proc "$root/proc" || die "mount proc in the chroot"
in_root() {
	chroot "$root" /usr/bin/env -i HOME=/root LC_ALL=C.UTF-8 \
		PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive "$@"
}
# Everything but dpkg's, apt's and man-db's own records, caches and
# logs (and the mounts, /tmp, /run): path, type, mode, owner, link
# target, and each file's content (not the shadow tools' backups,
# passwd- ...).
snapshot() {
	in_root sh -c '
	skip="-path /proc -o -path /sys -o -path /dev -o -path /run -o
	      -path /tmp -o -path /var/lib/apt -o -path /var/lib/dpkg -o
	      -path /var/cache/apt -o -path /var/cache/debconf -o
	      -path /var/cache/man -o -path /var/log/apt -o
	      -path /var/log/dpkg.log -o -path /var/log/alternatives.log -o
	      -path /var/log/policy-rc.d.log"
	find / -xdev \( $skip \) -prune -o -printf "%p %y %m %u:%g %l\n"
	find / -xdev \( $skip \) -prune -o -type f \
		! -regex "/etc/g?shadow-\|/etc/passwd-\|/etc/group-" \
		-exec sha256sum {} +' | sort > "$1"
}
log=$tmp/apt.log
policy_log=$root/var/log/policy-rc.d.log
if ! in_root apt-get update > "$log" 2>&1; then
	cat "$log"
	die "apt-get update in the chroot"
fi
# The package's dependencies and recommendations first (what `apt
# install` would pull), and man-db for systemd-analyze's Documentation=
# check, so that the snapshot holds them and purging netbackd alone must
# give it back.
depends=$(dpkg-deb -f "$tmp/$deb" Depends)
recommends=$(dpkg-deb -f "$tmp/$deb" Recommends)
if ! in_root apt-get satisfy -y "$depends" "$recommends" man-db \
	> "$log" 2>&1; then
	tail -30 "$log"
	die "apt-get satisfy of netbackd's dependencies"
fi
echo "ok   a Debian 12 chroot from $mirror with netbackd's" \
	"dependencies ($(elapsed))"
snapshot "$tmp/before"
installed() {
	in_root dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n' |
		sed -n 's/^ii  *//p' | sort
}
installed > "$tmp/pkgs.before"
: > "$policy_log"

# --- install ---
cp "$tmp/$deb" "$root/tmp/"
if ! in_root apt-get install -y "./tmp/$deb" > "$log" 2>&1; then
	tail -30 "$log"
	die "apt install ./$deb"
fi
installed > "$tmp/pkgs.after"
new=$(comm -13 "$tmp/pkgs.before" "$tmp/pkgs.after" | tr '\n' ' ')
[ "$new" = "netbackd " ] || bad "apt installed '$new', not netbackd alone"
echo "ok   apt install ./$deb ($(elapsed))"

conf=/etc/netbackd/netbackd.conf
example=/usr/share/doc/netbackd/examples/netbackd.conf
for c in $example $conf; do
	if out=$(in_root netbackd --check-config --config $c 2>&1); then
		echo "ok   netbackd --check-config --config $c: $out"
	else
		bad "netbackd --check-config --config $c: $out"
	fi
done
out=$(in_root netbackd --sim /nonexistent 2>&1)
case $out in
*"without the simulator"*) echo "ok   built without the simulator" ;;
*) bad "netbackd --sim was not refused as in a build without the" \
	"simulator: $out" ;;
esac
unit=/lib/systemd/system/netbackd.service
out=$(in_root systemd-analyze verify $unit 2>&1)
rc=$?
if [ $rc -eq 0 ] && [ -z "$out" ]; then
	echo "ok   systemd-analyze verify $unit"
else
	bad "systemd-analyze verify $unit (exit $rc): $out"
fi
user=$(sed -n 's/^ *user *= *\([^ #]*\).*/\1/p' "$root$conf")
if [ -n "$user" ] && in_root getent passwd "$user" > /dev/null; then
	echo "ok   user $user exists (systemd-sysusers)"
else
	bad "the configured user '$user' was not created"
fi
# --root: offline, the unit files as they are (no systemd to ask)
state=$(in_root systemctl --root=/ is-enabled netbackd.service 2>&1)
links=$(find "$root/etc/systemd" -lname '*netbackd*' 2> /dev/null)
if [ "$state" = disabled ] && [ -z "$links" ]; then
	echo "ok   netbackd.service is not enabled"
else
	bad "netbackd.service is enabled: is-enabled says '$state'; $links"
fi
asked=$(grep netbackd "$policy_log")
if [ -z "$asked" ]; then
	echo "ok   installing asked no start of netbackd.service"
else
	bad "installing asked of netbackd.service: $asked"
fi

# --- an edited configuration through a reinstall, then a removal ---
echo "# edited by the administrator" >> "$root$conf"
cp "$root$conf" "$tmp/edited"
: > "$policy_log"
if ! in_root apt-get install -y --reinstall "./tmp/$deb" > "$log" 2>&1
then
	tail -30 "$log"
	die "apt install --reinstall ./$deb"
fi
if cmp -s "$tmp/edited" "$root$conf"; then
	echo "ok   reinstalling keeps the edited $conf"
else
	bad "reinstalling replaced the edited $conf"
fi
asked=$(grep netbackd "$policy_log" | tr '\n' ' ')
if [ "$asked" = "netbackd.service try-restart " ]; then
	echo "ok   reinstalling asks a try-restart (running or not, as before)"
else
	bad "reinstalling asked of netbackd.service: '$asked'"
fi
: > "$policy_log"
if ! in_root apt-get remove -y netbackd > "$log" 2>&1; then
	tail -30 "$log"
	die "apt-get remove netbackd"
fi
asked=$(grep netbackd "$policy_log" | tr '\n' ' ')
if [ "$asked" = "netbackd.service stop " ]; then
	echo "ok   removing stops netbackd.service"
else
	bad "removing asked of netbackd.service: '$asked' (not a stop)"
fi
if cmp -s "$tmp/edited" "$root$conf"; then
	echo "ok   removing keeps $conf"
else
	bad "removing did not keep the edited $conf"
fi

# --- purge: nothing left ---
if ! in_root apt-get purge -y netbackd > "$log" 2>&1; then
	tail -30 "$log"
	die "apt-get purge netbackd"
fi
status=$(in_root dpkg-query -W -f '${db:Status-Status}' netbackd 2>/dev/null)
[ -z "$status" ] || [ "$status" = not-installed ] ||
	bad "after purge, dpkg says netbackd is '$status'"
for db in passwd group; do
	! in_root getent "$db" netbackd > /dev/null ||
		bad "after purge, $db still has netbackd"
done
snapshot "$tmp/after"
if cmp -s "$tmp/before" "$tmp/after"; then
	echo "ok   purging leaves the chroot as before the install" \
		"($(wc -l < "$tmp/before") paths and contents compared)"
else
	bad "purging left (- before, + after):"
	diff "$tmp/before" "$tmp/after" | grep '^[<>]' |
		sed 's/^</  -/; s/^>/  +/'
fi
echo "     ($(elapsed) in all)"
exit $fail
