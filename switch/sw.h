/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sw: networks of learning L2 switches.
 *
 * Pure: no I/O, no logging, no system calls, nothing allocated per frame.
 * Frames are byte pointers and lengths; the caller owns packets and ports
 * and passes the time in: `now` is always a monotonic clock in
 * milliseconds.
 *
 * A switch holds networks; a network joins ports: guest interfaces (VIFs)
 * and at most one uplink (PIF); an internal network has none. Each
 * network learns MAC addresses per VLAN (0 is the untagged network,
 * 1..4094 are 802.1Q VLANs) into a fixed-size table, ages them, and
 * floods broadcast, multicast and unknown unicast to the other ports of
 * the VLAN.
 *
 * Forwarding a burst takes two passes (netmap VALE style): sw_forward()
 * finds a destination for every frame first (a port, SW_FLOOD or
 * SW_DROP with a reason), then the caller hands each destination its
 * frames at once: sw_group() sorts a burst's results by destination
 * without allocating (sw_forward_group() does both, and a burst that
 * goes whole to one port costs it no sorting), sw_flood() lists a
 * flooded frame's destinations from a list precomputed per (network,
 * VLAN).
 *
 * Threads. Any number of workers may call sw_forward(), sw_group(),
 * sw_forward_group(), sw_flood() and sw_flood_ports() at the same time,
 * for different input ports, without a lock: the table is open
 * addressing over 64-bit atomic keys, learning claims slots and moves
 * entries with compare-and-swap.
 * Configuration (every other function that changes something, and
 * sw_age()) is done by one thread at a time; the caller serializes those
 * calls, sw takes no lock. Configuration never frees or reuses memory or
 * port ids a worker may still be reading: what it retires (flood lists,
 * deleted ports) waits for sw_reclaim(). The caller's promise: it calls
 * sw_reclaim() only after an RCU grace period that began after its last
 * configuration call, that is once every sw_forward(), sw_group(),
 * sw_forward_group(), sw_flood() and sw_flood_ports() call begun before
 * that point has returned (e.g. sw_port_del(); rte_rcu_qsbr_synchronize();
 * sw_reclaim()). Until then a deleted port's id is not handed out
 * again, and its network cannot be deleted. Two workers forwarding for
 * the same input port at once (queues of one interface) stay safe, but
 * that port's counters may then miss increments. Read-only functions
 * (sw_lookup(), sw_port_counter(), sw_table_walk()) may be called from
 * any thread.
 *
 * Errors are negative errno values; constructors return NULL and set
 * errno.
 */
#ifndef NETBACKD_SW_H
#define NETBACKD_SW_H

#include <stdbool.h>
#include <stdint.h>

/* Frames sw_forward() handles per call. */
#define SW_MAX_BURST 64u
/* Network names, with the NUL. */
#define SW_NAME_MAX 32u
/* Port ids are below this; larger values are sentinels. */
#define SW_MAX_PORTS 0xfff0u
#define SW_PORT_NONE 0xffffu
#define SW_DROP 0xfffeu
#define SW_FLOOD 0xfffdu
/* Addresses anti-spoofing accepts per port and family. */
#define SW_MAX_IPS 8
/* IPv6 extension headers looked through to find the upper layer. */
#define SW_IP6_MAX_EXT 8u
/* Multicast groups a filtering port can subscribe to. */
#define SW_MAX_MCAST 64u
/* VLAN ids: 0 is the untagged network, 4095 is reserved. */
#define SW_VLAN_MAX 4094u
#define SW_VLAN_NONE 0xffffu
#define SW_VLAN_WORDS 64u

/*
 * Counters, per port and per network. RX counts every frame offered by
 * the port, TX every frame handed to it through sw_group() or sw_flood().
 * The drop reasons lie between SW_C_DROP_RUNT and SW_C_DROP_PORT_DOWN;
 * sw_counter_is_drop() says which.
 */
