# The host keeps its NIC: dom0's own address stays on its NIC (a QEMU
# virtio-net whose other end is the "outside", a network namespace
# run.sh makes: 192.0.2.100 and, on VLAN 10, 198.51.100.100), and only
# the guests' frames go through netbackd, whose uplink shares the NIC
# with the kernel (net_af_packet: the fallback where no AF_XDP steering
# is set up; netbackd filters the host's own frames out of its own
# packet socket, whose ring's slots take the frames the NIC's hardware
# GRO and the kernel's GRO merged whole, so both stay on for the host;
# what the outside sends guest1 must reach it coalesced, rx_coalesced >
# 0, none cut, rx_drop_cut 0; what guest1 sends the outside must leave
# whole, tx_gso_whole > 0). guest1 (untagged)
# and guest2
# (VLAN 10 of the trunk) reach the outside and the outside reaches them
# (run.sh's pinger); guest1's
# iperf3 to the outside both ways; dom0's own iperf3 to the outside
# before netbackd starts, while it runs before the guests come, and with
# the guests ("LAB-HOST" lines), for the
# host-keeps-its-NIC figures of bench/RESULTS.md.
# lab-outside: yes
# lab-outside-reaches: 192.0.2.21 198.51.100.22
# lab-timeout: 420
scenario() {
	nic=$(outside_nic) || return 1
	hwgro=$(ethtool -k "$nic" | awk '$1 == "rx-gro-hw:" { print $2 }')
	host_iperf before || return 1
	netbackd_start "[network xenbr0]
pif = net_af_packet0,iface=$nic" || return 1
	# The host's own frames stay out of the switch, and GRO stays on.
	grep -q "the host's own frames stay in the kernel" /var/log/netbackd.log ||
		{ why "no socket filter on $nic's packet socket"; return 1; }
	grep -E "stays on|turned off on $nic|cannot" /var/log/netbackd.log
	# netbackd running, no guest yet: what netbackd alone costs the host.
	host_iperf netbackd-no-guests || return 1
	ethtool -k "$nic" 2>/dev/null | grep -E "receive-offload|rx-gro-hw"
	ethtool -k "$nic" | grep -q "generic-receive-offload: on" ||
		{ why "GRO is off on $nic while netbackd runs"; return 1; }
	[ "$hwgro" != on ] || ethtool -k "$nic" | grep -q "rx-gro-hw: on" ||
		{ why "hardware GRO is off on $nic while netbackd runs"; return 1; }
	# guest2 first, and up before guest1 boots: guest1's iperf3 runs as
	# soon as it is up, and must not share dom0 with guest2's boot.
	guest_create guest2 00:16:3e:00:00:02 198.51.100.22/24 198.51.100.100 \
		",bridge=xenbr0.10,script=vif-netbackd" || return 1
	guest_wait guest2 "ping 198.51.100.100 ok" 120 || return 1
	guest_create guest1 00:16:3e:00:00:01 192.0.2.21/24 192.0.2.100 \
		",bridge=xenbr0,script=vif-netbackd" "" 192.0.2.100 || return 1
	iperf_wait guest1 || return 1
	# dom0 still has its address and its own path to the outside.
	ip -o addr show dev "$nic" | grep -q "192.0.2.10/24" ||
		{ why "dom0 lost its address on $nic"; return 1; }
	ping -c 3 -W 5 192.0.2.100 || { why "dom0 cannot reach the outside"; return 1; }
	host_iperf with-netbackd || return 1
	# The outside's pinger (run.sh) reaches both guests meanwhile.
	sleep 5
	pkill -HUP netbackd
	sleep 1
	grep -E "vif[0-9]+\.0:|totals|pif" /var/log/netbackd.log | tail -5
	# The outside's TCP to guest1 came merged, and went on whole.
	co=$(/lab/netbackctl ports | awk '$1 == "rx_coalesced:" { s += $2 } END { print s + 0 }')
	echo "lab: rx_coalesced $co"
	[ "$co" -gt 0 ] || { why "no merged frame reached the guests whole"; return 1; }
	cut=$(/lab/netbackctl ports | awk '$1 == "rx_drop_cut:" { s += $2 } END { print s + 0 }')
	echo "lab: rx_drop_cut $cut"
	[ "$cut" -eq 0 ] || { why "$cut merged frames came cut"; return 1; }
	# guest1's TCP to the outside (TSO) left whole, for the kernel to cut.
	gw=$(/lab/netbackctl ports | awk '$1 == "tx_gso_whole:" { s += $2 } END { print s + 0 }')
	echo "lab: tx_gso_whole $gw"
	[ "$gw" -gt 0 ] || { why "no GSO packet went to $nic whole"; return 1; }
	return 0
}
