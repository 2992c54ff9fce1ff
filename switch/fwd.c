/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The data path: classify a burst and check it against anti-spoofing,
 * learn its sources and look up its destinations (two passes, so that
 * the table lines of the whole burst are being fetched while the first
 * frames are looked at); sort the results by destination; list a
 * flood's destinations. Frames are hostile bytes: nothing is read past
 * len. Nothing here takes a lock or allocates.
 */
#include "sw_priv.h"

#define ET_IP4 0x0800u
#define ET_ARP 0x0806u
#define ET_VLAN 0x8100u
#define ET_QINQ 0x88a8u
#define ET_QINQ_OLD 0x9100u
#define ET_IP6 0x86ddu

#define IPPROTO_HOPOPTS_ 0u
#define IPPROTO_UDP_ 17u
#define IPPROTO_ROUTING_ 43u
#define IPPROTO_FRAGMENT_ 44u
#define IPPROTO_AH_ 51u
#define IPPROTO_ICMPV6_ 58u
#define IPPROTO_DSTOPTS_ 60u

#define ICMP6_MLD_REPORT 131u
#define ICMP6_MLD2_REPORT 143u
#define ND_ROUTER_SOLICIT 133u
#define ND_ROUTER_ADVERT 134u
#define ND_NEIGHBOR_SOLICIT 135u
#define ND_NEIGHBOR_ADVERT 136u
#define ND_REDIRECT 137u
#define ND_OPT_SOURCE_LLADDR 1u
#define ND_OPT_TARGET_LLADDR 2u

static inline uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static bool
ip4_listed(const struct port *p, const uint8_t *a)
{
	for (unsigned i = 0; i < p->nip4; i++)
		if (memcmp(p->ip4[i], a, 4) == 0)
			return true;
	return false;
}

/* One of the port's IPv6 addresses, or the MAC's EUI-64 link-local. */
static bool
ip6_listed(const struct port *p, const uint8_t *a)
{
	if (memcmp(p->lla, a, 16) == 0)
		return true;
	for (unsigned i = 0; i < p->nip6; i++)
		if (memcmp(p->ip6[i], a, 16) == 0)
			return true;
	return false;
}

/* l: the IPv4 header, len bytes of it readable. */
static unsigned
check_ip4(const struct port *p, const uint8_t *l, uint32_t len)
{
	uint32_t ihl;

	if (len < 20 || (l[0] >> 4) != 4)
		return SW_C_DROP_SPOOF_IP4;
	if (ip4_listed(p, l + 12))
		return 0;
	/*
	 * Before it has an address, a DHCP client sends from 0.0.0.0 to
	 * the server port: let that through, unfragmented, with its UDP
	 * ports in view.
	 */
	ihl = (uint32_t)(l[0] & 0xf) * 4;
	if ((l[12] | l[13] | l[14] | l[15]) == 0 && ihl >= 20 &&
	    l[9] == IPPROTO_UDP_ && (be16(l + 6) & 0x1fff) == 0 &&
	    len >= ihl + 8 && be16(l + ihl) == 68 && be16(l + ihl + 2) == 67)
		return 0;
	return SW_C_DROP_SPOOF_IP4;
}

/* l: the ARP packet. The sender must be the port (or probe, RFC 5227). */
static unsigned
check_arp(const struct port *p, const uint8_t *l, uint32_t len, bool ipf)
{
	if (len < 28 || be16(l) != 1 || be16(l + 2) != ET_IP4 || l[4] != 6 ||
	    l[5] != 4)
		return SW_C_DROP_SPOOF_ARP;
	if (memcmp(l + 8, p->mac, 6) != 0)
		return SW_C_DROP_SPOOF_ARP;
	if (ipf && !ip4_listed(p, l + 14) &&
	    (l[14] | l[15] | l[16] | l[17]) != 0)
		return SW_C_DROP_SPOOF_ARP;
	return 0;
}

/*
 * Neighbour discovery: icmp at offset o of the IPv6 packet l whose
 * payload ends at end (within what is readable). A solicitation's
 * source link-layer option and an advertisement's target and target
 * link-layer option must be the port's; a solicitation from :: (DAD)
 * must be for one of its addresses.
 */
