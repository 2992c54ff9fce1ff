#!/bin/sh
# Dom0's init in the lab (run from /lab-init with the per-run disk on
# /lab): start Xen's daemons, run one scenario under a time limit, stop
# netbackd, write the logs onto the log disk, print the result line on
# the serial console, power off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
name=$(cat /lab/scenario-name)
# What the run asked for (run.sh's LAB_ENV).
[ -f /lab/lab-env ] && . /lab/lab-env
mount -o remount,rw /
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mkdir -p /run/xen /var/log/xen/console /run/lock
ip link set lo up
modprobe xenfs && mount -t xenfs xenfs /proc/xen
for m in xen-evtchn xen-gntdev xen-gntalloc xen-privcmd tun; do modprobe $m; done
# Guest consoles into files (/var/log/xen/console), read by guest_wait.
export XENCONSOLED_ARGS="--log=guest --log-dir=/var/log/xen/console"
/etc/init.d/xen start >/dev/null 2>&1 || echo "lab: xen init script failed"
cp /lab/vif-netbackd /etc/xen/scripts/vif-netbackd
chmod +x /etc/xen/scripts/vif-netbackd
echo "lab: dom0 up at $(cut -d' ' -f1 /proc/uptime) s"

# why TEXT: say why the scenario fails; the last reason given goes on the
# result line.
why() {
	echo "lab: $*"
	echo "$*" >/tmp/lab-why
}

# netbackd_start CONFIG: netbackd in dom0 with CONFIG after its
# [netbackd] section. With NB_PROFILE set (LAB_ENV), it samples its CPU
# time into /var/log/netbackd.prof, collected with the logs
# (bench/prof-report.py reads it).
netbackd_start() {
	mkdir -p /etc/netbackd
	cat >/etc/netbackd/netbackd.conf <<CONF
[netbackd]
eal = --no-huge -m 256 --no-pci --lcores ${NB_LCORES:-0@0,1@0}
workers = ${NB_WORKERS:-1}
# Least privilege once the devices, xenstore and the ports are open.
user = nobody
$1
CONF
	# The subshell keeps netbackd's exit status for the end of the run,
	# where SIGTERM must stop it cleanly.
	rm -f /tmp/netbackd.rc
	touch /tmp/netbackd.started
	# A second start (a restart) appends to the same log: wait for a
	# "serving" line of its own.
	local n0 n
	n0=$(grep -c "serving" /var/log/netbackd.log 2>/dev/null)
	(
		NETBACKD_PROFILE=${NB_PROFILE:+/var/log/netbackd.prof} \
		/lab/netbackd --config /etc/netbackd/netbackd.conf \
			--log-level debug --log-file /var/log/netbackd.log \
			>/var/log/netbackd.out 2>&1
		echo $? >/tmp/netbackd.rc
	) &
	for i in $(seq 100); do
		n=$(grep -c "serving" /var/log/netbackd.log 2>/dev/null)
		[ "${n:-0}" -gt "${n0:-0}" ] && return 0
		[ -f /tmp/netbackd.rc ] && break
		sleep 0.2
	done
	why "netbackd did not start$([ -f /tmp/netbackd.rc ] &&
		echo ": exit status $(cat /tmp/netbackd.rc)")"
	return 1
}

# iperf_wait NAME: the guest's own iperf runs (lab_iperf, guest-init.sh):
# TCP with offloads on, the 64-byte UDP rate, TCP with offloads off;
# their result lines printed.
iperf_wait() {
	guest_wait $1 "iperf offloads-on ok" 240 || return 1
	guest_wait $1 "udp64 ok" 120 || return 1
	guest_wait $1 "iperf offloads-off ok" 240 || return 1
	grep -a "GUEST $1: \(ping\|iperf\|udp64\)" /var/log/xen/console/guest-$1.log
}

# iperf_guest IFACE: dom0 10.0.0.1 on IFACE (an iperf3 server), guest1
# 10.0.0.2 on netbackd's network xenbr0, and the guest's own iperf runs
# to dom0 (iperf_wait).
iperf_guest() {
	ip addr add 10.0.0.1/24 dev "$1"
	ip link set "$1" up
	iperf3 -s -D >/dev/null 2>&1
	guest_create guest1 00:16:3e:00:00:01 10.0.0.2/24 10.0.0.1 \
		",bridge=xenbr0,script=vif-netbackd" "" 10.0.0.1 || return 1
	iperf_wait guest1
}