#define SW_COUNTERS(X)                                                      \
	X(RX, "rx")                                                         \
	X(TX, "tx")                                                         \
	X(FLOODED, "flooded")                                               \
	X(LEARNED, "learned")                                               \
	X(MOVED, "moved")                                                   \
	X(DROP_RUNT, "drop_runt")                                           \
	X(DROP_BAD_SRC, "drop_bad_src")                                     \
	X(DROP_RESERVED, "drop_reserved_dst")                               \
	X(DROP_VLAN_TAGGED, "drop_vlan_tagged_on_access")                   \
	X(DROP_VLAN_UNTAGGED, "drop_vlan_untagged_on_trunk")                \
	X(DROP_VLAN_MEMBER, "drop_vlan_not_member")                         \
	X(DROP_SPOOF_MAC, "drop_spoofed_mac")                               \
	X(DROP_SPOOF_IP4, "drop_spoofed_ip4")                               \
	X(DROP_SPOOF_ARP, "drop_spoofed_arp")                               \
	X(DROP_SPOOF_IP6, "drop_spoofed_ip6")                               \
	X(DROP_SPOOF_ND, "drop_spoofed_nd")                                 \
	X(DROP_SPOOF_STACKED, "drop_spoofed_stacked_tag")                   \
	X(DROP_RA_GUARD, "drop_ra_guard")                                   \
	X(DROP_HAIRPIN, "drop_hairpin")                                     \
	X(DROP_PORT_DOWN, "drop_port_down")                                 \
	X(LEARN_LIMIT, "learn_limit_port")                                  \
	X(LEARN_LIMIT_NET, "learn_limit_net")                               \
	X(TABLE_FULL, "table_full")

enum sw_counter {
#define SW_X_ENUM(e, s) SW_C_##e,
	SW_COUNTERS(SW_X_ENUM)
#undef SW_X_ENUM
	SW_C_COUNT
};

/* The counter's name, "?" when out of range. */
const char *sw_counter_name(enum sw_counter c);
bool sw_counter_is_drop(enum sw_counter c);

struct sw;

struct sw_config {
	unsigned max_ports;  /* port ids 0 .. max_ports-1, < SW_MAX_PORTS */
	unsigned max_nets;
	/*
	 * MAC entries per network (the default learn limit of a network);
	 * the table gets twice as many slots, rounded up to a power of two,
	 * so that a lookup usually reads one cache line.
	 */
	unsigned table_size;
	/* Keys the table hash, so a guest cannot aim at one bucket. */
	uint64_t hash_seed;
};

/* NULL with errno EINVAL (bad sizes) or ENOMEM. */
struct sw *sw_create(const struct sw_config *cfg);
/* Frees everything; no other call may be running. NULL is fine. */
void sw_destroy(struct sw *sw);

/*
 * Networks. aging_ms 0 means the default, 300 s. Returns the network
 * index; -EINVAL for an empty or too long name, -EEXIST, -ENOSPC when
 * max_nets are in use, -ENOMEM.
 */
int sw_net_add(struct sw *sw, const char *name, uint64_t aging_ms);
/* The index of the network, or -ENOENT. */
int sw_net_find(const struct sw *sw, const char *name);
/*
 * -EBUSY while ports remain, including deleted ports sw_reclaim() has
 * not yet released; -ENOENT for no such network.
 */
int sw_net_del(struct sw *sw, int net);
/* NULL for no such network. */
const char *sw_net_name(const struct sw *sw, int net);
/* Aging time (0: the default); -ENOENT. */
int sw_net_set_aging(struct sw *sw, int net, uint64_t aging_ms);
/*
 * Learned (non-static) entries the network may hold, 0 for the
 * default (table_size); -ENOENT, -EINVAL above table_size.
 */
int sw_net_set_learn_limit(struct sw *sw, int net, unsigned limit);
/* Forget every learned entry of the network (statics stay); -ENOENT. */
int sw_net_flush(struct sw *sw, int net);

/*
 * A port's VLANs. Access: untagged on the wire, in VLAN `vid` (0: the
 * untagged network); a tagged frame is dropped unless it is priority
 * tagged (VID 0). Trunk: tagged frames of the VLANs in `map` (or of
 * every VLAN 1..4094 when `all`); untagged and priority-tagged frames go
 * to `vid`, the native VLAN, which leaves the port untagged, or are
 * dropped when `vid` is SW_VLAN_NONE.
 */
struct sw_vlan_conf {
	bool trunk;
	bool all;
	uint16_t vid;
	uint64_t map[SW_VLAN_WORDS]; /* bit v%64 of word v/64: VLAN v */
};

static inline void
sw_vlan_set(struct sw_vlan_conf *vc, unsigned vid)
{
	vc->map[(vid >> 6) & (SW_VLAN_WORDS - 1)] |= 1ull << (vid & 63);
}

static inline bool
sw_vlan_isset(const struct sw_vlan_conf *vc, unsigned vid)
{
	return (vc->map[(vid >> 6) & (SW_VLAN_WORDS - 1)] >> (vid & 63)) & 1;
}

