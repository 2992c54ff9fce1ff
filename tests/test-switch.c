/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * switch/ alone: learning, aging, moves, static entries, limits,
 * flooding, VLANs, bridge strings, anti-spoofing, multicast filtering,
 * counters, grouping, hostile bytes, and workers forwarding while the
 * control side reconfigures. A few checks look inside (sw_priv.h) where
 * the public API cannot show the property: the bookkeeping of learned
 * counts, tombstones, a full probe window.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include "sw.h"
#include "sw_priv.h"
#include "tests.h"

static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static struct sw *
mk_sized(unsigned ports, unsigned table)
{
	struct sw_config c = { .max_ports = ports, .max_nets = 4,
			       .table_size = table, .hash_seed = 0x1234 };
	struct sw *sw = sw_create(&c);

	CHECK(sw != NULL);
	return sw;
}

static struct sw *
mk(void)
{
	return mk_sized(64, 1024);
}

static void
mac(uint8_t m[6], unsigned n)
{
	const uint8_t v[6] = { 0x00, 0x16, 0x3e, (uint8_t)(n >> 16),
			       (uint8_t)(n >> 8), (uint8_t)n };

	memcpy(m, v, 6);
}

static void
mcast(uint8_t m[6], unsigned n)
{
	const uint8_t v[6] = { 0x01, 0x00, 0x5e, 0, 0, (uint8_t)n };

	memcpy(m, v, 6);
}

/* A port with MAC number n; anti-spoofing as asked; access VLAN. */
static int
port(struct sw *sw, int net, unsigned n, bool antispoof, uint16_t vlan)
{
	struct sw_port_conf c;

	sw_port_conf_init(&c, net, false);
	c.antispoof = antispoof;
	c.vlan = vlan;
	mac(c.mac, n);
	return sw_port_add(sw, &c);
}

static int
trunk(struct sw *sw, int net, unsigned n, const char *bridge)
{
	struct sw_port_conf c;
	struct sw_vlan_conf vc;
	char name[SW_NAME_MAX];

	CHECK_EQ(sw_parse_bridge(bridge, name, &vc), 0);
	sw_port_conf_init(&c, net, false);
	c.antispoof = false;
	c.vlan_conf = &vc;
	mac(c.mac, n);
	return sw_port_add(sw, &c);
}

struct pkt {
	uint8_t b[512];
	uint32_t len;
};

static void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
add(struct pkt *p, const void *d, size_t n)
{
	memcpy(p->b + p->len, d, n);
	p->len += (uint32_t)n;
}

static void
add16(struct pkt *p, unsigned v)
{
	put16(p->b + p->len, v);
	p->len += 2;
}

/* Ethernet header; tag < 0: untagged; else an 802.1Q tag with that TCI. */
static void
eth(struct pkt *p, const uint8_t *dst, const uint8_t *src, int tag,
    unsigned et)
{
	memset(p, 0, sizeof(*p));
	add(p, dst, 6);
	add(p, src, 6);
	if (tag >= 0) {
		add16(p, 0x8100);
		add16(p, (unsigned)tag);
	}
	add16(p, et);
}

static struct sw_result
fwd(struct sw *sw, int in, const struct pkt *p, uint64_t now)
{
	struct sw_frame f = { p->b, p->len };
	struct sw_result r;

	memset(&r, 0xa5, sizeof(r));
	CHECK_EQ(sw_forward(sw, in, &f, 1, now, &r), 1);
	return r;
}

/* A plain frame from MAC src to dst, untagged unless tag >= 0. */
static struct sw_result
send(struct sw *sw, int in, const uint8_t *dst, const uint8_t *src,
     int tag, uint64_t now)
{
	struct pkt p;

	eth(&p, dst, src, tag, 0x88b5); /* local experimental ethertype */
	p.len = 60;
	return fwd(sw, in, &p, now);
}

static struct sw_result
sendn(struct sw *sw, int in, unsigned dst, unsigned src, uint64_t now)
{
	uint8_t d[6], s[6];

	mac(d, dst);
	mac(s, src);
	return send(sw, in, d, s, -1, now);
}

static bool
has_port(const uint16_t *ports, unsigned n, int p)
{
	for (unsigned i = 0; i < n; i++)
		if (ports[i] == p)
			return true;
	return false;
}

/* The flood set of a result as a bitmask of ports (< 64), with tags. */
static uint64_t
flood_set(struct sw *sw, int in, const struct sw_result *r,
	  uint16_t tags[64])
{
	struct sw_egress e[64];
	unsigned k = sw_flood(sw, in, r, e, 64);
	uint64_t set = 0;

	CHECK(k <= 64);
	for (unsigned i = 0; i < k; i++) {
		CHECK(e[i].port < 64);
		CHECK(!(set & (1ull << e[i].port)));
		set |= 1ull << e[i].port;
		if (tags)
			tags[e[i].port] = e[i].tag;
	}
	return set;
}

#define BIT(p) (1ull << (p))

TEST(counter_names)
{
	CHECK_STREQ(sw_counter_name(SW_C_RX), "rx");
	CHECK_STREQ(sw_counter_name(SW_C_DROP_SPOOF_ND), "drop_spoofed_nd");
	CHECK_STREQ(sw_counter_name(SW_C_TABLE_FULL), "table_full");
	CHECK_STREQ(sw_counter_name(SW_C_COUNT), "?");
	CHECK_STREQ(sw_counter_name((enum sw_counter)-1), "?");
	for (unsigned i = 0; i < SW_C_COUNT; i++) {
		CHECK(sw_counter_name(i)[0] != '\0');
		for (unsigned j = 0; j < i; j++)
			CHECK(strcmp(sw_counter_name(i), sw_counter_name(j)));
		CHECK_EQ(sw_counter_is_drop(i),
			 strncmp(sw_counter_name(i), "drop_", 5) == 0);
	}
}

TEST(create_limits)
{
	struct sw_config c = { .max_ports = 4, .max_nets = 1,
			       .table_size = 16 };

	CHECK(sw_create(NULL) == NULL);
	c.max_ports = 0;
	CHECK(sw_create(&c) == NULL && errno == EINVAL);
	c.max_ports = SW_MAX_PORTS + 1;
	CHECK(sw_create(&c) == NULL && errno == EINVAL);
	c.max_ports = 4;
	c.table_size = 0;
	CHECK(sw_create(&c) == NULL);
	c.table_size = 16;
	struct sw *sw = sw_create(&c);
	CHECK(sw != NULL);
	CHECK_EQ(sw_net_add(sw, "", 0), -EINVAL);
	CHECK_EQ(sw_net_add(sw, "0123456789012345678901234567890123", 0),
		 -EINVAL);
	int net = sw_net_add(sw, "br0", 0);
	CHECK_EQ(net, 0);
	CHECK_EQ(sw_net_add(sw, "br0", 0), -EEXIST);
	CHECK_EQ(sw_net_add(sw, "br1", 0), -ENOSPC);
	CHECK_EQ(sw_net_find(sw, "br0"), 0);
	CHECK_EQ(sw_net_find(sw, "br1"), -ENOENT);
	CHECK_STREQ(sw_net_name(sw, 0), "br0");
	CHECK(sw_net_name(sw, 1) == NULL);
	for (unsigned i = 0; i < 4; i++)
		CHECK_EQ(port(sw, net, i + 1, true, 0), (int)i);
	CHECK_EQ(port(sw, net, 9, true, 0), -ENOSPC);
	CHECK_EQ(port(sw, 3, 9, true, 0), -EINVAL);
	CHECK_EQ(sw_net_del(sw, net), -EBUSY);
	sw_destroy(sw);
	sw_destroy(NULL);
}

TEST(learning_and_unicast)
{
	struct sw *sw = mk();
	int net = sw_net_add(sw, "br0", 0);
	int a = port(sw, net, 1, true, 0), b = port(sw, net, 2, true, 0);
	uint8_t ma[6], mb[6];
	struct sw_result r;

	mac(ma, 1);
	mac(mb, 2);
	/* Unknown destination floods; the source is learned. */
	r = sendn(sw, a, 2, 1, 0);
	CHECK_EQ(r.port, SW_FLOOD);
	CHECK_EQ(r.flags, SW_F_UNKNOWN);
	CHECK_EQ(sw_lookup(sw, net, ma, 0), a);
	CHECK_EQ(sw_lookup(sw, net, ma, 5), -ENOENT);
	r = sendn(sw, b, 1, 2, 0);
	CHECK_EQ(r.port, a);
	CHECK_EQ(r.tag, 0);
	CHECK_EQ(r.vlan, 0);
	CHECK_EQ(r.flags, 0);
	CHECK_EQ(sendn(sw, a, 2, 1, 0).port, b);
	r = send(sw, a, BCAST, ma, -1, 0);
	CHECK_EQ(r.port, SW_FLOOD);
	CHECK_EQ(r.flags, SW_F_BCAST);
	CHECK_EQ(sw_port_counter(sw, a, SW_C_RX), 3);
	CHECK_EQ(sw_port_counter(sw, a, SW_C_FLOODED), 2);
	CHECK_EQ(sw_port_counter(sw, a, SW_C_LEARNED), 1);
	CHECK_EQ(sw_port_counter(sw, b, SW_C_LEARNED), 1);
	CHECK_EQ(sw_port_counter(sw, a, SW_C_MOVED), 0);
	CHECK_EQ(sw_net_counter(sw, net, SW_C_RX), 4);
	CHECK_EQ(sw_net_counter(sw, net, SW_C_LEARNED), 2);
	CHECK_EQ(sw_lookup(sw, 3, ma, 0), -EINVAL);
	sw_destroy(sw);
}

TEST(hairpin_dropped)
{
	struct sw *sw = mk();
	int net = sw_net_add(sw, "br0", 0);
	int a = port(sw, net, 1, false, 0), b = port(sw, net, 2, false, 0);
	struct sw_result r;

	sendn(sw, a, 99, 7, 0); /* MAC 7 lives behind a */
	r = sendn(sw, a, 7, 1, 0);
	CHECK_EQ(r.port, SW_DROP);
	CHECK_EQ(r.reason, SW_C_DROP_HAIRPIN);
	CHECK_EQ(sw_port_counter(sw, a, SW_C_DROP_HAIRPIN), 1);
	CHECK_EQ(sendn(sw, b, 7, 2, 0).port, a);
	sw_destroy(sw);
}

TEST(aging)
{
	struct sw *sw = mk();
	int net = sw_net_add(sw, "br0", 0), net2 = sw_net_add(sw, "br1", 10000);
	int a = port(sw, net, 1, false, 0), c = port(sw, net2, 3, false, 0);
	uint8_t ma[6], mc[6];

	mac(ma, 1);
	mac(mc, 3);
	sendn(sw, a, 99, 1, 0);
	sendn(sw, c, 99, 3, 0);
	/* Default 300 s, to a grain of 1.024 s. */
	CHECK_EQ(sw_age(sw, 5000), 0);
	CHECK_EQ(sw_lookup(sw, net, ma, 0), a);
	CHECK_EQ(sw_lookup(sw, net2, mc, 0), c);
	CHECK_EQ(sw_age(sw, 12000), 1); /* br1: 10 s */
	CHECK_EQ(sw_lookup(sw, net2, mc, 0), -ENOENT);
	CHECK_EQ(sw_age(sw, 299000), 0);
	CHECK_EQ(sw_lookup(sw, net, ma, 0), a);
	/* Seen again at 299 s: lives on from there. */
	sendn(sw, a, 99, 1, 299000);
	CHECK_EQ(sw_age(sw, 302000), 0);
	CHECK_EQ(sw_lookup(sw, net, ma, 0), a);
	CHECK_EQ(sw_age(sw, 601000), 1);
	CHECK_EQ(sw_lookup(sw, net, ma, 0), -ENOENT);
	/* Per network setting. */
	CHECK_EQ(sw_net_set_aging(sw, net, 2000), 0);
	sendn(sw, a, 99, 1, 700000);
	CHECK_EQ(sw_age(sw, 701000), 0);
	CHECK_EQ(sw_age(sw, 704000), 1);
	CHECK_EQ(sw_net_set_aging(sw, 3, 0), -ENOENT);
	/* A worker's clock a little ahead of the control thread's. */
	sendn(sw, a, 99, 1, 900000);
	CHECK_EQ(sw_age(sw, 899000), 0);
	CHECK_EQ(sw_lookup(sw, net, ma, 0), a);
	sw_destroy(sw);
}

TEST(mac_moves)
{
	struct sw *sw = mk();
	int net = sw_net_add(sw, "br0", 0);
	int a = port(sw, net, 1, false, 0), b = port(sw, net, 2, false, 0);
	int c = port(sw, net, 3, false, 0);
	uint8_t m[6];

	mac(m, 7);
	send(sw, a, BCAST, m, -1, 0);
	CHECK_EQ(sw_lookup(sw, net, m, 0), a);
	send(sw, b, BCAST, m, -1, 0);
	CHECK_EQ(sw_lookup(sw, net, m, 0), b);
	CHECK_EQ(sw_port_counter(sw, b, SW_C_MOVED), 1);
	CHECK_EQ(sw_port_counter(sw, b, SW_C_LEARNED), 0);
	CHECK_EQ(sw_net_counter(sw, net, SW_C_MOVED), 1);
	CHECK_EQ(sendn(sw, c, 7, 3, 0).port, b);
	/* The learned count followed it. */
	CHECK_EQ(atomic_load(&sw->ports[a].learned), 0);
	CHECK_EQ(atomic_load(&sw->ports[b].learned), 1);
	CHECK_EQ(atomic_load(&sw->nets[net].learned), 2);
	sw_destroy(sw);
}

