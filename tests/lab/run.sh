#!/bin/bash
# Run one lab scenario: Xen 4.17 + Debian dom0 under QEMU (TCG), the
# netbackd from BUILD_DIR, guests with the stock Linux netfront.
#   usage: run.sh SCENARIO [BUILD_DIR]        (BUILD_DIR: default ./build)
#   env:   LAB_LOGDIR   where the logs go (BUILD_DIR/meson-logs/lab/SCENARIO)
#          LAB_TIMEOUT  hard limit of the QEMU process in seconds (default:
#                       the scenario's limit plus 240 s for boot and logs)
#          LAB_CACHE, LAB_MIRROR   see build-images.sh
#          LAB_ENV      "NAME=VALUE ..." set in dom0 for the scenario (e.g.
#                       COST_ROUNDS=1); names in capitals, values of
#                       letters, digits and . , : _ - only
# The verdict is the "LAB-RESULT <scenario> PASS|FAIL <detail>" line dom0
# prints on the serial console. The log directory receives console.log
# (the whole serial console: Xen, dom0, the scenario's commands) and the
# files dom0 collected at the end on a third disk: netbackd.log,
# netbackd.out, guest-<name>.log (xenconsoled), xl-<name>.log, the
# hotplug log, dom0's and Xen's dmesg, the xenstore tree. Exit 0 on PASS.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
scenario=${1:-}
sfile=$here/scenarios/$scenario.sh
if [ -z "$scenario" ] || [ ! -f "$sfile" ]; then
	echo "usage: run.sh SCENARIO [BUILD_DIR]; scenarios:" \
		$(cd "$here/scenarios" && ls | sed 's/\.sh$//') >&2
	exit 2
fi
build=$(cd "${2:-$top/build}" && pwd)
[ -x "$build/backend/netbackd" ] || {
	echo "lab: no $build/backend/netbackd (ninja -C $build first)" >&2
	exit 2
}
logdir=${LAB_LOGDIR:-$build/meson-logs/lab/$scenario}
mkdir -p "$logdir"
logdir=$(cd "$logdir" && pwd)
# Files of an earlier run would pass for this run's: remove those it
# listed (only those: LAB_LOGDIR may be a directory shared with others).
if [ -f "$logdir/.lab-files" ]; then
	(cd "$logdir" && while read -r f; do
		case "$f" in */*|.*|"") ;; *) rm -f -- "$f" ;; esac
	done <.lab-files)
fi
echo console.log >"$logdir/.lab-files"
echo qemu.out >>"$logdir/.lab-files"
img=$("$here/build-images.sh")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# netbackd must find every library it links against in dom0: say so
# now rather than after a boot.
probe=$img/root/tmp/netbackd-probe.$$
cp "$build/backend/netbackd" "$probe"
missing=$(chroot "$img/root" ldd "/tmp/${probe##*/}" | grep "not found" || true)
rm -f "$probe"
if [ -n "$missing" ]; then
	echo "lab: the dom0 image lacks libraries netbackd needs:" >&2
	echo "$missing" >&2
	exit 1
fi

# The per-run disk (/lab in dom0): netbackd, the scripts, the guests'
# kernel and initramfs. Small, so it is rebuilt at each run.
stage=$work/disk
mkdir "$stage"
cp "$build/backend/netbackd" "$stage/netbackd"
cp "$build/backend/netbackctl" "$stage/netbackctl"
cp "$top/backend/scripts/vif-netbackd" "$stage/"
cp "$here/dom0-init.sh" "$stage/"
cp "$sfile" "$stage/scenario.sh"
echo "$scenario" >"$stage/scenario-name"
: >"$stage/lab-env"
for v in ${LAB_ENV:-}; do
	if ! [[ "$v" =~ ^[A-Z][A-Z0-9_]*=[A-Za-z0-9.,:_-]*$ ]]; then
		echo "lab: LAB_ENV: '$v' is not NAME=VALUE (NAME in capitals," \
			"VALUE of letters, digits and . , : _ -)" >&2
		exit 2
	fi
	echo "export $v" >>"$stage/lab-env"
done
cp "$img/vmlinuz" "$stage/vmlinuz"
# The guests' initramfs: busybox, the stock netfront module, an init,
# iperf3 and ethtool with the libraries they load, all from the image.
kver=$(cat "$img/kver")
g=$stage/guest
mkdir -p "$g/bin" "$g/sbin" "$g/proc" "$g/sys" "$g/dev" "$g/tmp"
cp "$img/root/bin/busybox" "$g/bin/busybox"
for a in $(chroot "$img/root" /bin/busybox --list); do
	[ "$a" = busybox ] || ln -s busybox "$g/bin/$a"
done
cp "$img/root/lib/modules/$kver/kernel/drivers/net/xen-netfront.ko" "$g/"
# 802.1Q for trunk guests (lab_vlans), in load order.
mkdir -p "$g/vlan"
n=0
for m in llc/llc 802/stp 802/garp 802/mrp 8021q/8021q; do
	n=$((n + 1))
	cp "$img/root/lib/modules/$kver/kernel/net/$m.ko" "$g/vlan/$n-${m#*/}.ko"
