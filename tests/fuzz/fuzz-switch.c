/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Fuzz switch/: frame classification and forwarding on arbitrary bytes,
 * mixed with configuration changes, and bridge= strings.
 *
 * Input: a series of records. A record starting with 0xff is a bridge
 * string (up to the next NUL). Otherwise its first byte picks the input
 * port (low 3 bits) and, when bit 7 is set, a configuration change
 * (bits 3-6) first; the second byte advances the clock by that many
 * 100 ms; the third is a frame length; then up to 8 frames of that
 * length follow, sent as one burst.
 *
 * Each input gets a fresh switch (two networks; guests with and without
 * addresses, access and trunk ports, an uplink, a learn limit, a
 * multicast filter, RA guard with and without anti-spoofing), so a
 * finding replays alone. Checked: a drop has a drop reason; a
 * destination is never the input port, is on the same network and
 * carries the frame's VLAN with the tag it should; grouping lists every
 * frame once; no port holds more learned entries than its limit; parsed
 * bridge strings are well formed. Of IPv6 frames, read here apart from
 * switch/ (extension headers, fragments): from a port under RA guard or
 * anti-spoofing with addresses, a frame whose headers cannot be looked
 * through is dropped; under RA guard no Router Advertisement or
 * Redirect passes; under anti-spoofing no fragmented ND, and no
 * Neighbour Advertisement for a target not the port's.
 *
 * Speed: a port going and coming back rebuilds flood lists twice, the
 * costliest thing an input can ask for, and any byte 0x80-0x87 asks
 * it; libFuzzer piled them up (34 an input in the corpus, 80% of the
 * time). Only the first MAX_CHURN of an input are done: churning more
 * reaches no state the first ones did not (ids come back the same,
 * tables are flushed), and the fuzzer stays above 10^7 runs an hour.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sw.h"

#define NSLOT 8
#define MAX_CHURN 8

struct slot {
	int net;      /* 0 or 1 (index into nets[]) */
	const char *bridge;
	bool antispoof, uplink, ips, ra_guard;
	unsigned limit;
};

static const struct slot slots[NSLOT] = {
	{ 0, "a", true, false, true, false, 0 },
	{ 0, "a", false, false, false, true, 4 },
	{ 0, "a.10", true, false, false, false, 0 },
	{ 0, "a.0:10:20", false, false, false, false, 0 },
	{ 0, "a:20:4094", false, true, false, false, 0 },
	{ 0, "a.10", false, false, false, false, 2 },
	{ 1, "b.7", true, false, true, true, 0 },
	{ 1, "b:7", false, false, false, false, 0 },
};

