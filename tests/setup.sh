#!/bin/sh
# Prepare a Debian 12 machine and the build directory: installs the
# Debian packages that are missing (as root, or through sudo), then
# configures ./build (or re-configures it if it exists).
set -eu
cd "$(dirname "$0")/.."
pkgs="meson ninja-build pkg-config gcc clang libc6-dev libxen-dev libdpdk-dev
dpdk xenstore-utils libpcap-dev python3 procps"
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