/*
 * Parse xl's `bridge=NAME[.TAG][:TRUNK[:TRUNK...]]` the way Xen's
 * vif-openvswitch splits it: NAME (no '.' or ':'), an optional TAG and
 * an optional list of trunk VLANs. NAME alone is an access port on the
 * untagged network, NAME.TAG an access port on VLAN TAG, NAME:T1:T2 a
 * trunk of T1, T2 with no native VLAN. NAME.TAG:T1 is a trunk of TAG and
 * T1 where TAG is the native (untagged) VLAN; Open vSwitch, given both,
 * would ignore the trunks instead. A trunk VLAN of 0 makes the untagged
 * network the native VLAN of a trunk without TAG. name gets SW_NAME_MAX
 * bytes. -EINVAL for an empty or too long name, an empty, non-decimal
 * or too large number (VLANs are at most 4094), a second '.', a '.'
 * after a ':', or TAG with a trunk VLAN 0.
 */
int sw_parse_bridge(const char *s, char *name, struct sw_vlan_conf *vc);

struct sw_port_conf {
	int net;
	bool uplink;        /* the network's PIF */
	/*
	 * Anti-spoofing (sw_port_conf_init: on for guests, off for the
	 * uplink; switch it with sw_port_set_antispoof()). The port sends
	 * only from `mac`: Ethernet source and ARP sender hardware address.
	 * When addresses are given (of either family), IPv4, ARP and IPv6
	 * only from them; see sw_forward() for the exceptions (DHCP, ARP
	 * probes, DAD, link-local). Addresses are fixed while the port
	 * lives.
	 */
	bool antispoof;
	/*
	 * RA guard (RFC 6105), apart from anti-spoofing: drop the ICMPv6
	 * Router Advertisements (type 134) and Redirects (137) the port
	 * sends, so that it cannot make itself the router of the others.
	 * Off after sw_port_conf_init() (a guest may be the network's
	 * router); switch it with sw_port_set_ra_guard(). See sw_forward()
	 * for what else it drops.
	 */
	bool ra_guard;
	unsigned nip4, nip6;
	uint8_t ip4[SW_MAX_IPS][4];
	uint8_t ip6[SW_MAX_IPS][16];
	uint8_t mac[6];
	/* Access VLAN (0: the untagged network), unless vlan_conf is set. */
	uint16_t vlan;
	/* Trunks and the rest: copied by sw_port_add(). */
	const struct sw_vlan_conf *vlan_conf;
	unsigned learn_limit; /* MACs this port may teach, 0: no limit */
};

/* Zero conf, then: net, uplink, anti-spoofing on unless uplink. */
void sw_port_conf_init(struct sw_port_conf *conf, int net, bool uplink);

/*
 * Returns the port id. -EINVAL for a bad network, VLAN or address count,
 * or anti-spoofing without a unicast MAC; -EEXIST for a second uplink;
 * -ENOSPC when no id is free (deleted ids come back at sw_reclaim());
 * -ENOMEM.
 */
int sw_port_add(struct sw *sw, const struct sw_port_conf *conf);
/*
 * Stop forwarding to and from the port, and forget every entry pointing
 * to it (static ones too). On return no sw_forward() that starts later
 * accepts a frame from it or names it as a destination, and no
 * sw_flood() or sw_flood_ports() lists it; calls already running may
 * still do so: the caller must drop what such calls direct to the port
 * (e.g. by unpublishing its own port object before calling) and call
 * sw_reclaim() after a grace period before the id is handed out again.
 * -ENOENT if not a live port.
 */
int sw_port_del(struct sw *sw, int port);
/* Forget what the port taught (statics stay); -ENOENT. */
int sw_port_flush(struct sw *sw, int port);
/* Switch anti-spoofing; takes effect with the next burst; -ENOENT. */
int sw_port_set_antispoof(struct sw *sw, int port, bool on);
/* Switch RA guard; takes effect with the next burst; -ENOENT. */
int sw_port_set_ra_guard(struct sw *sw, int port, bool on);

/*
 * Multicast filtering: a filtering port gets, of multicast frames,
 * only those to the groups it subscribed to; broadcast always passes.
 * Add is idempotent; -EINVAL for a non-multicast MAC, -ENOSPC beyond
 * SW_MAX_MCAST groups, -ENOENT for a bad port or (del) group. Unlike
 * other configuration, add and del may run beside forwarding and beside
 * configuration of other ports (a guest's MCAST requests arrive on a
 * worker): the caller keeps only one writer per port at a time.
 */
int sw_port_mcast_filter(struct sw *sw, int port, bool on);
int sw_port_mcast_add(struct sw *sw, int port, const uint8_t mac[6]);
int sw_port_mcast_del(struct sw *sw, int port, const uint8_t mac[6]);