TEST(static_entries)
{
	struct sw *sw = mk();
	int net = sw_net_add(sw, "br0", 10000);
	int a = port(sw, net, 1, false, 0), b = port(sw, net, 2, false, 0);
	int t = trunk(sw, net, 3, "br0:10");
	uint8_t ms[6], mm[6], mx[6];

	mac(ms, 99);
	mac(mx, 98);
	mcast(mm, 1);
	CHECK_EQ(sw_static_add(sw, net, ms, 0, b), 0);
	CHECK_EQ(sw_static_add(sw, net, mm, 0, b), -EINVAL);
	CHECK_EQ(sw_static_add(sw, net, ms, 4095, b), -EINVAL);
	CHECK_EQ(sw_static_add(sw, net, ms, 10, b), -EINVAL); /* not its VLAN */
	CHECK_EQ(sw_static_add(sw, net, ms, 10, t), 0);
	CHECK_EQ(sw_static_add(sw, 2, ms, 0, b), -EINVAL);
	CHECK_EQ(sendn(sw, a, 99, 1, 0).port, b);
	/* Not aged, not moved by learning. */
	CHECK_EQ(sw_age(sw, 1000000), 1);
	CHECK_EQ(sw_lookup(sw, net, ms, 0), b);
	send(sw, a, BCAST, ms, -1, 1000000);
	CHECK_EQ(sw_lookup(sw, net, ms, 0), b);
	CHECK_EQ(sw_port_counter(sw, a, SW_C_MOVED), 0);
	CHECK_EQ(sw_port_counter(sw, a, SW_C_LEARNED), 1);
	/* A static entry over a learned one takes it (uncounted). */
	sendn(sw, a, 99, 98, 1000000);
	CHECK_EQ(sw_lookup(sw, net, mx, 0), a);
	CHECK_EQ(atomic_load(&sw->ports[a].learned), 1);
	CHECK_EQ(sw_static_add(sw, net, mx, 0, b), 0);
	CHECK_EQ(sw_lookup(sw, net, mx, 0), b);
	CHECK_EQ(atomic_load(&sw->ports[a].learned), 0);
	/* Flushes leave statics; deleting it, or its port, does not. */
	CHECK_EQ(sw_net_flush(sw, net), 0);
	CHECK_EQ(sw_lookup(sw, net, ms, 0), b);
	CHECK_EQ(sw_static_del(sw, net, ms, 0), 0);
	CHECK_EQ(sw_static_del(sw, net, ms, 0), -ENOENT);
	CHECK_EQ(sw_lookup(sw, net, ms, 0), -ENOENT);
	CHECK_EQ(sw_lookup(sw, net, ms, 10), t);
	CHECK_EQ(sw_port_del(sw, t), 0);
	CHECK_EQ(sw_lookup(sw, net, ms, 10), -ENOENT);
	sw_destroy(sw);
}

struct walk {
	unsigned n, statics;
	uint64_t max_age;
};

static int
walk_fn(void *arg, const uint8_t m[6], uint16_t vlan, int port, bool st,
	uint64_t age)
{
	struct walk *w = arg;

	(void)m;
	(void)vlan;
	(void)port;
	w->n++;
	w->statics += st;
	if (age > w->max_age)
		w->max_age = age;
	return 0;
}

static int
walk_stop(void *arg, const uint8_t m[6], uint16_t vlan, int port, bool st,
	  uint64_t age)
{
	(void)arg;
	(void)m;
	(void)vlan;
	(void)port;
	(void)st;
	(void)age;
	return 42;
}

TEST(table_walk)
{
	struct sw *sw = mk();
	int net = sw_net_add(sw, "br0", 0);
	int a = port(sw, net, 1, false, 0);
	uint8_t ms[6];
	struct walk w = { 0 };

	mac(ms, 50);
	CHECK_EQ(sw_static_add(sw, net, ms, 0, a), 0);
	sendn(sw, a, 99, 1, 0);
	sendn(sw, a, 99, 2, 0);
	CHECK_EQ(sw_table_walk(sw, net, 10240, walk_fn, &w), 0);
	CHECK_EQ(w.n, 3);
	CHECK_EQ(w.statics, 1);
	CHECK_EQ(w.max_age, 10240);
	CHECK_EQ(sw_table_walk(sw, net, 0, walk_stop, NULL), 42);
	CHECK_EQ(sw_table_walk(sw, 2, 0, walk_fn, &w), -EINVAL);
	sw_destroy(sw);
}

TEST(learn_limit_port)
{
	struct sw *sw = mk();
	int net = sw_net_add(sw, "br0", 10000);
	struct sw_port_conf c;
	int a, b;

	sw_port_conf_init(&c, net, false);
	c.antispoof = false;
	c.learn_limit = 2;
	mac(c.mac, 1);
	a = sw_port_add(sw, &c);
	b = port(sw, net, 2, false, 0);
	CHECK(a >= 0);
	sendn(sw, a, 99, 10, 0);
	sendn(sw, a, 99, 11, 0);
	sendn(sw, a, 99, 12, 0);
	CHECK_EQ(sw_port_counter(sw, a, SW_C_LEARNED), 2);
	CHECK_EQ(sw_port_counter(sw, a, SW_C_LEARN_LIMIT), 1);
	/* Still forwarded; the destination just stays unknown. */
	CHECK_EQ(sendn(sw, b, 12, 2, 0).port, SW_FLOOD);
	CHECK_EQ(sendn(sw, b, 11, 2, 0).port, a);
	/* A move onto a full port is refused too. */
	sendn(sw, b, 99, 13, 0);
	sendn(sw, a, 99, 13, 0);
	CHECK_EQ(sendn(sw, b, 13, 2, 0).port, SW_DROP); /* still on b */
	CHECK_EQ(sw_port_counter(sw, a, SW_C_LEARN_LIMIT), 2);
	/* Room again once entries age out. */
	CHECK(sw_age(sw, 20000) >= 2);
	sendn(sw, a, 99, 12, 20000);
	CHECK_EQ(sw_port_counter(sw, a, SW_C_LEARNED), 3);
	sw_destroy(sw);
}

TEST(learn_limit_net)
{
	struct sw *sw = mk();
	int net = sw_net_add(sw, "br0", 0);
	int a = port(sw, net, 1, false, 0), b = port(sw, net, 2, false, 0);

	CHECK_EQ(sw_net_set_learn_limit(sw, net, 2000), -EINVAL);
	CHECK_EQ(sw_net_set_learn_limit(sw, net, 3), 0);
	sendn(sw, a, 99, 10, 0);
	sendn(sw, a, 99, 11, 0);
	sendn(sw, b, 99, 12, 0);
	sendn(sw, b, 99, 13, 0);
	CHECK_EQ(sw_port_counter(sw, b, SW_C_LEARNED), 1);
	CHECK_EQ(sw_port_counter(sw, b, SW_C_LEARN_LIMIT_NET), 1);
	CHECK_EQ(sw_net_counter(sw, net, SW_C_LEARN_LIMIT_NET), 1);
	/* A flush makes room. */
	CHECK_EQ(sw_port_flush(sw, a), 0);
	sendn(sw, b, 99, 13, 0);
	CHECK_EQ(sw_port_counter(sw, b, SW_C_LEARNED), 2);
	/* Back to the default (table_size). */
	CHECK_EQ(sw_net_set_learn_limit(sw, net, 0), 0);
	CHECK_EQ(sw_net_set_learn_limit(sw, 3, 0), -ENOENT);
	sw_destroy(sw);
}

TEST(table_full_counted)
{
	struct sw *sw = mk_sized(8, 32); /* 64 slots */
	int net = sw_net_add(sw, "br0", 0);
	int a = port(sw, net, 1, false, 0);
	uint32_t home;
	unsigned found = 0;
	uint8_t m[6];

	/* MACs that all hash to one bucket: more than a probe window. */
	mac(m, 1000);
	home = fdb_home(sw, mac_key(m, 0));
	for (unsigned n = 1000; found < FDB_PROBE + 1 && n < 2000000; n++) {
		mac(m, n);
		if (fdb_home(sw, mac_key(m, 0)) != home)
			continue;
		found++;
		sendn(sw, a, 99, n, 0);
	}
	CHECK_EQ(found, FDB_PROBE + 1);
	CHECK_EQ(sw_port_counter(sw, a, SW_C_LEARNED), FDB_PROBE);
	CHECK_EQ(sw_port_counter(sw, a, SW_C_TABLE_FULL), 1);
	CHECK_EQ(sw_static_add(sw, net, m, 0, a), -ENOSPC);
	sw_destroy(sw);
}

TEST(tombstones_cleaned)
{
	struct sw *sw = mk_sized(8, 256);
	int net = sw_net_add(sw, "br0", 1000);
	int a = port(sw, net, 1, false, 0);
	unsigned tombs = 0;

	for (unsigned i = 0; i < 200; i++)
		sendn(sw, a, 99, 100 + i, 0);
	CHECK_EQ(sw_port_counter(sw, a, SW_C_LEARNED), 200);
	CHECK_EQ(sw_age(sw, 5000), 200);
	for (uint32_t i = 0; i <= sw->mask; i++)
		if (atomic_load(&sw->nets[net].table[i].key) != K_EMPTY)
			tombs++;
	CHECK_EQ(tombs, 0);
	CHECK_EQ(atomic_load(&sw->ports[a].learned), 0);
	CHECK_EQ(atomic_load(&sw->nets[net].learned), 0);
	sw_destroy(sw);
}

TEST(flooding_rules)
{
	struct sw *sw = mk();
	int n0 = sw_net_add(sw, "br0", 0), n1 = sw_net_add(sw, "br1", 0);
	int a = port(sw, n0, 1, false, 0), b = port(sw, n0, 2, false, 0);
	int c = port(sw, n0, 3, false, 0), v10 = port(sw, n0, 4, false, 10);
	int x = port(sw, n1, 5, false, 0);
	struct sw_port_conf up;
	uint16_t ports[64];
	uint8_t ma[6], mm[6];
	struct sw_result r;
	int u;

	sw_port_conf_init(&up, n0, true);
	CHECK(!up.antispoof);
	u = sw_port_add(sw, &up);
	CHECK(u >= 0);
	CHECK_EQ(sw_port_add(sw, &up), -EEXIST);
	mac(ma, 1);
	mcast(mm, 7);
	/* Broadcast, multicast, unknown unicast: the network's VLAN but
	 * the input port. */
	r = send(sw, a, BCAST, ma, -1, 0);
	CHECK_EQ(flood_set(sw, a, &r, NULL), BIT(b) | BIT(c) | BIT(u));
	r = send(sw, a, mm, ma, -1, 0);
	CHECK_EQ(r.flags, SW_F_MCAST);
	CHECK_EQ(flood_set(sw, a, &r, NULL), BIT(b) | BIT(c) | BIT(u));
	r = sendn(sw, a, 77, 1, 0);
	CHECK_EQ(flood_set(sw, a, &r, NULL), BIT(b) | BIT(c) | BIT(u));
	CHECK_EQ(sw_flood_ports(sw, a, 0, ports, 64), 3);
	CHECK(has_port(ports, 3, b) && has_port(ports, 3, c) &&
	      has_port(ports, 3, u));
	CHECK_EQ(sw_flood_ports(sw, a, 0, ports, 2), 2);
	CHECK_EQ(sw_flood_ports(sw, v10, 10, ports, 64), 0);
	/* A flood is not a unicast result: nothing to enumerate. */
	r = sendn(sw, b, 1, 2, 0);
	CHECK_EQ(r.port, a);
	CHECK_EQ(sw_flood(sw, b, &r, NULL, 0), 0);
	/* The other network is alone. */
	r = send(sw, x, BCAST, ma, -1, 0);
	CHECK_EQ(r.port, SW_FLOOD);
	CHECK_EQ(flood_set(sw, x, &r, NULL), 0);
	/* A count beyond max is still reported. */
	struct sw_egress e[1];
	r = send(sw, a, BCAST, ma, -1, 0);
	CHECK_EQ(sw_flood(sw, a, &r, e, 1), 3);
	/* Internal network: no uplink, still floods among guests. */
	CHECK_EQ(sw_port_del(sw, u), 0);
	r = send(sw, a, BCAST, ma, -1, 0);
	CHECK_EQ(flood_set(sw, a, &r, NULL), BIT(b) | BIT(c));
	sw_destroy(sw);
}

TEST(unknown_unicast_stays_in_vlan)
{
	struct sw *sw = mk();
	int net = sw_net_add(sw, "br0", 0);
	int a = port(sw, net, 1, false, 10), b = port(sw, net, 2, false, 10);
	int c = port(sw, net, 3, false, 20);
	uint8_t ma[6], mc[6];
	struct sw_result r;

	mac(ma, 1);
	mac(mc, 3);
	sendn(sw, c, 99, 3, 0);
	/* c's MAC is known in VLAN 20 only: unknown in 10. */
	CHECK_EQ(sw_lookup(sw, net, mc, 20), c);
	CHECK_EQ(sw_lookup(sw, net, mc, 10), -ENOENT);
	r = sendn(sw, a, 3, 1, 0);
	CHECK_EQ(r.port, SW_FLOOD);
	CHECK_EQ(r.vlan, 10);
	CHECK_EQ(flood_set(sw, a, &r, NULL), BIT(b));
	/* A static entry naming a port out of the VLAN cannot be made;
	 * a stale one is not followed (see the concurrency test). */
	CHECK_EQ(sw_static_add(sw, net, ma, 20, a), -EINVAL);
	sw_destroy(sw);
}

/*
 * An entry can name a port that left, or (for a grace period, after a
 * race) one outside the frame's network or VLAN: never followed.
 */
