/* SPDX-License-Identifier: GPL-2.0-only */
/* switch/ alone: learning, aging, moves, flooding, VLANs, spoofing. */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "sw.h"
#include "tests.h"

static struct sw *
mk(void)
{
	struct sw_config c = { .max_ports = 64, .max_nets = 4,
			       .table_size = 1024 };
	struct sw *sw = sw_create(&c);

	CHECK(sw != NULL);
	return sw;
}

static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static void
mac(uint8_t m[6], unsigned n)
{
	const uint8_t v[6] = { 0x00, 0x16, 0x3e, 0, (uint8_t)(n >> 8),
			       (uint8_t)n };

	memcpy(m, v, 6);
}

static int
port(struct sw *sw, int net, unsigned n, bool antispoof, uint16_t vlan)
{
	struct sw_port_conf c = { .net = net, .antispoof = antispoof,
				  .vlan = vlan };

	mac(c.mac, n);
	return sw_port_add(sw, &c);
}

/* One frame from src to dst (MACs given); returns the result. */
static struct sw_result
fwd(struct sw *sw, int in, const uint8_t *dst, const uint8_t *src,
    uint64_t now, int tag)
{
	uint8_t f[64] = { 0 };
	struct sw_frame fr = { f, 60 };
	struct sw_result r;

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	if (tag >= 0) {
		f[12] = 0x81;
		f[13] = 0x00;
		f[14] = (uint8_t)(tag >> 8);
		f[15] = (uint8_t)tag;
	} else {
		f[12] = 0x08;
	}
	CHECK_EQ(sw_forward(sw, in, &fr, 1, now, &r), 1);
	return r;
}

TEST(learning_and_unicast)
{
	struct sw *sw = mk();
	int net = sw_net_add(sw, "br0", 0);
	int a = port(sw, net, 1, true, 0), b = port(sw, net, 2, true, 0);
	uint8_t ma[6], mb[6];

	mac(ma, 1);
	mac(mb, 2);
	/* Unknown destination floods; the source is learned. */
	CHECK_EQ(fwd(sw, a, mb, ma, 0, -1).port, SW_FLOOD);
	CHECK_EQ(sw_lookup(sw, net, ma, 0), a);
	CHECK_EQ(fwd(sw, b, ma, mb, 0, -1).port, a);
	CHECK_EQ(fwd(sw, a, mb, ma, 0, -1).port, b);
	CHECK_EQ(fwd(sw, a, BCAST, ma, 0, -1).port, SW_FLOOD);
	/* hairpin */
	CHECK_EQ(fwd(sw, a, ma, ma, 0, -1).port, SW_DROP);
	CHECK_EQ(sw_port_counter(sw, a, SW_C_DROP_HAIRPIN), 1);
	CHECK_EQ(sw_port_counter(sw, a, SW_C_LEARNED), 1);
	sw_destroy(sw);
}

TEST(aging_and_static)
{
	struct sw *sw = mk();
	int net = sw_net_add(sw, "br0", 10000);
	int a = port(sw, net, 1, false, 0), b = port(sw, net, 2, false, 0);
	uint8_t ma[6], mb[6], ms[6];

	mac(ma, 1);
	mac(mb, 2);
	mac(ms, 99);
	CHECK_EQ(sw_static_add(sw, net, ms, 0, b), 0);
	fwd(sw, a, mb, ma, 1000, -1);
	sw_age(sw, 5000);
	CHECK_EQ(sw_lookup(sw, net, ma, 0), a);
	sw_age(sw, 20000);
	CHECK_EQ(sw_lookup(sw, net, ma, 0), -ENOENT);
	CHECK_EQ(sw_lookup(sw, net, ms, 0), b); /* static stays */
	/* a static entry does not move */
	fwd(sw, a, mb, ms, 21000, -1);
	CHECK_EQ(sw_lookup(sw, net, ms, 0), b);
	sw_destroy(sw);
}

