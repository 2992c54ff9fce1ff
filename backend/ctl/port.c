/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Opening and closing DPDK ports (any ethdev named by devargs: net_tap,
 * net_af_packet, net_af_xdp, net_virtio_user, net_memif, a PCI NIC), and
 * following their link. A port gets a TX queue per worker when it has
 * that many, so no lock is taken on the data path; with fewer, workers
 * share them under a lock (dp/eth.c). It gets as many RX queues as it
 * has, up to one per worker, each polled by one worker, spread by RSS
 * when the port offers it.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "ctl.h"

#define NB_PIF_RXD 1024
#define NB_PIF_TXD 1024
/* What RSS may hash RX frames on, when the port offers it. */
#define NB_PIF_RSS (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP)

/* The value of devargs key `key` (up to the next ','), or NULL. */
static const char *
devargs_value(const char *devargs, const char *key)
{
	size_t klen = strlen(key);

	for (const char *a = strchr(devargs, ','); a; a = strchr(a, ',')) {
		a++;
		if (strncmp(a, key, klen) == 0 && a[klen] == '=')
			return a + klen + 1;
	}
	return NULL;
}

static bool
is_virtio_user(const char *name)
{
	return strncmp(name, "net_virtio_user", 15) == 0 ||
	       strncmp(name, "virtio_user", 11) == 0;
}

/* The devargs key that gives a virtual device more queue pairs, and
 * what else it takes, when the driver has one. */
static const char *
queues_hint(const char *name, const char **where)
{
	static const char vhost[] = ", where its vhost end serves them";
	static const struct {
		const char *prefix, *key, *where;
	} k[] = {
		{ "net_virtio_user", "queues", vhost },
		{ "virtio_user", "queues", vhost },
		{ "net_af_packet", "qpairs", "" },
		{ "eth_af_packet", "qpairs", "" },
		{ "net_af_xdp", "queue_count", ", where the NIC has them" },
	};

	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++)
		if (strncmp(name, k[i].prefix, strlen(k[i].prefix)) == 0) {
			*where = k[i].where;
			return k[i].key;
		}
	return NULL;
}

static bool
is_af_packet(const char *name)
{
	return strncmp(name, "net_af_packet", 13) == 0 ||
	       strncmp(name, "eth_af_packet", 13) == 0;
}

/*
 * The devargs netbackd probes with: the user's, plus queues=N for a
 * virtio-user port over vhost-net that says nothing of its queues (one
 * queue pair by default), so that each of N workers has its own: the
 * kernel's tap takes as many queues as asked. Over vhost-user the
 * other end decides how many it serves, so netbackd does not guess.
 * An af_packet port that sizes none of its ring receives on netbackd's
 * own (p->whole, ctl/afpacket.c): the PMD's keeps its defaults and only
 * sends.
 */
static void
probe_devargs(struct dp_eth *p, unsigned nw, char *buf, size_t len)
{
	const char *path = devargs_value(p->devargs, "path");

	p->whole = is_af_packet(p->name) &&
		   !devargs_value(p->devargs, "framesz") &&
		   !devargs_value(p->devargs, "blocksz") &&
		   !devargs_value(p->devargs, "framecnt");
	if (nw > 1 && is_virtio_user(p->name) &&
	    !devargs_value(p->devargs, "queues") && path &&
	    strncmp(path, "/dev/vhost-net", 14) == 0 &&
	    (path[14] == ',' || path[14] == '\0'))
		snprintf(buf, len, "%s,queues=%u", p->devargs, nw);
	else
		snprintf(buf, len, "%s", p->devargs);
}