TEST(stale_entry_not_followed)
{
	struct sw *sw = mk();
	int net = sw_net_add(sw, "br0", 0), other = sw_net_add(sw, "br1", 0);
	int a = port(sw, net, 1, false, 10), b = port(sw, net, 2, false, 10);
	int c = port(sw, net, 3, false, 20), x = port(sw, other, 4, false, 10);
	int t = trunk(sw, net, 5, "br0:10");
	uint8_t mb[6];
	uint32_t v;
	struct entry *e;
	struct sw_result r;
	uint64_t k;

	mac(mb, 2);
	sendn(sw, b, 99, 2, 0);
	CHECK_EQ(sendn(sw, a, 2, 1, 0).port, b);
	k = mac_key(mb, 10);
	e = fdb_find(sw, &sw->nets[net], k, fdb_home(sw, k), &v);
	CHECK(e != NULL);
	CHECK_EQ(v & V_PORT, b);
	/* Out of the VLAN, out of the network, gone: flooded instead. */
	const int wrong[] = { c, x, 40 };
	for (unsigned i = 0; i < 3; i++) {
		atomic_store(&e->val, (v & ~V_PORT) | (unsigned)wrong[i]);
		r = sendn(sw, a, 2, 1, 0);
		CHECK_EQ(r.port, SW_FLOOD);
		CHECK_EQ(r.flags, SW_F_UNKNOWN);
		CHECK_EQ(flood_set(sw, a, &r, NULL), BIT(b) | BIT(t));
	}
	atomic_store(&e->val, (v & ~V_PORT) | (unsigned)t);
	r = sendn(sw, a, 2, 1, 0);
	CHECK_EQ(r.port, t);
	CHECK_EQ(r.tag, 10);
	sw_destroy(sw);
}

TEST(vlan_access_ingress)
{
	struct sw *sw = mk();
	int net = sw_net_add(sw, "br0", 0);
	int a = port(sw, net, 1, false, 10), b = port(sw, net, 2, false, 10);
	int u = port(sw, net, 3, false, 0);
	uint8_t ma[6];
	struct sw_result r;

	mac(ma, 1);
	/* Tagged on an access port: dropped, counted. */
	r = send(sw, a, BCAST, ma, 10, 0);
	CHECK_EQ(r.port, SW_DROP);
	CHECK_EQ(r.reason, SW_C_DROP_VLAN_TAGGED);
	CHECK_EQ(sw_port_counter(sw, a, SW_C_DROP_VLAN_TAGGED), 1);
	/* Priority tagged (VID 0, PCP 5): the access VLAN; leaves
	 * untagged, the caller strips the tag it has. */
	sendn(sw, b, 99, 2, 0);
	uint8_t mb[6];
	mac(mb, 2);
	r = send(sw, a, mb, ma, 5 << 13, 0);
	CHECK_EQ(r.port, b);
	CHECK_EQ(r.vlan, 10);
	CHECK_EQ(r.tag, 0);
	CHECK_EQ(r.flags, SW_F_TAGGED);
	/* Untagged: the access VLAN; port u (VLAN 0) never sees it. */
	r = send(sw, a, BCAST, ma, -1, 0);
	CHECK_EQ(r.vlan, 10);
	CHECK_EQ(flood_set(sw, a, &r, NULL), BIT(b));
	r = send(sw, u, BCAST, ma, -1, 0);
	CHECK_EQ(r.vlan, 0);
	CHECK_EQ(flood_set(sw, u, &r, NULL), 0);
	/* Access VLAN out of range. */
	CHECK_EQ(port(sw, net, 4, false, 4095), -EINVAL);
	sw_destroy(sw);
}

TEST(vlan_trunk_ingress)
{
	struct sw *sw = mk();
	int net = sw_net_add(sw, "br0", 0);
	int t = trunk(sw, net, 1, "br0:10:20");     /* no native */
	int tn = trunk(sw, net, 2, "br0.30:10");    /* native 30 */
	int ta = -1;
	uint8_t ma[6];
	struct sw_result r;
	struct sw_vlan_conf all = { .trunk = true, .all = true,
				    .vid = SW_VLAN_NONE };
	struct sw_port_conf c;

	sw_port_conf_init(&c, net, false);
	c.antispoof = false;
	c.vlan_conf = &all;
	mac(c.mac, 3);
	ta = sw_port_add(sw, &c);
	CHECK(t >= 0 && tn >= 0 && ta >= 0);
	mac(ma, 1);
	r = send(sw, t, BCAST, ma, 10, 0);
	CHECK_EQ(r.port, SW_FLOOD);
	CHECK_EQ(r.vlan, 10);
	CHECK_EQ(r.flags, SW_F_TAGGED | SW_F_BCAST);
	r = send(sw, t, BCAST, ma, 0x2000 | 20, 0); /* PCP 1, VID 20 */
	CHECK_EQ(r.vlan, 20);
	r = send(sw, t, BCAST, ma, 30, 0);
	CHECK_EQ(r.port, SW_DROP);
	CHECK_EQ(r.reason, SW_C_DROP_VLAN_MEMBER);
	r = send(sw, t, BCAST, ma, 4095, 0);
	CHECK_EQ(r.reason, SW_C_DROP_VLAN_MEMBER);
	r = send(sw, t, BCAST, ma, -1, 0);
	CHECK_EQ(r.reason, SW_C_DROP_VLAN_UNTAGGED);
	r = send(sw, t, BCAST, ma, 0, 0); /* priority tag: untagged */
	CHECK_EQ(r.reason, SW_C_DROP_VLAN_UNTAGGED);
	CHECK_EQ(sw_port_counter(sw, t, SW_C_DROP_VLAN_MEMBER), 2);
	CHECK_EQ(sw_port_counter(sw, t, SW_C_DROP_VLAN_UNTAGGED), 2);
	/* Native VLAN: untagged and priority-tagged go there; tagged
	 * with the native VID too. */
	mac(ma, 2);
	CHECK_EQ(send(sw, tn, BCAST, ma, -1, 0).vlan, 30);
	CHECK_EQ(send(sw, tn, BCAST, ma, 0, 0).vlan, 30);
	CHECK_EQ(send(sw, tn, BCAST, ma, 30, 0).vlan, 30);
	CHECK_EQ(send(sw, tn, BCAST, ma, 10, 0).vlan, 10);
	CHECK_EQ(send(sw, tn, BCAST, ma, 20, 0).port, SW_DROP);
	/* A trunk of every VLAN, no native. */
	mac(ma, 3);
	CHECK_EQ(send(sw, ta, BCAST, ma, 4000, 0).vlan, 4000);
	CHECK_EQ(send(sw, ta, BCAST, ma, 4095, 0).port, SW_DROP);
	CHECK_EQ(send(sw, ta, BCAST, ma, -1, 0).port, SW_DROP);
	/* The native VLAN is carried tagged too, listed or not. */
	struct sw_vlan_conf nat = { .trunk = true, .vid = 40 };
	sw_vlan_set(&nat, 10);
	c.vlan_conf = &nat;
	mac(c.mac, 4);
	int tv = sw_port_add(sw, &c);
	CHECK(tv >= 0);
	mac(ma, 4);
	CHECK_EQ(send(sw, tv, BCAST, ma, 40, 0).vlan, 40);
	CHECK_EQ(send(sw, tv, BCAST, ma, -1, 0).vlan, 40);
	CHECK_EQ(send(sw, tv, BCAST, ma, 10, 0).vlan, 10);
	/* Bad configurations. */
	c.vlan_conf = &all;
	all.vid = 4095;
	CHECK_EQ(sw_port_add(sw, &c), -EINVAL);
	sw_destroy(sw);
}

TEST(vlan_egress)
{
	struct sw *sw = mk();
	int net = sw_net_add(sw, "br0", 0);
	int a10 = port(sw, net, 1, false, 10), a0 = port(sw, net, 2, false, 0);
	int t = trunk(sw, net, 3, "br0:10:20");
	int tn = trunk(sw, net, 4, "br0.10:20");
	int t0 = trunk(sw, net, 5, "br0:0:10");
	struct sw_vlan_conf all = { .trunk = true, .all = true, .vid = 20 };
	struct sw_port_conf c;
	uint16_t tags[64];
	uint8_t m[6];
	struct sw_result r;
	int ta;

	sw_port_conf_init(&c, net, false);
	c.antispoof = false;
	c.vlan_conf = &all;
	mac(c.mac, 6);
	ta = sw_port_add(sw, &c);
	CHECK(ta >= 0);
	/* Learn everyone in VLAN 10 where they are in it. */
	sendn(sw, a10, 99, 1, 0);
	mac(m, 3);
	send(sw, t, BCAST, m, 10, 0);
	mac(m, 4);
	send(sw, tn, BCAST, m, -1, 0);
	mac(m, 5);
	send(sw, t0, BCAST, m, 10, 0);
	mac(m, 6);
	send(sw, ta, BCAST, m, 10, 0);
	/*
	 * Unicast egress: the tag a frame leaves with, and whether that
	 * changes it (RETAG). Hosts: 1 on a10, 3 on t, 4 on tn, 6 on ta.
	 */
	const struct {
		int in;
		unsigned src, dst;
		int tag_in; /* -1: untagged */
		int port;
		uint16_t tag;
		unsigned flags;
	} eg[] = {
		/* Access 10 -> trunk: tagged 10. Native 10: untagged. */
		{ a10, 1, 3, -1, t, 10, SW_F_RETAG },
		{ a10, 1, 4, -1, tn, 0, 0 },
		/* Trunk -> access: untagged, the caller strips. */
		{ t, 3, 1, 10, a10, 0, SW_F_TAGGED | SW_F_RETAG },
		/* Trunk -> trunk in the same VLAN: the tag stays. */
		{ t, 3, 6, 10, ta, 10, SW_F_TAGGED },
		/* Priority-tagged (VID 0) into tn's native VLAN 10: to the
		 * access port untagged is wanted, the VID-0 tag is kept;
		 * to the trunk t the VID 0 becomes 10. */
		{ tn, 4, 1, 0, a10, 0, SW_F_TAGGED },
		{ tn, 4, 3, 0, t, 10, SW_F_TAGGED | SW_F_RETAG },
	};
	for (unsigned i = 0; i < sizeof(eg) / sizeof(eg[0]); i++) {
		uint8_t d[6];

		mac(m, eg[i].src);
		mac(d, eg[i].dst);
		r = send(sw, eg[i].in, d, m, eg[i].tag_in, 0);
		if (r.port != eg[i].port || r.tag != eg[i].tag ||
		    r.flags != eg[i].flags)
			FAIL("egress case %u: port %u tag %u flags %#x, "
			     "want %d %u %#x",
			     i, r.port, r.tag, r.flags, eg[i].port, eg[i].tag,
			     eg[i].flags);
	}
	/* Flood in 10 from a10: every carrier, with its tag. */
	mac(m, 1);
	r = send(sw, a10, BCAST, m, -1, 0);
	memset(tags, 0xee, sizeof(tags));
	CHECK_EQ(flood_set(sw, a10, &r, tags),
		 BIT(t) | BIT(tn) | BIT(t0) | BIT(ta));
	CHECK_EQ(tags[t], 10);
	CHECK_EQ(tags[tn], 0);
	CHECK_EQ(tags[t0], 10);
	CHECK_EQ(tags[ta], 10);
	/* Flood in 0 (untagged network): a0 and the trunk whose native
	 * it is, untagged. */
	mac(m, 2);
	r = send(sw, a0, BCAST, m, -1, 0);
	CHECK_EQ(flood_set(sw, a0, &r, tags), BIT(t0));
	CHECK_EQ(tags[t0], 0);
	/* Flood in 20: t, tn tagged; ta natively. */
	mac(m, 3);
	r = send(sw, t, BCAST, m, 20, 0);
	CHECK_EQ(flood_set(sw, t, &r, tags), BIT(tn) | BIT(ta));
	CHECK_EQ(tags[tn], 20);
	CHECK_EQ(tags[ta], 0);
	/* A VLAN only the all-trunk carries: nobody else. */
	mac(m, 6);
	r = send(sw, ta, BCAST, m, 3000, 0);
	CHECK_EQ(r.vlan, 3000);
	CHECK_EQ(flood_set(sw, ta, &r, NULL), 0);
	sw_destroy(sw);
}

TEST(vlan_stacking)
{
	struct sw *sw = mk();
	int net = sw_net_add(sw, "br0", 0);
	int t = trunk(sw, net, 1, "br0:10");
	int a = port(sw, net, 2, false, 0);
	int g = port(sw, net, 3, true, 0);
	uint8_t m[6];
	struct pkt p;
	struct sw_result r;

	/* QinQ: the outer tag decides, the inner one is payload. */
	mac(m, 1);
	eth(&p, BCAST, m, 10, 0x8100);
	add16(&p, 20);
	add16(&p, 0x0800);
	p.len = 64;
	r = fwd(sw, t, &p, 0);
	CHECK_EQ(r.port, SW_FLOOD);
	CHECK_EQ(r.vlan, 10);
	/* 802.1ad is not a tag we read: untagged on an access port. */
	mac(m, 2);
	eth(&p, BCAST, m, -1, 0x88a8);
	add16(&p, 10);
	p.len = 64;
	r = fwd(sw, a, &p, 0);
	CHECK_EQ(r.port, SW_FLOOD);
	CHECK_EQ(r.vlan, 0);
	/* ... but a guest under anti-spoofing may not hide behind one. */
	mac(m, 3);
	eth(&p, BCAST, m, -1, 0x88a8);
	p.len = 64;
	r = fwd(sw, g, &p, 0);
	CHECK_EQ(r.reason, SW_C_DROP_SPOOF_STACKED);
	eth(&p, BCAST, m, 0, 0x8100);
	p.len = 64;
	r = fwd(sw, g, &p, 0);
	CHECK_EQ(r.reason, SW_C_DROP_SPOOF_STACKED);
	sw_destroy(sw);
}