static unsigned
check_nd(const struct port *p, const uint8_t *l, uint32_t o, uint32_t end,
	 bool dad)
{
	uint8_t type = l[o];
	uint32_t opt;

	if (o + 24 > end)
		return SW_C_DROP_SPOOF_ND;
	if ((type == ND_NEIGHBOR_ADVERT || dad) && !ip6_listed(p, l + o + 8))
		return SW_C_DROP_SPOOF_ND;
	for (opt = o + 24; opt < end;) {
		uint32_t olen;

		if (opt + 2 > end)
			return SW_C_DROP_SPOOF_ND;
		olen = (uint32_t)l[opt + 1] * 8;
		/* Zero length: malformed, a receiver drops it too. */
		if (olen == 0 || opt + olen > end)
			return SW_C_DROP_SPOOF_ND;
		if ((type == ND_NEIGHBOR_ADVERT &&
		     l[opt] == ND_OPT_TARGET_LLADDR) ||
		    (type == ND_NEIGHBOR_SOLICIT &&
		     l[opt] == ND_OPT_SOURCE_LLADDR)) {
			if (memcmp(l + opt + 2, p->mac, 6) != 0)
				return SW_C_DROP_SPOOF_ND;
		}
		opt += olen;
	}
	return 0;
}

/*
 * Where an IPv6 packet's upper-layer header is: its protocol and
 * offset, past the extension headers a receiving stack walks itself.
 */
struct ip6_upper {
	uint32_t off;
	uint8_t proto;
	bool frag;  /* behind a fragment header */
	bool later; /* a later fragment: no upper-layer header in it */
};

/*
 * Walk the extension headers of the IPv6 packet l, lim bytes of it
 * readable and inside the payload. False when the chain cannot be
 * looked through: cut short by lim, more than SW_IP6_MAX_EXT headers,
 * or a hop-by-hop header other than first (RFC 8200 4.1; receivers
 * refuse it, as they refuse ND hidden by it). ESP and any protocol not
 * an extension header end the walk: what follows is the upper layer,
 * or, for ESP, opaque.
 */
static bool
ip6_walk(const uint8_t *l, uint32_t lim, struct ip6_upper *u)
{
	uint32_t o = 40, hl;
	uint8_t nh = l[6];

	u->frag = u->later = false;
	for (unsigned k = 0;; k++) {
		if (nh != IPPROTO_HOPOPTS_ && nh != IPPROTO_ROUTING_ &&
		    nh != IPPROTO_FRAGMENT_ && nh != IPPROTO_AH_ &&
		    nh != IPPROTO_DSTOPTS_)
			break;
		/* Every extension header is at least 8 bytes. */
		if (k == SW_IP6_MAX_EXT || o + 8 > lim ||
		    (nh == IPPROTO_HOPOPTS_ && o != 40))
			return false;
		if (nh == IPPROTO_FRAGMENT_) {
			hl = 8;
			u->frag = true;
			u->later = (be16(l + o + 2) & 0xfff8u) != 0;
		} else if (nh == IPPROTO_AH_) {
			hl = ((uint32_t)l[o + 1] + 2) * 4;
		} else {
			hl = ((uint32_t)l[o + 1] + 1) * 8;
		}
		if (hl > lim - o)
			return false;
		nh = l[o];
		o += hl;
		if (u->later)
			break;
	}
	u->off = o;
	u->proto = nh;
	return true;
}

/*
 * l: the IPv6 header, len bytes readable. ipf: anti-spoofing with
 * addresses; guard: RA guard. A chain we cannot look through counts
 * against whichever is on, anti-spoofing first.
 */
