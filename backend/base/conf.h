/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * netbackd's configuration: one INI-style file (netbackd.conf(5)) plus
 * command-line overrides. Parsing never logs; errors come back as text
 * naming the file and line.
 *
 *   [netbackd]
 *   eal = --no-huge -m 256 --no-pci    # extra DPDK EAL arguments
 *   workers = 1                         # worker lcores
 *   max-queues = 1                      # multi-queue-max-queues offered
 *   poll = adaptive | always            # idle workers sleep, or never
 *   mbufs = 16384                       # packet buffers in the pool
 *   domid = 0                           # our domain (default: from xenstore)
 *   rx-drain-timeout = 10000            # ms a packet may wait for RX buffers
 *   rx-stall-timeout = 60000            # ms without buffers: carrier off
 *   rx-queue-mbufs = auto | N           # mbufs an RX backlog holds at most
 *   rx-queue-bytes = 524288             # bytes an RX backlog holds at most
 *   user = netbackd                     # run as this user once all is open
 *   sandbox = on | off                  # the seccomp filter (default on)
 *   hotplug = script | netbackd         # who plugs vifs (default script)
 *   control-socket = PATH | off         # netbackctl's socket
 *   control-group = GROUP               # who else may use it
 *
 *   [network NAME]                      # one per network
 *   pif = DEVARGS                       # optional DPDK uplink
 *   port = DEVARGS                      # more DPDK ports (repeatable):
 *                                       # a host tap, an HVM -emu tap
 *   aging = 300                         # MAC aging, seconds
 *   mtu = 1500                          # the uplink's MTU (68..9600)
 *   learn-limit = 8192                  # learnt MACs in the network
 *   vif-learn-limit = 1024              # learnt MACs behind one vif (0: any)
 */
#ifndef NETBACKD_CONF_H
#define NETBACKD_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NB_NAME_MAX 32
#define NB_DEVARGS_MAX 256
#define NB_MAX_NETS 64
#define NB_MAX_WORKERS 16
#define NB_MAX_QUEUES 16
#define NB_MAX_NET_PORTS 8 /* DPDK ports of a network besides its pif */
#define NB_MAC_TABLE 8192u /* MAC entries a network's table holds */
/* What one vif may teach by default: a guest with anti-spoofing off (a
 * router, a bridge) cannot fill its network's table. */
#define NB_VIF_LEARN_LIMIT 1024u

struct nb_net_conf {
	char name[NB_NAME_MAX];
	char pif[NB_DEVARGS_MAX]; /* empty: internal network */
	/* Further DPDK ports on the network: each carries every VLAN, as
	 * the uplink does, with no anti-spoofing. */
	char ports[NB_MAX_NET_PORTS][NB_DEVARGS_MAX];
	unsigned nports;
	unsigned aging_s;
	unsigned mtu;   /* of the uplink, bytes of IP packet */
	unsigned learn_limit;     /* learnt entries of the network */
	unsigned vif_learn_limit; /* learnt entries behind a vif, 0: any */
	unsigned line;
};

struct nb_conf {
	char eal[1024];
	unsigned workers;
	unsigned max_queues;
	bool poll_always;
	unsigned mbufs;
	unsigned rx_drain_ms, rx_stall_ms;
	unsigned rx_queue_mbufs; /* 0: auto */
	unsigned rx_queue_bytes;
	char user[64];  /* empty: stay who we are */
	bool sandbox;
	/*
	 * hotplug = netbackd: no hotplug script runs (a driver domain
	 * without `xl devd`), so netbackd writes hotplug-status itself and
	 * removes a vif's backend directory once it is closed and offline.
	 */
	bool hotplug_self;
	int domid; /* -1: read it from xenstore */
	/* netbackctl's socket: empty for the default, "off" for none;
	 * and the group that may use it besides root (empty: none). */
	char ctl_path[108];
	char ctl_group[64];
	char sim_dir[256]; /* empty: real Xen */
	unsigned nnets;
	struct nb_net_conf nets[NB_MAX_NETS];
};

void nb_conf_defaults(struct nb_conf *c);
/*
 * Parse text (name is used in messages) into c, on top of what c holds.
 * 0, or -EINVAL with err filled ("FILE:LINE: reason").
 */
int nb_conf_parse(struct nb_conf *c, const char *name, const char *text,
		  char *err, size_t errlen);
int nb_conf_load(struct nb_conf *c, const char *path, char *err,
		 size_t errlen);
/* Add a network (from the command line or the file). */
int nb_conf_add_net(struct nb_conf *c, const char *name, const char *pif,
		    const char *src, unsigned line, char *err, size_t errlen);
/*
 * Changes at run time (netbackctl), held to the file's rules; src names
 * the requester in err. add_port: a DPDK port (pif: the uplink) to the
 * network named net. del_port / del_net: -ENOENT if there is none.
 */
/* The network named name, or NULL. */
struct nb_net_conf *nb_conf_net(struct nb_conf *c, const char *name);
int nb_conf_add_port(struct nb_conf *c, const char *net, const char *devargs,
		     bool pif, const char *src, char *err, size_t errlen);
int nb_conf_del_port(struct nb_conf *c, const char *dev);
int nb_conf_del_net(struct nb_conf *c, const char *name);
/* The device name in devargs (up to the first ','), into buf. */
void nb_devargs_name(const char *devargs, char *buf, size_t len);
/* Check devargs syntax: driver[,key=value]...; 0 or -EINVAL. */
int nb_devargs_check(const char *devargs);
/* Parse a decimal unsigned within [min, max]; 0 or -EINVAL / -ERANGE. */
int nb_parse_uint(const char *s, unsigned min, unsigned max, unsigned *out);

#endif
