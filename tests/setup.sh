#!/bin/sh
# Prepare a Debian 12 machine and the build directories: installs the
# Debian packages that are missing (as root, or through sudo), then
# configures ./build (or re-configures it if it exists) and ./build-san,
# the same under ASan + UBSan (any report fails the run), where CI runs
# the unit and sim suites again. (build-essential, debhelper and
# debootstrap: the package suite builds the Debian package and installs
# it in a fresh chroot; openvswitch-switch, ovn-central and ovn-host:
# the sim tests ovs and ovn, two hosts joined by tunnels. iperf3,
# iproute2 and ping: the lab's "outside", a network namespace with an
# iperf3 server behind dom0's NIC, on an Open vSwitch of its own.)
set -eu
cd "$(dirname "$0")/.."
pkgs="meson ninja-build pkg-config gcc clang libc6-dev libxen-dev libdpdk-dev
dpdk dpdk-dev xenstore-utils libpcap-dev libseccomp-dev python3 procps
systemd man-db groff-base tshark openvswitch-switch ovn-central ovn-host
build-essential debhelper debootstrap
iperf3 iproute2 iputils-ping ethtool"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	echo "setup: installing$missing"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
		--no-install-recommends $missing
fi
if [ -f build/build.ninja ]; then
	meson setup --reconfigure build
else
	meson setup build
fi
if [ -f build-san/build.ninja ]; then
	meson setup --reconfigure build-san >/dev/null
else
	meson setup build-san -Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args=-fno-sanitize-recover=all >/dev/null
fi