TEST(mac_moves)
{
	struct sw *sw = mk();
	int net = sw_net_add(sw, "br0", 0);
	int a = port(sw, net, 1, false, 0), b = port(sw, net, 2, false, 0);
	uint8_t m[6];

	mac(m, 7);
	fwd(sw, a, BCAST, m, 0, -1);
	CHECK_EQ(sw_lookup(sw, net, m, 0), a);
	fwd(sw, b, BCAST, m, 0, -1);
	CHECK_EQ(sw_lookup(sw, net, m, 0), b);
	CHECK_EQ(sw_port_counter(sw, b, SW_C_MOVED), 1);
	sw_destroy(sw);
}

TEST(flooding_and_networks)
{
	struct sw *sw = mk();
	int n1 = sw_net_add(sw, "one", 0), n2 = sw_net_add(sw, "two", 0);
	int a = port(sw, n1, 1, false, 0), b = port(sw, n1, 2, false, 0);
	int c = port(sw, n1, 3, false, 0), d = port(sw, n2, 4, false, 0);
	uint16_t out[8];

	CHECK_EQ(sw_net_add(sw, "one", 0), -EEXIST);
	CHECK_EQ(sw_net_find(sw, "two"), n2);
	unsigned k = sw_flood_ports(sw, a, 0, out, 8);
	CHECK_EQ(k, 2);
	CHECK(out[0] == b || out[1] == b);
	CHECK(out[0] == c || out[1] == c);
	CHECK_EQ(sw_flood_ports(sw, d, 0, out, 8), 0); /* alone in two */
	CHECK_EQ(sw_port_del(sw, b), 0);
	CHECK_EQ(sw_flood_ports(sw, a, 0, out, 8), 1);
	CHECK_EQ(sw_net_del(sw, n2), -EBUSY);
	CHECK_EQ(sw_port_del(sw, d), 0);
	CHECK_EQ(sw_net_del(sw, n2), 0);
	sw_destroy(sw);
}

TEST(port_removal_flushes)
{
	struct sw *sw = mk();
	int net = sw_net_add(sw, "br0", 0);
	int a = port(sw, net, 1, false, 0), b = port(sw, net, 2, false, 0);
	uint8_t ma[6], mb[6];

	mac(ma, 1);
	mac(mb, 2);
	fwd(sw, a, mb, ma, 0, -1);
	CHECK_EQ(sw_port_del(sw, a), 0);
	CHECK_EQ(sw_lookup(sw, net, ma, 0), -ENOENT);
	CHECK_EQ(fwd(sw, b, ma, mb, 0, -1).port, SW_FLOOD);
	CHECK_EQ(fwd(sw, a, mb, ma, 0, -1).port, SW_DROP);
	sw_destroy(sw);
}

TEST(access_vlans)
{
	struct sw *sw = mk();
	int net = sw_net_add(sw, "br0", 0);
	int a = port(sw, net, 1, false, 10), b = port(sw, net, 2, false, 10);
	int c = port(sw, net, 3, false, 20);
	uint8_t ma[6], mb[6];
	uint16_t out[8];

	mac(ma, 1);
	mac(mb, 2);
	/* Floods stay within the VLAN. */
	CHECK_EQ(sw_flood_ports(sw, a, 10, out, 8), 1);
	CHECK_EQ(out[0], b);
	CHECK_EQ(sw_flood_ports(sw, c, 20, out, 8), 0);
	struct sw_result r = fwd(sw, a, mb, ma, 0, -1);
	CHECK_EQ(r.port, SW_FLOOD);
	CHECK_EQ(r.vlan, 10);
	/* Learned per VLAN: the same MAC on VLAN 20 is unknown. */
	CHECK_EQ(sw_lookup(sw, net, ma, 10), a);
	CHECK_EQ(sw_lookup(sw, net, ma, 20), -ENOENT);
	/* An access port drops tagged frames, but takes priority tags. */
	CHECK_EQ(fwd(sw, a, mb, ma, 0, 10).port, SW_DROP);
	CHECK_EQ(sw_port_counter(sw, a, SW_C_DROP_VLAN), 1);
	CHECK_EQ(fwd(sw, a, mb, ma, 0, 0).port, SW_FLOOD);
	CHECK_EQ(port(sw, net, 4, false, 4095), -EINVAL);
	sw_destroy(sw);
}