# iperf_through PIF: issue scenario 4 with netbackd's uplink to dom0 given
# by its DPDK devargs (named dtap0 in dom0): iperf3 TCP both ways with the
# guest's offloads on, a 64-byte UDP rate, TCP with offloads off; TCP's
# own checksums on both ends tell whether the data arrived intact.
iperf_through() {
	netbackd_start "[network xenbr0]
pif = $1" || return 1
	iperf_guest dtap0 || return 1
	pkill -HUP netbackd
	sleep 1
	grep -E "vif[0-9]+\.0( queue|:)|totals|pif" /var/log/netbackd.log | tail -4
	return 0
}

# netdev_by_mac MAC SECONDS: the name of dom0's interface with that
# address, waiting up to SECONDS for it to appear; nothing if none did.
netdev_by_mac() {
	local n i
	for i in $(seq $(($2 * 5))); do
		n=$(ip -o link | awk -F': ' -v m="$1" '$0 ~ m { print $2; exit }')
		[ -n "$n" ] && break
		sleep 0.2
	done
	echo "$n"
}

# outside_nic: the name of dom0's NIC towards the outside (run.sh's
# "# lab-outside: yes", MAC 52:54:00:12:34:56), loaded and up; dom0
# keeps 192.0.2.10/24 on it. Prints the name.
outside_nic() {
	local n
	modprobe virtio_net 2>/dev/null
	n=$(netdev_by_mac 52:54:00:12:34:56 10)
	[ -n "$n" ] || { why "no NIC towards the outside"; return 1; }
	ip link set "$n" up
	ip addr add 192.0.2.10/24 dev "$n"
	echo "$n"
}

# host_iperf TAG: dom0's own TCP to the outside's iperf3 server, 4 s
# each way: "LAB-HOST TAG up N down N" (Mbit/s, the receiver's).
host_iperf() {
	local up down
	for i in $(seq 20); do
		ping -c 1 -W 1 192.0.2.100 >/dev/null 2>&1 && break
	done
	up=$(iperf3 -c 192.0.2.100 -t 4 -f m 2>&1 | awk '/receiver/ { print $(NF-2) }')
	down=$(iperf3 -c 192.0.2.100 -t 4 -f m -R 2>&1 | awk '/receiver/ { print $(NF-2) }')
	echo "LAB-HOST $1 up ${up:-0} down ${down:-0}"
	[ -n "$up" ] && [ -n "$down" ] || { why "dom0's iperf3 to the outside failed ($1)"; return 1; }
}

# guest_create NAME MAC IP PING_TARGET VIF_EXTRA [NOPING_TARGET] [IPERF_SERVER]
guest_create() {
	cat >/tmp/$1.cfg <<CFG
name = "$1"
kernel = "/lab/vmlinuz"
ramdisk = "/lab/guest.cpio.gz"
memory = 192
vcpus = ${GUEST_VCPUS:-1}
extra = "console=hvc0 quiet lab_name=$1 lab_ip=$3 lab_ping=$4 lab_noping=$6 lab_iperf=$7 $LAB_GUEST_EXTRA"
vif = [ 'mac=$2${5:-,bridge=xenbr0}' ]
CFG
	t0=$(cut -d' ' -f1 /proc/uptime)
	xl create /tmp/$1.cfg || { why "xl create $1 failed"; return 1; }
	echo "lab: xl create $1 took $(awk -v t=$t0 '{print $1 - t}' /proc/uptime) s"
}

# guest_wait NAME TEXT TIMEOUT: wait for TEXT on the guest's console
guest_wait() {
	log=/var/log/xen/console/guest-$1.log
	for i in $(seq $(($3 * 5))); do
		grep -q "GUEST $1: $2" "$log" 2>/dev/null && return 0
		grep -q "GUEST $1: .*FAILED" "$log" 2>/dev/null && break
		sleep 0.2
	done
	why "guest $1 did not say '$2' within $3 s"
	return 1
}