static unsigned
check_ip6(const struct port *p, const uint8_t *l, uint32_t len, bool ipf,
	  bool guard)
{
	static const uint8_t any[16];
	unsigned bad = ipf ? SW_C_DROP_SPOOF_IP6 : SW_C_DROP_RA_GUARD;
	struct ip6_upper u;
	uint32_t end, lim;
	int type = -1;
	bool dad;

	if (len < 40 || (l[0] >> 4) != 6)
		return bad;
	end = 40 + (uint32_t)be16(l + 4);
	lim = end < len ? end : len;
	if (!ip6_walk(l, lim, &u))
		return bad;
	if (u.proto == IPPROTO_ICMPV6_ && !u.later) {
		if (u.off + 4 > lim)
			return bad;
		type = l[u.off];
	}
	if (guard && (type == ND_ROUTER_ADVERT || type == ND_REDIRECT))
		return SW_C_DROP_RA_GUARD;
	if (!ipf)
		return 0;
	dad = memcmp(l + 8, any, 16) == 0;
	if (dad) {
		/* ::, for DAD and MLD before a link-local address exists,
		 * and only to link-scope multicast. */
		if (l[24] != 0xff || l[25] != 0x02 ||
		    (type != ND_NEIGHBOR_SOLICIT && type != ICMP6_MLD_REPORT &&
		     type != ICMP6_MLD2_REPORT))
			return SW_C_DROP_SPOOF_IP6;
	} else if (!ip6_listed(p, l + 8)) {
		return SW_C_DROP_SPOOF_IP6;
	}
	if (type < (int)ND_ROUTER_SOLICIT || type > (int)ND_REDIRECT)
		return 0;
	/* Receivers drop fragmented ND (RFC 6980): it could hide options
	 * in a later fragment. */
	if (u.frag)
		return SW_C_DROP_SPOOF_ND;
	if (type != ND_NEIGHBOR_SOLICIT && type != ND_NEIGHBOR_ADVERT)
		return 0;
	/* An option we cannot read could name another MAC. */
	if (end > len)
		return SW_C_DROP_SPOOF_ND;
	return check_nd(p, l, u.off, end, dad);
}

/* What classify() checks of a port's frames. */
#define CHK_SPOOF 1u /* anti-spoofing */
#define CHK_RA 2u    /* RA guard */

/*
 * Anti-spoofing and RA guard (chk) of a frame whose ethertype (after
 * the outer tag) is et, at offset off.
 */
static unsigned
check_spoof(const struct port *p, const uint8_t *d, uint32_t len,
	    uint32_t off, uint16_t et, unsigned chk)
{
	bool as = chk & CHK_SPOOF, ipf = as && (p->nip4 || p->nip6);

	if (as && memcmp(d + 6, p->mac, 6) != 0)
		return SW_C_DROP_SPOOF_MAC;
	switch (et) {
	case ET_ARP:
		return as ? check_arp(p, d + off, len - off, ipf) : 0;
	case ET_IP4:
		return ipf ? check_ip4(p, d + off, len - off) : 0;
	case ET_IP6:
		return ipf || (chk & CHK_RA)
			       ? check_ip6(p, d + off, len - off, ipf,
					   chk & CHK_RA)
			       : 0;
	case ET_VLAN:
	case ET_QINQ:
	case ET_QINQ_OLD:
		/* Only the outer tag is looked at: what hides behind a
		 * second one would go unchecked. */
		return SW_C_DROP_SPOOF_STACKED;
	default:
		return 0;
	}
}

/* MAC bits (48-bit numbers): group (multicast) address. */
#define MAC_GROUP (1ull << 40)
/* 802.1D reserved groups (STP, pause, LACP, 802.1X, LLDP): a bridge
 * never forwards 01:80:c2:00:00:0X. */
#define MAC_RESERVED 0x0180c2000000ull
#define MAC_RESERVED_MASK 0xfffffffffff0ull

/*
 * Headers, ingress VLAN rules, anti-spoofing, reserved groups, of a
 * frame of at least 14 bytes whose MACs (48-bit numbers) and ethertype
 * have been read. Returns 0 with *vlan (the frame's VLAN in the
 * network) and *flags set, and when tagged *fvid, the frame's own VID;
 * or the drop counter.
 */
