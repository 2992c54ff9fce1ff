/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ctl: vif control. The xenbus handshake and each vif's lifetime
 * (xenbus.c, vif.c), its control ring (ctrl_ring.c), networks, DPDK
 * ports and run-time reconfiguration (net.c, port.c). Everything here
 * runs on the control thread; it fills the data path's objects and hands
 * them to the workers through dp.h.
 *
 * Errors are negative errno values; where an err buffer is passed, it
 * says why in words for the log or netbackctl.
 */
#ifndef NETBACKD_CTL_H
#define NETBACKD_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "conf.h"
#include "daemon.h"
#include "dp.h"

/* What the configuration allows, the data path has room for. */
_Static_assert(NB_MAX_WORKERS <= DP_MAX_WORKERS, "workers");
_Static_assert(NB_MAX_QUEUES <= DP_MAX_QUEUES, "queues of a vif");
_Static_assert(NB_DEVARGS_MAX <= DP_DEVARGS_MAX, "devargs");

struct ctl_ctrl;

/* A vif as control keeps it: its xenstore side, and the data path's. */
struct ctl_vif {
	struct dp_vif dp; /* name, domid, queues: what workers see */
	LIST_ENTRY(ctl_vif) link;
	uint16_t devid;
	char be[128], fe[128]; /* xenstore directories */
	int be_state;          /* what we last wrote */
	bool fe_watched, mc_watched;
	uint64_t remove_at_ms; /* hotplug = netbackd: closed and offline,
				* the backend directory goes then (0: no) */
	char rate[64];         /* the rate key as last read */
	uint8_t mac[6];
	char bridge[64];
	char ip[512]; /* the toolstack's `ip` key: addresses, space-separated */
	int net;               /* network index, -1 none */
	bool trunk;            /* bridge=NAME:T1:T2...: tagged frames */
	bool antispoof_off;    /* netbackctl vif-set antispoof=off */
	/* request-multicast-control: only subscribed groups reach it. */
	bool mcast_filter;
	/* The control ring, if the frontend has one. */
	struct ctl_ctrl *ctrl;
	/* Counters of queues gone by (earlier connections). */
	uint64_t stats_done[DP_Q_COUNT];
};

/* vif.c: a vif's queues, connected and handed to workers, or back. */
/* Sum of a vif's counters over its queues and earlier connections. */
void ctl_vif_stats(const struct ctl_vif *v, uint64_t out[DP_Q_COUNT]);
int ctl_vif_connect(struct nb_daemon *d, struct ctl_vif *v, char *err,
		    size_t errlen);
/* Safe to call twice, and on a half-connected vif. */
void ctl_vif_disconnect(struct nb_daemon *d, struct ctl_vif *v);

/* afpacket.c: a net_af_packet port on an interface the kernel also uses
 * (ifindex), after probe, before start: netbackd's own receive ring
 * (p->whole) or the PMD's with GRO, LRO and hardware GRO off while it
 * is open, the host's own frames filtered out either way; 0 or -errno.
 * And back. */
int ctl_afpacket_share(struct dp_eth *p, int ifindex);
void ctl_afpacket_restore(struct dp_eth *p);

/* ctrl_ring.c: control rings */
int ctl_ctrl_connect(struct nb_daemon *d, struct ctl_vif *v, char *err,
		     size_t errlen);
void ctl_ctrl_disconnect(struct nb_daemon *d, struct ctl_vif *v);
/* Our event channel of the vif's control ring, -1 if none. */
int ctl_ctrl_evtchn(const struct ctl_vif *v);
/* Answer what the frontend asked, a burst at most: how many requests,
 * or -EPROTO: disconnect it. Requests left: ctl_ctrl_due() says 0. */
int ctl_ctrl_serve(struct nb_daemon *d, struct ctl_vif *v);
/* Serves again a control ring whose requests waited for its budget
 * (-EPROTO as ctl_ctrl_serve); often, from the control loop. */
int ctl_ctrl_tick(struct nb_daemon *d, struct ctl_vif *v);
/*
 * An event on the vif's control ring that brought `served` requests:
 * true when the frontend rings far more than it asks, and the port is
 * to stay masked until ctl_ctrl_due() unmasks it.
 */
bool ctl_ctrl_storm(struct ctl_vif *v, unsigned served);
/* ms until the vif's control ring needs serving without an event (a
 * hold ends, requests left), 0 now, -1 never; unmasks at a hold's end. */
int ctl_ctrl_due(struct nb_daemon *d, struct ctl_vif *v, uint64_t now);
/* Control-ring ports read per loop of the control thread at most. */
#define CTL_EVT_BURST 64u

