/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sw: networks of learning L2 switches. Pure: no I/O, no logging, no
 * allocation after creation. Frames are byte pointers; the caller owns
 * packets and ports and passes the time in.
 *
 * A switch holds networks; a network joins ports (guest vifs and at most
 * one uplink). Forwarding a burst is two passes (netmap VALE style):
 * sw_forward() finds a destination for every frame first (a port, or
 * SW_FLOOD / SW_DROP); the caller then hands each destination its frames
 * at once, enumerating a flood's ports with sw_flood_ports().
 *
 * Concurrency: workers may call sw_forward() at the same time for
 * different input ports, and one control thread configures (port and
 * network add/del, static entries, aging). Lookups take no lock: the
 * table is open addressing over 64-bit atomic keys, learning claims a
 * slot with a CAS. After sw_port_del() the caller must wait until no
 * worker can still be inside a sw_forward() that started before it (an
 * RCU grace period) before it reuses the port id or calls another
 * configuration function that rebuilds flood lists.
 *
 * Errors: negative errno. Time: milliseconds, monotonic.
 */
#ifndef NETBACKD_SW_H
#define NETBACKD_SW_H

#include <stdbool.h>
#include <stdint.h>

#define SW_MAX_BURST 64u
#define SW_NAME_MAX 32u
#define SW_PORT_NONE 0xffffu

/* Per-port counters: one X-macro for the enum and the names. */
#define SW_COUNTERS(X)                                                      \
	X(RX, "rx")                                                         \
	X(FLOODED, "flooded")                                               \
	X(LEARNED, "learned")                                               \
	X(MOVED, "moved")                                                   \
	X(DROP_RUNT, "drop_runt")                                           \
	X(DROP_SPOOF_MAC, "drop_spoofed_mac")                               \
	X(DROP_SPOOF_IP, "drop_spoofed_ip")                                 \
	X(DROP_VLAN, "drop_vlan")                                           \
	X(DROP_HAIRPIN, "drop_hairpin")                                     \
	X(DROP_NO_PORT, "drop_port_down")                                   \
	X(LEARN_LIMIT, "learn_limit_hit")                                   \
	X(TABLE_FULL, "table_full")

enum sw_counter {
#define SW_X_ENUM(e, s) SW_C_##e,
	SW_COUNTERS(SW_X_ENUM)
#undef SW_X_ENUM
	SW_C_COUNT
};
const char *sw_counter_name(enum sw_counter c);

struct sw;

struct sw_config {
	unsigned max_ports;  /* port ids 0 .. max_ports-1 (<= 65534) */
	unsigned max_nets;
	unsigned table_size; /* entries per network, rounded up to 2^n */
};

struct sw *sw_create(const struct sw_config *cfg);
void sw_destroy(struct sw *sw);

/* Networks. aging_ms 0 means the default, 300 s. */
int sw_net_add(struct sw *sw, const char *name, uint64_t aging_ms);
int sw_net_find(const struct sw *sw, const char *name);
/* -EBUSY while ports remain. */
int sw_net_del(struct sw *sw, int net);
const char *sw_net_name(const struct sw *sw, int net);

#define SW_MAX_IPS 8

struct sw_port_conf {
	int net;
	bool uplink;        /* the network's PIF: no anti-spoofing */
	/*
	 * Anti-spoofing (guests: default on): only frames from `mac`; and
	 * when addresses are given, IPv4/ARP/IPv6 only from them. Always
	 * allowed: DHCP and ARP probes from 0.0.0.0, IPv6 from :: (DAD)
	 * and from the link-local address derived from `mac` (EUI-64).
	 */
	bool antispoof;
	unsigned nip4, nip6;
	uint8_t ip4[SW_MAX_IPS][4];
	uint8_t ip6[SW_MAX_IPS][16];
	uint8_t mac[6];
	uint16_t vlan;      /* access VLAN, 0 = the untagged network */
	unsigned learn_limit; /* MACs this port may teach, 0 = no limit */
};

/* Returns the port id. -EEXIST for a second uplink, -ENOSPC if full. */
int sw_port_add(struct sw *sw, const struct sw_port_conf *conf);
/* Stop forwarding to and from the port and flush what it taught. */
int sw_port_del(struct sw *sw, int port);

/* A static entry: never aged, never moved by learning. */
int sw_static_add(struct sw *sw, int net, const uint8_t mac[6],
		  uint16_t vlan, int port);

/* Forget entries older than their network's aging time. */
void sw_age(struct sw *sw, uint64_t now_ms);

struct sw_frame {
	const uint8_t *data; /* at least min(len, 64) bytes readable */
	uint32_t len;
};

#define SW_DROP 0xfffeu
#define SW_FLOOD 0xfffdu

struct sw_result {
	uint16_t port;  /* destination, SW_FLOOD or SW_DROP */
	uint16_t vlan;  /* the frame's VLAN inside the network */
	uint8_t reason; /* enum sw_counter when dropped */
};

/*
 * Classify and look up n (<= SW_MAX_BURST) frames that entered on
 * in_port, learning their sources. Returns n.
 */
unsigned sw_forward(struct sw *sw, int in_port, const struct sw_frame *f,
		    unsigned n, uint64_t now_ms, struct sw_result *out);

/*
 * Ports a flood from in_port on (net of in_port, vlan) goes to, excluding
 * in_port. Returns how many were written (at most max).
 */
unsigned sw_flood_ports(const struct sw *sw, int in_port, uint16_t vlan,
			uint16_t *ports, unsigned max);

/* Look up where mac lives; the port id or -ENOENT. */
int sw_lookup(const struct sw *sw, int net, const uint8_t mac[6],
	      uint16_t vlan);

/* Per-port counters (summed by the caller over whatever it needs). */
uint64_t sw_port_counter(const struct sw *sw, int port, enum sw_counter c);
int sw_port_net(const struct sw *sw, int port);

/* Walk a network's table: calls fn for each live entry; stops at != 0. */
typedef int (*sw_entry_fn)(void *arg, const uint8_t mac[6], uint16_t vlan,
			   int port, bool is_static, uint64_t age_ms);
int sw_table_walk(const struct sw *sw, int net, uint64_t now_ms,
		  sw_entry_fn fn, void *arg);

#endif