static inline unsigned
classify(const struct port *p, uint64_t w, unsigned chk, const uint8_t *d,
	 uint32_t len, uint64_t dmac, uint64_t smac, uint16_t et,
	 uint16_t *vlan, uint8_t *flags, uint16_t *fvid)
{
	uint32_t off = 14;
	uint16_t vid = 0;
	bool tagged = false;

	if ((smac & MAC_GROUP) || smac == 0)
		return SW_C_DROP_BAD_SRC;
	if (et == ET_VLAN) {
		if (len < 18)
			return SW_C_DROP_RUNT;
		vid = be16(d + 14) & 0xfffu;
		et = be16(d + 16);
		off = 18;
		tagged = true;
		*flags = SW_F_TAGGED;
		*fvid = vid;
	}
	if (!(w & PW_TRUNK)) {
		/* Access: untagged or priority-tagged only. */
		if (tagged && vid != 0)
			return SW_C_DROP_VLAN_TAGGED;
		*vlan = pw_vid(w);
	} else if (!tagged || vid == 0) {
		if (pw_vid(w) == SW_VLAN_NONE)
			return SW_C_DROP_VLAN_UNTAGGED;
		*vlan = pw_vid(w);
	} else {
		if (vid > SW_VLAN_MAX ||
		    (!(w & PW_ALL) && !((p->vmap[vid >> 6] >> (vid & 63)) & 1)))
			return SW_C_DROP_VLAN_MEMBER;
		*vlan = vid;
	}
	if (chk) {
		unsigned why = check_spoof(p, d, len, off, et, chk);

		if (why)
			return why;
	}
	if ((dmac & MAC_GROUP) &&
	    (dmac & MAC_RESERVED_MASK) == MAC_RESERVED)
		return SW_C_DROP_RESERVED;
	return 0;
}

/*
 * Take one from a count under its limit (0: none): the count is raised
 * before the entry it counts is published and lowered after it is gone,
 * so that it never falls below the truth, and concurrent learners cannot
 * overshoot the limit.
 */
static inline bool
reserve(_Atomic unsigned *count, unsigned limit)
{
	unsigned v = atomic_fetch_add_explicit(count, 1, MO_RLX);

	if (limit && v >= limit) {
		atomic_fetch_sub_explicit(count, 1, MO_RLX);
		return false;
	}
	return true;
}

/*
 * A burst's counts for its input port, added to the port's counters
 * once at the end: only the counters a burst touched are zeroed and
 * added (most bursts touch one or two of them).
 */
struct tally {
	uint32_t touched; /* bit k: c[k] holds a count */
	uint32_t c[SW_C_COUNT];
};
_Static_assert(SW_C_COUNT <= 32, "a burst's touched counters fit a word");

static inline void
tally(struct tally *t, unsigned k, uint32_t v)
{
	if (!(t->touched & (1u << k))) {
		t->touched |= 1u << k;
		t->c[k] = 0;
	}
	t->c[k] += v;
}

/*
 * Learn (or refresh, or move) the source k of a frame from port in.
 * Counts go to t, the burst's tally for the port. True when the entry
 * now stands as a later frame from the same source would leave it (it
 * points to in, or is static): that frame need not learn again.
 */
static inline bool
learn(struct sw *sw, struct net *n, struct port *p, unsigned in, uint64_t k,
      uint32_t home, uint32_t stamp, struct tally *t)
{
	struct entry *e, *fr;
	uint64_t fk = K_EMPTY;
	uint32_t v = 0, old;

	e = fdb_probe(sw, n, k, home, &v, &fr, &fk);
	if (e) {
		if (v & V_DYING)
			return false;
		if (v & V_STATIC)
			return true;
		if ((v & V_PORT) == in) {
			/* Written about once a second, not per frame: the
			 * line stays shared between the workers reading it. */
			if (atomic_load_explicit(&e->stamp, MO_RLX) != stamp)
				atomic_store_explicit(&e->stamp, stamp, MO_RLX);
			return true;
		}
		/* A move: the entry now counts against this port. */
		if (!reserve(&p->learned, p->learn_limit)) {
			tally(t, SW_C_LEARN_LIMIT, 1);
			return false;
		}
		/* The generation in v makes this fail if the slot was
		 * refilled since we read it. */
		if (!atomic_compare_exchange_strong_explicit(
			&e->val, &v, (v & ~V_PORT) | in, MO_REL, MO_RLX)) {
			atomic_fetch_sub_explicit(&p->learned, 1, MO_RLX);
			return false;
		}
		atomic_store_explicit(&e->stamp, stamp, MO_RLX);
		old = v & V_PORT;
		if (old < sw->max_ports)
			count_dec(&sw->ports[old].learned);
		tally(t, SW_C_MOVED, 1);
		return true;
	}
	if (!fr) {
		tally(t, SW_C_TABLE_FULL, 1);
		return false;
	}
	if (!reserve(&p->learned, p->learn_limit)) {
		tally(t, SW_C_LEARN_LIMIT, 1);
		return false;
	}
	if (!reserve(&n->learned,
		     atomic_load_explicit(&n->learn_limit, MO_RLX))) {
		atomic_fetch_sub_explicit(&p->learned, 1, MO_RLX);
		tally(t, SW_C_LEARN_LIMIT_NET, 1);
		return false;
	}
	/* Lost the slot to another learner: the next frame learns. */
	if (!fdb_fill(fr, fk, k, in, stamp)) {
		atomic_fetch_sub_explicit(&p->learned, 1, MO_RLX);
		atomic_fetch_sub_explicit(&n->learned, 1, MO_RLX);
		return false;
	}
	tally(t, SW_C_LEARNED, 1);
	return true;
}

