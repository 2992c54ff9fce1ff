# As netbackd-cpu-cost with netbackd in a driver domain (the network stub
# domain, as in netbackd-driver-domain: 1 vCPU, 256 MiB, its uplink its
# own netfront on dom0's kernel netback and bridge xenbr0, dom0
# 10.0.0.1): the two guests' vifs are served by netbackd in dd
# (backend=dd), and the CPU time read before and after each phase is
# Xen's for Domain-0 and dd together (COST_DOMS). Guest-to-guest traffic
# stays inside dd; dom0 only runs the measurement. Nothing is asserted
# on the figures.
# dom0 reaches the guests through a netfront of its own on dd's network
# (`xl network-attach Domain-0 backend=dd`, 10.0.0.1 moved there from
# xenbr0); COST_DD_HOST=bridge keeps it on xenbr0 instead, the guests
# then reached through dd's uplink. COST_DD_TYPE=pvh (LAB_ENV) makes dd
# a PVH domain: its processes' system calls then do not trap through Xen
# as a PV domain's do.
# lab-stubdom: yes
# lab-timeout: 720
scenario() {
	modprobe xen-netback || { why "no xen-netback in dom0"; return 1; }
	ip link add xenbr0 type bridge
	ip addr add 10.0.0.1/24 dev xenbr0
	ip link set xenbr0 up
	cat >/tmp/dd.cfg <<CFG
name = "dd"
type = "${COST_DD_TYPE:-pv}"
kernel = "/lab/vmlinuz"
ramdisk = "/lab/stubdom.cpio.gz"
memory = 256
vcpus = 1
driver_domain = 1
extra = "console=hvc0 quiet nb_name=dd nb_conf=$(printf '[network net0]\npif = net_af_packet0,iface=eth0\n' | base64 -w0)"
vif = [ 'mac=00:16:3e:00:00:fe,bridge=xenbr0' ]
CFG
	xl create /tmp/dd.cfg || { why "xl create dd failed"; return 1; }
	# dd's uplink is its netfront: dom0's netback hands it GSO packets
	# of up to 64 KiB whole, which netbackd's own packet-socket ring
	# takes whole (README, Driver domains). COST_DD_TSO=off has dom0
	# segment them instead (wire-size frames).
	ddvif="vif$(xl domid dd).0"
	if [ "${COST_DD_TSO:-on}" = off ]; then
		ethtool -K "$ddvif" tso off ||
			{ why "cannot turn TSO off on dd's vif"; return 1; }
	fi
	guest_wait dd "netbackd serving /local/domain/$(xl domid dd)/backend/vif" \
		120 || return 1
	case ${COST_DD_HOST:-netfront} in
	netfront)
		modprobe xen-netfront ||
			{ why "modprobe xen-netfront failed"; return 1; }
		xl network-attach Domain-0 backend=dd bridge=net0 \
			mac=02:00:00:00:00:01 ||
			{ why "xl network-attach Domain-0 backend=dd failed"; return 1; }
		n=$(netdev_by_mac 02:00:00:00:00:01 20)
		[ -n "$n" ] || { why "no netfront interface for dom0 on dd"; return 1; }
		ip addr del 10.0.0.1/24 dev xenbr0
		ip addr add 10.0.0.1/24 dev "$n"
		ip link set "$n" up
		echo "lab: dom0 on dd's net0 through $n"
		;;
	bridge) ;;
	*)
		why "COST_DD_HOST=$COST_DD_HOST: netfront or bridge"
		return 1 ;;
	esac
	COST_DOMS="Domain-0 dd"
	cpu_cost ",backend=dd,bridge=net0" || return 1
	xl list
	# What keeps dd busy, traffic over: its busiest processes.
	guest_say dd top
	sleep 4
	tail -15 /var/log/xen/console/guest-dd.log
	return 0
}
