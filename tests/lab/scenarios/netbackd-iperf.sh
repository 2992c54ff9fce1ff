# Issue scenario 4 (offloads) through a net_tap uplink to dom0: iperf3
# TCP both ways with the guest's default offloads, then with SG, TSO and
# TX checksum offload off, and a 64-byte UDP rate (see iperf_through).
scenario() {
	iperf_through net_tap0,iface=dtap0
}