/*
 * What forward() tells sw_forward_group() of a burst: the one port every
 * frame goes to (SW_PORT_NONE: drops, floods or several ports), and the
 * flags of the results ORed.
 */
struct fwd_sum {
	unsigned port;
	unsigned flags;
};

static inline unsigned
forward(struct sw *sw, int in_port, const struct sw_frame *f, unsigned n,
	uint64_t now_ms, struct sw_result *out, struct fwd_sum *sum)
{
	/* What pass 1 finds out per frame, for pass 2. */
	uint64_t skey[SW_MAX_BURST], dkey[SW_MAX_BURST];
	uint32_t shome[SW_MAX_BURST], dhome[SW_MAX_BURST];
	uint16_t vlan[SW_MAX_BURST], ftag[SW_MAX_BURST];
	uint8_t why[SW_MAX_BURST], flags[SW_MAX_BURST];
	struct tally t = { .touched = 0 };
	uint32_t stamp = (uint32_t)(now_ms >> STAMP_SHIFT);
	unsigned in = (unsigned)in_port;
	struct port *p;
	struct net *net;
	uint64_t w;
	unsigned chk;

	if (n > SW_MAX_BURST)
		n = SW_MAX_BURST;
	w = sw && in_port >= 0 && in < sw->max_ports
		? atomic_load_explicit(&sw->ports[in].word, MO_ACQ)
		: 0;
	sum->port = SW_PORT_NONE;
	sum->flags = 0;
	if (pw_state(w) != PW_LIVE) {
		for (unsigned i = 0; i < n; i++)
			out[i] = (struct sw_result){
				.port = SW_DROP, .reason = SW_C_DROP_PORT_DOWN
			};
		if (pw_state(w) == PW_DEAD) {
			ctr_add(&sw->ports[in].c[SW_C_RX], n);
			ctr_add(&sw->ports[in].c[SW_C_DROP_PORT_DOWN], n);
		}
		return n;
	}
	p = &sw->ports[in];
	net = &sw->nets[pw_net(w)];
	chk = (atomic_load_explicit(&p->antispoof, MO_RLX) ? CHK_SPOOF : 0) |
	      (atomic_load_explicit(&p->ra_guard, MO_RLX) ? CHK_RA : 0);
	tally(&t, SW_C_RX, n);

	/*
	 * Pass 1: headers and checks; start fetching table lines. A run of
	 * frames from one source hashes and fetches its line once. dkey
	 * K_EMPTY: a group address, flooded.
	 */
	uint64_t prev = K_EMPTY;
	uint32_t prev_home = 0;
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *d = f[i].data;
		uint64_t dmac, sw_, vk;

		flags[i] = 0;
		ftag[i] = 0;
		if (f[i].len < 14) {
			why[i] = SW_C_DROP_RUNT;
			tally(&t, SW_C_DROP_RUNT, 1);
			continue;
		}
		dmac = frame_be64(d) >> 16;
		sw_ = frame_be64(d + 6);
		why[i] = (uint8_t)classify(p, w, chk, d, f[i].len, dmac,
					   sw_ >> 16, (uint16_t)sw_, &vlan[i],
					   &flags[i], &ftag[i]);
		if (why[i]) {
			tally(&t, why[i], 1);
			continue;
		}
		vk = (uint64_t)(vlan[i] & 0xfffu) << K_MAC_BITS | K_LIVE;
		skey[i] = sw_ >> 16 | vk;
		if (skey[i] != prev) {
			prev = skey[i];
			prev_home = fdb_home(sw, prev);
			__builtin_prefetch(&net->table[prev_home]);
		}
		shome[i] = prev_home;
		if (dmac & MAC_GROUP) {
			dkey[i] = K_EMPTY;
			continue;
		}
		dkey[i] = dmac | vk;
		dhome[i] = fdb_home(sw, dkey[i]);
		__builtin_prefetch(&net->table[dhome[i]]);
	}
	/*
	 * Pass 2: learn, then look up, frame by frame in order. A burst
	 * often comes from one source: once it stands learned here, its
	 * next frames have nothing to change (K_EMPTY is never a key). And
	 * it often goes to one port: what that port is (its word, read
	 * once a burst like the input port's) and how a VLAN leaves it are
	 * worked out again only when the port or VLAN changes.
	 */
	uint64_t learnt = K_EMPTY, qw = 0;
	uint32_t last = UINT32_MAX; /* port << 16 | VLAN, worked out */
	unsigned flooded = 0, ors = 0;
	/* The one port every frame goes to: SW_PORT_NONE - 1 while none
	 * is seen, SW_PORT_NONE after a drop, flood or second port. */
	unsigned one = SW_PORT_NONE - 1;
	bool lok = false;
	uint16_t ltag = 0;
	for (unsigned i = 0; i < n; i++) {
		struct sw_result *r = &out[i];
		struct entry *e;
		uint32_t v = 0;
		unsigned q;

		if (why[i]) {
			*r = (struct sw_result){ .port = SW_DROP,
						 .reason = why[i] };
			one = SW_PORT_NONE;
			continue;
		}
		if (skey[i] != learnt)
			learnt = learn(sw, net, p, in, skey[i], shome[i],
				       stamp, &t)
					 ? skey[i]
					 : K_EMPTY;
		r->vlan = vlan[i];
		r->reason = 0;
		if (dkey[i] == K_EMPTY) {
			const uint8_t *d = f[i].data;

			r->port = SW_FLOOD;
			r->tag = 0;
			if ((d[0] & d[1] & d[2] & d[3] & d[4] & d[5]) == 0xff) {
				r->flags = flags[i] | SW_F_BCAST;
			} else {
				r->flags = flags[i] | SW_F_MCAST;
				r->group = mac_key(d, 0);
			}
			flooded++;
			one = SW_PORT_NONE;
			continue;
		}
		e = fdb_find(sw, net, dkey[i], dhome[i], &v);
		q = e ? v & V_PORT : SW_PORT_NONE;
		if (q == in) {
			*r = (struct sw_result){ .port = SW_DROP,
						 .reason = SW_C_DROP_HAIRPIN };
			tally(&t, SW_C_DROP_HAIRPIN, 1);
			one = SW_PORT_NONE;
			continue;
		}
		/*
		 * The destination must still be live, on this network and
		 * in this VLAN: an entry may be stale for a grace period,
		 * and crossing networks or VLANs is never right.
		 */
		if ((q << 16 | vlan[i]) != last) {
			if (q != last >> 16)
				qw = q < sw->max_ports
					 ? atomic_load_explicit(
						   &sw->ports[q].word, MO_ACQ)
					 : 0;
			last = q << 16 | vlan[i];
			lok = pw_state(qw) == PW_LIVE &&
			      pw_net(qw) == pw_net(w) &&
			      port_carries(&sw->ports[q], qw, vlan[i]);
			ltag = port_untagged(qw, vlan[i]) ? 0 : vlan[i];
		}
		if (!lok) {
			r->port = SW_FLOOD;
			r->tag = 0;
			r->flags = flags[i] | SW_F_UNKNOWN;
			flooded++;
			one = SW_PORT_NONE;
			continue;
		}
		r->port = (uint16_t)q;
		r->tag = ltag;
		r->flags = flags[i] | (ltag != ftag[i] ? SW_F_RETAG : 0);
		ors |= r->flags;
		if (q != one)
			one = one == SW_PORT_NONE - 1 ? q : SW_PORT_NONE;
	}
	sum->port = one == SW_PORT_NONE - 1 ? SW_PORT_NONE : one;
	sum->flags = ors;
	if (flooded)
		tally(&t, SW_C_FLOODED, flooded);
	for (uint32_t m = t.touched; m; m &= m - 1) {
		unsigned k = (unsigned)__builtin_ctz(m);

		ctr_add(&p->c[k], t.c[k]);
	}
	return n;
}