TEST(parse_bridge)
{
	struct sw_vlan_conf vc;
	char name[SW_NAME_MAX];

	CHECK_EQ(sw_parse_bridge("xenbr0", name, &vc), 0);
	CHECK_STREQ(name, "xenbr0");
	CHECK(!vc.trunk);
	CHECK_EQ(vc.vid, 0);
	CHECK_EQ(sw_parse_bridge("br-ex.42", name, &vc), 0);
	CHECK_STREQ(name, "br-ex");
	CHECK(!vc.trunk);
	CHECK_EQ(vc.vid, 42);
	CHECK_EQ(sw_parse_bridge("br0.0", name, &vc), 0);
	CHECK_EQ(vc.vid, 0);
	CHECK_EQ(sw_parse_bridge("br0:10:20:4094", name, &vc), 0);
	CHECK_STREQ(name, "br0");
	CHECK(vc.trunk && !vc.all);
	CHECK_EQ(vc.vid, SW_VLAN_NONE);
	CHECK(sw_vlan_isset(&vc, 10) && sw_vlan_isset(&vc, 20) &&
	      sw_vlan_isset(&vc, 4094));
	CHECK(!sw_vlan_isset(&vc, 11) && !sw_vlan_isset(&vc, 0));
	CHECK_EQ(sw_parse_bridge("br0.5:10", name, &vc), 0);
	CHECK(vc.trunk);
	CHECK_EQ(vc.vid, 5);
	CHECK(sw_vlan_isset(&vc, 5) && sw_vlan_isset(&vc, 10));
	CHECK_EQ(sw_parse_bridge("br0:0:7", name, &vc), 0);
	CHECK(vc.trunk);
	CHECK_EQ(vc.vid, 0);
	CHECK(sw_vlan_isset(&vc, 7) && !sw_vlan_isset(&vc, 0));
	CHECK_EQ(sw_parse_bridge("br0.0:0:7", name, &vc), 0);
	CHECK_EQ(sw_parse_bridge("br0:007", name, &vc), 0);
	CHECK(sw_vlan_isset(&vc, 7));
	CHECK_EQ(sw_parse_bridge("b", name, &vc), 0);
	CHECK_EQ(sw_parse_bridge("0123456789012345678901234567890", name,
				 &vc),
		 0);
	/* Bad input changes nothing in name. */
	strcpy(name, "keep");
	static const char *const bad[] = {
		"", ".10", ":10", "br0.", "br0:", "br0:10:", "br0::10",
		"br0.4095", "br0:4095", "br0.99999999999999999999",
		"br0.10.20", "br0:10.20", "br0.-1", "br0.+1", "br0. 1",
		"br0.1x", "br0:0x10", "br0.5:0",
		"01234567890123456789012345678901",
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sw_parse_bridge(bad[i], name, &vc) != -EINVAL)
			FAIL("accepted \"%s\"", bad[i]);
	}
	CHECK_STREQ(name, "keep");
	CHECK_EQ(sw_parse_bridge(NULL, name, &vc), -EINVAL);
}

/* IPv4/UDP from src to dst, ports sp -> dp. */
static void
ip4_udp(struct pkt *p, const uint8_t *src, const uint8_t *dst, unsigned sp,
	unsigned dp)
{
	uint8_t h[28] = { 0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17 };

	memcpy(h + 12, src, 4);
	memcpy(h + 16, dst, 4);
	put16(h + 20, sp);
	put16(h + 22, dp);
	put16(h + 24, 8);
	add(p, h, sizeof(h));
}

static void
arp(struct pkt *p, unsigned op, const uint8_t *sha, const uint8_t *spa,
    const uint8_t *tpa)
{
	uint8_t h[28] = { 0, 1, 8, 0, 6, 4 };

	put16(h + 6, op);
	memcpy(h + 8, sha, 6);
	memcpy(h + 14, spa, 4);
	memcpy(h + 24, tpa, 4);
	add(p, h, sizeof(h));
}