/*
 * Release what configuration retired (flood lists, deleted port ids)
 * once a grace period has passed; see the threads paragraph above.
 * Returns how many port ids became free. A port deleted while its
 * network's flood lists could not be rebuilt (no memory) is still named
 * by them: its id (and the network) stay held until a rebuild succeeds,
 * which every sw_reclaim() tries again, and are released by the
 * sw_reclaim() after that one.
 */
unsigned sw_reclaim(struct sw *sw);

/*
 * A static entry: never aged, never moved by learning, only removed by
 * sw_static_del() or the port's deletion. The port must be on the
 * network and carry the VLAN. -EINVAL (multicast MAC, bad VLAN, port
 * or network), -ENOSPC (no slot near the MAC's bucket).
 */
int sw_static_add(struct sw *sw, int net, const uint8_t mac[6],
		  uint16_t vlan, int port);
/* -ENOENT when there is no static entry for it. */
int sw_static_del(struct sw *sw, int net, const uint8_t mac[6],
		  uint16_t vlan);

/*
 * Forget learned entries older than their network's aging time (to a
 * grain of 1.024 s). Returns how many were forgotten.
 */
unsigned sw_age(struct sw *sw, uint64_t now_ms);

struct sw_frame {
	/*
	 * len bytes are readable at data: the frame, or at least its first
	 * segment, which must hold the headers anti-spoofing and RA
	 * guard read (Ethernet, 802.1Q, IPv4/ARP, IPv6 with its extension
	 * headers, ICMPv6 ND with its options).
	 */
	const uint8_t *data;
	uint32_t len;
};

/* sw_result.flags */
#define SW_F_TAGGED 0x01u  /* the frame has an 802.1Q tag at offset 12 */
#define SW_F_BCAST 0x02u   /* flooded: broadcast */
#define SW_F_MCAST 0x04u   /* flooded: multicast, `group` says which */
#define SW_F_UNKNOWN 0x08u /* flooded: unknown unicast */
#define SW_F_RETAG 0x10u   /* unicast: leaves with another tag than it has */

struct sw_result {
	uint16_t port;   /* destination, SW_FLOOD or SW_DROP */
	uint16_t vlan;   /* the frame's VLAN inside the network */
	/*
	 * Unicast: how the frame leaves: 0 untagged, else tagged with this
	 * VID. Compare with SW_F_TAGGED to add, rewrite or strip the tag.
	 */
	uint16_t tag;
	uint8_t reason;  /* enum sw_counter when SW_DROP */
	uint8_t flags;   /* SW_F_* */
	uint64_t group;  /* SW_F_MCAST: the destination MAC, for sw_flood() */
};

/*
 * Classify n frames (at most SW_MAX_BURST are handled) that entered on
 * in_port, learn their sources and look up their destinations. Returns
 * how many results were written to out.
 *
 * Per frame, in order: a runt (shorter than its Ethernet and 802.1Q
 * headers) is dropped; so is a multicast or all-zero source. Only the
 * outer 802.1Q tag (TPID 0x8100) is looked at: an inner tag (QinQ) is
 * payload, and 802.1ad (0x88a8) frames are untagged frames of that
 * ethertype. The ingress VLAN rules of sw_vlan_conf apply. Frames to
 * the reserved 01:80:c2:00:00:0x groups (STP, pause, LACP, LLDP) are not
 * forwarded.
 *
 * Anti-spoofing, when on: the Ethernet source must be the port's MAC;
 * ARP must be Ethernet/IPv4 with the port's MAC as sender; a frame whose
 * ethertype (after the outer tag) is another tag (0x8100, 0x88a8,
 * 0x9100) is dropped, as it could hide what is checked here. With
 * addresses configured, of either family: an IPv4 source must be one of
 * them, or 0.0.0.0 for DHCP (UDP 68 to 67, unfragmented); an ARP sender
 * IP one of them or 0.0.0.0 (RFC 5227 probe); an IPv6 source one of
 * them or the EUI-64 link-local address of the MAC (a stable-privacy
 * link-local address must be listed), or :: only for neighbour
 * solicitations (DAD, for one of those addresses) and MLD reports, to
 * ff02::/16. Neighbour discovery must be readable whole: an
 * advertisement's target must be one of those addresses and its target
 * link-layer option, like a solicitation's source link-layer option,
 * the port's MAC. Truncated or malformed IPv4/ARP/IPv6/ND headers count
 * as spoofed. Other ethertypes pass once the MAC is right.
 *
 * IPv6 headers are looked through as a receiving stack does: past up
 * to SW_IP6_MAX_EXT extension headers (hop-by-hop, first only; routing;
 * fragment; destination options; authentication) to the upper-layer
 * header, which ESP and any other protocol end. Neighbour discovery in
 * a fragment (ICMPv6 133 to 137 after a fragment header, even an atomic
 * one) is dropped, as receivers drop it (RFC 6980); a later fragment
 * has no upper-layer header to look at and passes. A chain longer than
 * that, one with a hop-by-hop header elsewhere than first, one cut
 * short by the payload length or by what is readable (len), or ICMPv6
 * shorter than its 4-byte header, cannot be looked through: it is
 * dropped (DROP_SPOOF_IP6 under anti-spoofing with addresses, else
 * DROP_RA_GUARD under RA guard).
 *
 * RA guard, when on: ICMPv6 Router Advertisements and Redirects are
 * dropped (DROP_RA_GUARD) behind whatever extension headers, and so is
 * a frame with a stacked tag (DROP_SPOOF_STACKED), which could hide one.
 *
 * Then the source is learned, and the destination looked up: a known
 * unicast MAC gives its port (or SW_DROP with DROP_HAIRPIN when that is
 * in_port); broadcast, multicast and unknown unicast give SW_FLOOD.
 */
