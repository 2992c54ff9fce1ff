#!/bin/sh
# Dom0's init in the lab (run from /lab-init with the per-run disk on
# /lab): start Xen's daemons, run one scenario, print its result and the
# logs on the console, power off.
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

netbackd_start() {
	mkdir -p /etc/netbackd
	cat >/etc/netbackd/netbackd.conf <<CONF
[netbackd]
eal = --no-huge -m 256 --no-pci --lcores ${NB_LCORES:-0@0,1@0}
workers = ${NB_WORKERS:-1}
$1
CONF
	/lab/netbackd --config /etc/netbackd/netbackd.conf --log-level debug \
		--log-file /var/log/netbackd.log >/var/log/netbackd.out 2>&1 &
	for i in $(seq 100); do
		grep -q "serving" /var/log/netbackd.log 2>/dev/null && return 0
		sleep 0.2
	done
	echo "lab: netbackd did not start"
	return 1
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
	xl create /tmp/$1.cfg || return 1
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
	echo "lab: guest $1 did not say '$2'"
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
t0=$(cut -d' ' -f1 /proc/uptime)
if scenario; then result=PASS; else result=FAIL; fi
t1=$(cut -d' ' -f1 /proc/uptime)
dump() {
	[ -f "$1" ] || return 0
	echo "----- $1"
	tail -c 20000 "$1"
}
dump /var/log/netbackd.log
dump /var/log/netbackd.out
for f in /var/log/xen/console/guest-*.log /var/log/xen/xl-*.log; do dump "$f"; done
xl list
pkill netbackd
sleep 1
echo "LAB-RESULT $name $result scenario took $(awk -v a=$t0 -v b=$t1 'BEGIN{print b - a}') s"
sync
# minbase has no poweroff: ask the kernel; Xen then powers QEMU off.
echo 1 >/proc/sys/kernel/sysrq
echo o >/proc/sysrq-trigger
sleep 30
