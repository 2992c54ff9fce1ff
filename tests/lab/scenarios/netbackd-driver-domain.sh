# netbackd in a driver domain: the network stub domain (build-stubdom.sh,
# stubdom-init.sh), a PV domU with driver_domain = 1, runs netbackd; its
# uplink is its own netfront eth0 (net_af_packet), served by dom0's
# kernel netback on dom0's bridge xenbr0 (10.0.0.1). Two guests have
# vif = [ 'backend=dd,bridge=net0,...' ]: their vifs are served by
# netbackd inside dd, which plugs them itself (hotplug = netbackd: no
# xl devd there). guest2 pings guest1 (the same driver domain) and dom0
# (across the uplink); dom0 pings both. Then `xl network-detach` of
# guest1's vif completes (netbackd removes the backend directory dom0's
# libxl waits for), `xl destroy guest2` too, and netbackd in dd stops
# cleanly on SIGTERM.
# lab-stubdom: yes
# lab-timeout: 300

# dd_create NAME MAC MEM NETBACKD_CONF_SECTIONS: the stub domain, its
# uplink vif on dom0's xenbr0 (kernel netback, vif-bridge).
dd_create() {
	cat >/tmp/$1.cfg <<CFG
name = "$1"
kernel = "/lab/vmlinuz"
ramdisk = "/lab/stubdom.cpio.gz"
memory = $3
vcpus = 1
driver_domain = 1
extra = "console=hvc0 quiet nb_name=$1 nb_conf=$(printf '%s\n' "$4" | base64 -w0)"
vif = [ 'mac=$2,bridge=xenbr0' ]
CFG
	cat /tmp/$1.cfg
	xl create /tmp/$1.cfg || { why "xl create $1 failed"; return 1; }
}

# dd_say NAME COMMAND: a line on the driver domain's console.
dd_say() {
	tty=$(xenstore-read /local/domain/$(xl domid $1)/console/tty)
	echo "$2" >"$tty"
}

scenario() {
	modprobe xen-netback || { why "no xen-netback in dom0"; return 1; }
	ip link add xenbr0 type bridge
	ip addr add 10.0.0.1/24 dev xenbr0
	ip link set xenbr0 up
	dd_create dd 00:16:3e:00:00:fe 256 "[network net0]
pif = net_af_packet0,iface=eth0" || return 1
	dd=$(xl domid dd)
	guest_wait dd "netbackd serving /local/domain/$dd/backend/vif" 120 ||
		return 1
	guest_create guest1 00:16:3e:00:00:01 10.0.0.2/24 "" \
		",backend=dd,bridge=net0" || return 1
	guest_wait guest1 "ready" 90 || return 1
	LAB_GUEST_EXTRA="lab_vping=eth0:10.0.0.1" \
	guest_create guest2 00:16:3e:00:00:02 10.0.0.3/24 10.0.0.2 \
		",backend=dd,bridge=net0" || return 1
	guest_wait guest2 "ping 10.0.0.2 ok" 90 || return 1
	guest_wait guest2 "vping eth0 10.0.0.1 ok" 60 || return 1
	ping -c 3 -W 5 10.0.0.2 || { why "dom0 cannot ping guest1"; return 1; }
	ping -c 3 -W 5 10.0.0.3 || { why "dom0 cannot ping guest2"; return 1; }

	g1=$(xl domid guest1)
	g2=$(xl domid guest2)
	be=/local/domain/$dd/backend/vif/$g1/0
	xenstore-ls -p "$be"
	[ "$(xenstore-read $be/state)" = 4 ] ||
		{ why "guest1's backend in dd is not Connected"; return 1; }
	[ "$(xenstore-read $be/hotplug-status)" = connected ] ||
		{ why "netbackd in dd did not write hotplug-status"; return 1; }
	[ "$(xenstore-read /local/domain/$g1/device/vif/0/backend-id)" = "$dd" ] ||
		{ why "guest1's frontend does not name dd as its backend"; return 1; }
	# The switch inside dd: each guest's MAC on its vif.
	ddlog=/var/log/xen/console/guest-dd.log
	dd_say dd hup
	for i in $(seq 75); do
		grep -aq "00:16:3e:00:00:01 vlan 0 -> vif$g1.0" $ddlog && break
		sleep 0.2
	done
	grep -a "network net0:\|vif$g1.0\|vif$g2.0" $ddlog | tail -8
	grep -aq "00:16:3e:00:00:01 vlan 0 -> vif$g1.0" $ddlog ||
		{ why "guest1's MAC is not in dd's switch table"; return 1; }

	# Removal: dom0's libxl waits for the driver domain to remove the
	# backend directory (xl devd would; netbackd does here).
	xl network-detach guest1 0 ||
		{ why "xl network-detach guest1 0 failed"; return 1; }
	if xenstore-read "$be/state" 2>/dev/null; then
		why "guest1's backend directory stayed in dd"; return 1
	fi
	xl destroy guest2 || { why "xl destroy guest2 failed"; return 1; }
	if xenstore-read "/local/domain/$dd/backend/vif/$g2/0/state" \
		2>/dev/null; then
		why "guest2's backend directory stayed in dd"; return 1
	fi
	xl list
	dd_say dd top
	sleep 2

	dd_say dd stop
	guest_wait dd "netbackd exit 0" 20 || return 1
	return 0
}
