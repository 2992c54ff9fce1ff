# dom0 on netbackd's network through a netfront of its own
# (netbackd-host-vif): add gives dom0 an interface served by netbackd as
# vif0.0, renamed; iperf3 TCP both ways between it and a guest, with
# the guest's offloads on and off, and a 64-byte UDP rate (as
# netbackd-iperf through a tap); after a SIGKILL and restart of
# netbackd the interface, its address kept, pings the guest again; the
# same add again is taken; bad calls of the script are refused and
# write nothing; del closes the vif and removes it from netbackd,
# xenstore and dom0's interfaces, the guest's vif staying. Then the
# toolstack's way: xl network-attach 0 (served by netbackd), a ping
# through it, xl network-detach.
# lab-timeout: 600
scenario() {
	local be=/local/domain/0/backend/vif/0 fe=/local/domain/0/device/vif n
	netbackd_start "[network xenbr0]" || return 1
	n=$(/lab/netbackd-host-vif add xenbr0 mac=02:00:00:00:00:01 \
		name=nbhost0) || { why "netbackd-host-vif add failed"; return 1; }
	[ "$n" = nbhost0 ] || { why "netbackd-host-vif add said '$n'"; return 1; }
	/lab/netbackctl vifs | grep -q "vif0\.0" ||
		{ why "netbackd does not list vif0.0"; return 1; }
	iperf_guest nbhost0 || return 1

	# A restart re-attaches the ring: the interface keeps its address.
	pkill -KILL -x netbackd
	for i in $(seq 50); do
		[ -f /tmp/netbackd.rc ] && break
		sleep 0.1
	done
	netbackd_start "[network xenbr0]" || return 1
	# Pings every 0.2 s for up to 15 s from the new netbackd's
	# "serving": the first answer says how long the path took to come
	# back (the vifs are re-attached after that line).
	ping -n -i 0.2 -c 1 -w 15 10.0.0.2 >/tmp/ping.out 2>&1
	if ! grep -q "bytes from" /tmp/ping.out; then
		cat /tmp/ping.out
		/lab/netbackctl fdb xenbr0
		/lab/netbackctl stats vif0.0 | grep -E "^  (rx|tx)_"
		/lab/netbackctl stats vif1.0 | grep -E "^  (rx|tx)_"
		why "no ping from nbhost0 to guest1 within 15 s of netbackd's restart"
		return 1
	fi
	echo "lab: ping through nbhost0 after a restart: $(grep -o "time [0-9]*ms" /tmp/ping.out | tail -1) to the first answer"

	# The same add again (as a unit would at every start): taken, the
	# vif as it was.
	n=$(/lab/netbackd-host-vif add xenbr0 mac=02:00:00:00:00:01 \
		name=nbhost0) || { why "the same add again failed"; return 1; }
	[ "$n" = nbhost0 ] || { why "the same add again said '$n'"; return 1; }
	# Bad calls: refused, nothing written.
	for bad in "add xenbr0 mac=02:00:00:00:00:05" \
		"add xenbr0 mac=02:00:00:00:00:09 name=nbhost0 devid=1" \
		"add xenbr0 mac=zz:00:00:00:00:01 devid=1" \
		"add xenbr0 mac=03:00:00:00:00:01 devid=1" \
		"add xenbr0 mac=02:00:00:00:00:02 devid=70000" \
		"add bad/name mac=02:00:00:00:00:02 devid=1" \
		"del devid=1"; do
		if /lab/netbackd-host-vif $bad 2>/tmp/hv.err; then
			why "netbackd-host-vif $bad: taken"
			return 1
		fi
		echo "lab: netbackd-host-vif $bad: $(cat /tmp/hv.err)"
	done
	if xenstore-exists $be/0/1 || xenstore-exists $fe/1; then
		why "a refused call left $be/0/1 or $fe/1"
		return 1
	fi

	/lab/netbackd-host-vif del || { why "netbackd-host-vif del failed"; return 1; }
	for i in $(seq 50); do
		[ -e /sys/class/net/nbhost0 ] || break
		sleep 0.1
	done
	[ -e /sys/class/net/nbhost0 ] &&
		{ why "nbhost0 stays after del"; return 1; }
	if xenstore-exists $be/0/0 || xenstore-exists $fe/0; then
		why "del left $be/0/0 or $fe/0"
		return 1
	fi
	for i in $(seq 50); do
		/lab/netbackctl vifs | grep -q "vif0\.0" || break
		sleep 0.1
	done
	/lab/netbackctl vifs | grep -q "vif0\.0" &&
		{ why "netbackd still lists vif0.0 after del"; return 1; }
	/lab/netbackctl vifs | grep -q "vif1\.0" ||
		{ why "guest1's vif1.0 went with vif0.0"; return 1; }
	echo "lab: del: vif0.0, nbhost0 and both directories gone; vif1.0 stays"

	# The toolstack's way to the same: xl network-attach to domain 0,
	# served by netbackd (vif-netbackd), and network-detach.
	xl network-attach 0 bridge=xenbr0 script=vif-netbackd \
		mac=02:00:00:00:00:03 || { why "xl network-attach 0 failed"; return 1; }
	n=$(netdev_by_mac 02:00:00:00:00:03 20)
	[ -n "$n" ] || { why "xl network-attach 0: no interface"; return 1; }
	ip addr add 10.0.0.5/24 dev "$n"
	ip link set "$n" up
	ping -n -c 1 -w 15 -I 10.0.0.5 10.0.0.2 >/dev/null ||
		{ why "no ping through xl network-attach 0's $n"; return 1; }
	devid=$(xl network-list 0 | awk '$3 == "02:00:00:00:00:03" { print $1 }')
	xl network-detach 0 "$devid" || { why "xl network-detach 0 $devid failed"; return 1; }
	for i in $(seq 50); do
		[ -e "/sys/class/net/$n" ] || break
		sleep 0.1
	done
	[ -e "/sys/class/net/$n" ] && { why "$n stays after xl network-detach"; return 1; }
	/lab/netbackctl vifs | grep -q "vif0\.$devid" &&
		{ why "netbackd still lists vif0.$devid after network-detach"; return 1; }
	echo "lab: xl network-attach 0: $n (vif0.$devid) pings guest1; network-detach removes it"
	return 0
}
