#!/bin/sh
# Install what netbackd needs to build and test on Debian 12 (run as root,
# or with sudo available). Idempotent: installs only what is missing.
set -eu
pkgs="meson ninja-build pkg-config gcc clang libc6-dev libxen-dev libdpdk-dev
dpdk xenstore-utils libpcap-dev python3 procps"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "deps: installing$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