unsigned
sw_forward(struct sw *sw, int in_port, const struct sw_frame *f, unsigned n,
	   uint64_t now_ms, struct sw_result *out)
{
	struct fwd_sum sum;

	return forward(sw, in_port, f, n, now_ms, out, &sum);
}

/* idx[] of a burst that goes whole to one port, in order. */
static const uint16_t identity[SW_MAX_BURST] = {
	0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
	32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47,
	48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63,
};
_Static_assert(SW_MAX_BURST == 64, "identity[] covers a burst");

/* The whole burst of n to port q; flags: its results' ORed. */
static void
group_one(struct sw *sw, unsigned q, unsigned n, unsigned flags,
	  struct sw_group *g)
{
	g->nflood = g->ndrop = 0;
	g->flags = flags;
	g->ndest = 1;
	g->dest[0].port = (uint16_t)q;
	g->dest[0].n = (uint16_t)n;
	g->dest[0].first = 0;
	memcpy(g->idx, identity, n * sizeof(g->idx[0]));
	/* Any worker may send to a port: a locked add, once per burst. */
	atomic_fetch_add_explicit(&sw->ports[q].c[SW_C_TX], n, MO_RLX);
}

unsigned
sw_forward_group(struct sw *sw, int in_port, const struct sw_frame *f,
		 unsigned n, uint64_t now_ms, struct sw_result *out,
		 struct sw_group *g)
{
	struct fwd_sum sum;