done
# iproute2's ip (with libbpf, for XDP) beside busybox's, and an XDP
# program that passes everything (lab_xdp).
clang -O2 -target bpf -I"/usr/include/$(gcc -print-multiarch)" \
	-c "$here/xdp-pass.c" -o "$g/xdp-pass.o"
for b in /usr/bin/iperf3 /usr/sbin/ethtool /usr/bin/ip; do
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
# The network stub domain (build-stubdom.sh), for scenarios that run
# netbackd in a driver domain ("# lab-stubdom: yes").
if grep -q "^# lab-stubdom: *yes" "$sfile"; then
	"$here/build-stubdom.sh" "$img/root" "$build/backend/netbackd" \
		"$stage/stubdom.cpio.gz"
fi
mke2fs -q -t ext4 -d "$stage" -L lab "$work/lab.ext4" 128M >/dev/null
# The log disk: dom0 writes a tar archive onto it raw before powering off.
truncate -s 256M "$work/logs.tar"

# A scenario may ask for more dom0 vCPUs ("# lab-dom0-vcpus: N") and a
# longer time limit ("# lab-timeout: SECONDS", default 300; dom0 stops
# the scenario then, collects the logs and powers off).
vcpus=$(sed -n 's/^# lab-dom0-vcpus: *\([0-9]*\).*/\1/p' "$sfile")
vcpus=${vcpus:-1}
limit=$(sed -n 's/^# lab-timeout: *\([0-9]*\).*/\1/p' "$sfile")
limit=${limit:-300}
hard=${LAB_TIMEOUT:-$((limit + 240))}
console=$logdir/console.log
echo "lab: $scenario: booting Xen under QEMU (TCG), at most $hard s;" \
	"logs in $logdir"
start=$(date +%s)
set +e
timeout -k 10 "$hard" qemu-system-x86_64 -machine pc \
	-cpu qemu64,+svm,+ssse3,+sse4.1,+sse4.2,+popcnt \
	-accel tcg,thread=multi -smp 2 -m 2048 \
	-display none -monitor none -no-reboot -nic none \
	-serial "file:$console" \
	-kernel "$img/xen" \
	-append "console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M dom0_max_vcpus=$vcpus" \
	-initrd "$img/vmlinuz console=hvc0 earlyprintk=xen root=/dev/vda rw init=/lab-init,$img/initrd.img" \
	-drive "file=$img/dom0.ext4,if=virtio,format=raw,snapshot=on" \
	-drive "file=$work/lab.ext4,if=virtio,format=raw,readonly=on" \
	-drive "file=$work/logs.tar,if=virtio,format=raw" \
	</dev/null >"$logdir/qemu.out" 2>&1
qrc=$?
set -e
secs=$(( $(date +%s) - start ))
if tar -tf "$work/logs.tar" 2>/dev/null | sed -n 's|^\./\(..*\)|\1|p' \
	>>"$logdir/.lab-files"; then
	tar -C "$logdir" -xf "$work/logs.tar"
fi
[ "$(wc -l <"$logdir/.lab-files")" -gt 2 ] ||
	echo "lab: dom0 left no logs on its log disk" >&2
line=$(grep -a "^LAB-RESULT $scenario " "$console" | tail -1 || true)
[ $qrc -eq 124 ] && line="${line:-LAB-RESULT $scenario FAIL QEMU killed after $hard s}"
# Captures the scenario left (netbackctl capture): Wireshark's reader
# must take them.
for f in "$logdir"/*.pcapng; do
	[ -e "$f" ] || continue
	if ! command -v tshark >/dev/null; then
		line="LAB-RESULT $scenario FAIL no tshark here to read $(basename "$f")"
	elif n=$(tshark -r "$f" -T fields -e frame.number 2>/dev/null) &&
		[ -n "$n" ]; then
		echo "lab: $(basename "$f"): $(echo "$n" | wc -l) packets, read by tshark"
	else
		line="LAB-RESULT $scenario FAIL tshark cannot read $(basename "$f")"
	fi
done
echo "lab: $scenario: qemu exit $qrc after $secs s: ${line:-no result line}"
echo "lab: logs: $(tr '\n' ' ' <"$logdir/.lab-files")"
echo "lab: in $logdir"
if [[ "$line" == "LAB-RESULT $scenario PASS"* ]]; then
	exit 0
fi
echo "lab: $scenario FAILED" >&2
while read -r f; do
	f=$logdir/$f
	[ -s "$f" ] && [ "$f" != "$console" ] || continue
	echo "===== tail of $f" >&2
	tail -n 40 "$f" >&2
done <"$logdir/.lab-files"
echo "===== tail of $console" >&2
tail -n 80 "$console" >&2
exit 1
