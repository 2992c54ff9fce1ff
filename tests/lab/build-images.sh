#!/bin/bash
# Build the real-Xen lab's images from Debian 12 packages, once per input:
# a dom0 root filesystem (debootstrap: Xen 4.17, its toolstack, the Debian
# kernel, the runtime libraries netbackd links against, and the tools the
# scenarios use) as an ext4 image, plus the hypervisor and kernel files.
# (libdpdk-dev is there for its dependencies: every librte runtime
# library and PMD plugin, whatever netbackd was linked against.)
# Results are cached under $LAB_CACHE (default /var/cache/netbackd-lab),
# keyed by a hash of this script (which holds the package list and the
# files it bakes in), so a second run takes no time; the netbackd binary,
# the scripts and the guests' initramfs go on a per-run disk (run.sh).
#
# usage: build-images.sh            prints the image directory on stdout
# env:   LAB_CACHE (/var/cache/netbackd-lab), LAB_MIRROR (deb.debian.org)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${LAB_CACHE:-/var/cache/netbackd-lab}
mirror=${LAB_MIRROR:-http://deb.debian.org/debian}

host_pkgs="qemu-system-x86 debootstrap e2fsprogs cpio gzip
xz-utils kmod"
dom0_pkgs="xen-hypervisor-4.17-amd64,xen-utils-4.17,linux-image-amd64,\
iproute2,iputils-ping,iperf3,ethtool,tcpdump,procps,kmod,udev,\
python3-minimal,dpdk,libdpdk-dev,libpcap0.8,busybox-static,bridge-utils,\
util-linux,\
xenstore-utils"

missing=""
for p in $host_pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "lab: installing$missing" >&2
	apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends $missing >&2
fi

key=$( (cat "$0"; echo "$dom0_pkgs") | sha256sum | cut -c1-16)
out=$cache/$key
mkdir -p "$cache"
# One builder at a time (a developer's run and CI's may meet here): the
# second waits, then finds the image done. Pruning happens under the
# same lock, so it never removes a tree while it is being built.
exec 9>"$cache/lock"
flock 9
if [ -f "$out/done" ]; then
	touch "$out/used"
	echo "$out"
	exit 0
fi
echo "lab: building dom0 image $key (a few minutes, once)" >&2
rm -rf "$out"
mkdir -p "$out"
root=$out/root
start=$(date +%s)
debootstrap --variant=minbase --include="$dom0_pkgs" bookworm "$root" \
	"$mirror" >"$out/debootstrap.log" 2>&1 || {
	tail -30 "$out/debootstrap.log" >&2
	exit 1
}
# The hypervisor (gunzipped: QEMU's multiboot loader wants it plain),
# the kernel and its initrd for dom0, the kernel again for the guests.
gunzip -c "$root"/boot/xen-4.17-amd64.gz >"$out/xen"
cp "$root"/boot/vmlinuz-* "$out/vmlinuz"
cp "$root"/boot/initrd.img-* "$out/initrd.img"
kver=$(ls "$root/lib/modules")
echo "$kver" >"$out/kver"

# Dom0 boots into /lab-init: mount the per-run disk and hand over.
cat >"$root/lab-init" <<'EOF'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /lab
mount -o ro /dev/vdb /lab || { echo "LAB-RESULT boot FAIL no lab disk"; poweroff -f; }
exec /bin/sh /lab/dom0-init.sh
EOF
chmod +x "$root/lab-init"
echo "lab" >"$root/etc/hostname"
# No kernel netback unless a scenario loads it on purpose.
echo "blacklist xen-netback" >"$root/etc/modprobe.d/netbackd-lab.conf"
rm -rf "$root/var/cache/apt/archives"/*.deb

size=$(du -sm "$root" | cut -f1)
# (mke2fs names the file it creates on stdout, which is our answer.)
mke2fs -q -t ext4 -d "$root" -L dom0 "$out/dom0.ext4" $((size + 600))M >&2
# Keep the root tree: the guest initramfs takes modules and binaries
# from it at each run.
secs=$(( $(date +%s) - start ))
echo "$secs" >"$out/build-seconds"
touch "$out/done" "$out/used"
# Images of other inputs are of no further use once nobody ran them for
# an hour (a checkout of an older commit may still be using one now).
for d in "$cache"/*/; do
	d=${d%/}
	[ "$d" = "$out" ] && continue
	if [ -f "$d/used" ]; then
		[ -n "$(find "$d/used" -mmin +60)" ] && rm -rf "$d"
	else
		# A build that died, or one of a script without the lock.
		[ -n "$(find "$d" -maxdepth 0 -mmin +60)" ] && rm -rf "$d"
	fi
done
echo "lab: dom0 image built in $secs s" >&2
echo "$out"