int
ctl_eth_open(struct nb_daemon *d, struct dp_eth *p)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf = { 0 };
	char args[DP_DEVARGS_MAX + 16];
	const char *comma = strchr(p->devargs, ',');
	size_t len = comma ? (size_t)(comma - p->devargs) : strlen(p->devargs);
	unsigned nw = d->dp.nworkers;
	int r;

	p->rx_fd = -1;
	p->vnet = false;
	p->vnet_fd = -1;
	if (len >= sizeof(p->name))
		return -EINVAL;
	memcpy(p->name, p->devargs, len);
	p->name[len] = '\0';
	memset(&p->ring, 0, sizeof(p->ring));
	probe_devargs(p, nw, args, sizeof(args));
	if (strcmp(args, p->devargs) != 0)
		nb_info("pif %s: probed as '%s': a queue pair per worker",
			p->name, args);
	r = rte_dev_probe(args);
	if (r < 0) {
		nb_err("pif %s: cannot probe '%s': %s", p->name, args,
		       strerror(-r));
		return r;
	}
	if (rte_eth_dev_get_port_by_name(p->name, &p->port_id) != 0) {
		nb_err("pif %s: probed, but no ethdev of that name", p->name);
		return -ENODEV;
	}
	r = rte_eth_dev_info_get(p->port_id, &info);
	if (r < 0)
		return r;
	if (strcmp(info.driver_name, "net_af_packet") != 0)
		p->whole = false;
	if (strcmp(info.driver_name, "net_af_packet") == 0 &&
	    (r = ctl_afpacket_share(p, (int)info.if_index)) < 0)
		return r;
	/* Its own ring is one queue, read by one worker. */
	p->nrxq = (uint16_t)RTE_MIN(p->ring.map ? 1u : nw,
				    info.max_rx_queues);
	p->ntxq = (uint16_t)RTE_MIN(nw, info.max_tx_queues);
	if (p->nrxq == 0 || p->ntxq == 0) {
		nb_err("pif %s: has %u RX and %u TX queues", p->name,
		       info.max_rx_queues, info.max_tx_queues);
		return -ENOTSUP;
	}
	p->txq_shared = p->ntxq < nw;
	for (unsigned q = 0; q < DP_MAX_WORKERS; q++)
		rte_spinlock_init(&p->txq_lock[q]);
	if (p->txq_shared) {
		const char *where, *key = queues_hint(p->name, &where);

		if (key)
			nb_info("pif %s: %u TX queue%s for %u workers, shared "
				"under a lock (%s=%u in its devargs gives each "
				"worker its own%s)", p->name, p->ntxq,
				p->ntxq == 1 ? "" : "s", nw, key, nw, where);
		else
			nb_info("pif %s: %u TX queue%s for %u workers, shared "
				"under a lock", p->name, p->ntxq,
				p->ntxq == 1 ? "" : "s", nw);
	}
	/* RSS only where the port offers it (virtio-user over vhost-net
	 * or vhost-user does not, and refuses to be asked): otherwise
	 * each queue is polled all the same and the device spreads
	 * frames as it does (a multi-queue tap by flow, af_packet by its
	 * fanout), or fills the first queue only. */
	if (p->nrxq > 1 && (info.flow_type_rss_offloads & NB_PIF_RSS)) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
		    info.flow_type_rss_offloads & NB_PIF_RSS;
		p->rss = true;
	}
	conf.rxmode.mtu = p->mtu;
	/* Frames larger than one mbuf arrive as chains. */
	if (p->mtu + RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN + 4 >
	    rte_pktmbuf_data_room_size(d->dp.pool) - RTE_PKTMBUF_HEADROOM) {
		if (!(info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER)) {
			nb_err("pif %s: mtu %u needs scattered RX, which the "
			       "port lacks", p->name, p->mtu);
			return -ENOTSUP;
		}
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
	}
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	/* A port that segments large TCP packets itself (a NIC, or
	 * virtio-user over vhost-net handing them to the kernel whole)
	 * gets them as they are; others get rte_gso's segments. */
	const uint64_t tso = RTE_ETH_TX_OFFLOAD_TCP_TSO |
			     RTE_ETH_TX_OFFLOAD_TCP_CKSUM |
			     RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	/* (net_tap's TSO is rte_gso inside the PMD, no gain, and in the
	 * lab it cost TCP retransmissions: ours is used instead.) */
	if ((info.tx_offload_capa & tso) == tso &&
	    strcmp(info.driver_name, "net_tap") != 0) {
		conf.txmode.offloads |= tso;
		p->tso = true;
		/* Who cuts the segments must fill their IPv4 checksums:
		 * told so when the port can (a kernel behind vhost-net
		 * does it anyway). */
		if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) {
			conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
			p->ip_csum = true;
		}
	}
	/* And one that receives them whole (LRO) passes them on as GSO
	 * packets to the guests that take them: a NIC that coalesces up
	 * to max_lro_pkt_size, or virtio-user, which names no size (0:
	 * ethdev then fills in the frame size) and hands on the kernel's
	 * large packets as they come, chained over its receive buffers.
	 * Without it, the host's TCP to a guest crosses as wire-size
	 * frames, each copied into the guest on its own. */
	if ((info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TCP_LRO) &&
	    (info.max_lro_pkt_size >= 16384 || info.max_lro_pkt_size == 0)) {
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TCP_LRO;
		if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TCP_CKSUM)
			conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
		conf.rxmode.max_lro_pkt_size =
		    RTE_MIN(info.max_lro_pkt_size, 65535u);
		p->lro = true;
	}
	conf.intr_conf.rxq = 1;
	p->intr = true;
	r = rte_eth_dev_configure(p->port_id, p->nrxq, p->ntxq, &conf);
	if (r < 0 && p->lro) {
		nb_info("pif %s: LRO refused (%s): wire-size frames only",
			p->name, strerror(-r));
		conf.rxmode.offloads &= ~(RTE_ETH_RX_OFFLOAD_TCP_LRO |
					  RTE_ETH_RX_OFFLOAD_TCP_CKSUM);
		conf.rxmode.max_lro_pkt_size = 0;
		p->lro = false;
		r = rte_eth_dev_configure(p->port_id, p->nrxq, p->ntxq, &conf);
	}
	if (r < 0) {
		/* No RX interrupts here: workers nap instead of sleeping. */
		conf.intr_conf.rxq = 0;
		p->intr = false;
		r = rte_eth_dev_configure(p->port_id, p->nrxq, p->ntxq, &conf);
	}
	if (r < 0) {
		nb_err("pif %s: configure: %s", p->name, strerror(-r));
		return r;
	}
	for (uint16_t q = 0; q < p->nrxq; q++) {
		r = rte_eth_rx_queue_setup(p->port_id, q, NB_PIF_RXD,
					   rte_eth_dev_socket_id(p->port_id),
					   NULL, d->dp.pool);
		if (r < 0)
			goto qfail;
	}
	for (uint16_t q = 0; q < p->ntxq; q++) {
		r = rte_eth_tx_queue_setup(p->port_id, q, NB_PIF_TXD,
					   rte_eth_dev_socket_id(p->port_id),
					   NULL);
		if (r < 0)
			goto qfail;
	}
	r = rte_eth_dev_start(p->port_id);
	if (r < 0) {
		nb_err("pif %s: start: %s", p->name, strerror(-r));
		return r;
	}
	p->started = true;
	rte_eth_promiscuous_enable(p->port_id);
	rte_eth_allmulticast_enable(p->port_id);
	nb_info("pif %s: port %u, %u rx%s / %u tx queues%s, mtu %u, %s%s%s%s",
		p->name, p->port_id, p->nrxq,
		p->nrxq > 1 ? (p->rss ? " (rss)" : " (no rss)") : "", p->ntxq,
		p->txq_shared ? " (shared)" : "", p->mtu,
		p->intr ? "rx interrupts" : "polled", p->tso ? ", tso" : "",
		p->lro ? ", lro" : "", p->ring.map ? ", whole frames" : "");
	return 0;
