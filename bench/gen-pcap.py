#!/usr/bin/env python3
"""Write the switch benchmark's traffic as pcap files.

64 "A" hosts behind the input port send UDP to 64 "B" hosts behind the
output port (4,096 pairs), so a learning switch forwards every frame once
it knows the B hosts (../shared/BENCH.md: identical sources and
destinations would turn into hairpin drops). With --vlans N the hosts are
spread over N VLANs and pairs stay within a VLAN.

Writes OUT (the A->B stream) and OUT.learn (one frame from each B host,
to teach the switch where the B hosts are).
"""
import argparse
import struct


def mac(kind, i):
    return bytes([0x02, 0x00, kind, 0x00, i >> 8, i & 0xff])


def frame(dst, src, vlan, size, seq):
    payload_len = max(size - 14 - (4 if vlan else 0) - 20 - 8, 0)
    udp = struct.pack('!HHHH', 1024 + (seq & 0xff), 9, 8 + payload_len, 0)
    ip_len = 20 + 8 + payload_len
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, ip_len, seq & 0xffff, 0, 64,
                     17, 0, bytes([10, 0, src[4], src[5]]),
                     bytes([10, 1, dst[4], dst[5]]))
    s = sum(struct.unpack('!10H', ip))
    s = (s & 0xffff) + (s >> 16)
    s = (s & 0xffff) + (s >> 16)
    ip = ip[:10] + struct.pack('!H', ~s & 0xffff) + ip[12:]
    eth = dst + src
    if vlan:
        eth += struct.pack('!HH', 0x8100, vlan)
    eth += b'\x08\x00'
    f = eth + ip + udp + bytes(payload_len)
    return f[:max(size, 60)] if len(f) >= 60 else f + bytes(60 - len(f))


def write(path, frames):
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack('<IIII', i // 1000000, i % 1000000,
                                len(fr), len(fr)))
            f.write(fr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('out')
    ap.add_argument('--size', type=int, default=64,
                    help='frame size without FCS (64 means 60 on the wire)')
    ap.add_argument('--hosts', type=int, default=64)
    ap.add_argument('--vlans', type=int, default=0)
    a = ap.parse_args()
    size = a.size - 4  # pcap frames carry no FCS
    vlan_of = (lambda i: 10 + i % a.vlans) if a.vlans else (lambda i: 0)
    frames = []
    seq = 0
    for i in range(a.hosts):
        for j in range(a.hosts):
            if a.vlans and vlan_of(i) != vlan_of(j):
                continue
            frames.append(frame(mac(0xb, j), mac(0xa, i), vlan_of(i), size,
                                seq))
            seq += 1
    write(a.out, frames)
    write(a.out + '.learn',
          [frame(mac(0xa, 0), mac(0xb, j), vlan_of(j), 60, j)
           for j in range(a.hosts)])
    print(f'{a.out}: {len(frames)} frames of {a.size} B')


if __name__ == '__main__':
    main()
