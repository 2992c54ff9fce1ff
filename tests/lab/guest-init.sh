#!/bin/sh
# /init of the lab's guests: a busybox initramfs with the stock Debian
# xen-netfront module. Parameters come from the kernel command line:
#   lab_ip=10.0.0.2/24  lab_ping=10.0.0.1  lab_name=guest1
#   lab_noping=10.0.0.9 (an address that must NOT answer)
#   lab_iperf=10.0.0.1 (iperf3 TCP both ways with offloads on, a 64-byte
#              UDP packet rate, then TCP with offloads off)
#   lab_flows=4 (parallel iperf3 flows, offloads on only)
#   lab_mtu=9000 lab_psize=8000 (interface MTU, ping payload size)
#   lab_vlans=10:10.2.0.9/24,20:10.2.0.19/24 (802.1Q interfaces eth0.VID)
#   lab_vping=eth0.10:10.2.0.1,eth0.20:10.2.0.3 (ping through each)
#   lab_xdp=1 (attach an XDP_PASS program to eth0 before pinging: netfront
#              then asks the backend for XDP headroom)
#   lab_iperfd=1 (run an iperf3 server, for a peer guest's traffic)
#   lab_cmds=1 (at the end, run commands written on the console, one a
#              line; see lab_command below)
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1
for w in $(cat /proc/cmdline); do
	case "$w" in
	lab_*=*) eval "$w" ;;
	esac