qfail:
	nb_err("pif %s: queue setup: %s", p->name, strerror(-r));
	return r;
}

/*
 * A packet socket cuts a frame larger than its slots: a GSO packet the
 * kernel hands it whole (netback sends a netfront GSO packets; a NIC's
 * GRO or LRO that could not be turned off). Dropped and counted by the
 * workers; said here, at most once a minute, with the way out.
 */
static void
cut_check(struct dp_eth *p)
{
	uint64_t c[DP_E_COUNT], now = nb_now_ms();

	dp_eth_counters(p, c);
	if (c[DP_E_RX_CUT] == p->cut_seen)
		return;
	if (p->cut_warned_ms && now - p->cut_warned_ms < 60000)
		return;
	if (p->whole)
		nb_warn("port %s: %lu frames came cut from %s and were dropped "
			"(rx_drop_cut): longer than its slots (%u bytes of "
			"frame); `ip link set %s gro_max_size %u gso_max_size "
			"%u` keeps what it merges or is sent shorter", p->name,
			(unsigned long)(c[DP_E_RX_CUT] - p->cut_seen),
			p->kif[0] ? p->kif : "its interface",
			NB_RING_FRAMESZ - 66, p->kif[0] ? p->kif : "IF",
			NB_RING_GRO_MAX, NB_RING_GRO_MAX);
	else
		nb_warn("port %s: %lu frames larger than the MTU came cut from "
			"%s and were dropped (rx_drop_cut): GSO or GRO hands "
			"the packet socket merged packets; leave framesz, "
			"blocksz and framecnt out of its devargs (netbackd's "
			"own ring takes them whole), or, with a netfront as "
			"uplink, turn TSO off on its vif in the backend domain "
			"(ethtool -K vifD.N tso off)", p->name,
			(unsigned long)(c[DP_E_RX_CUT] - p->cut_seen),
			p->kif[0] ? p->kif : "its interface");
	p->cut_seen = c[DP_E_RX_CUT];
	p->cut_warned_ms = now;
}

