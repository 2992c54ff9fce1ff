#!/bin/sh
# The limit of the method: dpdk-testpmd io forwarding from a pcap replay
# port to a null port on one core (../shared/BENCH.md). Prints one JSON
# line: Mpps forwarded over WINDOW seconds.
# usage: testpmd-anchor.sh PCAP LABEL [WINDOW] [huge|nohuge]
set -eu
pcap=$1 label=$2 window=${3:-5}
mem="--no-huge -m 1024"
[ "${4:-nohuge}" = huge ] && mem=
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Counters are read twice, `window` seconds apart, after a warm-up.
( sleep 3; echo "show port stats 1"; sleep "$window"; echo "show port stats 1";
  sleep 1; echo quit ) |
	timeout $((window + 30)) dpdk-testpmd --no-pci $mem -l 0,1 \
		--file-prefix "anchor$$" \
		--vdev "net_pcap0,rx_pcap=$pcap,infinite_rx=1" \
		--vdev net_null0,no-rx=1 --log-level='lib.*:error' -- -i \
		--forward-mode=io --auto-start --total-num-mbufs=32768 \
		>"$log" 2>&1 || true
awk -v w="$window" -v label="$label" '
	/NIC statistics for port/ { nic = 1 }
	/Forward statistics/ { nic = 0 }
	nic && /TX-packets:/ { n[++k] = $2; nic = 0 }
	END {
		if (k < 2) { print "testpmd-anchor: no counters" > "/dev/stderr"; exit 1 }
		printf "{\"bench\": \"switch\", \"metric\": \"testpmd_io_%s\", \"value\": %.2f, \"unit\": \"Mpps\"}\n", label, (n[k] - n[k-1]) / w / 1e6
	}' "$log"
