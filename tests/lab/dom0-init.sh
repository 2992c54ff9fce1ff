#!/bin/sh
# Dom0's init in the lab (run from /lab-init with the per-run disk on
# /lab): start Xen's daemons, run one scenario under a time limit, stop
# netbackd, write the logs onto the log disk, print the result line on
# the serial console, power off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
name=$(cat /lab/scenario-name)
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
	(
		/lab/netbackd --config /etc/netbackd/netbackd.conf \
			--log-level debug --log-file /var/log/netbackd.log \
			>/var/log/netbackd.out 2>&1
		echo $? >/tmp/netbackd.rc
	) &
	for i in $(seq 100); do
		grep -q "serving" /var/log/netbackd.log 2>/dev/null && return 0
		[ -f /tmp/netbackd.rc ] && break
		sleep 0.2
	done
	why "netbackd did not start$([ -f /tmp/netbackd.rc ] &&
		echo ": exit status $(cat /tmp/netbackd.rc)")"
	return 1
}

# iperf_through PIF: issue scenario 4 with netbackd's uplink to dom0 given
# by its DPDK devargs (named dtap0 in dom0): iperf3 TCP both ways with the
# guest's offloads on, a 64-byte UDP rate, TCP with offloads off; TCP's
# own checksums on both ends tell whether the data arrived intact.
iperf_through() {
	netbackd_start "[network xenbr0]
pif = $1" || return 1
	ip addr add 10.0.0.1/24 dev dtap0
	ip link set dtap0 up
	iperf3 -s -D >/dev/null 2>&1
	guest_create guest1 00:16:3e:00:00:01 10.0.0.2/24 10.0.0.1 \
		",bridge=xenbr0,script=vif-netbackd" "" 10.0.0.1 || return 1
	guest_wait guest1 "iperf offloads-on ok" 240 || return 1
	guest_wait guest1 "udp64 ok" 120 || return 1
	guest_wait guest1 "iperf offloads-off ok" 240 || return 1
	grep -a "GUEST guest1: \(iperf\|udp64\)" /var/log/xen/console/guest-guest1.log
	pkill -HUP netbackd
	sleep 1
	grep -E "vif[0-9]+\.0( queue|:)|totals|pif" /var/log/netbackd.log | tail -4
	return 0
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
cp /var/log/netbackd.log /var/log/netbackd.out $d/ 2>/dev/null
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