static const uint8_t IP_A[4] = { 10, 0, 0, 1 };
static const uint8_t IP_B[4] = { 10, 0, 0, 2 };
static const uint8_t IP_X[4] = { 10, 0, 0, 9 };
static const uint8_t IP_0[4] = { 0, 0, 0, 0 };
static const uint8_t IP_BC[4] = { 255, 255, 255, 255 };
static const uint8_t IP6_A[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t IP6_X[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 9 };
static const uint8_t IP6_ANY[16];
static const uint8_t IP6_ALLNODES[16] = { 0xff, 0x02, [15] = 1 };
static const uint8_t IP6_SNM[16] = { 0xff, 0x02, [11] = 1, [12] = 0xff,
				     [15] = 1 };
static const uint8_t IP6_GLOBALMC[16] = { 0xff, 0x0e, [15] = 1 };

/* A guest port with MAC 1, 10.0.0.1 and 2001:db8::1. */
static int
guest(struct sw *sw, int net, uint8_t m[6])
{
	struct sw_port_conf c;

	sw_port_conf_init(&c, net, false);
	CHECK(c.antispoof);
	mac(c.mac, 1);
	memcpy(m, c.mac, 6);
	c.nip4 = 1;
	memcpy(c.ip4[0], IP_A, 4);
	c.nip6 = 1;
	memcpy(c.ip6[0], IP6_A, 16);
	return sw_port_add(sw, &c);
}

static void
lla_of(uint8_t a[16], const uint8_t m[6])
{
	memset(a, 0, 16);
	a[0] = 0xfe;
	a[1] = 0x80;
	a[8] = m[0] ^ 2;
	a[9] = m[1];
	a[10] = m[2];
	a[11] = 0xff;
	a[12] = 0xfe;
	a[13] = m[3];
	a[14] = m[4];
	a[15] = m[5];
}

TEST(antispoof_mac)
{
	struct sw *sw = mk();
	int net = sw_net_add(sw, "br0", 0);
	int a = port(sw, net, 1, true, 0);
	struct sw_port_conf up, bad;
	uint8_t ma[6], mx[6], zero[6] = { 0 }, mm[6];
	struct sw_result r;
	struct pkt p;
	int u;

	sw_port_conf_init(&up, net, true);
	u = sw_port_add(sw, &up);
	mac(ma, 1);
	mac(mx, 2);
	mcast(mm, 1);
	CHECK_EQ(send(sw, a, BCAST, ma, -1, 0).port, SW_FLOOD);
	r = send(sw, a, BCAST, mx, -1, 0);
	CHECK_EQ(r.port, SW_DROP);
	CHECK_EQ(r.reason, SW_C_DROP_SPOOF_MAC);
	CHECK_EQ(sw_lookup(sw, net, mx, 0), -ENOENT); /* not learned */
	/* ARP sender MAC must match too, even with no addresses set. */
	eth(&p, BCAST, ma, -1, 0x0806);
	arp(&p, 1, mx, IP_X, IP_B);
	CHECK_EQ(fwd(sw, a, &p, 0).reason, SW_C_DROP_SPOOF_ARP);
	eth(&p, BCAST, ma, -1, 0x0806);
	arp(&p, 1, ma, IP_X, IP_B);
	CHECK_EQ(fwd(sw, a, &p, 0).port, SW_FLOOD); /* no IP list: any IP */
	/* Without addresses, IPv4 from anywhere. */
	eth(&p, BCAST, ma, -1, 0x0800);
	ip4_udp(&p, IP_X, IP_BC, 1, 2);
	CHECK_EQ(fwd(sw, a, &p, 0).port, SW_FLOOD);
	/* The uplink is not checked; switched off, neither is a. */
	CHECK_EQ(send(sw, u, BCAST, mx, -1, 0).port, SW_FLOOD);
	CHECK_EQ(sw_port_set_antispoof(sw, a, false), 0);
	CHECK_EQ(send(sw, a, BCAST, mx, -1, 0).port, SW_FLOOD);
	CHECK_EQ(sw_port_set_antispoof(sw, a, true), 0);
	CHECK_EQ(send(sw, a, BCAST, mx, -1, 0).port, SW_DROP);
	CHECK_EQ(sw_port_counter(sw, a, SW_C_DROP_SPOOF_MAC), 2);
	CHECK_EQ(sw_port_set_antispoof(sw, 60, true), -ENOENT);
	/* Never a multicast or zero source, checked or not. */
	CHECK_EQ(send(sw, u, BCAST, mm, -1, 0).reason, SW_C_DROP_BAD_SRC);
	CHECK_EQ(send(sw, u, BCAST, zero, -1, 0).reason, SW_C_DROP_BAD_SRC);
	/* Anti-spoofing needs a MAC to hold the port to. */
	sw_port_conf_init(&bad, net, false);
	CHECK_EQ(sw_port_add(sw, &bad), -EINVAL);
	CHECK_EQ(sw_port_set_antispoof(sw, u, true), -EINVAL);
	bad.nip4 = SW_MAX_IPS + 1;
	mac(bad.mac, 5);
	CHECK_EQ(sw_port_add(sw, &bad), -EINVAL);
	sw_destroy(sw);
}

TEST(antispoof_ip4)
{
	struct sw *sw = mk();
	int net = sw_net_add(sw, "br0", 0);
	uint8_t m[6];
	int a = guest(sw, net, m);
	struct pkt p;

	CHECK(a >= 0);
	eth(&p, BCAST, m, -1, 0x0800);
	ip4_udp(&p, IP_A, IP_B, 1000, 53);
	CHECK_EQ(fwd(sw, a, &p, 0).port, SW_FLOOD);
	eth(&p, BCAST, m, -1, 0x0800);
	ip4_udp(&p, IP_X, IP_B, 1000, 53);
	CHECK_EQ(fwd(sw, a, &p, 0).reason, SW_C_DROP_SPOOF_IP4);
	/* Priority-tagged: the IP header is after the tag. */
	eth(&p, BCAST, m, 0, 0x0800);
	ip4_udp(&p, IP_X, IP_B, 1000, 53);
	CHECK_EQ(fwd(sw, a, &p, 0).reason, SW_C_DROP_SPOOF_IP4);
	/* DHCP from 0.0.0.0: 68 -> 67 only. */
	eth(&p, BCAST, m, -1, 0x0800);
	ip4_udp(&p, IP_0, IP_BC, 68, 67);
	CHECK_EQ(fwd(sw, a, &p, 0).port, SW_FLOOD);
	eth(&p, BCAST, m, -1, 0x0800);
	ip4_udp(&p, IP_0, IP_BC, 1000, 67);
	CHECK_EQ(fwd(sw, a, &p, 0).reason, SW_C_DROP_SPOOF_IP4);
	eth(&p, BCAST, m, -1, 0x0800);
	ip4_udp(&p, IP_0, IP_BC, 68, 53);
	CHECK_EQ(fwd(sw, a, &p, 0).reason, SW_C_DROP_SPOOF_IP4);
	eth(&p, BCAST, m, -1, 0x0800);
	ip4_udp(&p, IP_0, IP_BC, 68, 67);
	p.b[14 + 9] = 6; /* TCP */
	CHECK_EQ(fwd(sw, a, &p, 0).reason, SW_C_DROP_SPOOF_IP4);
	eth(&p, BCAST, m, -1, 0x0800);
	ip4_udp(&p, IP_0, IP_BC, 68, 67);
	p.b[14 + 7] = 8; /* a later fragment */
	CHECK_EQ(fwd(sw, a, &p, 0).reason, SW_C_DROP_SPOOF_IP4);
	eth(&p, BCAST, m, -1, 0x0800);
	ip4_udp(&p, IP_0, IP_BC, 68, 67);
	p.len -= 6; /* UDP header cut */
	CHECK_EQ(fwd(sw, a, &p, 0).reason, SW_C_DROP_SPOOF_IP4);
	/* Truncated or not IPv4 at all. */
	eth(&p, BCAST, m, -1, 0x0800);
	ip4_udp(&p, IP_A, IP_B, 1, 2);
	p.len = 14 + 19;
	CHECK_EQ(fwd(sw, a, &p, 0).reason, SW_C_DROP_SPOOF_IP4);
	eth(&p, BCAST, m, -1, 0x0800);
	ip4_udp(&p, IP_A, IP_B, 1, 2);
	p.b[14] = 0x65;
	CHECK_EQ(fwd(sw, a, &p, 0).reason, SW_C_DROP_SPOOF_IP4);
	CHECK_EQ(sw_port_counter(sw, a, SW_C_DROP_SPOOF_IP4), 9);
	/* Other ethertypes pass once the MAC is right. */
	CHECK_EQ(send(sw, a, BCAST, m, -1, 0).port, SW_FLOOD);
	sw_destroy(sw);
}

TEST(antispoof_arp)
{
	struct sw *sw = mk();
	int net = sw_net_add(sw, "br0", 0);
	uint8_t m[6], mx[6];
	int a = guest(sw, net, m);
	struct pkt p;

	mac(mx, 2);
	eth(&p, BCAST, m, -1, 0x0806);
	arp(&p, 1, m, IP_A, IP_B);
	CHECK_EQ(fwd(sw, a, &p, 0).port, SW_FLOOD);
	eth(&p, BCAST, m, -1, 0x0806);
	arp(&p, 2, m, IP_A, IP_B);
	CHECK_EQ(fwd(sw, a, &p, 0).port, SW_FLOOD);
	/* Probe (RFC 5227): sender IP 0.0.0.0. */
	eth(&p, BCAST, m, -1, 0x0806);
	arp(&p, 1, m, IP_0, IP_A);
	CHECK_EQ(fwd(sw, a, &p, 0).port, SW_FLOOD);
	/* Another's IP, or another's MAC. */
	eth(&p, BCAST, m, -1, 0x0806);
	arp(&p, 2, m, IP_B, IP_A);
	CHECK_EQ(fwd(sw, a, &p, 0).reason, SW_C_DROP_SPOOF_ARP);
	eth(&p, BCAST, m, -1, 0x0806);
	arp(&p, 2, mx, IP_A, IP_B);
	CHECK_EQ(fwd(sw, a, &p, 0).reason, SW_C_DROP_SPOOF_ARP);
	/* Not Ethernet/IPv4, or truncated. */
	eth(&p, BCAST, m, -1, 0x0806);
	arp(&p, 1, m, IP_A, IP_B);
	p.b[14 + 1] = 6;
	CHECK_EQ(fwd(sw, a, &p, 0).reason, SW_C_DROP_SPOOF_ARP);
	eth(&p, BCAST, m, -1, 0x0806);
	arp(&p, 1, m, IP_A, IP_B);
	p.len -= 1;
	CHECK_EQ(fwd(sw, a, &p, 0).reason, SW_C_DROP_SPOOF_ARP);
	CHECK_EQ(sw_port_counter(sw, a, SW_C_DROP_SPOOF_ARP), 4);
	sw_destroy(sw);
}

/* IPv6 header; the payload follows; ip6_end() sets its length. */
static uint32_t
ip6(struct pkt *p, const uint8_t *src, const uint8_t *dst, unsigned nh)
{
	uint8_t h[40] = { 0x60, 0, 0, 0, 0, 0, (uint8_t)nh, 255 };
	uint32_t start = p->len;

	memcpy(h + 8, src, 16);
	memcpy(h + 24, dst, 16);
	add(p, h, sizeof(h));
	return start;
}

static void
ip6_end(struct pkt *p, uint32_t start)
{
	put16(p->b + start + 4, p->len - start - 40);
}

/* ND message: type, target, then an option (opt 0: none) with mac. */
static void
nd(struct pkt *p, unsigned type, const uint8_t *target, unsigned opt,
   const uint8_t *m)
{
	uint8_t h[24] = { (uint8_t)type };

	memcpy(h + 8, target, 16);
	add(p, h, sizeof(h));
	if (opt) {
		uint8_t o[8] = { (uint8_t)opt, 1 };

		memcpy(o + 2, m, 6);
		add(p, o, sizeof(o));
	}
}

static struct sw_result
send_nd(struct sw *sw, int in, const uint8_t *m, const uint8_t *src,
	const uint8_t *dst, unsigned type, const uint8_t *target,
	unsigned opt, const uint8_t *om)
{
	struct pkt p;
	uint32_t s;

	eth(&p, BCAST, m, -1, 0x86dd);
	s = ip6(&p, src, dst, 58);
	nd(&p, type, target, opt, om);
	ip6_end(&p, s);
	return fwd(sw, in, &p, 0);
}

TEST(antispoof_ip6)
{
	struct sw *sw = mk();
	int net = sw_net_add(sw, "br0", 0);
	uint8_t m[6], lla[16], lla_x[16], mx[6];
	int a = guest(sw, net, m);
	struct pkt p;
	uint32_t s;

	mac(mx, 2);
	lla_of(lla, m);
	lla_of(lla_x, mx);
	eth(&p, BCAST, m, -1, 0x86dd);
	s = ip6(&p, IP6_A, IP6_ALLNODES, 17);
	add(&p, "\0\1\0\2\0\10\0\0", 8);
	ip6_end(&p, s);
	CHECK_EQ(fwd(sw, a, &p, 0).port, SW_FLOOD);
	eth(&p, BCAST, m, -1, 0x86dd);
	s = ip6(&p, lla, IP6_ALLNODES, 17);
	add(&p, "\0\1\0\2\0\10\0\0", 8);
	ip6_end(&p, s);
	CHECK_EQ(fwd(sw, a, &p, 0).port, SW_FLOOD);
	eth(&p, BCAST, m, -1, 0x86dd);
	s = ip6(&p, IP6_X, IP6_ALLNODES, 17);
	ip6_end(&p, s);
	CHECK_EQ(fwd(sw, a, &p, 0).reason, SW_C_DROP_SPOOF_IP6);
	eth(&p, BCAST, m, -1, 0x86dd);
	s = ip6(&p, lla_x, IP6_ALLNODES, 17);
	ip6_end(&p, s);
	CHECK_EQ(fwd(sw, a, &p, 0).reason, SW_C_DROP_SPOOF_IP6);
	/* DAD: from :: to the solicited-node group, for its own address. */
	CHECK_EQ(send_nd(sw, a, m, IP6_ANY, IP6_SNM, 135, IP6_A, 0, NULL)
		     .port,
		 SW_FLOOD);
	CHECK_EQ(send_nd(sw, a, m, IP6_ANY, IP6_SNM, 135, lla, 0, NULL).port,
		 SW_FLOOD);
	CHECK_EQ(send_nd(sw, a, m, IP6_ANY, IP6_SNM, 135, IP6_X, 0, NULL)
		     .reason,
		 SW_C_DROP_SPOOF_ND);
	/* :: for anything else, or beyond the link: no. */
	CHECK_EQ(send_nd(sw, a, m, IP6_ANY, IP6_SNM, 136, IP6_A, 0, NULL)
		     .reason,
		 SW_C_DROP_SPOOF_IP6);
	CHECK_EQ(send_nd(sw, a, m, IP6_ANY, IP6_GLOBALMC, 135, IP6_A, 0, NULL)
		     .reason,
		 SW_C_DROP_SPOOF_IP6);
	eth(&p, BCAST, m, -1, 0x86dd);
	s = ip6(&p, IP6_ANY, IP6_ALLNODES, 17);
	ip6_end(&p, s);
	CHECK_EQ(fwd(sw, a, &p, 0).reason, SW_C_DROP_SPOOF_IP6);
	/* MLDv2 report from ::, after a hop-by-hop router alert. */
	eth(&p, BCAST, m, -1, 0x86dd);
	s = ip6(&p, IP6_ANY, IP6_SNM, 0);
	add(&p, "\x3a\0\5\2\0\0\1\0", 8);
	add(&p, "\x8f\0\0\0\0\0\0\0", 8);
	ip6_end(&p, s);
	CHECK_EQ(fwd(sw, a, &p, 0).port, SW_FLOOD);
	/* Truncated, or not IPv6. */
	eth(&p, BCAST, m, -1, 0x86dd);
	s = ip6(&p, IP6_A, IP6_ALLNODES, 17);
	p.len = 14 + 39;
	CHECK_EQ(fwd(sw, a, &p, 0).reason, SW_C_DROP_SPOOF_IP6);
	eth(&p, BCAST, m, -1, 0x86dd);
	s = ip6(&p, IP6_A, IP6_ALLNODES, 17);
	p.b[14] = 0x40;
	CHECK_EQ(fwd(sw, a, &p, 0).reason, SW_C_DROP_SPOOF_IP6);
	CHECK_EQ(sw_port_counter(sw, a, SW_C_DROP_SPOOF_IP6), 7);
	CHECK_EQ(sw_port_counter(sw, a, SW_C_DROP_SPOOF_ND), 1);
	sw_destroy(sw);
}

TEST(antispoof_ip6_family)
{
	/* Only IPv4 configured: IPv6 from the link-local address only. */
	struct sw *sw = mk();
	int net = sw_net_add(sw, "br0", 0);
	struct sw_port_conf c;
	uint8_t lla[16];
	struct pkt p;
	uint32_t s;
	int a;

	sw_port_conf_init(&c, net, false);
	mac(c.mac, 1);
	c.nip4 = 1;
	memcpy(c.ip4[0], IP_A, 4);
	a = sw_port_add(sw, &c);
	lla_of(lla, c.mac);
	eth(&p, BCAST, c.mac, -1, 0x86dd);
	s = ip6(&p, IP6_A, IP6_ALLNODES, 17);
	ip6_end(&p, s);
	CHECK_EQ(fwd(sw, a, &p, 0).reason, SW_C_DROP_SPOOF_IP6);
	eth(&p, BCAST, c.mac, -1, 0x86dd);
	s = ip6(&p, lla, IP6_ALLNODES, 17);
	ip6_end(&p, s);
	CHECK_EQ(fwd(sw, a, &p, 0).port, SW_FLOOD);
	sw_destroy(sw);
}

TEST(antispoof_nd)
{
	struct sw *sw = mk();
	int net = sw_net_add(sw, "br0", 0);
	uint8_t m[6], mx[6], lla[16];
	int a = guest(sw, net, m);
	struct pkt p;
	uint32_t s;

	mac(mx, 2);
	lla_of(lla, m);
	/* Advertisements: for its own address, its own MAC. */
	CHECK_EQ(send_nd(sw, a, m, IP6_A, IP6_ALLNODES, 136, IP6_A, 2, m).port,
		 SW_FLOOD);
	CHECK_EQ(send_nd(sw, a, m, lla, IP6_ALLNODES, 136, IP6_A, 0, NULL)
		     .port,
		 SW_FLOOD);
	CHECK_EQ(send_nd(sw, a, m, IP6_A, IP6_ALLNODES, 136, IP6_X, 2, m)
		     .reason,
		 SW_C_DROP_SPOOF_ND);
	CHECK_EQ(send_nd(sw, a, m, IP6_A, IP6_ALLNODES, 136, IP6_A, 2, mx)
		     .reason,
		 SW_C_DROP_SPOOF_ND);
	/* Solicitations: any target, its own source link-layer address. */
	CHECK_EQ(send_nd(sw, a, m, IP6_A, IP6_SNM, 135, IP6_X, 1, m).port,
		 SW_FLOOD);
	CHECK_EQ(send_nd(sw, a, m, IP6_A, IP6_SNM, 135, IP6_X, 1, mx).reason,
		 SW_C_DROP_SPOOF_ND);
	/* An unrelated option with another MAC is fine. */
	CHECK_EQ(send_nd(sw, a, m, IP6_A, IP6_SNM, 135, IP6_X, 2, mx).port,
		 SW_FLOOD);
	/* A zero-length option. */
	eth(&p, BCAST, m, -1, 0x86dd);
	s = ip6(&p, IP6_A, IP6_ALLNODES, 58);
	nd(&p, 136, IP6_A, 2, m);
	p.b[p.len - 7] = 0;
	ip6_end(&p, s);
	CHECK_EQ(fwd(sw, a, &p, 0).reason, SW_C_DROP_SPOOF_ND);
	/* The option is past what we can read (payload length says more):
	 * whatever the bytes there, we cannot vouch for them. */
	eth(&p, BCAST, m, -1, 0x86dd);
	s = ip6(&p, IP6_A, IP6_ALLNODES, 58);
	nd(&p, 136, IP6_A, 2, m);
	ip6_end(&p, s);
	p.len -= 8;
	CHECK_EQ(fwd(sw, a, &p, 0).reason, SW_C_DROP_SPOOF_ND);
	/* The message itself cut short. */
	eth(&p, BCAST, m, -1, 0x86dd);
	s = ip6(&p, IP6_A, IP6_ALLNODES, 58);
	nd(&p, 136, IP6_A, 0, NULL);
	p.len -= 4;
	ip6_end(&p, s);
	CHECK_EQ(fwd(sw, a, &p, 0).reason, SW_C_DROP_SPOOF_ND);
	/* Ethernet padding after the payload is not an option. */
	eth(&p, BCAST, m, -1, 0x86dd);
	s = ip6(&p, IP6_A, IP6_ALLNODES, 58);
	nd(&p, 136, IP6_A, 0, NULL);
	ip6_end(&p, s);
	p.b[p.len] = 2;
	p.len += 8;
	CHECK_EQ(fwd(sw, a, &p, 0).port, SW_FLOOD);
	CHECK_EQ(sw_port_counter(sw, a, SW_C_DROP_SPOOF_ND), 6);
	sw_destroy(sw);
}

/*
 * An ICMPv6 message laid out as ND (type, target, an option) behind
 * the extension headers hdrs[0 .. n), each 8 bytes: 0 hop-by-hop and
 * 60 destination options (a PadN each), 43 routing (an unknown type,
 * no segment left), 44 fragment (offset 0, more fragments unless
 * atomic), 51 authentication (no ICV), 50 ESP (opaque from there on).
 */
static void
nd_chain(struct pkt *p, const uint8_t *m, const uint8_t *src,
	 const uint8_t *hdrs, unsigned n, bool atomic, unsigned type,
	 const uint8_t *target, unsigned opt, const uint8_t *om)
{
	uint32_t s;

	eth(p, BCAST, m, -1, 0x86dd);
	s = ip6(p, src, src[0] == 0 ? IP6_SNM : IP6_ALLNODES,
		n ? hdrs[0] : 58);
	for (unsigned i = 0; i < n; i++) {
		uint8_t h[8] = { i + 1 < n ? hdrs[i + 1] : 58 };

		if (hdrs[i] == 44) {
			h[3] = atomic ? 0 : 1;
			h[7] = 0x42;
		} else if (hdrs[i] == 43) {
			h[2] = 253;
		} else {
			h[2] = 1;
			h[3] = 4;
		}
		add(p, h, sizeof(h));
	}
	nd(p, type, target, opt, om);
	ip6_end(p, s);
}

static struct sw_result
send_chain(struct sw *sw, int in, const uint8_t *m, const uint8_t *src,
	   const uint8_t *hdrs, unsigned n, unsigned type,
	   const uint8_t *target, unsigned opt, const uint8_t *om)
{
	struct pkt p;

	nd_chain(&p, m, src, hdrs, n, false, type, target, opt, om);
	return fwd(sw, in, &p, 0);
}

static const uint8_t CH_DST[] = { 60 };
static const uint8_t CH_HBH_DST[] = { 0, 60 };
static const uint8_t CH_RT[] = { 43 };
static const uint8_t CH_FRAG[] = { 44 };
static const uint8_t CH_DST_FRAG[] = { 0, 60, 44 };
static const uint8_t CH_DST_HBH[] = { 60, 0 };
static const uint8_t CH_AH[] = { 60, 51 };
static const uint8_t CH_ESP[] = { 50 };
static const uint8_t CH_LONG[] = { 0, 60, 60, 60, 60, 60, 60, 60, 60 };
_Static_assert(sizeof(CH_LONG) == SW_IP6_MAX_EXT + 1, "one too many");

/* ND behind extension headers is checked as ND right after IPv6. */
TEST(antispoof_nd_ext_headers)
{
	struct sw *sw = mk();
	int net = sw_net_add(sw, "br0", 0);
	uint8_t m[6], mx[6];
	int a = guest(sw, net, m);
	struct pkt p;

	mac(mx, 2);
	/* A foreign target, or a foreign MAC, however deep. */
	CHECK_EQ(send_chain(sw, a, m, IP6_A, CH_DST, 1, 136, IP6_X, 2, m)
		     .reason,
		 SW_C_DROP_SPOOF_ND);
	CHECK_EQ(send_chain(sw, a, m, IP6_A, CH_HBH_DST, 2, 136, IP6_X, 2, m)
		     .reason,
		 SW_C_DROP_SPOOF_ND);
	CHECK_EQ(send_chain(sw, a, m, IP6_A, CH_RT, 1, 136, IP6_A, 2, mx)
		     .reason,
		 SW_C_DROP_SPOOF_ND);
	CHECK_EQ(send_chain(sw, a, m, IP6_A, CH_DST, 1, 135, IP6_X, 1, mx)
		     .reason,
		 SW_C_DROP_SPOOF_ND);
	CHECK_EQ(send_chain(sw, a, m, IP6_A, CH_AH, 2, 136, IP6_X, 2, m)
		     .reason,
		 SW_C_DROP_SPOOF_ND);
	CHECK_EQ(send_chain(sw, a, m, IP6_ANY, CH_DST, 1, 135, IP6_X, 0,
			    NULL)
		     .reason,
		 SW_C_DROP_SPOOF_ND);
	/* Its own: fine, up to the limit of headers. */
	CHECK_EQ(send_chain(sw, a, m, IP6_A, CH_HBH_DST, 2, 136, IP6_A, 2, m)
		     .port,
		 SW_FLOOD);
	CHECK_EQ(send_chain(sw, a, m, IP6_ANY, CH_DST, 1, 135, IP6_A, 0,
			    NULL)
		     .port,
		 SW_FLOOD);
	CHECK_EQ(send_chain(sw, a, m, IP6_A, CH_LONG, SW_IP6_MAX_EXT, 136,
			    IP6_A, 2, m)
		     .port,
		 SW_FLOOD);
	CHECK_EQ(send_chain(sw, a, m, IP6_A, CH_LONG, SW_IP6_MAX_EXT, 136,
			    IP6_X, 2, m)
		     .reason,
		 SW_C_DROP_SPOOF_ND);
	/* Fragmented ND, even of its own address, even atomic. */
	CHECK_EQ(send_chain(sw, a, m, IP6_A, CH_FRAG, 1, 136, IP6_A, 2, m)
		     .reason,
		 SW_C_DROP_SPOOF_ND);
	CHECK_EQ(send_chain(sw, a, m, IP6_A, CH_DST_FRAG, 3, 135, IP6_X, 1, m)
		     .reason,
		 SW_C_DROP_SPOOF_ND);
	nd_chain(&p, m, IP6_A, CH_FRAG, 1, true, 136, IP6_A, 2, m);
	CHECK_EQ(fwd(sw, a, &p, 0).reason, SW_C_DROP_SPOOF_ND);
	/* What ESP carries is not ours to read (nor to forge). */
	CHECK_EQ(send_chain(sw, a, m, IP6_A, CH_ESP, 1, 136, IP6_X, 2, mx)
		     .port,
		 SW_FLOOD);
	/* A later fragment carries no header to look at. */
	nd_chain(&p, m, IP6_A, CH_FRAG, 1, false, 136, IP6_X, 2, mx);
	p.b[14 + 40 + 3] = 8 << 3;
	CHECK_EQ(fwd(sw, a, &p, 0).port, SW_FLOOD);
	/* What cannot be looked through: one header too many, hop-by-hop
	 * not first, a header past the payload or past what is readable,
	 * an ICMPv6 header cut short. */
	CHECK_EQ(send_chain(sw, a, m, IP6_A, CH_LONG, sizeof(CH_LONG), 136,
			    IP6_A, 2, m)
		     .reason,
		 SW_C_DROP_SPOOF_IP6);
	CHECK_EQ(send_chain(sw, a, m, IP6_A, CH_DST_HBH, 2, 136, IP6_A, 2, m)
		     .reason,
		 SW_C_DROP_SPOOF_IP6);
	nd_chain(&p, m, IP6_A, CH_HBH_DST, 2, false, 136, IP6_X, 2, m);
	p.b[14 + 40 + 8 + 1] = 4; /* destination options of 40 bytes */
	CHECK_EQ(fwd(sw, a, &p, 0).reason, SW_C_DROP_SPOOF_IP6);
	nd_chain(&p, m, IP6_A, CH_HBH_DST, 2, false, 136, IP6_X, 2, m);
	put16(p.b + 14 + 4, 12); /* the payload ends inside the second */
	CHECK_EQ(fwd(sw, a, &p, 0).reason, SW_C_DROP_SPOOF_IP6);
	nd_chain(&p, m, IP6_A, CH_HBH_DST, 2, false, 136, IP6_X, 2, m);
	p.len = 14 + 40 + 12;
	CHECK_EQ(fwd(sw, a, &p, 0).reason, SW_C_DROP_SPOOF_IP6);
	nd_chain(&p, m, IP6_A, CH_DST, 1, false, 136, IP6_X, 2, m);
	put16(p.b + 14 + 4, 8 + 2);
	CHECK_EQ(fwd(sw, a, &p, 0).reason, SW_C_DROP_SPOOF_IP6);
	CHECK_EQ(sw_port_counter(sw, a, SW_C_DROP_SPOOF_ND), 10);
	CHECK_EQ(sw_port_counter(sw, a, SW_C_DROP_SPOOF_IP6), 6);
	sw_destroy(sw);
}

/* Router advertisements and redirects from a guarded port. */
TEST(ra_guard)
{
	struct sw *sw = mk();
	int net = sw_net_add(sw, "br0", 0);
	struct sw_port_conf c;
	uint8_t m[6], lla[16];
	int a, b, g;
	struct pkt p;

	/* Off unless asked, even with anti-spoofing. */
	sw_port_conf_init(&c, net, false);
	CHECK(!c.ra_guard);
	b = guest(sw, net, m);
	lla_of(lla, m);
	CHECK_EQ(send_chain(sw, b, m, lla, NULL, 0, 134, IP6_ANY, 0, NULL)
		     .port,
		 SW_FLOOD);
	/* Anti-spoofing off, no addresses: the guard alone. */
	mac(c.mac, 3);
	c.antispoof = false;
	c.ra_guard = true;
	a = sw_port_add(sw, &c);
	CHECK(a >= 0);
	lla_of(lla, c.mac);
	CHECK_EQ(send_chain(sw, a, c.mac, lla, NULL, 0, 134, IP6_ANY, 0, NULL)
		     .reason,
		 SW_C_DROP_RA_GUARD);
	CHECK_EQ(send_chain(sw, a, c.mac, lla, NULL, 0, 137, IP6_ANY, 0, NULL)
		     .reason,
		 SW_C_DROP_RA_GUARD);
	CHECK_EQ(send_chain(sw, a, c.mac, lla, CH_DST, 1, 134, IP6_ANY, 0,
			    NULL)
		     .reason,
		 SW_C_DROP_RA_GUARD);
	CHECK_EQ(send_chain(sw, a, c.mac, lla, CH_HBH_DST, 2, 137, IP6_ANY, 0,
			    NULL)
		     .reason,
		 SW_C_DROP_RA_GUARD);
	CHECK_EQ(send_chain(sw, a, c.mac, lla, CH_DST_FRAG, 3, 134, IP6_ANY,
			    0, NULL)
		     .reason,
		 SW_C_DROP_RA_GUARD);
	CHECK_EQ(send_chain(sw, a, c.mac, lla, CH_LONG, sizeof(CH_LONG), 128,
			    IP6_ANY, 0, NULL)
		     .reason,
		 SW_C_DROP_RA_GUARD);
	nd_chain(&p, c.mac, lla, CH_HBH_DST, 2, false, 134, IP6_ANY, 0, NULL);
	p.len = 14 + 40 + 12;
	CHECK_EQ(fwd(sw, a, &p, 0).reason, SW_C_DROP_RA_GUARD);
	/* Whatever a stacked tag would hide. */
	eth(&p, BCAST, c.mac, 0, 0x8100);
	add16(&p, 0);
	add16(&p, 0x86dd);
	p.len = 60;
	CHECK_EQ(fwd(sw, a, &p, 0).reason, SW_C_DROP_SPOOF_STACKED);
	/* The rest of ICMPv6 passes: solicitations, advertisements of
	 * others (no anti-spoofing here), echo. */
	CHECK_EQ(send_chain(sw, a, c.mac, lla, NULL, 0, 133, IP6_ANY, 0, NULL)
		     .port,
		 SW_FLOOD);
	CHECK_EQ(send_chain(sw, a, c.mac, lla, CH_DST, 1, 136, IP6_X, 0, NULL)
		     .port,
		 SW_FLOOD);
	CHECK_EQ(send_chain(sw, a, c.mac, lla, CH_DST, 1, 128, IP6_ANY, 0,
			    NULL)
		     .port,
		 SW_FLOOD);
	CHECK_EQ(sw_port_counter(sw, a, SW_C_DROP_RA_GUARD), 7);
	/* Switched at run time. */
	CHECK_EQ(sw_port_set_ra_guard(sw, a, false), 0);
	CHECK_EQ(send_chain(sw, a, c.mac, lla, NULL, 0, 134, IP6_ANY, 0, NULL)
		     .port,
		 SW_FLOOD);
	CHECK_EQ(sw_port_set_ra_guard(sw, b, true), 0);
	lla_of(lla, m);
	CHECK_EQ(send_chain(sw, b, m, lla, CH_DST, 1, 134, IP6_ANY, 0, NULL)
		     .reason,
		 SW_C_DROP_RA_GUARD);
	CHECK_EQ(sw_port_set_ra_guard(sw, 63, true), -ENOENT);
	/* The uplink may carry the network's router. */
	sw_port_conf_init(&c, net, true);
	CHECK(!c.ra_guard);
	mac(c.mac, 4);
	g = sw_port_add(sw, &c);
	CHECK(g >= 0);
	lla_of(lla, c.mac);
	CHECK_EQ(send_chain(sw, g, c.mac, lla, NULL, 0, 134, IP6_ANY, 0, NULL)
		     .port,
		 SW_FLOOD);
	sw_destroy(sw);
}

TEST(multicast_filter)
{
	struct sw *sw = mk();
	int net = sw_net_add(sw, "br0", 0);
	int a = port(sw, net, 1, false, 0), b = port(sw, net, 2, false, 0);
	int c = port(sw, net, 3, false, 0);
	uint8_t ma[6], g1[6], g2[6], uni[6];
	struct sw_result r;

	mac(ma, 1);
	mac(uni, 5);
	mcast(g1, 1);
	mcast(g2, 2);
	CHECK_EQ(sw_port_mcast_add(sw, b, g1), 0);
	CHECK_EQ(sw_port_mcast_add(sw, b, g1), 0); /* idempotent */
	CHECK_EQ(sw_port_mcast_add(sw, b, uni), -EINVAL);
	CHECK_EQ(sw_port_mcast_add(sw, 60, g1), -ENOENT);
	/* Not filtering yet: everything. */
	r = send(sw, a, g2, ma, -1, 0);
	CHECK_EQ(flood_set(sw, a, &r, NULL), BIT(b) | BIT(c));
	CHECK_EQ(sw_port_mcast_filter(sw, b, true), 0);
	r = send(sw, a, g2, ma, -1, 0);
	CHECK_EQ(flood_set(sw, a, &r, NULL), BIT(c));
	r = send(sw, a, g1, ma, -1, 0);
	CHECK_EQ(flood_set(sw, a, &r, NULL), BIT(b) | BIT(c));
	/* Broadcast and unknown unicast always pass. */
	r = send(sw, a, BCAST, ma, -1, 0);
	CHECK_EQ(flood_set(sw, a, &r, NULL), BIT(b) | BIT(c));
	r = send(sw, a, uni, ma, -1, 0);
	CHECK_EQ(flood_set(sw, a, &r, NULL), BIT(b) | BIT(c));
	/* Unsubscribe. */
	CHECK_EQ(sw_port_mcast_del(sw, b, g1), 0);
	CHECK_EQ(sw_port_mcast_del(sw, b, g1), -ENOENT);
	r = send(sw, a, g1, ma, -1, 0);
	CHECK_EQ(flood_set(sw, a, &r, NULL), BIT(c));
	/* The limit, and slots freed in the middle reused. */
	for (unsigned i = 0; i < SW_MAX_MCAST; i++) {
		uint8_t g[6];

		mcast(g, 100 + i);
		CHECK_EQ(sw_port_mcast_add(sw, b, g), 0);
	}
	CHECK_EQ(sw_port_mcast_add(sw, b, g1), -ENOSPC);
	uint8_t g[6];
	mcast(g, 110);
	CHECK_EQ(sw_port_mcast_del(sw, b, g), 0);
	CHECK_EQ(sw_port_mcast_add(sw, b, g1), 0);
	r = send(sw, a, g1, ma, -1, 0);
	CHECK_EQ(flood_set(sw, a, &r, NULL), BIT(b) | BIT(c));
	mcast(g, 100 + SW_MAX_MCAST - 1);
	r = send(sw, a, g, ma, -1, 0);
	CHECK_EQ(flood_set(sw, a, &r, NULL), BIT(b) | BIT(c));
	CHECK_EQ(sw_port_mcast_add(sw, b, g2), -ENOSPC);
	/* Filtering off again. */
	CHECK_EQ(sw_port_mcast_filter(sw, b, false), 0);
	r = send(sw, a, g2, ma, -1, 0);
	CHECK_EQ(flood_set(sw, a, &r, NULL), BIT(b) | BIT(c));
	sw_destroy(sw);
}

TEST(reserved_groups)
{
	struct sw *sw = mk();
	int net = sw_net_add(sw, "br0", 0);
	int a = port(sw, net, 1, false, 0);
	uint8_t ma[6], stp[6] = { 0x01, 0x80, 0xc2, 0, 0, 0 };
	uint8_t lldp[6] = { 0x01, 0x80, 0xc2, 0, 0, 0x0e };
	uint8_t other[6] = { 0x01, 0x80, 0xc2, 0, 0, 0x10 };

	mac(ma, 1);
	CHECK_EQ(send(sw, a, stp, ma, -1, 0).reason, SW_C_DROP_RESERVED);
	CHECK_EQ(send(sw, a, lldp, ma, -1, 0).reason, SW_C_DROP_RESERVED);
	CHECK_EQ(send(sw, a, other, ma, -1, 0).port, SW_FLOOD);
	CHECK_EQ(sw_port_counter(sw, a, SW_C_DROP_RESERVED), 2);
	sw_destroy(sw);
}

TEST(runts)
{
	struct sw *sw = mk();
	int net = sw_net_add(sw, "br0", 0);
	int a = port(sw, net, 1, false, 0);
	int t = trunk(sw, net, 2, "br0:10");
	uint8_t m[6];
	struct pkt p;

	mac(m, 1);
	eth(&p, BCAST, m, -1, 0x0800);
	for (uint32_t len = 0; len < 14; len++) {
		p.len = len;
		CHECK_EQ(fwd(sw, a, &p, 0).reason, SW_C_DROP_RUNT);
	}
	p.len = 14;
	CHECK_EQ(fwd(sw, a, &p, 0).port, SW_FLOOD);
	eth(&p, BCAST, m, 10, 0x0800);
	for (uint32_t len = 14; len < 18; len++) {
		p.len = len;
		CHECK_EQ(fwd(sw, t, &p, 0).reason, SW_C_DROP_RUNT);
	}
	p.len = 18;
	CHECK_EQ(fwd(sw, t, &p, 0).port, SW_FLOOD);
	CHECK_EQ(sw_port_counter(sw, a, SW_C_DROP_RUNT), 14);
	sw_destroy(sw);
}

TEST(burst_and_group)
{
	struct sw *sw = mk();
	int net = sw_net_add(sw, "br0", 0);
	int a = port(sw, net, 1, false, 0), b = port(sw, net, 2, false, 0);
	int c = port(sw, net, 3, false, 0);
	struct pkt pk[SW_MAX_BURST + 4];
	struct sw_frame f[SW_MAX_BURST + 4];
	struct sw_result r[SW_MAX_BURST + 4];
	struct sw_group g;
	uint8_t ma[6], mb[6], mc[6];

	sendn(sw, b, 99, 2, 0);
	sendn(sw, c, 99, 3, 0);
	mac(ma, 1);
	mac(mb, 2);
	mac(mc, 3);
	/* b, c, b, bcast, hairpin (a's own MAC, learned by frame 0), ... */
	for (unsigned i = 0; i < SW_MAX_BURST + 4; i++) {
		const uint8_t *dst = i % 5 == 0 ? mb : i % 5 == 1 ? mc
				   : i % 5 == 2 ? mb : i % 5 == 3 ? BCAST : ma;

		eth(&pk[i], dst, ma, -1, 0x88b5);
		pk[i].len = 60;
		f[i] = (struct sw_frame){ pk[i].b, pk[i].len };
	}
	CHECK_EQ(sw_forward(sw, a, f, SW_MAX_BURST + 4, 0, r), SW_MAX_BURST);
	sw_group(sw, r, SW_MAX_BURST, &g);
	CHECK_EQ(g.ndest, 2);
	CHECK_EQ(g.dest[0].port, b);
	CHECK_EQ(g.dest[1].port, c);
	unsigned nb = 0, nc = 0, nfl = 0, ndr = 0;
	for (unsigned i = 0; i < SW_MAX_BURST; i++) {
		nb += i % 5 == 0 || i % 5 == 2;
		nc += i % 5 == 1;
		nfl += i % 5 == 3;
		ndr += i % 5 == 4;
	}
	CHECK_EQ(g.dest[0].n, nb);
	CHECK_EQ(g.dest[1].n, nc);
	CHECK_EQ(g.nflood, nfl);
	CHECK_EQ(g.ndrop, ndr);
	/* Frame order kept per destination; every index once. */
	unsigned seen[SW_MAX_BURST] = { 0 };
	for (unsigned d = 0; d < g.ndest; d++) {
		for (unsigned j = 0; j < g.dest[d].n; j++) {
			unsigned i = g.idx[g.dest[d].first + j];

			CHECK_EQ(r[i].port, g.dest[d].port);
			if (j)
				CHECK(i > g.idx[g.dest[d].first + j - 1]);
			seen[i]++;
		}
	}
	for (unsigned k = 0; k < g.nflood; k++) {
		CHECK_EQ(r[g.flood[k]].port, SW_FLOOD);
		seen[g.flood[k]]++;
	}
	for (unsigned k = 0; k < g.ndrop; k++) {
		CHECK_EQ(r[g.drop[k]].reason, SW_C_DROP_HAIRPIN);
		seen[g.drop[k]]++;
	}
	for (unsigned i = 0; i < SW_MAX_BURST; i++)
		CHECK_EQ(seen[i], 1);
	CHECK_EQ(sw_port_counter(sw, b, SW_C_TX), nb);
	CHECK_EQ(sw_port_counter(sw, c, SW_C_TX), nc);
	/* Flood copies count as TX too. */
	struct sw_egress e[8];
	CHECK_EQ(sw_flood(sw, a, &r[3], e, 8), 2);
	CHECK_EQ(sw_port_counter(sw, b, SW_C_TX), nb + 1);
	CHECK_EQ(sw_port_counter(sw, a, SW_C_RX), SW_MAX_BURST);
	CHECK_EQ(sw_port_counter(sw, a, SW_C_DROP_HAIRPIN), ndr);
	CHECK_EQ(g.flags, 0);
	/* The fused call groups the same burst the same way. */
	struct sw_group g2;
	CHECK_EQ(sw_forward_group(sw, a, f, SW_MAX_BURST, 0, r, &g2),
		 SW_MAX_BURST);
	CHECK_EQ(g2.ndest, 2);
	CHECK_EQ(g2.nflood, nfl);
	CHECK_EQ(g2.ndrop, ndr);
	CHECK(memcmp(g2.dest, g.dest, 2 * sizeof(g.dest[0])) == 0);
	CHECK(memcmp(g2.idx, g.idx, (nb + nc) * sizeof(g.idx[0])) == 0);
	CHECK_EQ(sw_port_counter(sw, b, SW_C_TX), 2 * nb + 1);
	/* ... and a burst all to b at once, counted once. */
	for (unsigned i = 0; i < SW_MAX_BURST; i++)
		eth(&pk[i], mb, ma, -1, 0x88b5), pk[i].len = 60;
	CHECK_EQ(sw_forward_group(sw, a, f, SW_MAX_BURST, 0, r, &g2),
		 SW_MAX_BURST);
	CHECK_EQ(g2.ndest, 1);
	CHECK_EQ(g2.dest[0].port, b);
	CHECK_EQ(g2.dest[0].n, SW_MAX_BURST);
	CHECK_EQ(g2.nflood + g2.ndrop, 0);
	for (unsigned i = 0; i < SW_MAX_BURST; i++)
		CHECK_EQ(g2.idx[i], i);
	CHECK_EQ(sw_port_counter(sw, b, SW_C_TX), 2 * nb + 1 + SW_MAX_BURST);
	/* Many destinations in one burst; flags of their results ORed. */
	for (unsigned i = 0; i < 8; i++)
		r[i] = (struct sw_result){ .port = (uint16_t)(i % 3 ? a : c) };
	r[5].flags = SW_F_RETAG;
	sw_group(sw, r, 8, &g);
	CHECK_EQ(g.ndest, 2);
	CHECK_EQ(g.flags, SW_F_RETAG);
	/* One destination: the same. */
	for (unsigned i = 0; i < 8; i++)
		r[i] = (struct sw_result){ .port = (uint16_t)c };
	sw_group(sw, r, 8, &g);
	CHECK_EQ(g.ndest, 1);
	CHECK_EQ(g.flags, 0);
	r[7].flags = SW_F_TAGGED | SW_F_RETAG;
	sw_group(sw, r, 8, &g);
	CHECK_EQ(g.ndest, 1);
	CHECK_EQ(g.flags, SW_F_TAGGED | SW_F_RETAG);
	sw_destroy(sw);
}

TEST(port_del_and_reclaim)
{
	struct sw *sw = mk_sized(4, 64);
	int net = sw_net_add(sw, "br0", 0);
	int a = port(sw, net, 1, false, 0), b = port(sw, net, 2, false, 0);
	int c = port(sw, net, 3, false, 0);
	uint8_t mb[6];
	struct sw_result r;

	mac(mb, 2);
	sendn(sw, b, 99, 2, 0);
	sendn(sw, b, 99, 22, 0);
	CHECK_EQ(sendn(sw, a, 2, 1, 0).port, b);
	CHECK_EQ(sw_port_del(sw, b), 0);
	CHECK_EQ(sw_port_del(sw, b), -ENOENT);
	CHECK_EQ(sw_port_net(sw, b), -ENOENT);
	/* Forgotten, out of floods, refusing frames. */
	CHECK_EQ(sw_lookup(sw, net, mb, 0), -ENOENT);
	r = sendn(sw, a, 2, 1, 0);
	CHECK_EQ(r.port, SW_FLOOD);
	CHECK_EQ(flood_set(sw, a, &r, NULL), BIT(c));
	r = sendn(sw, b, 1, 2, 0);
	CHECK_EQ(r.reason, SW_C_DROP_PORT_DOWN);
	CHECK_EQ(sw_port_counter(sw, b, SW_C_DROP_PORT_DOWN), 1);
	CHECK_EQ(sw_lookup(sw, net, mb, 0), -ENOENT);
	/* Its id is held until reclaim; so is the network. */
	int d = port(sw, net, 4, false, 0);
	CHECK_EQ(d, 3);
	CHECK_EQ(port(sw, net, 5, false, 0), -ENOSPC);
	CHECK_EQ(sw_net_counter(sw, net, SW_C_RX), 5);
	CHECK_EQ(sw_reclaim(sw), 1);
	CHECK_EQ(sw_reclaim(sw), 0);
	CHECK_EQ(sw_net_counter(sw, net, SW_C_RX), 5);
	CHECK_EQ(sw_port_counter(sw, b, SW_C_RX), 0);
	int e = port(sw, net, 5, false, 0);
	CHECK_EQ(e, b);
	CHECK_EQ(sw_port_counter(sw, e, SW_C_RX), 0);
	/* Invalid ports. */
	CHECK_EQ(sendn(sw, 17, 1, 2, 0).reason, SW_C_DROP_PORT_DOWN);
	CHECK_EQ(sendn(sw, -1, 1, 2, 0).reason, SW_C_DROP_PORT_DOWN);
	CHECK_EQ(sw_port_del(sw, 17), -ENOENT);
	CHECK_EQ(sw_port_flush(sw, 17), -ENOENT);
	CHECK_EQ(sw_port_counter(sw, 17, SW_C_RX), 0);
	/* The network goes once every port has gone. */
	CHECK_EQ(sw_net_del(sw, net), -EBUSY);
	CHECK_EQ(sw_port_del(sw, a), 0);
	CHECK_EQ(sw_port_del(sw, c), 0);
	CHECK_EQ(sw_port_del(sw, d), 0);
	CHECK_EQ(sw_port_del(sw, e), 0);
	CHECK_EQ(sw_net_del(sw, net), -EBUSY);
	CHECK_EQ(sw_reclaim(sw), 4);
	CHECK_EQ(sw_net_del(sw, net), 0);
	CHECK_EQ(sw_net_del(sw, net), -ENOENT);
	CHECK_EQ(sw_net_counter(sw, net, SW_C_RX), 0);
	CHECK_EQ(sw_net_add(sw, "br9", 0), net);
	CHECK_EQ(port(sw, net, 1, false, 0), 0);
	sw_destroy(sw);
}

static bool
alloc_fail_always(void)
{
	return true;
}

/*
 * A port deleted while memory is short: the flood lists cannot be
 * rebuilt and still name it. Its id must not reach a port of another
 * network through them, however many reclaims pass, until a rebuild
 * has succeeded and a grace period has followed.
 */
TEST(port_del_rebuild_fails)
{
	struct sw *sw = mk_sized(4, 64);
	int na = sw_net_add(sw, "a", 0), nb = sw_net_add(sw, "b", 0);
	int a = port(sw, na, 1, false, 0), b = port(sw, na, 2, false, 0);
	int x = port(sw, nb, 3, false, 0), y;
	struct sw_result r;

	CHECK(a >= 0 && b >= 0 && x >= 0);
	sw_alloc_fail = alloc_fail_always;
	CHECK_EQ(sw_port_del(sw, b), 0);
	sw_alloc_fail = NULL;
	/* Gone as a destination at once, floods included: the caller
	 * drops what workers still send it, but the id stays its own. */
	CHECK_EQ(sw_port_net(sw, b), -ENOENT);
	CHECK_EQ(sendn(sw, b, 1, 2, 0).reason, SW_C_DROP_PORT_DOWN);
	r = sendn(sw, a, 99, 1, 0);
	CHECK_EQ(flood_set(sw, a, &r, NULL), 0);
	CHECK_EQ(sw_flood_ports(sw, a, 0, (uint16_t[4]){ 0 }, 4), 0);
	CHECK_EQ(sw_port_counter(sw, b, SW_C_TX), 0);
	sw_reclaim(sw);
	y = port(sw, nb, 4, false, 0);
	CHECK(y >= 0);
	r = sendn(sw, a, 99, 1, 0);
	CHECK_EQ(r.port, SW_FLOOD);
	CHECK_EQ(flood_set(sw, a, &r, NULL) & (BIT(x) | BIT(y)), 0);
	CHECK(y != b);
	r = sendn(sw, x, 99, 3, 0);
	CHECK_EQ(flood_set(sw, x, &r, NULL), BIT(y));
	/* The held id is free once a rebuild went through and a grace
	 * period (the caller's, before the next reclaim) passed. */
	CHECK_EQ(port(sw, nb, 5, false, 0), -ENOSPC);
	CHECK_EQ(sw_reclaim(sw), 1);
	r = sendn(sw, a, 99, 1, 0);
	CHECK_EQ(flood_set(sw, a, &r, NULL), 0);
	CHECK_EQ(port(sw, nb, 5, false, 0), b);
	r = sendn(sw, a, 99, 1, 0);
	CHECK_EQ(flood_set(sw, a, &r, NULL), 0);
	r = sendn(sw, x, 99, 3, 0);
	CHECK_EQ(flood_set(sw, x, &r, NULL), BIT(y) | BIT(b));
	/* A failed rebuild on a later add leaves the lists as they were. */
	CHECK_EQ(sw_port_del(sw, y), 0);
	sw_reclaim(sw);
	sw_alloc_fail = alloc_fail_always;
	CHECK_EQ(port(sw, na, 6, false, 0), -ENOMEM);
	sw_alloc_fail = NULL;
	r = sendn(sw, a, 99, 1, 0);
	CHECK_EQ(flood_set(sw, a, &r, NULL), 0);
	/* The network goes once its held port is released. */
	sw_alloc_fail = alloc_fail_always;
	CHECK_EQ(sw_port_del(sw, a), 0);
	sw_alloc_fail = NULL;
	CHECK_EQ(sw_net_del(sw, na), -EBUSY);
	CHECK_EQ(sw_reclaim(sw), 0);
	CHECK_EQ(sw_net_del(sw, na), -EBUSY);
	CHECK_EQ(sw_reclaim(sw), 1);
	CHECK_EQ(sw_net_del(sw, na), 0);
	sw_destroy(sw);
}

/* A small PRNG: the same bytes every run. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

TEST(random_bytes)
{
	struct sw *sw = mk_sized(16, 256);
	int n0 = sw_net_add(sw, "br0", 1000), n1 = sw_net_add(sw, "br1", 0);
	int ports[6];
	uint64_t s = 88172645463325252ull;
	static uint8_t buf[SW_MAX_BURST][128];

	ports[0] = guest(sw, n0, buf[0]);
	ports[1] = port(sw, n0, 2, false, 0);
	ports[2] = trunk(sw, n0, 3, "br0.0:1:2:3");
	ports[3] = trunk(sw, n0, 4, "br0:2:3");
	ports[4] = port(sw, n1, 5, true, 1);
	ports[5] = port(sw, n1, 6, false, 1);
	for (int i = 0; i < 6; i++)
		CHECK(ports[i] >= 0);
	for (unsigned round = 0; round < 3000; round++) {
		struct sw_frame f[SW_MAX_BURST];
		struct sw_result r[SW_MAX_BURST];
		struct sw_group g;
		unsigned n = 1 + rnd(&s) % SW_MAX_BURST;
		int in = ports[rnd(&s) % 6];

		for (unsigned i = 0; i < n; i++) {
			unsigned len = rnd(&s) % 128;

			for (unsigned k = 0; k < len; k++)
				buf[i][k] = (uint8_t)rnd(&s);
			/* Often plausible: small MACs, real ethertypes. */
			if (len > 18 && (rnd(&s) & 1)) {
				mac(buf[i], rnd(&s) % 8);
				mac(buf[i] + 6, rnd(&s) % 8);
				static const uint16_t et[] = {
					0x0800, 0x0806, 0x86dd, 0x8100
				};
				put16(buf[i] + 12, et[rnd(&s) % 4]);
				put16(buf[i] + 14, rnd(&s) % 4);
			}
			f[i] = (struct sw_frame){ buf[i], len };
		}
		CHECK_EQ(sw_forward(sw, in, f, n, round * 100ull, r), n);
		sw_group(sw, r, n, &g);
		for (unsigned i = 0; i < n; i++) {
			if (r[i].port == SW_DROP) {
				CHECK(sw_counter_is_drop(r[i].reason));
				continue;
			}
			CHECK(r[i].vlan <= SW_VLAN_MAX);
			if (r[i].port == SW_FLOOD) {
				struct sw_egress e[16];
				unsigned k = sw_flood(sw, in, &r[i], e, 16);

				for (unsigned j = 0; j < k; j++) {
					CHECK(e[j].port != in);
					CHECK_EQ(sw_port_net(sw, e[j].port),
						 sw_port_net(sw, in));
					CHECK(e[j].tag == 0 ||
					      e[j].tag == r[i].vlan);
				}
				continue;
			}
			CHECK(r[i].port != in);
			CHECK_EQ(sw_port_net(sw, r[i].port),
				 sw_port_net(sw, in));
		}
		if (round % 100 == 0)
			sw_age(sw, round * 100ull);
	}
	sw_destroy(sw);
}

