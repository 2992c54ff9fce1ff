#!/bin/sh
# netbackd as systemd runs it (Type=notify, standard error to the
# journal), on the simulated hypervisor: READY=1 arrives on
# NOTIFY_SOCKET once xenstore is watched, and not before; with
# JOURNAL_STREAM naming its standard error, every line it writes,
# DPDK's too, starts with a "<N>" level; SIGTERM stops it with status 0.
#
# usage: check-systemd-run.sh XENSTORED_SIM SIMHV_TOOL NETBACKD
set -u
if [ $# -ne 3 ]; then
	echo "usage: $0 XENSTORED_SIM SIMHV_TOOL NETBACKD" >&2
	exit 2
fi
xsd=$1 hvtool=$2 netbackd=$3
if ! command -v python3 > /dev/null; then
	echo "SKIP: no python3"
	exit 77
fi
dir=$(mktemp -d /dev/shm/nb-systemd.XXXXXX) || exit 1
xpid=
cleanup() {
	[ -z "$xpid" ] || kill "$xpid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
"$xsd" --socket "$dir/xs.sock" 2>"$dir/xenstored.log" &
xpid=$!
for _ in $(seq 200); do [ -S "$dir/xs.sock" ] && break; sleep 0.05; done
export XENSTORED_PATH=$dir/xs.sock
"$hvtool" create "$dir" || exit 1

python3 - "$dir" "$netbackd" <<'PY'
import os, re, signal, socket, subprocess, sys

d, netbackd = sys.argv[1:3]
fail = []
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(d + "/notify")
sock.settimeout(120)
err = open(d + "/stderr", "w")
st = os.fstat(err.fileno())
env = dict(os.environ, NOTIFY_SOCKET=d + "/notify",
           JOURNAL_STREAM="%d:%d" % (st.st_dev, st.st_ino))
p = subprocess.Popen([netbackd, "--sim", d, "--domid", "0",
                      "--network", "xenbr0"],
                     stdout=err, stderr=err, env=env)
try:
    msg = sock.recv(256)
except socket.timeout:
    msg = b""
with open(d + "/stderr") as f:
    before = f.read()
if msg != b"READY=1":
    fail.append("no READY=1 on NOTIFY_SOCKET (got %r)" % msg)
elif "serving /local/domain/0/backend/vif" not in before:
    fail.append("READY=1 came before xenstore was watched")
p.send_signal(signal.SIGTERM)
try:
    rc = p.wait(120)
except subprocess.TimeoutExpired:
    p.kill()
    rc = "none (killed after 120 s)"
if rc != 0:
    fail.append("exit status %s after SIGTERM" % rc)
with open(d + "/stderr") as f:
    lines = f.read().splitlines()
bad = [l for l in lines if not re.match(r"<[0-7]>\S", l)]
if bad:
    fail.append("lines without a level prefix: %r" % bad[:5])
if not any(l.startswith("<6>serving ") for l in lines):
    fail.append("no '<6>serving' line")
for f in fail:
    print("FAIL " + f)
if fail:
    print("stderr was:\n  " + "\n  ".join(lines))
    sys.exit(1)
print("ok   READY=1 once serving; %d lines, each with a level; "
      "stopped with 0" % len(lines))
PY
