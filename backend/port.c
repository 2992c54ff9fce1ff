/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * DPDK ports as uplinks (PIFs): any ethdev named by devargs (net_tap,
 * net_af_packet, net_af_xdp, net_virtio_user, net_memif, a PCI NIC).
 * Each worker owns RX queue (worker id) when the port has that many and
 * transmits on its own TX queue, so no lock is taken on the data path.
 */
/* rte_ipv{4,6}_udptcp_cksum_mbuf are experimental in DPDK 22.11. */
#define ALLOW_EXPERIMENTAL_API
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "nb.h"

static bool parse_tcp(struct rte_mbuf *m);

#define NB_PIF_RXD 1024
#define NB_PIF_TXD 1024

int
nb_pif_open(struct nb_daemon *d, struct nb_pif *p)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf = { 0 };
	const char *comma = strchr(p->devargs, ',');
	size_t len = comma ? (size_t)(comma - p->devargs) : strlen(p->devargs);
	unsigned nw = d->nworkers;
	int r;

	if (len >= sizeof(p->name))
		return -EINVAL;
	memcpy(p->name, p->devargs, len);
	p->name[len] = '\0';
	r = rte_dev_probe(p->devargs);
	if (r < 0) {
		nb_err("pif %s: cannot probe '%s': %s", p->name, p->devargs,
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
	p->nrxq = (uint16_t)RTE_MIN(nw, info.max_rx_queues);
	p->ntxq = (uint16_t)RTE_MIN(nw, info.max_tx_queues);
	if (p->nrxq == 0 || p->ntxq < nw) {
		nb_err("pif %s: needs %u TX queues, has %u", p->name, nw,
		       info.max_tx_queues);
		return -ENOTSUP;
	}
	if (p->nrxq > 1) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
		    info.flow_type_rss_offloads &
		    (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
	}
	conf.rxmode.mtu = p->mtu;
	/* Frames larger than one mbuf arrive as chains. */
	if (p->mtu + RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN + 4 >
	    rte_pktmbuf_data_room_size(d->pool) - RTE_PKTMBUF_HEADROOM) {
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
	 * packets to the guests that take them. */
	if ((info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TCP_LRO) &&
	    info.max_lro_pkt_size >= 16384) {
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
					   NULL, d->pool);
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
	nb_info("pif %s: port %u, %u rx / %u tx queues, mtu %u, %s%s%s",
		p->name, p->port_id, p->nrxq, p->ntxq, p->mtu,
		p->intr ? "rx interrupts" : "polled", p->tso ? ", tso" : "",
		p->lro ? ", lro" : "");
	return 0;
qfail:
	nb_err("pif %s: queue setup: %s", p->name, strerror(-r));
	return r;
}

void
nb_pif_link_check(struct nb_daemon *d)
{
	for (unsigned i = 0; i < d->npifs; i++) {
		struct nb_pif *p = d->pifs[i];
		struct rte_eth_link l;
		int was = atomic_load(&p->link), now;

		if (!p->started ||
		    rte_eth_link_get_nowait(p->port_id, &l) != 0)
			continue;
		now = l.link_status == RTE_ETH_LINK_UP ? NB_LINK_UP
		      : was == NB_LINK_UNKNOWN	       ? NB_LINK_UNKNOWN
						       : NB_LINK_DOWN;
		if (now == was)
			continue;
		p->link_speed = l.link_speed;
		atomic_store(&p->link, now);
		if (was != NB_LINK_UNKNOWN)
			p->link_changes++;
		if (now == NB_LINK_UP)
			nb_info("port %s: link up, %u Mbit/s", p->name,
				l.link_speed);
		else
			nb_warn("port %s: link down: frames to it are dropped "
				"(counted) until it comes back", p->name);
	}
}

void
nb_pif_close(struct nb_daemon *d, struct nb_pif *p)
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
}

unsigned
nb_pif_poll(struct nb_worker *w, struct nb_pif_rxq *pq)
{
	struct rte_mbuf *pkts[NB_BURST];
	struct nb_pif *p = pq->pif;
	uint16_t n = rte_eth_rx_burst(p->port_id, pq->qid, pkts, NB_BURST);

	if (n)
		nb_fwd_from_pif(w, p, pkts, n);
	return n;
}

void
nb_pif_rx_lro(struct rte_mbuf *m)
{
	/* A coalesced TCP packet travels on as a GSO packet. */
	if ((m->ol_flags & RTE_MBUF_F_RX_LRO) && m->tso_segsz &&
	    parse_tcp(m)) {
		m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG;
		m->packet_type = (m->ol_flags & RTE_MBUF_F_TX_IPV6)
					 ? RTE_PTYPE_L3_IPV6
					 : RTE_PTYPE_L3_IPV4;
	}
}

/* Where the L4 checksum field sits, or 0 if not TCP/UDP. */
static uint32_t
l4_csum_offset(uint8_t proto, uint32_t l4, uint32_t len)
{
	if (proto == IPPROTO_TCP && len >= l4 + sizeof(struct rte_tcp_hdr))
		return l4 + offsetof(struct rte_tcp_hdr, cksum);
	if (proto == IPPROTO_UDP && len >= l4 + sizeof(struct rte_udp_hdr))
		return l4 + offsetof(struct rte_udp_hdr, dgram_cksum);
	return 0;
}

void
nb_csum_complete(struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	uint32_t l3 = sizeof(*eth), l4, at;
	uint16_t type = eth->ether_type, sum = 0;
	char *base = rte_pktmbuf_mtod(m, char *);

	m->ol_flags &= ~RTE_MBUF_F_RX_L4_CKSUM_MASK;
	if (m->data_len < l3)
		return;
	if (type == rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN)) {
		if (m->data_len < l3 + 4)
			return;
		memcpy(&type, base + l3 + 2, sizeof(type));
		l3 += 4;
	}
	/* The guest left the pseudo-header sum in the field: zero it and
	 * sum the whole segment. Headers sit in the first mbuf (2 KiB). */
	if (type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(base + l3);

		if (m->data_len < l3 + sizeof(*ip))
			return;
		l4 = l3 + rte_ipv4_hdr_len(ip);
		at = l4_csum_offset(ip->next_proto_id, l4, m->data_len);
		if (!at)
			return;
		memset(base + at, 0, 2);
		sum = rte_ipv4_udptcp_cksum_mbuf(m, ip, (uint16_t)l4);
	} else if (type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6)) {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(base + l3);

		/* netfront offloads no packet with extension headers. */
		if (m->data_len < l3 + sizeof(*ip))
			return;
		l4 = l3 + sizeof(*ip);
		at = l4_csum_offset(ip->proto, l4, m->data_len);
		if (!at)
			return;
		memset(base + at, 0, 2);
		sum = rte_ipv6_udptcp_cksum_mbuf(m, ip, (uint16_t)l4);
	} else {
		return;
	}
	memcpy(base + at, &sum, sizeof(sum));
}