# guest_count NAME TEXT: how many times the guest said TEXT
guest_count() {
	grep -c "GUEST $1: $2" /var/log/xen/console/guest-$1.log 2>/dev/null
}

# nb_held: "<pages mapped> <ports bound>" from netbackd's counters now
nb_held() {
	pkill -HUP netbackd
	sleep 1
	grep "totals:" /var/log/netbackd.log | tail -1 |
		sed 's/.* \([0-9]*\) pages mapped, \([0-9]*\) ports bound.*/\1 \2/'
}

# guest_say NAME LINE: a line on a guest's console; a guest started with
# lab_cmds=1 runs it as a command (guest-init.sh, lab_command).
guest_say() {
	echo "$2" >"$(xenstore-read /local/domain/$(xl domid $1)/console/tty)"
}

# dom_cpu [NAME...]: the CPU seconds Xen accounted to these domains
# (default Domain-0), from one `xl list` (its Time(s) column, 0.1 s
# steps): their sum, then each domain's in the order given.
# Not /proc/stat: inside a PV dom0 under emulation it undercounts.
dom_cpu() {
	xl list | awk -v names="${*:-Domain-0}" '
	{ t[$1] = $NF }
	END {
		n = split(names, a, " ")
		for (i = 1; i <= n; i++) { s += t[a[i]]; l = l sprintf(" %.1f", t[a[i]]) }
		printf "%.1f%s\n", s, l
	}'
}

# cost_wait NAME TEXT SECONDS: like guest_wait, but polling twice a
# second with one grep, so that dom0 stays quiet while it is measured.
cost_wait() {
	for i in $(seq $(($3 * 2))); do
		grep -aq "GUEST $1: $2" /var/log/xen/console/guest-$1.log &&
			return 0
		sleep 0.5
	done
	why "guest $1 did not say '$2' within $3 s"
	return 1
}

# cost_stats TAG GUEST...: each guest's eth0 counters (lab_command
# stats), summed: "rx_bytes rx_packets tx_bytes tx_packets".
cost_stats() {
	local t=$1 n
	shift
	for n; do
		guest_say $n "stats $t"
		cost_wait $n "stats $t " 60 || return 1
		grep -a "GUEST $n: stats $t " /var/log/xen/console/guest-$n.log |
			tail -1 | tr -d '\r'
	done | awk '{ rb += $6; rp += $8; tb += $10; tp += $12; n++ }
		END { if (n) print rb, rp, tb, tp }'
}

# nb_counts: netbackd's worker counters now, summed over the workers
# (netbackctl status): "system_calls wakeups grant_copy_hypercalls
# notifications port_polls guest_to_guest_copies grant_copy_calls
# user_ticks system_ticks grant_copy_segments", user_ticks and
# system_ticks the process's CPU time in user space and in the kernel
# (/proc/PID/stat). With netbackd in the driver domain dd (in
# COST_DOMS), from the "totals:" line it logs on SIGHUP (the console's
# "hup"; its log goes to dd's console), port polls, copy calls, CPU
# times and copy segments not among them (0). Nothing when netbackd
# runs in neither.
nb_counts() {
	local log=/var/log/xen/console/guest-dd.log n0 n i pid
	if pid=$(pgrep -o -x netbackd); then
		{
			/lab/netbackctl status 2>/dev/null
			cut -d' ' -f14,15 /proc/$pid/stat | sed 's/^/ticks: /'
		} | awk '
		$1 == "system_calls:" { s += $2 }
		$1 == "wakeups:" { w += $2 }
		$1 == "grant_copy_hypercalls:" { h += $2 }
		$1 == "notifications:" { n += $2 }
		$1 == "port_polls:" { p += $2 }
		$1 == "guest_to_guest_copies:" { g += $2 }
		$1 == "grant_copy_calls:" { c += $2 }
		$1 == "grant_copy_segments:" { sg += $2 }
		$1 == "ticks:" { u = $2; k = $3 }
		END { print s + 0, w + 0, h + 0, n + 0, p + 0, g + 0, c + 0,
			u + 0, k + 0, sg + 0 }'
		return 0
	fi
	case " ${COST_DOMS:-} " in *" dd "*) ;; *) return 0 ;; esac
	n0=$(grep -a -c "totals:" $log)
	guest_say dd hup
	for i in $(seq 100); do
		n=$(grep -a -c "totals:" $log)
		[ "$n" -gt "$n0" ] && break
		sleep 0.1
	done
	[ "$n" -gt "$n0" ] || return 0
	grep -a "totals:" $log | tail -1 | tr -d '\r' | awk '{
		for (i = 2; i < NF; i++) {
			if ($i == "worker" && $(i + 1) == "system") s = $(i - 1)
			if ($i == "worker" && $(i + 1) == "wake-ups,") w = $(i - 1)
			if ($i == "grant-copy" && $(i + 1) ~ /^hypercalls,?$/) h = $(i - 1)
			if ($i == "notifications,") n = $(i - 1)
			if ($i == "guest-to-guest" && $(i + 1) == "copies,") g = $(i - 1)
		}
		print s + 0, w + 0, h + 0, n + 0, 0, g + 0, 0, 0, 0, 0 }'
}