unsigned sw_forward(struct sw *sw, int in_port, const struct sw_frame *f,
		    unsigned n, uint64_t now_ms, struct sw_result *out);

/*
 * One burst's results sorted by destination, in frame order per
 * destination: dest[d] owns idx[dest[d].first ..][0 .. dest[d].n).
 * Floods and drops are listed apart.
 */
struct sw_group {
	unsigned ndest, nflood, ndrop;
	unsigned flags; /* the SW_F_* of the unicast results, ORed */
	struct {
		uint16_t port;
		uint16_t n;
		uint16_t first;
	} dest[SW_MAX_BURST];
	uint16_t idx[SW_MAX_BURST];
	uint16_t flood[SW_MAX_BURST];
	uint16_t drop[SW_MAX_BURST];
};

/*
 * Sort n (<= SW_MAX_BURST) results of sw_forward() into g, counting TX
 * on each destination.
 */
void sw_group(struct sw *sw, const struct sw_result *r, unsigned n,
	      struct sw_group *g);

/*
 * sw_forward() then sw_group() in one call, the same results: a burst
 * that goes whole to one port (the common case) is grouped as it is
 * forwarded, without a second look at its results.
 */
unsigned sw_forward_group(struct sw *sw, int in_port,
			  const struct sw_frame *f, unsigned n,
			  uint64_t now_ms, struct sw_result *out,
			  struct sw_group *g);

struct sw_egress {
	uint16_t port;
	uint16_t tag; /* 0: untagged, else the VID to tag with */
};

/*
 * Where a frame sw_forward() flooded (r) from in_port goes: every port
 * of its network carrying its VLAN but in_port, with its egress tag,
 * and for multicast only the ports not filtering or subscribed to the
 * group. Writes at most max and returns how many there are (which may
 * exceed max); counts TX on those written.
 */
unsigned sw_flood(struct sw *sw, int in_port, const struct sw_result *r,
		  struct sw_egress *out, unsigned max);

/*
 * The ports of in_port's network carrying vlan, but in_port: the
 * destinations of a broadcast, without egress tags or multicast
 * filtering. Writes at most max, returns how many were written.
 */
unsigned sw_flood_ports(const struct sw *sw, int in_port, uint16_t vlan,
			uint16_t *ports, unsigned max);

/* Where mac lives: the port id, -ENOENT, or -EINVAL for a bad network. */
int sw_lookup(const struct sw *sw, int net, const uint8_t mac[6],
	      uint16_t vlan);

/* Counters of a live (or deleted, not yet reclaimed) port; 0 if none. */
uint64_t sw_port_counter(const struct sw *sw, int port, enum sw_counter c);
/*
 * A network's counters: its ports' summed, including ports gone; 0 if
 * no such network. Configuration thread only (it reads what
 * sw_reclaim() changes).
 */
uint64_t sw_net_counter(const struct sw *sw, int net, enum sw_counter c);
/* The network of a live port, or -ENOENT. */
int sw_port_net(const struct sw *sw, int port);

/*
 * Walk a network's table: fn for each entry, stopping at the first
 * non-zero return, which is returned; age_ms is 0 for static entries.
 * -EINVAL for a bad network.
 */
typedef int (*sw_entry_fn)(void *arg, const uint8_t mac[6], uint16_t vlan,
			   int port, bool is_static, uint64_t age_ms);
int sw_table_walk(const struct sw *sw, int net, uint64_t now_ms,
		  sw_entry_fn fn, void *arg);

#endif
