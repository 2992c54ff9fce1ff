#!/bin/bash
# The network stub domain: a small PV domU whose only job is netbackd,
# as a driver domain (xl: driver_domain = 1; guests name it with
# vif = [ 'backend=<its name>,...' ]). One initramfs, booted with the
# Debian kernel dom0 runs:
#
#   busybox; xen-netfront (its uplink: a vif served by dom0 or another
#   backend), xen-evtchn and xen-gntdev (/dev/xen/evtchn, /dev/xen/gntdev;
#   /dev/xen/xenbus, xenstore's device, is built into the kernel);
#   netbackd with the libraries it links against, libgcc_s (loaded by
#   the sandbox before its filter), DPDK's ring mempool driver and two
#   uplink drivers, net_af_packet (onto a kernel netdev such as the
#   netfront's eth0) and net_tap; an /etc/passwd with `nobody`;
#   stubdom-init.sh as /init.
#
# No libxenctrl privileges (no xen-privcmd: netbackd does without
# domctl), no xl, no udev, no disk. See stubdom-init.sh for what it does
# at boot and the kernel command line it reads.
#
# usage: build-stubdom.sh ROOT NETBACKD OUT
#   ROOT      a Debian 12 root with the Xen, kernel and DPDK packages (the
#             lab's dom0 root, build-images.sh)
#   NETBACKD  the netbackd binary (built against ROOT's libraries)
#   OUT       the initramfs to write (cpio, gzip)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=${1:?usage: build-stubdom.sh ROOT NETBACKD OUT}
nbd=${2:?usage: build-stubdom.sh ROOT NETBACKD OUT}
out=${3:?usage: build-stubdom.sh ROOT NETBACKD OUT}
kver=$(ls "$root/lib/modules" | head -1)
mods=$root/lib/modules/$kver/kernel
pmds=$root/usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0

s=$(mktemp -d)
chmod 755 "$s" # the root directory: netbackd runs on as nobody
probe=$root/tmp/stubdom-netbackd.$$
trap 'rm -rf "$s" "$probe"' EXIT
mkdir -p "$s/bin" "$s/sbin" "$s/usr/sbin" "$s/proc" "$s/sys" "$s/dev" \
	"$s/tmp" "$s/run" "$s/var" "$s/etc/netbackd" "$s/modules" \
	"$s/usr/lib/dpdk-pmds" "$s/lib64"
ln -s ../run "$s/var/run"
cp "$root/bin/busybox" "$s/bin/busybox"
for a in $(chroot "$root" /bin/busybox --list); do
	[ "$a" = busybox ] || ln -s busybox "$s/bin/$a"
done
# Modules in load order (none of them depends on another).
n=0
for m in drivers/xen/xen-evtchn drivers/xen/xen-gntdev \
	 drivers/net/xen-netfront; do
	n=$((n + 1))
	cp "$mods/$m.ko" "$s/modules/$n-${m##*/}.ko"
done
cp "$nbd" "$probe"
cp "$nbd" "$s/usr/sbin/netbackd"
# DPDK's plugins: the mempool driver its packet pools need (ring) and
# the uplink drivers; EAL loads them with -d (stubdom-init.sh).
plugins="librte_mempool_ring.so.23 librte_net_af_packet.so.23
librte_net_tap.so.23"
for p in $plugins; do
	cp -L "$pmds/$p" "$s/usr/lib/dpdk-pmds/"
done
# Every library these load, as ldd inside ROOT finds them.
for f in "/tmp/${probe##*/}" $(for p in $plugins; do
	echo "/usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0/$p"; done); do
	for l in $(chroot "$root" ldd "$f" |
		   awk '/=>/ { print $3 } /^[ \t]*\// { print $1 }'); do
		mkdir -p "$s$(dirname "$l")"
		cp -L "$root$l" "$s$l"
	done
done
l=$(cd "$root" && ls usr/lib/x86_64-linux-gnu/libgcc_s.so.1 \
	lib/x86_64-linux-gnu/libgcc_s.so.1 2>/dev/null | head -1)
mkdir -p "$s/$(dirname "$l")"
cp -L "$root/$l" "$s/$l"
cat >"$s/etc/passwd" <<'EOF'
root:x:0:0::/:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$s/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
cp "$here/stubdom-init.sh" "$s/init"
chmod +x "$s/init"
(cd "$s" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
