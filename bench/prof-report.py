#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Turn a NETBACKD_PROFILE file into functions, with their share.

usage: prof-report.py [--exe PATH] PROFILE [TOP]

PROFILE is what netbackd wrote at exit with NETBACKD_PROFILE set: its
mappings, then "pc count" lines (backend/base/prof.c). Each address is
placed in its mapping and named by the nearest symbol below it in that
file (nm, then nm -D), read from this machine's copy of the file: run
it where the same binaries are (the lab's dom0 has Debian's DPDK and
libc); --exe names this machine's copy of a binary that ran from
another path (the lab runs BUILD/backend/netbackd as /lab/netbackd):
the mapping of that name is read from PATH. A sample is taken where the thread
returns to user space, so time in the kernel (a system call, and in a
PV domain Xen's trap of it) falls on the libc wrapper that made it:
ioctl (grant copies, notifications), read, write, epoll_wait.
"""
import bisect
import collections
import os
import subprocess
import sys


def load_segments(path):
    """(offset, vaddr, filesz) of each LOAD segment of path."""
    out = subprocess.run(["readelf", "-lW", path], capture_output=True,
                         text=True).stdout
    segs = []
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == "LOAD":
            segs.append((int(f[1], 16), int(f[2], 16), int(f[4], 16)))
    return segs


def load_symbols(path):
    syms = {}
    for args in (["nm", "-n", "--defined-only"],
                 ["nm", "-D", "-n", "--defined-only"]):
        out = subprocess.run(args + [path], capture_output=True,
                             text=True).stdout
        for line in out.splitlines():
            f = line.split()
            if len(f) == 3 and f[1] in "tTwWiI":
                syms.setdefault(int(f[0], 16), f[2])
    addrs = sorted(syms)
    return addrs, [syms[a] for a in addrs]


def main():
    args = sys.argv[1:]
    exe = {}
    while len(args) >= 2 and args[0] == "--exe":
        exe[args[1].rsplit("/", 1)[-1]] = os.path.abspath(args[1])
        args = args[2:]
    if not args:
        sys.exit(__doc__)
    top = int(args[1]) if len(args) > 1 else 40
    maps, pcs, head = [], [], ""
    part = None
    with open(args[0]) as f:
        for line in f:
            if line.startswith("# samples"):
                head = line.strip("# \n")
            elif line.startswith("# maps"):
                part = "maps"
            elif line.startswith("# pcs"):
                part = "pcs"
            elif part == "maps":
                f6 = line.split(None, 5)
                if len(f6) < 6 or "x" not in f6[1]:
                    continue
                lo, hi = (int(x, 16) for x in f6[0].split("-"))
                path = f6[5].strip()
                path = exe.get(path.rsplit("/", 1)[-1], path)
                maps.append((lo, hi, int(f6[2], 16), path))
            elif part == "pcs":
                pc, n = line.split()
                pcs.append((int(pc, 16), int(n)))
    maps.sort()
    starts = [m[0] for m in maps]
    cache = {}
    by_fn = collections.Counter()
    by_obj = collections.Counter()
    total = sum(n for _, n in pcs)
    for pc, n in pcs:
        i = bisect.bisect_right(starts, pc) - 1
        if i < 0 or pc >= maps[i][1]:
            by_fn["?", "?"] += n
            by_obj["?"] += n
            continue
        lo, _, off, path = maps[i]
        obj = path.rsplit("/", 1)[-1]
        by_obj[obj] += n
        if not path.startswith("/"):
            by_fn[obj, obj] += n
            continue
        if path not in cache:
            try:
                cache[path] = (load_segments(path), load_symbols(path))
            except OSError:
                cache[path] = ([], ([], []))
        segs, (addrs, names) = cache[path]
        fo = pc - lo + off
        va = fo
        for s_off, s_va, s_sz in segs:
            if s_off <= fo < s_off + s_sz:
                va = fo - s_off + s_va
                break
        j = bisect.bisect_right(addrs, va) - 1
        by_fn[obj, names[j] if j >= 0 else hex(va)] += n
    print(f"{head}; {total} counted")
    print("by object:")
    for obj, n in by_obj.most_common():
        print(f"  {100.0 * n / total:5.1f}%  {n:6d}  {obj}")
    print("by function:")
    for (obj, fn), n in by_fn.most_common(top):
        print(f"  {100.0 * n / total:5.1f}%  {n:6d}  {fn}  ({obj})")


if __name__ == "__main__":
    main()