/*
 * Two workers forward for their own ports while a third thread
 * reconfigures: learns statics, ages with a clock that jumps, adds and
 * deletes ports (waiting a grace period, counted by the workers'
 * bursts, before reclaiming), flushes. No crash; every result names a
 * port of the network, never the input port; the statics always
 * resolve to their port; the learned counts add up at the end.
 */
#define CW_MACS 8u

struct conc {
	struct sw *sw;
	int net, other;
	int wport[2], target, oports[2];
	_Atomic bool stop;
	_Atomic uint64_t epoch[2];
	_Atomic uint64_t now;
	_Atomic unsigned bad;
	char why[128];
};

static void
conc_fail(struct conc *c, const char *why)
{
	if (atomic_fetch_add(&c->bad, 1) == 0)
		snprintf(c->why, sizeof(c->why), "%s", why);
}

struct worker_arg {
	struct conc *c;
	int id;
};

static void *
conc_worker(void *arg)
{
	struct worker_arg *wa = arg;
	struct conc *c = wa->c;
	int in = c->wport[wa->id];
	uint8_t buf[SW_MAX_BURST][64];
	struct sw_frame f[SW_MAX_BURST];
	struct sw_result r[SW_MAX_BURST];
	struct sw_group g;
	uint64_t s = 0x9e3779b97f4a7c15ull + (unsigned)wa->id;

	while (!atomic_load(&c->stop)) {
		for (unsigned i = 0; i < SW_MAX_BURST; i++) {
			unsigned x = rnd(&s) % 16;

			memset(buf[i], 0, 64);
			/* Sources: own MACs, and a few both workers send
			 * from (they move back and forth). */
			mac(buf[i] + 6, x < 12 ? 100u * (wa->id + 1) +
						     x % CW_MACS
					     : 900 + x % 2);
			/* Destinations: the statics, the other worker's
			 * MACs, the roamers, broadcast, unknown. */
			switch (rnd(&s) % 5) {
			case 0:
				mac(buf[i], 500 + rnd(&s) % 4);
				break;
			case 1:
				mac(buf[i], 100u * (2 - wa->id) +
						(unsigned)(rnd(&s) % CW_MACS));
				break;
			case 2:
				mac(buf[i], 900 + rnd(&s) % 2);
				break;
			case 3:
				memset(buf[i], 0xff, 6);
				break;
			default:
				mac(buf[i], 700 + rnd(&s) % 100);
			}
			put16(buf[i] + 12, 0x88b5);
			f[i] = (struct sw_frame){ buf[i], 60 };
		}
		sw_forward(c->sw, in, f, SW_MAX_BURST, atomic_load(&c->now), r);
		sw_group(c->sw, r, SW_MAX_BURST, &g);
		for (unsigned i = 0; i < SW_MAX_BURST; i++) {
			const uint8_t *d = buf[i];
			unsigned dn = (unsigned)d[4] << 8 | d[5];

			if (r[i].port == SW_DROP) {
				if (r[i].reason != SW_C_DROP_HAIRPIN)
					conc_fail(c, "unexpected drop");
				continue;
			}
			if (r[i].port == SW_FLOOD) {
				struct sw_egress e[64];
				unsigned k = sw_flood(c->sw, in, &r[i], e, 64);

				for (unsigned j = 0; j < k; j++)
					if (e[j].port == in ||
					    e[j].port == c->oports[0] ||
					    e[j].port == c->oports[1])
						conc_fail(c, "flood leaked");
				continue;
			}
			if (r[i].port == in || r[i].port == c->oports[0] ||
			    r[i].port == c->oports[1] ||
			    r[i].port >= 16)
				conc_fail(c, "bad unicast destination");
			if (d[0] == 0 && dn >= 500 && dn < 504 &&
			    r[i].port != c->target)
				conc_fail(c, "static entry not followed");
		}
		atomic_fetch_add(&c->epoch[wa->id], 1);
	}
	return NULL;
}