# d0_ticks: dom0's CPU time as its own kernel counts it (/proc/stat),
# in ticks: "user system irq" (user and nice; system; irq and softirq,
# where kernel netback runs), sampled by the tick, which misses some
# in a PV dom0 under emulation. Xen's figure (dom_cpu) also holds the
# time Xen spends on dom0's behalf: its system calls' traps, its
# hypercalls.
d0_ticks() {
	awk '$1 == "cpu" { print $2 + $3, $4, $7 + $8; exit }' /proc/stat
}

# cost_phase TAG SECS GUEST COMMAND GUEST...: dom0's CPU cost of one
# phase. COMMAND (a lab_command of SECS seconds that ends by saying "cost
# TAG done ...") runs on the first GUEST's console while dom0 sleeps
# SECS and then waits for that line; before and after,
# Xen's CPU seconds of the domains in COST_DOMS (default Domain-0; add a
# driver domain's name when netbackd runs there) and dom0's uptime are
# read, and the other GUESTs' eth0 counters. Prints
#   LAB-COST TAG cpu_s C wall_s W rx_bytes N rx_packets N tx_bytes N
#     tx_packets N [cpu_<domain> C ...] d0_user_s U d0_sys_s S
#     d0_irq_s I [nb_syscalls N nb_wakeups N nb_hypercalls N
#     nb_notifies N nb_port_polls N nb_g2g N nb_copy_calls N
#     nb_user_s U nb_sys_s S nb_copy_segs N] result <the guest's
#     "done" line>
# (cpu_<domain>: each domain's share, when COST_DOMS names several;
# nb_*: netbackd's system calls, wake-ups, grant-copy hypercalls,
# notifications and uplink polls (net_tap: a read() each) in the phase,
# when it runs in this domain; nb_copy_calls, nb_user_s, nb_sys_s and
# nb_copy_segs only when in dom0: its grant-copy system calls, its CPU
# time in user space and in dom0's kernel, and the segments its copies
# carried; d0_*: dom0's own split of its CPU
# time, d0_ticks)
# rx: what the backend delivered to the guests during the phase (their
# counters' increase, summed); an idle phase gives the baseline.
cost_phase() {
	local tag=$1 secs=$2 g=$3 cmd=$4 a b tty c0 c1 t0 t1 res n0 n1 k0 k1
	shift 4
	a=$(cost_stats $tag-before "$@") && [ -n "$a" ] || return 1
	tty=$(xenstore-read /local/domain/$(xl domid $g)/console/tty)
	n0=$(nb_counts)
	k0=$(d0_ticks)
	c0=$(dom_cpu ${COST_DOMS:-Domain-0})
	t0=$(cut -d' ' -f1 /proc/uptime)
	echo "$cmd" >"$tty"
	sleep $secs
	cost_wait $g "cost $tag \(done\|FAILED\)" 300 || return 1
	c1=$(dom_cpu ${COST_DOMS:-Domain-0})
	k1=$(d0_ticks)
	t1=$(cut -d' ' -f1 /proc/uptime)
	n1=$(nb_counts)
	b=$(cost_stats $tag-after "$@") && [ -n "$b" ] || return 1
	res=$(grep -a "GUEST $g: cost $tag " /var/log/xen/console/guest-$g.log |
		tail -1 | tr -d '\r' | sed 's/.*: cost [^ ]* //')
	echo "$a $b" | awk -v tag=$tag -v c0="$c0" -v c1="$c1" -v t0=$t0 \
		-v t1=$t1 -v doms="${COST_DOMS:-Domain-0}" -v res="$res" \
		-v n0="$n0" -v n1="$n1" -v k0="$k0" -v k1="$k1" \
		-v hz=$(getconf CLK_TCK) '{
		split(c0, x, " "); split(c1, y, " ")
		printf "LAB-COST %s cpu_s %.1f wall_s %.2f rx_bytes %d rx_packets %d tx_bytes %d tx_packets %d",
			tag, y[1] - x[1], t1 - t0, $5 - $1, $6 - $2, $7 - $3, $8 - $4
		n = split(doms, d, " ")
		for (i = 1; n > 1 && i <= n; i++)
			printf " cpu_%s %.1f", d[i], y[i + 1] - x[i + 1]
		split(k0, ka, " "); split(k1, kb, " ")
		printf " d0_user_s %.2f d0_sys_s %.2f d0_irq_s %.2f",
			(kb[1] - ka[1]) / hz, (kb[2] - ka[2]) / hz,
			(kb[3] - ka[3]) / hz
		if (n0 != "" && n1 != "") {
			split(n0, p, " "); split(n1, q, " ")
			printf " nb_syscalls %d nb_wakeups %d nb_hypercalls %d nb_notifies %d nb_port_polls %d nb_g2g %d",
				q[1] - p[1], q[2] - p[2], q[3] - p[3], q[4] - p[4],
				q[5] - p[5], q[6] - p[6]
			printf " nb_copy_calls %d nb_user_s %.2f nb_sys_s %.2f nb_copy_segs %d",
				q[7] - p[7], (q[8] - p[8]) / hz,
				(q[9] - p[9]) / hz, q[10] - p[10]
		}
		printf " result %s\n", res }'
	case "$res" in done*) return 0 ;; esac
	why "guest $g: cost $tag: $res"
	return 1
}