TEST(anti_spoofing)
{
	struct sw *sw = mk();
	int net = sw_net_add(sw, "br0", 0);
	int a = port(sw, net, 1, true, 0);
	struct sw_port_conf up = { .net = net, .uplink = true,
				   .antispoof = true };
	int u = sw_port_add(sw, &up);
	uint8_t ma[6], other[6];

	mac(ma, 1);
	mac(other, 66);
	CHECK_EQ(fwd(sw, a, BCAST, other, 0, -1).port, SW_DROP);
	CHECK_EQ(sw_port_counter(sw, a, SW_C_DROP_SPOOF_MAC), 1);
	CHECK_EQ(sw_lookup(sw, net, other, 0), -ENOENT); /* not learned */
	CHECK_EQ(fwd(sw, a, BCAST, ma, 0, -1).port, SW_FLOOD);
	/* multicast source: always spoofed */
	CHECK_EQ(fwd(sw, u, ma, BCAST, 0, -1).port, SW_DROP);
	/* an uplink carries any source */
	CHECK_EQ(fwd(sw, u, ma, other, 0, -1).port, a);
	/* only one uplink per network */
	CHECK_EQ(sw_port_add(sw, &up), -EEXIST);
	sw_destroy(sw);
}

TEST(learn_limit_and_runts)
{
	struct sw *sw = mk();
	int net = sw_net_add(sw, "br0", 0);
	struct sw_port_conf c = { .net = net, .learn_limit = 3 };
	int a = sw_port_add(sw, &c);
	uint8_t m[6];

	for (unsigned i = 0; i < 10; i++) {
		mac(m, 100 + i);
		fwd(sw, a, BCAST, m, 0, -1);
	}
	CHECK_EQ(sw_port_counter(sw, a, SW_C_LEARNED), 3);
	CHECK_EQ(sw_port_counter(sw, a, SW_C_LEARN_LIMIT), 7);
	uint8_t runt[10] = { 0 };
	struct sw_frame f = { runt, 10 };
	struct sw_result r;
	sw_forward(sw, a, &f, 1, 0, &r);
	CHECK_EQ(r.port, SW_DROP);
	CHECK_EQ(r.reason, SW_C_DROP_RUNT);
	CHECK_STREQ(sw_counter_name(SW_C_DROP_RUNT), "drop_runt");
	sw_destroy(sw);
}

struct race {
	struct sw *sw;
	int port, net;
	unsigned base;
};

static void *
racer(void *arg)
{
	struct race *r = arg;
	uint8_t src[6], dst[6];

	for (unsigned i = 0; i < 200000; i++) {
		mac(src, r->base + i % 200);
		mac(dst, (r->base ^ 0x1000) + i % 200);
		fwd(r->sw, r->port, dst, src, i / 100, -1);
	}
	return NULL;
}

TEST(concurrent_forwarding_and_aging)
{
	struct sw *sw = mk();
	int net = sw_net_add(sw, "br0", 1000);
	struct race r1 = { sw, port(sw, net, 1, false, 0), net, 0x100 };
	struct race r2 = { sw, port(sw, net, 2, false, 0), net, 0x1100 };
	pthread_t t1, t2;

	pthread_create(&t1, NULL, racer, &r1);
	pthread_create(&t2, NULL, racer, &r2);
	for (unsigned i = 0; i < 200; i++)
		sw_age(sw, i * 10);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	/* Every learned MAC points at the port that sent it. */
	uint8_t m[6];
	for (unsigned i = 0; i < 200; i++) {
		mac(m, 0x100 + i);
		int p = sw_lookup(sw, net, m, 0);
		CHECK(p == r1.port || p == -ENOENT);
		mac(m, 0x1100 + i);
		p = sw_lookup(sw, net, m, 0);
		CHECK(p == r2.port || p == -ENOENT);
	}
	sw_destroy(sw);
}

