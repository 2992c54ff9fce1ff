#!/bin/bash
# Run one lab scenario: Xen 4.17 + Debian dom0 under QEMU (TCG), the
# netbackd from BUILD_DIR, guests with the stock Linux netfront.
#   usage: run.sh SCENARIO [BUILD_DIR]        (BUILD_DIR: default ./build)
#   env:   LAB_LOGDIR   where the logs go (BUILD_DIR/meson-logs/lab/SCENARIO)
#          LAB_TIMEOUT  hard limit of the QEMU process in seconds (default:
#                       the scenario's limit plus 240 s for boot and logs)
#          LAB_CACHE, LAB_MIRROR   see build-images.sh
#          LAB_ENV      "NAME=VALUE ..." set in dom0 for the scenario (e.g.
#                       COST_ROUNDS=1, or NB_PROFILE=1 for a CPU profile
#                       of netbackd in dom0: netbackd.prof among the
#                       logs); names in capitals, values of letters,
#                       digits and . , : _ - only
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
# The lab's measuring tools, when built (bench/).
[ -x "$build/bench/gntcopy-cost" ] && cp "$build/bench/gntcopy-cost" "$stage/"
cp "$top/backend/scripts/vif-netbackd" "$top/backend/scripts/netbackd-host-vif" "$stage/"
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
# "# lab-outside: yes": dom0 gets a real NIC (virtio-net, its eth0) on a
# tap whose other end is the "outside": a network namespace of its own
# (created here, removed at exit; QEMU runs in it so that the tap is
# there too, and nothing reaches any other interface or address) with
# 192.0.2.100/24 untagged and 198.51.100.100/24 on VLAN 10 of the tap
# (through an Open vSwitch of its own), an iperf3 server, and a loop that pings the addresses the scenario lists
# in "# lab-outside-reaches: IP..." (the outside reaching the guests);
# the addresses it reached are in outside.log, and the run fails if one
# was never reached.
netns=() reach=""
if grep -q "^# lab-outside: *yes" "$sfile"; then
	ns=labout$$
	reach=$(sed -n 's/^# lab-outside-reaches: *//p' "$sfile")
	ip netns add "$ns"
	# (Runs on exit under set -e: nothing in it may fail the run, and
	# the run's own status is kept. A pinger that reached every
	# address has already gone.)
	outside_down() {
		local rc=$?
		set +e
		[ -n "${pinger:-}" ] && kill "$pinger" 2>/dev/null
		[ -f "$work/ovs/ovs-vswitchd.log" ] &&
			cp "$work/ovs/ovs-vswitchd.log" "$logdir/outside-ovs.log"
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		sleep 0.2
		ip netns del "$ns" 2>/dev/null
		rm -rf "$work"
		exit $rc
	}
	trap outside_down EXIT
	ip -n "$ns" link set lo up
	ip -n "$ns" tuntap add dev labout0 mode tap
	ip -n "$ns" link set labout0 up
	# The outside's own switch: 802.1Q in the kernel (or bridge VLAN
	# filtering) is not on every machine that runs the lab (not on
	# these), so an Open vSwitch of the namespace's own (userspace
	# datapath, its database and sockets under $work) takes the tap as
	# a trunk; out0 (no tag: untagged frames) holds 192.0.2.100 and
	# out10 (VLAN 10) 198.51.100.100.
	o=$work/ovs
	mkdir -p "$o"
	export OVS_RUNDIR=$o OVS_LOGDIR=$o OVS_DBDIR=$o
	ovsdb-tool create "$o/conf.db" /usr/share/openvswitch/vswitch.ovsschema
	ip netns exec "$ns" ovsdb-server "$o/conf.db" \
		--remote="punix:$o/db.sock" --unixctl="$o/ovsdb-server.ctl" \
		--pidfile="$o/ovsdb-server.pid" --log-file="$o/ovsdb-server.log" \
		--detach --no-chdir 2>>"$o/start.log"
	vsctl() { ovs-vsctl --db="unix:$o/db.sock" --timeout=20 "$@"; }
	vsctl --no-wait init
	ip netns exec "$ns" ovs-vswitchd "unix:$o/db.sock" \
		--unixctl="$o/ovs-vswitchd.ctl" --pidfile="$o/ovs-vswitchd.pid" \
		--log-file="$o/ovs-vswitchd.log" --detach --no-chdir 2>>"$o/start.log"
	# TSO frames from the tap (dom0's virtio-net sends them) are
	# taken whole, as OVS's userspace TSO does, not dropped as too big.
	vsctl set open_vswitch . other_config:userspace-tso-enable=true
	vsctl add-br brout -- set bridge brout datapath_type=netdev \
		-- add-port brout labout0 \
		-- add-port brout out0 -- set interface out0 type=internal \
		-- add-port brout out10 tag=10 -- set interface out10 type=internal
	ip -n "$ns" addr add 192.0.2.100/24 dev out0
	ip -n "$ns" link set out0 up
	ip -n "$ns" addr add 198.51.100.100/24 dev out10
	ip -n "$ns" link set out10 up
	ip netns exec "$ns" iperf3 -s -D --logfile "$logdir/outside-iperf3.log"
	: >"$logdir/outside.log"
	echo outside.log >>"$logdir/.lab-files"
	echo outside-iperf3.log >>"$logdir/.lab-files"
	echo outside-ovs.log >>"$logdir/.lab-files"
	(
		left=" $reach "
		while [ -n "${left// /}" ]; do
			for a in $left; do
				if ip netns exec "$ns" ping -c 1 -W 1 "$a" \
					>/dev/null 2>&1; then
					echo "outside reached $a at $(date +%s)" \
						>>"$logdir/outside.log"
					left=${left/ $a / }
				fi
			done
			sleep 1
		done
	) &
	pinger=$!
	netns=(ip netns exec "$ns")
	nic=(-nic "tap,ifname=labout0,script=no,downscript=no,model=virtio-net-pci,mac=52:54:00:12:34:56")
else
	nic=(-nic none)
fi
echo "lab: $scenario: booting Xen under QEMU (TCG), at most $hard s;" \
	"logs in $logdir"
start=$(date +%s)
set +e
"${netns[@]}" timeout -k 10 "$hard" qemu-system-x86_64 -machine pc \
	-cpu qemu64,+svm,+ssse3,+sse4.1,+sse4.2,+popcnt \
	-accel tcg,thread=multi -smp 2 -m 2048 \
	-display none -monitor none -no-reboot "${nic[@]}" \
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
# The outside must have reached every address the scenario listed.
for a in $reach; do
	grep -q "outside reached $a " "$logdir/outside.log" ||
		line="LAB-RESULT $scenario FAIL the outside never reached $a"
done
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