/* Wait until both workers have finished a burst begun after now. */
static void
grace(struct conc *c)
{
	uint64_t e0 = atomic_load(&c->epoch[0]), e1 = atomic_load(&c->epoch[1]);

	while (atomic_load(&c->epoch[0]) < e0 + 2 ||
	       atomic_load(&c->epoch[1]) < e1 + 2)
		sched_yield();
}

struct count_arg {
	unsigned per_port[16];
};

static int
count_fn(void *arg, const uint8_t m[6], uint16_t vlan, int port, bool st,
	 uint64_t age)
{
	struct count_arg *ca = arg;

	(void)m;
	(void)vlan;
	(void)age;
	if (!st && port >= 0 && port < 16)
		ca->per_port[port]++;
	return 0;
}

TEST(concurrent_forwarding)
{
	struct conc c = { 0 };
	pthread_t th[2];
	struct worker_arg wa[2];
	uint64_t s = 42;

	c.sw = mk_sized(16, 256);
	c.net = sw_net_add(c.sw, "br0", 2000);
	c.other = sw_net_add(c.sw, "br1", 0);
	c.wport[0] = port(c.sw, c.net, 1, false, 0);
	c.wport[1] = port(c.sw, c.net, 2, false, 0);
	c.target = port(c.sw, c.net, 3, false, 0);
	c.oports[0] = port(c.sw, c.other, 4, false, 0);
	c.oports[1] = port(c.sw, c.other, 5, false, 0);
	for (unsigned i = 0; i < 4; i++) {
		uint8_t m[6];

		mac(m, 500 + i);
		CHECK_EQ(sw_static_add(c.sw, c.net, m, 0, c.target), 0);
	}
	for (int i = 0; i < 2; i++) {
		wa[i] = (struct worker_arg){ &c, i };
		CHECK_EQ(pthread_create(&th[i], NULL, conc_worker, &wa[i]), 0);
	}
	for (unsigned round = 0; round < 150; round++) {
		int extra;
		uint8_t m[6];

		atomic_fetch_add(&c.now, 50 + rnd(&s) % 1500);
		sw_age(c.sw, atomic_load(&c.now));
		extra = port(c.sw, c.net, 10 + round % 4, false, 0);
		if (extra >= 0) {
			mac(m, 600 + round % 8);
			sw_static_add(c.sw, c.net, m, 0, extra);
			mac(m, 100 + round % CW_MACS);
			sw_static_add(c.sw, c.net, m, 0, extra);
			sched_yield();
			sw_static_del(c.sw, c.net, m, 0);
			CHECK_EQ(sw_port_del(c.sw, extra), 0);
		}
		if (round % 50 == 0)
			sw_net_flush(c.sw, c.net);
		if (round % 7 == 0)
			sw_port_flush(c.sw, c.wport[round % 2]);
		sw_port_mcast_filter(c.sw, c.target, round & 1);
		grace(&c);
		sw_reclaim(c.sw);
	}
	atomic_store(&c.stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	if (atomic_load(&c.bad))
		FAIL("%u bad results, first: %s", atomic_load(&c.bad), c.why);
	CHECK(atomic_load(&c.epoch[0]) > 100 && atomic_load(&c.epoch[1]) > 100);
	/* Everything the workers sent was counted on their ports. */
	CHECK_EQ(sw_port_counter(c.sw, c.wport[0], SW_C_RX),
		 atomic_load(&c.epoch[0]) * SW_MAX_BURST);
	CHECK(sw_port_counter(c.sw, c.wport[0], SW_C_MOVED) > 0);
	/* The learned counts are exact: each change was one CAS won. */
	struct count_arg ca = { { 0 } };
	unsigned total = 0;
	CHECK_EQ(sw_table_walk(c.sw, c.net, 0, count_fn, &ca), 0);
	for (unsigned p = 0; p < 16; p++) {
		total += ca.per_port[p];
		CHECK_EQ(atomic_load(&c.sw->ports[p].learned), ca.per_port[p]);
	}
	CHECK_EQ(atomic_load(&c.sw->nets[c.net].learned), total);
	sw_destroy(c.sw);
}

TESTS_MAIN()
