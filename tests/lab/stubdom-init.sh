#!/bin/sh
# /init of the network stub domain (build-stubdom.sh): bring the uplink
# up, run netbackd as the backend of this domain's vifs, report on the
# console. Kernel command line:
#   nb_name=dd           the name its console lines carry ("GUEST dd: ...")
#   nb_uplink=eth0       the kernel netdev the uplink PIF sits on (up,
#                        promiscuous); "" for none
#   nb_conf=BASE64       netbackd.conf lines (the [network ...] sections),
#                        base64 without newlines, after this [netbackd]:
#                            eal = --no-huge -m $nb_mem --no-pci
#                                  --lcores 0@0,1@0 -d <each uplink PMD>
#                            mbufs = 4096, hotplug = netbackd, user = nobody
#   nb_mem=64            DPDK memory, MiB (no hugepages in a PV domain)
#   nb_log=info          netbackd's log level
# hotplug = netbackd: no xl devd runs here, so netbackd writes the vifs'
# hotplug-status and removes their backend directories itself.
# The console takes commands: "hup" (netbackd logs its counters and
# tables), "stop" (SIGTERM; it reports "netbackd exit N"), "top" (the
# busiest processes).
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1
nb_name=dd
nb_uplink=eth0
nb_conf=
nb_mem=64
nb_log=info
for w in $(cat /proc/cmdline); do
	case "$w" in
	nb_*=*) eval "$w" ;;
	esac
done
say() { echo "GUEST $nb_name: $*"; }
for m in /modules/*.ko; do insmod "$m" || say "insmod $m FAILED"; done
ip link set lo up
if [ -n "$nb_uplink" ]; then
	for i in $(seq 50); do
		[ -e /sys/class/net/$nb_uplink ] && break
		sleep 0.2
	done
	ip link set "$nb_uplink" promisc on
	ip link set "$nb_uplink" up || say "uplink $nb_uplink FAILED"
fi
ls /dev/xen
pmds=
for p in /usr/lib/dpdk-pmds/*.so*; do pmds="$pmds -d $p"; done
cat >/etc/netbackd/netbackd.conf <<EOF
[netbackd]
eal = --no-huge -m $nb_mem --no-pci --lcores 0@0,1@0$pmds
mbufs = 4096
hotplug = netbackd
user = nobody
EOF
echo "$nb_conf" | base64 -d >>/etc/netbackd/netbackd.conf ||
	say "nb_conf is not base64: FAILED"
cat /etc/netbackd/netbackd.conf
: >/tmp/netbackd.log
(
	netbackd --config /etc/netbackd/netbackd.conf --log-level "$nb_log" \
		--log-file /tmp/netbackd.log >/tmp/netbackd.out 2>&1
	rc=$?
	cat /tmp/netbackd.out
	say "netbackd exit $rc"
) &
tail -f /tmp/netbackd.log &
for i in $(seq 300); do
	if grep -q "serving" /tmp/netbackd.log; then
		say "netbackd $(grep -o 'serving .*' /tmp/netbackd.log | head -1)"
		break
	fi
	sleep 0.2
done
grep -q "serving" /tmp/netbackd.log || say "netbackd not serving: FAILED"
while read -r cmd; do
	case "$cmd" in
	hup) kill -HUP $(pidof netbackd) ;;
	stop) kill -TERM $(pidof netbackd) ;;
	top) top -b -n 1 | head -n 15 ;;
	esac
done
while true; do sleep 3600; done