/* An Ethernet frame of the given type from port n's MAC with payload. */
static struct sw_result
fwd_l3(struct sw *sw, int in, unsigned n, uint16_t type, const uint8_t *l3,
       size_t l3len)
{
	static uint8_t f[128];
	struct sw_frame fr = { f, (uint32_t)(14 + l3len) };
	struct sw_result r;

	memcpy(f, BCAST, 6);
	mac(f + 6, n);
	f[12] = (uint8_t)(type >> 8);
	f[13] = (uint8_t)type;
	memcpy(f + 14, l3, l3len);
	CHECK_EQ(sw_forward(sw, in, &fr, 1, 0, &r), 1);
	return r;
}

TEST(ip_anti_spoofing)
{
	struct sw *sw = mk();
	int net = sw_net_add(sw, "br0", 0);
	struct sw_port_conf c = { .net = net, .antispoof = true, .nip4 = 1,
				  .nip6 = 1 };
	uint8_t ip[20] = { 0x45 }, arp[28] = { 0 }, ip6[40] = { 0x60 };

	mac(c.mac, 1);
	memcpy(c.ip4[0], "\x0a\x00\x00\x02", 4);
	memcpy(c.ip6[0], "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
	int a = sw_port_add(sw, &c);
	CHECK(a >= 0);

	memcpy(ip + 12, "\x0a\x00\x00\x02", 4);
	CHECK_EQ(fwd_l3(sw, a, 1, 0x0800, ip, 20).port, SW_FLOOD);
	memcpy(ip + 12, "\x0a\x00\x00\x09", 4);
	struct sw_result r = fwd_l3(sw, a, 1, 0x0800, ip, 20);
	CHECK_EQ(r.port, SW_DROP);
	CHECK_EQ(r.reason, SW_C_DROP_SPOOF_IP);
	/* DHCP from 0.0.0.0 to port 67 passes */
	uint8_t dhcp[28] = { 0x45 };
	dhcp[9] = 17;
	dhcp[23] = 67;
	CHECK_EQ(fwd_l3(sw, a, 1, 0x0800, dhcp, 28).port, SW_FLOOD);
	dhcp[23] = 68;
	CHECK_EQ(fwd_l3(sw, a, 1, 0x0800, dhcp, 28).port, SW_DROP);

	/* ARP: our MAC and IP, or a probe; not another IP or MAC */
	mac(arp + 8, 1);
	memcpy(arp + 14, "\x0a\x00\x00\x02", 4);
	CHECK_EQ(fwd_l3(sw, a, 1, 0x0806, arp, 28).port, SW_FLOOD);
	memset(arp + 14, 0, 4);
	CHECK_EQ(fwd_l3(sw, a, 1, 0x0806, arp, 28).port, SW_FLOOD);
	memcpy(arp + 14, "\x0a\x00\x00\x07", 4);
	CHECK_EQ(fwd_l3(sw, a, 1, 0x0806, arp, 28).port, SW_DROP);
	memcpy(arp + 14, "\x0a\x00\x00\x02", 4);
	mac(arp + 8, 9);
	CHECK_EQ(fwd_l3(sw, a, 1, 0x0806, arp, 28).port, SW_DROP);

	/* IPv6: the address, ::, the EUI-64 link-local; nothing else */
	memcpy(ip6 + 8, c.ip6[0], 16);
	CHECK_EQ(fwd_l3(sw, a, 1, 0x86dd, ip6, 40).port, SW_FLOOD);
	memset(ip6 + 8, 0, 16);
	CHECK_EQ(fwd_l3(sw, a, 1, 0x86dd, ip6, 40).port, SW_FLOOD);
	const uint8_t ll[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0,
				 0x02, 0x16, 0x3e, 0xff, 0xfe, 0, 0, 1 };
	memcpy(ip6 + 8, ll, 16);
	CHECK_EQ(fwd_l3(sw, a, 1, 0x86dd, ip6, 40).port, SW_FLOOD);
	ip6[23] = 2;
	CHECK_EQ(fwd_l3(sw, a, 1, 0x86dd, ip6, 40).port, SW_DROP);
	CHECK_EQ(sw_port_counter(sw, a, SW_C_DROP_SPOOF_IP), 5);
	sw_destroy(sw);
}

TESTS_MAIN()