/* Ethernet (+ one VLAN tag), IPv4 or IPv6, TCP: set l2/l3/l4_len. */
static bool
parse_tcp(struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t l2 = 14, l3, len = m->data_len;
	uint16_t type;

	if (len < l2)
		return false;
	type = (uint16_t)(p[12] << 8 | p[13]);
	if (type == RTE_ETHER_TYPE_VLAN) {
		if (len < 18)
			return false;
		type = (uint16_t)(p[16] << 8 | p[17]);
		l2 = 18;
	}
	if (type == RTE_ETHER_TYPE_IPV4 && len >= l2 + 20 &&
	    p[l2 + 9] == IPPROTO_TCP) {
		l3 = (uint32_t)(p[l2] & 0xf) * 4;
		m->ol_flags |= RTE_MBUF_F_TX_IPV4;
	} else if (type == RTE_ETHER_TYPE_IPV6 && len >= l2 + 40 &&
		   p[l2 + 6] == IPPROTO_TCP) {
		l3 = 40;
		m->ol_flags |= RTE_MBUF_F_TX_IPV6;
	} else {
		return false;
	}
	if (l3 < 20 || len < l2 + l3 + 20)
		return false;
	m->l2_len = l2;
	m->l3_len = l3;
	m->l4_len = (uint32_t)(p[l2 + l3 + 12] >> 4) * 4;
	return m->l4_len >= 20 && len >= l2 + l3 + m->l4_len;
}

unsigned
nb_gso_split(struct nb_worker *w, struct rte_mbuf *m, struct rte_mbuf **out,
	     unsigned max)
{
	int n;

	if (!parse_tcp(m) || m->tso_segsz == 0) {
		rte_pktmbuf_free(m);
		return 0;
	}
	w->gso.gso_size = (uint16_t)(m->l2_len + m->l3_len + m->l4_len +
				     m->tso_segsz);
	n = rte_gso_segment(m, &w->gso, out, (uint16_t)max);
	if (n == 0) {
		/* Small enough already. */
		m->ol_flags &= ~RTE_MBUF_F_TX_TCP_SEG;
		out[0] = m;
		n = 1;
	} else {
		rte_pktmbuf_free(m);
		if (n < 0)
			return 0;
	}
	for (int i = 0; i < n; i++) {
		struct rte_mbuf *s = out[i];

		if (s->ol_flags & RTE_MBUF_F_TX_IPV4) {
			struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(
			    s, struct rte_ipv4_hdr *, s->l2_len);

			ip->hdr_checksum = 0;
			ip->hdr_checksum = rte_ipv4_cksum(ip);
		}
		nb_csum_complete(s);
		s->ol_flags &= ~(RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IPV4 |
				 RTE_MBUF_F_TX_IPV6);
		s->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	}
	return (unsigned)n;
}