/* xenbus.c: the backend state machines and xenstore */
char *ctl_xs_read(struct nb_daemon *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Unsigned integer key: 0, -ENOENT (missing) or -EINVAL (garbage). */
int ctl_xs_read_uint(struct nb_daemon *d, unsigned max, unsigned *out,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int ctl_xenbus_start(struct nb_daemon *d);
void ctl_xenbus_handle_watches(struct nb_daemon *d);
void ctl_xenbus_check_fatal(struct nb_daemon *d);
/* Timed work of the control thread (hotplug = netbackd removals). */
void ctl_xenbus_tick(struct nb_daemon *d);
/* Is xenstore still answering? (A round trip; false once lost.) */
bool ctl_xenbus_alive(struct nb_daemon *d);
/* An event on a control ring's event channel: false to leave the port
 * masked (ctl_xenbus_ctrl_tick() unmasks it). */
bool ctl_xenbus_ctrl_event(struct nb_daemon *d, int evtchn);
/* Control rings to serve without an event: ms until the next, -1 none. */
int ctl_xenbus_ctrl_tick(struct nb_daemon *d);
void ctl_xenbus_stop(struct nb_daemon *d);
/* The vif named name ("vifD.N"), or NULL. */
struct ctl_vif *ctl_vif_by_name(struct nb_daemon *d, const char *name);
/*
 * netbackctl's changes, written to the vif's backend directory so that
 * xenstore shows them and a reconnect keeps them: `rate` (applied at
 * once; "" for no limit; -EINVAL if it does not parse) and `bridge`.
 */
int ctl_xenbus_set_rate(struct nb_daemon *d, struct ctl_vif *v,
			const char *val);
int ctl_xenbus_set_bridge(struct nb_daemon *d, struct ctl_vif *v,
			  const char *val);

/* port.c: DPDK ports */
int ctl_eth_open(struct nb_daemon *d, struct dp_eth *e);
/* About once a second: follow each port's link. */
void ctl_eth_link_check(struct nb_daemon *d);
void ctl_eth_close(struct nb_daemon *d, struct dp_eth *e);
/* The DPDK port named name, or NULL. */
struct dp_eth *ctl_eth_find(struct nb_daemon *d, const char *name);

/* net.c: networks, their ports and vifs */
/* The configuration's networks and ports; nothing left on failure. */
int ctl_net_init(struct nb_daemon *d);
void ctl_net_fini(struct nb_daemon *d);
/*
 * At run time (workers running): a network, a DPDK port of one. err
 * says why not; nothing running is disturbed then.
 */
int ctl_net_add(struct nb_daemon *d, const char *name, const char *pif,
		unsigned aging_s, unsigned mtu, char *err, size_t errlen);
int ctl_net_del(struct nb_daemon *d, const char *name, char *err,
		size_t errlen);
/* vlan: NULL (every VLAN, as the uplink) or as a bridge key's tail:
 * TAG, .TAG[:T1...], :T1[:T2...] */
int ctl_port_add(struct nb_daemon *d, const char *net, const char *devargs,
		 bool uplink, const char *vlan, char *err, size_t errlen);
int ctl_port_del(struct nb_daemon *d, const char *name, char *err,
		 size_t errlen);
/* A vif to another network or VLANs (bridge syntax), or its
 * anti-spoofing on or off; applied at once if connected. */
int ctl_vif_rebridge(struct nb_daemon *d, struct ctl_vif *v,
		     const char *bridge, char *err, size_t errlen);
int ctl_vif_antispoof(struct nb_daemon *d, struct ctl_vif *v, bool on);
/*
 * Apply a configuration's networks and ports (text, read by netbackctl
 * from path: netbackd opens no file once running): networks and
 * ports gone are removed (refused, changing nothing, while a network
 * that goes has vifs), new ones added, aging changed; msg says what was
 * done and what waits for a restart. 0, or < 0 if something failed.
 */
int ctl_reload(struct nb_daemon *d, const char *path, const char *text,
	       char *msg, size_t len);
/* Who switch port `port` is: a vif's or a DPDK port's name, or NULL. */
const char *ctl_sw_port_name(struct nb_daemon *d, int port);
/* What the switch dropped of what port sent (every drop counter). */
uint64_t ctl_sw_port_drops(const struct nb_daemon *d, int port);
/* Join the vif's network (bridge, mac, ip keys); err says why not. */
int ctl_vif_attach(struct nb_daemon *d, struct ctl_vif *v, char *err,
		   size_t errlen);
void ctl_vif_detach(struct nb_daemon *d, struct ctl_vif *v);
/* After a grace period that followed detaches: port ids come back. */
void ctl_reclaim(struct nb_daemon *d);
/* Apply v->mcast_filter to its switch port. */
void ctl_vif_mcast_filter(struct nb_daemon *d, struct ctl_vif *v);

/*
 * netbackd's own RX ring on a net_af_packet port whose devargs size none
 * of the PMD's (ctl/afpacket.c): slots of 66 KiB, 15 to a block of 1 MiB,
 * 16 blocks (240 slots, 16 MiB of the kernel's memory). A slot holds
 * 67,518 bytes of frame after the kernel's header (66 bytes before the
 * frame): any frame of the 65,535-byte packets GRO, LRO, hardware GRO
 * and GSO make, and its Ethernet and VLAN headers. An interface whose
 * gro_max_size is larger (BIG TCP) gets NB_RING_GRO_MAX while netbackd
 * uses it.
 */
#define NB_RING_FRAMESZ (66u << 10)
#define NB_RING_BLOCKSZ (1u << 20)
#define NB_RING_BLOCKS 16u
#define NB_RING_GRO_MAX 65536u

/* The send buffer of net_af_packet's socket for GSO packets: some 64
 * 64 KiB packets queued for the interface before a send is dropped. */
#define NB_VNET_SNDBUF (4 << 20)

#endif