	n = forward(sw, in_port, f, n, now_ms, out, &sum);
	if (sum.port < SW_MAX_PORTS)
		group_one(sw, sum.port, n, sum.flags, g);
	else
		sw_group(sw, out, n, g);
	return n;
}

void
sw_group(struct sw *sw, const struct sw_result *r, unsigned n,
	 struct sw_group *g)
{
	/* Port -> destination slot, open addressing over twice the burst. */
	uint16_t hport[2 * SW_MAX_BURST];
	uint8_t hdest[2 * SW_MAX_BURST], which[SW_MAX_BURST];
	uint16_t pos[SW_MAX_BURST];
	unsigned first = 0;

	if (n > SW_MAX_BURST)
		n = SW_MAX_BURST;
	g->ndest = g->nflood = g->ndrop = g->flags = 0;
	/* The common burst: every frame to one port. */
	if (n && sw && r[0].port < sw->max_ports) {
		unsigned q = r[0].port, i = 1, fl = r[0].flags;

		while (i < n && r[i].port == q)
			fl |= r[i++].flags;
		if (i == n) {
			group_one(sw, q, n, fl, g);
			return;
		}
	}
	memset(hport, 0xff, sizeof(hport));
	for (unsigned i = 0; i < n; i++) {
		unsigned q = r[i].port, h;

		which[i] = 0xff;
		if (q == SW_FLOOD) {
			g->flood[g->nflood++] = (uint16_t)i;
			continue;
		}
		if (q == SW_DROP || !sw || q >= sw->max_ports) {
			g->drop[g->ndrop++] = (uint16_t)i;
			continue;
		}
		h = (q * 0x9e5u) & (2 * SW_MAX_BURST - 1);
		while (hport[h] != q && hport[h] != 0xffff)
			h = (h + 1) & (2 * SW_MAX_BURST - 1);
		if (hport[h] == 0xffff) {
			hport[h] = (uint16_t)q;
			hdest[h] = (uint8_t)g->ndest;
			g->dest[g->ndest].port = (uint16_t)q;
			g->dest[g->ndest].n = 0;
			g->ndest++;
		}
		which[i] = hdest[h];
		g->dest[hdest[h]].n++;
		g->flags |= r[i].flags;
	}
	for (unsigned d = 0; d < g->ndest; d++) {
		g->dest[d].first = (uint16_t)first;
		pos[d] = (uint16_t)first;
		first += g->dest[d].n;
	}
	for (unsigned i = 0; i < n; i++)
		if (which[i] != 0xff)
			g->idx[pos[which[i]]++] = (uint16_t)i;
	/* Any worker may send to a port: a locked add, once per burst. */
	for (unsigned d = 0; d < g->ndest; d++) {
		struct port *q = &sw->ports[g->dest[d].port];

		atomic_fetch_add_explicit(&q->c[SW_C_TX], g->dest[d].n,
					  MO_RLX);
	}
}