done
say() { echo "GUEST ${lab_name:-guest}: $*"; }
insmod /xen-netfront.ko || say "insmod failed"
for i in $(seq 50); do [ -e /sys/class/net/eth0 ] && break; sleep 0.2; done
ip link set lo up
[ -n "${lab_mtu:-}" ] && ip link set eth0 mtu "$lab_mtu"
ip link set eth0 up
ip addr add "${lab_ip:-10.0.0.2/24}" dev eth0
if [ -n "${lab_vlans:-}" ]; then
	for m in /vlan/*.ko; do insmod "$m" || say "insmod $m failed"; done
	for v in $(echo "$lab_vlans" | tr , ' '); do
		ip link add link eth0 name "eth0.${v%%:*}" type vlan id "${v%%:*}"
		ip link set "eth0.${v%%:*}" up
		ip addr add "${v#*:}" dev "eth0.${v%%:*}"
	done
	# Two interfaces in one subnet: each answers ARP for its own only.
	sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_filter=1
fi
if [ -n "${lab_xdp:-}" ]; then
	if /usr/bin/ip link set dev eth0 xdp obj /xdp-pass.o sec xdp; then
		say "xdp attached"
		/usr/bin/ip link show eth0 | grep -o "xdp.*"
	else
		say "xdp attach FAILED"
	fi
fi
say "ready $(ip -o addr show eth0 | awk '{print $4}')"
if [ -n "${lab_ping:-}" ]; then
	sleep 1
	if ping -c 3 -W 5 -s "${lab_psize:-56}" "$lab_ping" >/tmp/ping 2>&1; then
		say "ping $lab_ping ok"
	else
		say "ping $lab_ping FAILED"
	fi
	cat /tmp/ping
fi
for v in $(echo "${lab_vping:-}" | tr , ' '); do
	if ping -c 3 -W 5 -I "${v%%:*}" "${v#*:}" >/tmp/ping 2>&1; then
		say "vping ${v%%:*} ${v#*:} ok"
	else
		say "vping ${v%%:*} ${v#*:} FAILED"
		cat /tmp/ping
	fi
done
if [ -n "${lab_noping:-}" ]; then
	if ping -c 2 -W 2 "$lab_noping" >/dev/null 2>&1; then
		say "noping $lab_noping FAILED: it answered"
	else
		say "noping $lab_noping ok"
	fi
fi
iperf_both() {
	# $1: label. Each direction must move data and exit cleanly.
	if iperf3 -c "$lab_iperf" -t 4 -f m -P "${lab_flows:-1}" >/tmp/up 2>&1 &&
	    iperf3 -c "$lab_iperf" -t 4 -f m -P "${lab_flows:-1}" -R >/tmp/down 2>&1; then
		say "iperf $1 ok up $(grep receiver /tmp/up | tail -1 | awk '{print $(NF-2), $(NF-1)}')" \
			"down $(grep receiver /tmp/down | tail -1 | awk '{print $(NF-2), $(NF-1)}')"
		# The summaries (retransmissions in the sender line).
		grep -E "sender|receiver" /tmp/up /tmp/down
	else
		say "iperf $1 FAILED"
		cat /tmp/up /tmp/down
	fi
}
udp64() {
	# 64-byte UDP payloads as fast as iperf3 sends them for 4 s: the
	# packets that arrived per second at the receiver.
	if iperf3 -c "$lab_iperf" -u -l 64 -b 1G -t 4 -f m >/tmp/udp 2>&1; then
		say "udp64 ok pps $(awk '/receiver/ {
			split($3, t, "-"); for (i = 1; i <= NF; i++)
				if ($i ~ /^[0-9]+\/[0-9]+$/) { split($i, l, "/"); n = l[2] - l[1] }
			printf "%d", n / (t[2] - t[1]) }' /tmp/udp)"
	else
		say "udp64 FAILED"
		cat /tmp/udp
	fi
}
if [ -n "${lab_iperf:-}" ]; then
	ethtool -k eth0 | grep -E "scatter-gather:|tcp-segmentation-offload:|tx-checksumming:"
	ls /sys/class/net/eth0/queues
	iperf_both offloads-on
	[ -z "${lab_flows:-}" ] && udp64
	if [ -z "${lab_flows:-}" ]; then
		ethtool -K eth0 sg off tso off tx off
		iperf_both offloads-off
	fi
fi
[ -n "${lab_iperfd:-}" ] && iperf3 -s -D >/dev/null 2>&1
# lab_command LINE: what dom0 asks on the console (dom0-init.sh's
# guest_say) when lab_cmds is set; the guest answers "GUEST <name>: ...".
#   stats TAG                  eth0's counters: "stats TAG rx_bytes N
#                              rx_packets N tx_bytes N tx_packets N"
#   idle TAG SECS              sleep SECS, then "cost TAG done"
#   tcp TAG PEER SECS [-R]     iperf3 TCP to PEER for SECS (with -R from
#                              PEER): "cost TAG done mbit N" (the
#                              receiver's figure)
#   udp TAG PEER SECS LEN      iperf3 UDP, LEN-byte payloads, as fast as it
#                              sends: "cost TAG done pps N received N"
#   flood TAG PEER SECS FLOWS  iperf3 TCP with FLOWS parallel flows, the
#                              result ignored: "cost TAG done|FAILED"
#   ping TAG PEER COUNT [SECS] COUNT pings SECS apart (default 1): "cost
#                              TAG done sent N received N avg_ms A
#                              median_ms M" (FAILED when none came back)
#   mac TAG ADDR               eth0 takes the MAC address ADDR (down, set,
#                              up): "cost TAG done"
# A command that fails says "cost TAG FAILED".
lab_command() {
	case "$1" in
	stats)
		s=/sys/class/net/eth0/statistics
		say "stats $2 rx_bytes $(cat $s/rx_bytes) rx_packets" \
			"$(cat $s/rx_packets) tx_bytes $(cat $s/tx_bytes)" \
			"tx_packets $(cat $s/tx_packets)" ;;
	idle)
		sleep "$3"
		say "cost $2 done" ;;
	tcp)
		if iperf3 -c "$3" -t "$4" -f m ${5:+"$5"} >/tmp/cost 2>&1; then
			say "cost $2 done mbit $(grep receiver /tmp/cost |
				tail -1 | awk '{print $(NF-2)}')"
			grep -E "sender|receiver" /tmp/cost
		else
			say "cost $2 FAILED"
			cat /tmp/cost
		fi ;;
	udp)
		if iperf3 -c "$3" -u -l "$5" -b 1G -t "$4" >/tmp/cost 2>&1; then
			say "cost $2 done $(awk '/receiver/ {
				split($3, t, "-"); for (i = 1; i <= NF; i++)
					if ($i ~ /^[0-9]+\/[0-9]+$/) { split($i, l, "/"); n = l[2] - l[1] }
				printf "pps %d received %d", n / (t[2] - t[1]), n }' /tmp/cost)"
		else
			say "cost $2 FAILED"
			cat /tmp/cost
		fi ;;
	flood)
		if iperf3 -c "$3" -t "$4" -P "$5" -f m >/tmp/flood 2>&1; then
			say "cost $2 done"
		else
			say "cost $2 FAILED"
		fi ;;
	ping)
		ping -c "$4" -i "${5:-1}" -W 5 "$3" >/tmp/cping 2>&1
		sent=$(awk '/transmitted/ {print $1}' /tmp/cping)
		got=$(awk '/transmitted/ {print $4}' /tmp/cping)
		avg=$(awk -F/ '/round-trip/ {print $4}' /tmp/cping)
		med=$(sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' /tmp/cping |
			sort -n | awk '{ t[NR] = $1 } END { if (NR)
				print NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2 }')
		if [ "${got:-0}" -gt 0 ]; then
			say "cost $2 done sent $sent received $got avg_ms $avg median_ms $med"
		else
			say "cost $2 FAILED"
			cat /tmp/cping
		fi ;;
	mac)
		if ip link set eth0 down && ip link set eth0 address "$3" &&
			ip link set eth0 up; then
			say "cost $2 done"
		else
			say "cost $2 FAILED"
		fi ;;
	"") ;;
	*) say "unknown command $1" ;;
	esac
}
if [ -n "${lab_cmds:-}" ]; then
	say "commands"
	while read -r line; do
		lab_command $(echo "$line" | tr -d '\r')
	done
fi
# Stay up; answer pings; the console stays open for later commands.
while true; do sleep 3600; done