# cpu_cost VIF_EXTRA: dom0's CPU cost of guest-to-guest traffic on one
# backend (issue #6), and the rates and latency beside it (issue #16):
# guest1 (10.0.0.2, iperf3 server) and guest2 (10.0.0.3) on the network
# VIF_EXTRA names (see guest_create; dom0 at 10.0.0.1 on it, an iperf3
# server too). Phases of COST_SECS seconds (default 10), one LAB-COST
# line each (cost_phase): idle1; then COST_ROUNDS times (default 3):
# TCP guest2 -> guest1 (tcpN), UDP of COST_UDP_LEN-byte payloads
# (default 18) guest2 -> guest1 as fast as guest2 sends (udpN), pings
# guest2 -> guest1, two a second (pingN), TCP guest2 -> dom0 (upN) and
# dom0 -> guest2 (downN); idle2 (COST_PHASES: which of tcp udp ping up
# down, separated by spaces or commas, default all). Nothing is asserted
# on the figures.
cpu_cost() {
	iperf3 -s -D >/dev/null 2>&1
	LAB_GUEST_EXTRA="lab_iperfd=1 lab_cmds=1" guest_create guest1 \
		00:16:3e:00:00:01 10.0.0.2/24 10.0.0.1 "$1" || return 1
	LAB_GUEST_EXTRA="lab_iperfd=1 lab_cmds=1" guest_create guest2 \
		00:16:3e:00:00:02 10.0.0.3/24 10.0.0.2 "$1" || return 1
	guest_wait guest1 "ping 10.0.0.1 ok" 120 || return 1
	guest_wait guest2 "ping 10.0.0.2 ok" 120 || return 1
	guest_wait guest1 "commands" 60 || return 1
	guest_wait guest2 "commands" 60 || return 1
	# The guests' boots and hotplug settle before the first window.
	sleep 5
	s=${COST_SECS:-10}
	cost_phase idle1 $s guest2 "idle idle1 $s" guest1 guest2 || return 1
	# (LAB_ENV values have no spaces: commas separate phases there.)
	ph=" $(echo "${COST_PHASES:-tcp udp ping up down}" | tr , ' ') "
	for r in $(seq ${COST_ROUNDS:-3}); do
		case $ph in *" tcp "*)
		cost_phase tcp$r $s guest2 "tcp tcp$r 10.0.0.2 $s" \
			guest1 guest2 || return 1 ;; esac
		case $ph in *" udp "*)
		cost_phase udp$r $s guest2 \
			"udp udp$r 10.0.0.2 $s ${COST_UDP_LEN:-18}" \
			guest1 guest2 || return 1 ;; esac
		case $ph in *" ping "*)
		cost_phase ping$r $s guest2 \
			"ping ping$r 10.0.0.2 $((2 * s)) 0.5" guest1 guest2 ||
			return 1 ;; esac
		case $ph in *" up "*)
		cost_phase up$r $s guest2 "tcp up$r 10.0.0.1 $s" \
			guest1 guest2 || return 1 ;; esac
		case $ph in *" down "*)
		cost_phase down$r $s guest2 "tcp down$r 10.0.0.1 $s -R" \
			guest1 guest2 || return 1 ;; esac
	done
	cost_phase idle2 $s guest2 "idle idle2 $s" guest1 guest2 || return 1
}