/*
 * Offloads of a burst the port is about to send: GSO packets go to the
 * port's TSO or are segmented here, blank checksums are completed.
 * False when a GSO packet had to be segmented: the burst has then been
 * sent, in order, in pieces.
 */
static bool
tx_prepare(struct nb_worker *w, struct nb_pif *p, struct rte_mbuf **pkts,
	   unsigned n)
{
	struct rte_mbuf *segs[NB_GSO_MAX_SEGS];

	/* Uplinks get wire-size frames: segment GSO packets first, unless
	 * the port does (its TSO wants the headers' lengths and the TCP
	 * checksum field holding the pseudo-header sum, as netfront and
	 * the kernel leave it). */
	for (unsigned i = 0; i < n; i++) {
		if (!nb_is_gso(pkts[i]))
			continue;
		if (p->tso && parse_tcp(pkts[i]) && pkts[i]->tso_segsz) {
			struct rte_mbuf *m = pkts[i];

			m->ol_flags |= RTE_MBUF_F_TX_TCP_CKSUM;
			m->ol_flags &= ~RTE_MBUF_F_RX_L4_CKSUM_MASK;
			if (p->ip_csum && (m->ol_flags & RTE_MBUF_F_TX_IPV4)) {
				struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(
				    m, struct rte_ipv4_hdr *, m->l2_len);

				ip->hdr_checksum = 0;
				m->ol_flags |= RTE_MBUF_F_TX_IP_CKSUM;
			}
			continue;
		}
		/* In order: what came before, the segments, the rest. */
		if (i)
			nb_deliver_pif(w, p, pkts, i, NULL);
		unsigned k = nb_gso_split(w, pkts[i], segs, NB_GSO_MAX_SEGS);
		if (k)
			nb_deliver_pif(w, p, segs, k, NULL);
		if (i + 1 < n)
			nb_deliver_pif(w, p, &pkts[i + 1], n - i - 1, NULL);
		return false;
	}
	for (unsigned i = 0; i < n; i++)
		if ((pkts[i]->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) ==
		    RTE_MBUF_F_RX_L4_CKSUM_NONE)
			nb_csum_complete(pkts[i]);
	return true;
}

void
nb_deliver_pif(struct nb_worker *w, struct nb_pif *p, struct rte_mbuf **pkts,
	       unsigned n, const struct nb_burst_sum *sum)
{
	struct nb_burst_sum here = { 0, 0 };
	uint64_t bytes;
	uint16_t sent;

	/* Nothing waits for a port whose link went down. */
	if (unlikely(atomic_load_explicit(&p->link, memory_order_relaxed) ==
		     NB_LINK_DOWN)) {
		p->stats[w->id][NB_P_TX_DROP_LINK] += n;
		rte_pktmbuf_free_bulk(pkts, n);
		return;
	}
	/* One look at each frame, or none when the receiver summed the
	 * burst up. */
	if (!sum) {
		for (unsigned i = 0; i < n; i++) {
			here.ol |= pkts[i]->ol_flags;
			here.bytes += pkts[i]->pkt_len;
		}
		sum = &here;
	}
	/* Offloads only when a frame has one: a GSO packet, or a checksum
	 * to complete (the BAD bit is set in both NONE and BAD). */
	if (unlikely(sum->ol &
		     (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_RX_L4_CKSUM_BAD)) &&
	    !tx_prepare(w, p, pkts, n))
		return;
	bytes = sum->bytes;
	sent = rte_eth_tx_burst(p->port_id, (uint16_t)(w->id % p->ntxq), pkts,
				(uint16_t)n);
	p->stats[w->id][NB_P_TX_PACKETS] += sent;
	if (sent < n) {
		for (unsigned i = sent; i < n; i++)
			bytes -= pkts[i]->pkt_len;
		p->stats[w->id][NB_P_TX_DROP_FULL] += n - sent;
		rte_pktmbuf_free_bulk(&pkts[sent], n - sent);
	}
	p->stats[w->id][NB_P_TX_BYTES] += bytes;
}
