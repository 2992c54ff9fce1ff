# Sourced by the benches that run netbackd on the simulated hypervisor.
# sim_up BUILD PREFIX: a fresh /dev/shm directory ($dir) with a running
# xenstored-sim ($xs, XENSTORED_PATH exported) and a simulated
# hypervisor. sim_down: stops xenstored-sim and removes the directory.
sim_up() {
	dir=$(mktemp -d "/dev/shm/$2.XXXXXX")
	"$1/sim/xenstored/xenstored-sim" --socket "$dir/xs.sock" 2>/dev/null &
	xs=$!
	export XENSTORED_PATH="$dir/xs.sock"
	for _ in $(seq 100); do [ -S "$dir/xs.sock" ] && break; sleep 0.05; done
	"$1/sim/hv/simhv-tool" create "$dir"
}
sim_down() {
	kill "$xs" 2>/dev/null
	wait "$xs" 2>/dev/null || true
	rm -rf "$dir"
}