/* Has the filtering port q subscribed to group g? */
static bool
mc_member(const struct port *q, uint64_t g)
{
	unsigned hi = atomic_load_explicit(&q->mc_hi, MO_ACQ);

	if (hi > SW_MAX_MCAST)
		hi = SW_MAX_MCAST;
	for (unsigned i = 0; i < hi; i++)
		if (atomic_load_explicit(&q->mc[i], MO_RLX) == g)
			return true;
	return false;
}

/*
 * A flood list may still name a port deleted since it was published
 * (replaced lists wait for a grace period, and stay when memory ran
 * out to replace them): its word says whether it is still live. The
 * line is the one a multicast flood reads for mc_on anyway.
 */
static inline bool
flood_live(const struct sw *sw, unsigned q)
{
	return pw_state(atomic_load_explicit(&sw->ports[q].word, MO_RLX)) ==
	       PW_LIVE;
}

/* The flood list of (in_port's network, vlan), or NULL. */
static const struct plan_ent *
flood_list(const struct sw *sw, int in_port, uint16_t vlan, unsigned *len)
{
	const struct plan *pl;
	uint64_t w;
	unsigned l;

	if (!sw || in_port < 0 || (unsigned)in_port >= sw->max_ports ||
	    vlan > SW_VLAN_MAX)
		return NULL;
	w = atomic_load_explicit(&sw->ports[in_port].word, MO_ACQ);
	if (pw_state(w) == PW_FREE)
		return NULL;
	pl = atomic_load_explicit(&sw->nets[pw_net(w)].plan, MO_ACQ);
	if (!pl)
		return NULL;
	l = pl->list[vlan];
	*len = pl->off[l + 1] - pl->off[l];
	return &pl->ent[pl->off[l]];
}

unsigned
sw_flood(struct sw *sw, int in_port, const struct sw_result *r,
	 struct sw_egress *out, unsigned max)
{
	const struct plan_ent *ent;
	unsigned len = 0, k = 0;
	bool mc = r->flags & SW_F_MCAST;

	if (r->port != SW_FLOOD)
		return 0;
	ent = flood_list(sw, in_port, r->vlan, &len);
	for (unsigned i = 0; ent && i < len; i++) {
		unsigned q = ent[i].port;

		if (q == (unsigned)in_port || !flood_live(sw, q))
			continue;
		if (mc && atomic_load_explicit(&sw->ports[q].mc_on, MO_RLX) &&
		    !mc_member(&sw->ports[q], r->group))
			continue;
		if (k < max) {
			out[k].port = (uint16_t)q;
			out[k].tag = ent[i].untagged ? 0 : r->vlan;
			atomic_fetch_add_explicit(&sw->ports[q].c[SW_C_TX], 1,
						  MO_RLX);
		}
		k++;
	}
	return k;
}

unsigned
sw_flood_ports(const struct sw *sw, int in_port, uint16_t vlan,
	       uint16_t *ports, unsigned max)
{
	const struct plan_ent *ent;
	unsigned len = 0, k = 0;

	ent = flood_list(sw, in_port, vlan, &len);
	for (unsigned i = 0; ent && i < len && k < max; i++)
		if (ent[i].port != (unsigned)in_port &&
		    flood_live(sw, ent[i].port))
			ports[k++] = ent[i].port;
	return k;
}