. /lab/scenario.sh
# The scenario runs in a subshell under a time limit ("# lab-timeout: N"
# in the scenario, default 300 s), so that a hang still ends with the
# logs collected and a result line, well before run.sh kills QEMU.
limit=$(sed -n 's/^# lab-timeout: *\([0-9]*\).*/\1/p' /lab/scenario.sh)
limit=${limit:-300}
t0=$(cut -d' ' -f1 /proc/uptime)
scenario &
sp=$!
(
	sleep $limit
	why "scenario still running after $limit s: stopped"
	kill $sp
) &
wp=$!
wait $sp
rc=$?
kill $wp 2>/dev/null
t1=$(cut -d' ' -f1 /proc/uptime)
took=$(awk -v a=$t0 -v b=$t1 'BEGIN { print b - a }')
if [ $rc -eq 0 ]; then
	result=PASS
	detail="scenario took $took s"
else
	result=FAIL
	detail="after $took s: $(cat /tmp/lab-why 2>/dev/null || echo "exit $rc")"
fi

# What xl and xenstore show at the end of the scenario, netbackd running.
d=/tmp/lablogs
mkdir -p $d
timeout 10 xl list >$d/xl-list.txt 2>&1
cat $d/xl-list.txt
timeout 10 xenstore-ls -f >$d/xenstore.txt 2>&1

# netbackd must run to the end and then stop on SIGTERM, cleanly (exit
# 0), within 10 s.
if [ -f /tmp/netbackd.started ]; then
	if [ -f /tmp/netbackd.rc ]; then
		nrc="exited before the end, status $(cat /tmp/netbackd.rc)"
	else
		pkill -TERM netbackd
		for i in $(seq 50); do
			[ -f /tmp/netbackd.rc ] && break
			sleep 0.2
		done
		nrc=$(cat /tmp/netbackd.rc 2>/dev/null ||
			echo "none: still running 10 s after SIGTERM")
	fi
	echo "lab: netbackd: $nrc"
	if [ "$nrc" != 0 ] && [ $result = PASS ]; then
		result=FAIL
		detail="netbackd: $nrc"
	fi
fi

# Collect the logs on the log disk (/dev/vdc) as a tar archive, which
# run.sh unpacks into the run's log directory.
cp /var/log/netbackd.log /var/log/netbackd.out /var/log/netbackd.prof $d/ \
	2>/dev/null
cp /var/log/xen/console/*.log /var/log/xen/*.log $d/ 2>/dev/null
timeout 10 xl dmesg >$d/xen-dmesg.log 2>&1
dmesg >$d/dom0-dmesg.log
tar -C $d -cf /dev/vdc . || echo "lab: could not write the log disk"
echo "LAB-RESULT $name $result $detail"
sync
# minbase has no poweroff: ask the kernel; Xen then powers QEMU off.
echo 1 >/proc/sys/kernel/sysrq
echo o >/proc/sysrq-trigger
sleep 30
