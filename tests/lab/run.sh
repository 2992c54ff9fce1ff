#!/bin/bash
# Run one lab scenario: Xen 4.17 + Debian dom0 under QEMU (TCG), the
# netbackd from BUILD_DIR, guests with the stock Linux netfront.
#   usage: run.sh SCENARIO [BUILD_DIR]
# Leaves the console log (everything dom0 and the scenario printed, with
# netbackd's and the guests' logs at the end) in $LAB_LOGDIR (default
# BUILD_DIR/meson-logs/lab/SCENARIO). Exit 0 on PASS.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
scenario=$1
build=$(cd "${2:-$top/build}" && pwd)
[ -f "$here/scenarios/$scenario.sh" ] || { echo "no scenario $scenario" >&2; exit 2; }
logdir=${LAB_LOGDIR:-$build/meson-logs/lab/$scenario}
mkdir -p "$logdir"
img=$("$here/build-images.sh")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage=$work/disk
mkdir "$stage"
cp "$build/backend/netbackd" "$stage/netbackd"
cp "$top/backend/scripts/vif-netbackd" "$stage/"
cp "$here/dom0-init.sh" "$stage/"
cp "$here/scenarios/$scenario.sh" "$stage/scenario.sh"
echo "$scenario" >"$stage/scenario-name"
cp "$img/vmlinuz" "$stage/vmlinuz"
# The guests' initramfs: busybox, the stock netfront module, an init.
kver=$(cat "$img/kver")
g=$stage/guest
mkdir -p "$g/bin" "$g/sbin" "$g/proc" "$g/sys" "$g/dev" "$g/tmp"
cp /bin/busybox "$g/bin/busybox"
for a in $("$g/bin/busybox" --list); do
	[ "$a" = busybox ] || ln -s busybox "$g/bin/$a"
done
cp "$img/root/lib/modules/$kver/kernel/drivers/net/xen-netfront.ko" "$g/"
# iperf3 and ethtool from the dom0 image, with the libraries they load.
for b in /usr/bin/iperf3 /usr/sbin/ethtool; do
	for f in $b $(chroot "$img/root" ldd $b |
		      awk '/=>/ { print $3 } /^[ \t]*\// { print $1 }'); do
		mkdir -p "$g$(dirname "$f")"
		cp -L "$img/root$f" "$g$f"
	done
done
mkdir -p "$g/lib64" "$g/etc"
echo "root:x:0:0::/:/bin/sh" >"$g/etc/passwd"
cp "$here/guest-init.sh" "$g/init"
chmod +x "$g/init"
(cd "$g" && find . | cpio -o -H newc --quiet | gzip -1) >"$stage/guest.cpio.gz"
rm -rf "$g"
mke2fs -q -t ext4 -d "$stage" -L lab "$work/lab.ext4" 128M

# A scenario may ask for more dom0 vCPUs: "# lab-dom0-vcpus: N".
vcpus=$(sed -n 's/^# lab-dom0-vcpus: *\([0-9]*\).*/\1/p' "$here/scenarios/$scenario.sh")
vcpus=${vcpus:-1}
console=$logdir/console.log
echo "lab: $scenario: booting Xen under QEMU (TCG); log $console"
start=$(date +%s)
set +e
timeout "${LAB_TIMEOUT:-900}" qemu-system-x86_64 -machine pc \
	-cpu qemu64,+svm,+ssse3,+sse4.1,+sse4.2,+popcnt \
	-accel tcg,thread=multi -smp 2 -m 2048 \
	-display none -monitor none -no-reboot -nic none \
	-serial "file:$console" \
	-kernel "$img/xen" \
	-append "console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M dom0_max_vcpus=$vcpus" \
	-initrd "$img/vmlinuz console=hvc0 earlyprintk=xen root=/dev/vda rw init=/lab-init,$img/initrd.img" \
	-drive "file=$img/dom0.ext4,if=virtio,format=raw,snapshot=on" \
	-drive "file=$work/lab.ext4,if=virtio,format=raw,readonly=on" \
	</dev/null >"$logdir/qemu.out" 2>&1
qrc=$?
set -e
secs=$(( $(date +%s) - start ))
line=$(grep -a "^LAB-RESULT $scenario " "$console" | tail -1 || true)
echo "lab: $scenario: qemu exit $qrc after $secs s: ${line:-no result}"
if [[ "$line" == "LAB-RESULT $scenario PASS"* ]]; then
	exit 0
fi
echo "lab: $scenario FAILED; last console lines:" >&2
tail -80 "$console" >&2
exit 1