void
ctl_eth_link_check(struct nb_daemon *d)
{
	for (unsigned i = 0; i < d->neth; i++) {
		struct dp_eth *p = d->eth[i];
		struct rte_eth_link l;
		int was = atomic_load(&p->link), now;

		if (p->started && p->csum_partial)
			cut_check(p);
		if (!p->started ||
		    rte_eth_link_get_nowait(p->port_id, &l) != 0)
			continue;
		now = l.link_status == RTE_ETH_LINK_UP ? DP_LINK_UP
		      : was == DP_LINK_UNKNOWN	       ? DP_LINK_UNKNOWN
						       : DP_LINK_DOWN;
		if (now == was)
			continue;
		/* Virtual ports (virtio-user, memif) often report
		 * RTE_ETH_SPEED_NUM_UNKNOWN, UINT32_MAX: kept as 0. */
		p->link_speed = l.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN
					? 0
					: l.link_speed;
		atomic_store(&p->link, now);
		if (was != DP_LINK_UNKNOWN)
			p->link_changes++;
		if (now == DP_LINK_UP && p->link_speed)
			nb_info("port %s: link up, %u Mbit/s", p->name,
				p->link_speed);
		else if (now == DP_LINK_UP)
			nb_info("port %s: link up, unknown speed", p->name);
		else
			nb_warn("port %s: link down: frames to it are dropped "
				"(counted) until it comes back", p->name);
	}
}

void
ctl_eth_close(struct nb_daemon *d, struct dp_eth *p)
{
	struct rte_eth_dev_info info;
	uint16_t id;

	(void)d;
	if (p->started) {
		rte_eth_dev_stop(p->port_id);
		p->started = false;
	}
	/* Closed and unplugged, so the same devargs may be added again. */
	if (rte_eth_dev_get_port_by_name(p->name, &id) == 0 &&
	    rte_eth_dev_info_get(id, &info) == 0) {
		rte_eth_dev_close(id);
		if (info.device)
			rte_dev_remove(info.device);
	}
	ctl_afpacket_restore(p);
}