static const uint8_t v4addr[4] = { 10, 0, 0, 1 };
static const uint8_t v6addr[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

struct state {
	struct sw *sw;
	int nets[2];
	int id[NSLOT];       /* slot -> port id, -1 when deleted */
	int slot_of[16];     /* port id -> slot, -1 */
	bool as[NSLOT], rg[NSLOT]; /* anti-spoofing, RA guard now */
	unsigned churn;      /* ports gone and back so far */
	struct sw_vlan_conf vc[NSLOT];
};

static void
die(const char *why)
{
	fprintf(stderr, "fuzz-switch: %s\n", why);
	abort();
}

static void
mac_of(uint8_t m[6], unsigned n)
{
	const uint8_t v[6] = { 0x00, 0x16, 0x3e, 0, 0, (uint8_t)n };

	memcpy(m, v, 6);
}

static int
slot_add(struct state *st, unsigned s)
{
	struct sw_port_conf pc;
	char name[SW_NAME_MAX];
	int id;

	if (sw_parse_bridge(slots[s].bridge, name, &st->vc[s]) < 0)
		die("parse");
	sw_port_conf_init(&pc, st->nets[slots[s].net], slots[s].uplink);
	pc.antispoof = slots[s].antispoof;
	pc.ra_guard = slots[s].ra_guard;
	pc.vlan_conf = &st->vc[s];
	pc.learn_limit = slots[s].limit;
	mac_of(pc.mac, s + 1);
	if (slots[s].ips) {
		pc.nip4 = pc.nip6 = 1;
		memcpy(pc.ip4[0], v4addr, 4);
		memcpy(pc.ip6[0], v6addr, 16);
	}
	id = sw_port_add(st->sw, &pc);
	if (id < 0 || id >= 16)
		die("port add");
	st->id[s] = id;
	st->slot_of[id] = (int)s;
	st->as[s] = pc.antispoof;
	st->rg[s] = pc.ra_guard;
	return id;
}

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * The IPv6 packet in the frame d (len bytes), read here on its own, as
 * RFC 8200 lays it out, to judge what sw_forward() let through. *type:
 * the ICMPv6 type, -1 for none in view (another protocol, a later
 * fragment); *frag: behind a fragment header; *target: an ND target.
 * False when the frame is not IPv6, or its extension headers cannot be
 * looked through: more than SW_IP6_MAX_EXT, hop-by-hop not first, a
 * header or the ICMPv6 header past the payload or the frame.
 */
static bool
ip6_read(const uint8_t *d, size_t len, bool *is6, int *type, bool *frag,
	 const uint8_t **target)
{
	size_t at = 14, end, hdrs = 0;
	unsigned nh;

	*is6 = false;
	*type = -1;
	*frag = false;
	*target = NULL;
	if (len >= 18 && rd16(d + 12) == 0x8100)
		at = 18;
	if (len < at || rd16(d + at - 2) != 0x86dd)
		return true;
	*is6 = true;
	d += at;
	len -= at;
	if (len < 40 || d[0] >> 4 != 6)
		return false;
	end = 40 + (size_t)rd16(d + 4);
	if (end < len)
		len = end;
	nh = d[6];
	at = 40;
	for (;;) {
		size_t size;

		if (nh == 44) {
			if (len - at < 8 || ++hdrs > SW_IP6_MAX_EXT)
				return false;
			*frag = true;
			if (rd16(d + at + 2) >> 3)
				return true; /* a later fragment */
			nh = d[at];
			at += 8;
			continue;
		}
		if (nh != 0 && nh != 43 && nh != 60 && nh != 51)
			break;
		if ((nh == 0 && at != 40) || len - at < 8 ||
		    ++hdrs > SW_IP6_MAX_EXT)
			return false;
		size = nh == 51 ? (d[at + 1] + 2u) * 4 : (d[at + 1] + 1u) * 8;
		if (len - at < size)
			return false;
		nh = d[at];
		at += size;
	}
	if (nh != 58)
		return true;
	if (len - at < 4)
		return false;
	*type = d[at];
	if (len - at >= 24)
		*target = d + at + 8;
	return true;
}

/*
 * A frame sw_forward() did not drop, from slot s: what RA guard and
 * anti-spoofing (with addresses) promise of IPv6.
 */
static void
check_ip6(const struct state *st, unsigned s, const uint8_t *d, size_t len)
{
	bool is6, frag, as = st->as[s] && slots[s].ips;
	const uint8_t *target;
	uint8_t lla[16] = { 0xfe, 0x80, [8] = 0x02, 0x16, 0x3e, 0xff, 0xfe,
			    0, 0, (uint8_t)(s + 1) };
	int type;

	if (!ip6_read(d, len, &is6, &type, &frag, &target)) {
		if (as || st->rg[s])
			die("IPv6 passed that cannot be looked through");
		return;
	}
	if (!is6)
		return;
	if (st->rg[s] && (type == 134 || type == 137))
		die("router advertisement or redirect passed RA guard");
	if (!as || type < 133 || type > 137)
		return;
	if (frag)
		die("fragmented ND passed anti-spoofing");
	if (type == 136 && (!target || (memcmp(target, v6addr, 16) != 0 &&
					memcmp(target, lla, 16) != 0)))
		die("advertisement of another's address passed");
}

/* Does slot s carry vlan; is it untagged there? */
static bool
carries(const struct state *st, int s, uint16_t vlan, bool *untagged)
{
	const struct sw_vlan_conf *vc = &st->vc[s];

	*untagged = !vc->trunk || vc->vid == vlan;
	if (!vc->trunk || vc->vid == vlan)
		return vc->vid == vlan;
	return vlan >= 1 && vlan <= SW_VLAN_MAX &&
	       (vc->all || sw_vlan_isset(vc, vlan));
}

static void
check_dest(const struct state *st, int in, unsigned q, uint16_t vlan,
	   uint16_t tag)
{
	bool untagged;
	int s = q < 16 ? st->slot_of[q] : -1;

	if (s < 0 || (int)q == in)
		die("destination not a live port, or the input port");
	if (slots[s].net != slots[st->slot_of[in]].net)
		die("destination on another network");
	if (!carries(st, s, vlan, &untagged))
		die("destination not in the VLAN");
	if (tag != (untagged ? 0 : vlan))
		die("wrong egress tag");
}

static void
config(struct state *st, unsigned op, unsigned arg, uint64_t now)
{
	unsigned s = arg % NSLOT;
	int id = st->id[s];
	uint8_t m[6];

	switch (op) {
	case 0: /* the port goes and comes back */
		if (id < 0 || st->churn >= MAX_CHURN)
			break;
		st->churn++;
		if (sw_port_del(st->sw, id) < 0)
			die("port del");
		st->slot_of[id] = -1;
		st->id[s] = -1;
		/* Single-threaded: the grace period is over at once. */
		sw_reclaim(st->sw);
		slot_add(st, s);
		break;
	case 1:
		if (sw_port_set_antispoof(st->sw, id, arg & 8) == 0)
			st->as[s] = arg & 8;
		break;
	case 2:
		sw_port_mcast_filter(st->sw, id, arg & 8);
		break;
	case 3:
		m[0] = 0x01;
		m[1] = 0x00;
		m[2] = 0x5e;
		m[3] = m[4] = 0;
		m[5] = (uint8_t)(arg >> 3);
		if (arg & 4)
			sw_port_mcast_del(st->sw, id, m);
		else
			sw_port_mcast_add(st->sw, id, m);
		break;
	case 4:
		mac_of(m, 0x80 | (arg >> 3));
		if (arg & 4) {
			sw_static_del(st->sw, st->nets[slots[s].net], m,
				      st->vc[s].trunk ? 10 : st->vc[s].vid);
		} else if (id >= 0) {
			bool u;
			uint16_t v = st->vc[s].trunk ? 20 : st->vc[s].vid;
			int r = sw_static_add(st->sw, st->nets[slots[s].net],
					      m, v, id);

			if (r == 0 && !carries(st, (int)s, v, &u))
				die("static entry outside the VLAN");
		}
		break;
	case 5:
		sw_port_flush(st->sw, id);
		break;
	case 6:
		sw_net_flush(st->sw, st->nets[arg & 1]);
		break;
	case 8:
		if (sw_port_set_ra_guard(st->sw, id, arg & 8) == 0)
			st->rg[s] = arg & 8;
		break;
	default:
		sw_age(st->sw, now);
		break;
	}
}

struct tally {
	unsigned per_port[16];
};

static int
tally_fn(void *arg, const uint8_t m[6], uint16_t vlan, int port,
	 bool is_static, uint64_t age)
{
	struct tally *t = arg;

	(void)m;
	(void)vlan;
	(void)age;
	if (port < 0 || port >= 16)
		die("table names a bad port");
	if (!is_static)
		t->per_port[port]++;
	return 0;
}

static void
bridge_string(const uint8_t *d, size_t n)
{
	char s[80], name[SW_NAME_MAX];
	struct sw_vlan_conf vc;

	if (n >= sizeof(s))
		n = sizeof(s) - 1;
	memcpy(s, d, n);
	s[n] = '\0';
	if (sw_parse_bridge(s, name, &vc) < 0)
		return;
	if (name[0] == '\0' || strlen(name) >= SW_NAME_MAX ||
	    strpbrk(name, ".:") || strncmp(s, name, strlen(name)) != 0)
		die("bad name parsed");
	if (vc.vid > SW_VLAN_MAX && !(vc.trunk && vc.vid == SW_VLAN_NONE))
		die("bad VLAN parsed");
	if (sw_vlan_isset(&vc, 0) || sw_vlan_isset(&vc, 4095))
		die("reserved VLAN in a trunk");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sw_config cfg = { .max_ports = 16, .max_nets = 2,
				 .table_size = 32, .hash_seed = 7 };
	struct state st;
	struct sw_frame f[SW_MAX_BURST];
	struct sw_result r[SW_MAX_BURST];
	struct sw_group g;
	struct sw_egress e[16];
	uint64_t now = 0;
	size_t off = 0;
	unsigned bursts = 0;

	memset(&st, 0, sizeof(st));
	for (int i = 0; i < 16; i++)
		st.slot_of[i] = -1;
	st.sw = sw_create(&cfg);
	if (!st.sw)
		die("create");
	st.nets[0] = sw_net_add(st.sw, "a", 2000);
	st.nets[1] = sw_net_add(st.sw, "b", 0);
	if (st.nets[0] < 0 || st.nets[1] < 0)
		die("net add");
	for (unsigned s = 0; s < NSLOT; s++)
		slot_add(&st, s);

	while (off + 3 <= size) {
		unsigned n = 0, len, seen[SW_MAX_BURST] = { 0 };
		int in;

		if (data[off] == 0xff) {
			const uint8_t *nul = memchr(data + off + 1, 0,
						    size - off - 1);
			size_t l = nul ? (size_t)(nul - data) - off - 1
				       : size - off - 1;

			bridge_string(data + off + 1, l);
			off += l + 2;
			continue;
		}
		in = st.id[data[off] & 7];
		if (data[off] & 0x80)
			config(&st, (data[off] >> 3) & 0xf, data[off + 1], now);
		now += data[off + 1] * 100u;
		len = data[off + 2];
		off += 3;
		/* One burst of up to 8 frames of that length. Frames are
		 * readable for their length only: ASan checks sw_forward()
		 * stays inside. */
		while (n < 8 && off < size) {
			size_t l = len < size - off ? len : size - off;

			f[n].data = data + off;
			f[n].len = (uint32_t)l;
			off += l;
			n++;
			if (l < len)
				break;
		}
		if (in < 0)
			in = 15; /* deleted meanwhile: a free id */
		/* Every other burst through the fused call, whose grouping
		 * must be what sw_group() makes of its results. */
		if (++bursts & 1) {
			struct sw_group g2;

			if (sw_forward_group(st.sw, in, f, n, now, r, &g) != n)
				die("burst not handled whole");
			sw_group(st.sw, r, n, &g2);
			if (g.ndest != g2.ndest || g.nflood != g2.nflood ||
			    g.ndrop != g2.ndrop || g.flags != g2.flags ||
			    memcmp(g.dest, g2.dest,
				   g.ndest * sizeof(g.dest[0])) != 0 ||
			    memcmp(g.idx, g2.idx,
				   (n - g.nflood - g.ndrop) *
					   sizeof(g.idx[0])) != 0 ||
			    memcmp(g.flood, g2.flood,
				   g.nflood * sizeof(g.flood[0])) != 0 ||
			    memcmp(g.drop, g2.drop,
				   g.ndrop * sizeof(g.drop[0])) != 0)
				die("sw_forward_group groups otherwise");
		} else {
			if (sw_forward(st.sw, in, f, n, now, r) != n)
				die("burst not handled whole");
			sw_group(st.sw, r, n, &g);
		}
		for (unsigned d = 0; d < g.ndest; d++)
			for (unsigned j = 0; j < g.dest[d].n; j++) {
				unsigned i = g.idx[g.dest[d].first + j];

				if (i >= n || r[i].port != g.dest[d].port)
					die("group: wrong destination");
				seen[i]++;
			}
		for (unsigned k = 0; k < g.nflood; k++)
			seen[g.flood[k]]++;
		for (unsigned k = 0; k < g.ndrop; k++)
			seen[g.drop[k]]++;
		for (unsigned i = 0; i < n; i++) {
			if (seen[i] != 1)
				die("group: frame not listed once");
			if (r[i].port == SW_DROP) {
				if (!sw_counter_is_drop(r[i].reason))
					die("drop without a drop reason");
				continue;
			}
			if (in == 15 || r[i].vlan > SW_VLAN_MAX)
				die("forwarded from a free port, or bad VLAN");
			check_ip6(&st, (unsigned)st.slot_of[in], f[i].data,
				  f[i].len);
			if (r[i].port != SW_FLOOD) {
				check_dest(&st, in, r[i].port, r[i].vlan,
					   r[i].tag);
				continue;
			}
			unsigned k = sw_flood(st.sw, in, &r[i], e, 16);

			if (k > 16)
				die("flood beyond the ports");
			for (unsigned j = 0; j < k; j++)
				check_dest(&st, in, e[j].port, r[i].vlan,
					   e[j].tag);
		}
	}
	/* Limits hold, whatever the races of learning and moves. */
	for (int net = 0; net < 2; net++) {
		struct tally t = { { 0 } };

		if (sw_table_walk(st.sw, st.nets[net], now, tally_fn, &t) < 0)
			die("walk");
		for (unsigned s = 0; s < NSLOT; s++) {
			int id = st.id[s];

			if (slots[s].net != net || id < 0)
				continue;
			if (slots[s].limit && t.per_port[id] > slots[s].limit)
				die("learn limit exceeded");
		}
	}
	sw_destroy(st.sw);
	return 0;
}
