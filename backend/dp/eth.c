/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * DPDK port I/O on the data path: RX bursts into the switch, TX bursts
 * with their offloads (TSO when the port has it, GSO packets whole to
 * the kernel when the port shares a kernel interface, else software
 * GSO; checksums the guest left blank completed), one TX queue per
 * worker so no lock is taken, or a shared queue under its lock where
 * the port has fewer (eth_txq_lock). Opening and closing ports is
 * control's (ctl/port.c).
 */
/* rte_ipv{4,6}_udptcp_cksum_mbuf are experimental in DPDK 22.11. */
#define ALLOW_EXPERIMENTAL_API
#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include <linux/if_packet.h>
#include <linux/virtio_net.h>

#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_gso.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "dp_priv.h"

static bool parse_tcp(struct rte_mbuf *m);

/*
 * The TX queue worker w sends on: queue w % ntxq. A port with a queue
 * per worker is sent on without a lock: one predictable branch per
 * burst is all this costs then. One with fewer (virtio-user's single
 * queue pair by default, af_packet's qpairs, a small VF) has each queue
 * shared by the workers that map to it, which take the queue's spinlock
 * around each rte_eth_tx_prepare/rte_eth_tx_burst call, once per burst:
 * a PMD's TX queue is not thread-safe.
 *
 * A lock rather than handing the frames to the queue's owner over a
 * ring: no extra hop or copy of mbuf pointers, the sender keeps its
 * order, its counters and its drops (a full queue is its own to count),
 * and no owner has to be woken from epoll to send for others. It is held
 * for one hand-over to the PMD: descriptor writes, and the non-blocking
 * kick or write a software port makes (af_packet's send, net_tap's
 * writev, vhost's eventfd). A worker descheduled while holding it keeps
 * the others of that queue spinning until it runs again: the price of
 * too few queues, which the start-up log tells how to avoid.
 */
static inline uint16_t
eth_txq_lock(struct dp_worker *w, struct dp_eth *e)
{
	uint16_t q = (uint16_t)(w->id % e->ntxq);

	if (unlikely(e->txq_shared))
		rte_spinlock_lock(&e->txq_lock[q]);
	return q;
}

static inline void
eth_txq_unlock(struct dp_eth *e, uint16_t q)
{
	if (unlikely(e->txq_shared))
		rte_spinlock_unlock(&e->txq_lock[q]);
}

void
dp_eth_counters(const struct dp_eth *e, uint64_t c[DP_E_COUNT])
{
	memset(c, 0, sizeof(uint64_t) * DP_E_COUNT);
	for (unsigned i = 0; i < DP_MAX_WORKERS; i++)
		for (unsigned j = 0; j < DP_E_COUNT; j++)
			c[j] += e->stats[i][j];
}

const char *
dp_link_name(int link)
{
	return link == DP_LINK_UP ? "up" : link == DP_LINK_DOWN ? "down"
								 : "unknown";
}

/* Slot i of a packet-socket ring. */
static inline struct tpacket2_hdr *
ring_slot(const struct dp_ring *r, uint32_t i)
{
	return (struct tpacket2_hdr *)(void *)(r->map +
					       (size_t)(i / r->per_block) *
						   r->block_size +
					       (size_t)(i % r->per_block) *
						   r->frame_size);
}

/* Append len bytes from p to the chain segs[], filled up to *k / *off
 * (room a segment): the next segment is taken only for bytes that do
 * not fit, so the last one may end full. */
static inline void
chain_put(struct rte_mbuf **segs, unsigned *k, uint32_t *off, uint16_t room,
	  const uint8_t *p, uint32_t len)
{
	while (len) {
		if (*off == room) {
			(*k)++;
			*off = 0;
		}
		uint32_t l = RTE_MIN(len, (uint32_t)room - *off);

		memcpy(rte_pktmbuf_mtod_offset(segs[*k], uint8_t *, *off), p,
		       l);
		p += l;
		len -= l;
		*off += l;
	}
}

/* The most segments a frame of a ring slot takes: 66 KiB in mbufs of
 * 2 KiB, with room to spare. */
#define DP_RING_SEGS 48u

/*
 * The frame in slot h (its status st), copied into a chain of the main
 * pool, with the VLAN tag the kernel took off it put back where it was
 * (the kernel always takes it off before a packet socket sees it). A
 * TCP frame longer than the MTU was merged by the kernel or the NIC
 * (GRO, LRO) or sent as a GSO packet to a netfront: it goes on as a
 * coalesced packet, cut where it was, every segment MTU-sized (the size
 * the kernel's own segments had, options included). NULL when out of
 * mbufs.
 */
static struct rte_mbuf *
ring_frame(struct dp_worker *w, const struct dp_eth *e,
	   const struct tpacket2_hdr *h, uint32_t st, uint16_t room)
{
	struct rte_mbuf *segs[DP_RING_SEGS];
	const uint8_t *src = (const uint8_t *)h + h->tp_mac;
	uint32_t len = h->tp_snaplen, tag = 0, off = 0, mtu = e->mtu;
	uint8_t vlan[4];
	unsigned k = 0, nseg;

	if ((st & TP_STATUS_VLAN_VALID) && len >= 2 * RTE_ETHER_ADDR_LEN) {
		uint16_t tpid = (st & TP_STATUS_VLAN_TPID_VALID) &&
					h->tp_vlan_tpid
				    ? h->tp_vlan_tpid
				    : RTE_ETHER_TYPE_VLAN;

		vlan[0] = (uint8_t)(tpid >> 8);
		vlan[1] = (uint8_t)tpid;
		vlan[2] = (uint8_t)(h->tp_vlan_tci >> 8);
		vlan[3] = (uint8_t)h->tp_vlan_tci;
		tag = sizeof(vlan);
	}
	nseg = (len + tag + room - 1) / room;
	if (unlikely(nseg == 0 || nseg > DP_RING_SEGS ||
		     rte_pktmbuf_alloc_bulk(w->pool, segs, nseg) < 0))
		return NULL;
	if (tag) {
		chain_put(segs, &k, &off, room, src, 2 * RTE_ETHER_ADDR_LEN);
		chain_put(segs, &k, &off, room, vlan, tag);
		chain_put(segs, &k, &off, room, src + 2 * RTE_ETHER_ADDR_LEN,
			  len - 2 * RTE_ETHER_ADDR_LEN);
	} else {
		chain_put(segs, &k, &off, room, src, len);
	}
	struct rte_mbuf *m = segs[0];

	for (unsigned i = 0; i < nseg; i++) {
		segs[i]->data_len = i + 1 < nseg ? room : (uint16_t)off;
		segs[i]->next = i + 1 < nseg ? segs[i + 1] : NULL;
	}
	m->nb_segs = (uint16_t)nseg;
	m->pkt_len = len + tag;
	m->port = e->port_id;
	if (m->pkt_len > RTE_ETHER_HDR_LEN + mtu && parse_tcp(m) &&
	    m->pkt_len > m->l2_len + mtu &&
	    (uint32_t)(m->l3_len + m->l4_len) < mtu) {
		m->ol_flags |= RTE_MBUF_F_RX_LRO;
		m->tso_segsz = (uint16_t)(mtu - m->l3_len - m->l4_len);
	}
	return m;
}

/*
 * Up to max frames from the port's own packet-socket ring (dp_eth.ring),
 * in the order the kernel wrote them, each slot handed back as soon as
 * its frame is copied. A frame the slot could not hold whole is dropped
 * (rx_drop_cut). The count.
 */
static unsigned
ring_rx(struct dp_worker *w, struct dp_eth *e, struct rte_mbuf **pkts,
	unsigned max)
{
	struct dp_ring *r = &e->ring;
	uint16_t room = (uint16_t)(rte_pktmbuf_data_room_size(w->pool) -
				   RTE_PKTMBUF_HEADROOM);
	unsigned n = 0;

	while (n < max) {
		struct tpacket2_hdr *h = ring_slot(r, r->head);
		uint32_t st = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);

		if (!(st & TP_STATUS_USER))
			break;
		if (unlikely(h->tp_snaplen < h->tp_len ||
			     h->tp_mac + h->tp_snaplen > r->frame_size))
			e->stats[w->id][DP_E_RX_CUT]++;
		else if ((pkts[n] = ring_frame(w, e, h, st, room)) != NULL)
			n++;
		else
			e->stats[w->id][DP_E_RX_DROP_NOMBUF]++;
		__atomic_store_n(&h->tp_status, TP_STATUS_KERNEL,
				 __ATOMIC_RELEASE);
		r->head = r->head + 1 == r->nframes ? 0 : r->head + 1;
	}
	return n;
}

unsigned
dp_eth_poll(struct dp_worker *w, struct dp_eth_rxq *rq)
{
	struct rte_mbuf *pkts[DP_BURST];
	struct dp_eth *e = rq->eth;
	uint16_t n = likely(!e->ring.map)
			 ? rte_eth_rx_burst(e->port_id, rq->qid, pkts,
					    DP_BURST)
			 : (uint16_t)ring_rx(w, e, pkts, DP_BURST);

	if (n)
		dp_fwd_from_eth(w, e, pkts, n);
	return n;
}

void
dp_eth_rx_lro(struct rte_mbuf *m)
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

int
dp_eth_rx_partial(struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = m->data_len, l3 = RTE_ETHER_HDR_LEN, l4, at;
	uint16_t type, sum, field;

	if (len < l3)
		return 0;
	type = (uint16_t)(p[12] << 8 | p[13]);
	if (type == RTE_ETHER_TYPE_VLAN) {
		if (len < l3 + 4)
			return 0;
		type = (uint16_t)(p[16] << 8 | p[17]);
		l3 += 4;
	}
	/* What the kernel leaves for the device is the pseudo-header's
	 * sum, as rte_ip's phdr helpers compute it for the same purpose. */
	if (type == RTE_ETHER_TYPE_IPV4) {
		const struct rte_ipv4_hdr *ip =
		    (const struct rte_ipv4_hdr *)(p + l3);
		uint32_t ihl, tot;

		if (len < l3 + sizeof(*ip) || (ip->version_ihl >> 4) != 4)
			return 0;
		ihl = rte_ipv4_hdr_len(ip);
		tot = rte_be_to_cpu_16(ip->total_length);
		if (ihl < sizeof(*ip) || tot < ihl)
			return 0;
		/* Longer than what came: cut by the socket. */
		if (l3 + tot > m->pkt_len)
			return -1;
		/* Whole datagrams only: a fragment's field is not ours. */
		if (ip->fragment_offset &
		    rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG |
				     RTE_IPV4_HDR_OFFSET_MASK))
			return 0;
		l4 = l3 + ihl;
		at = l4_csum_offset(ip->next_proto_id, l4, len);
		if (!at || tot - ihl < at + 2 - l4)
			return 0;
		sum = rte_ipv4_phdr_cksum(ip, 0);
	} else if (type == RTE_ETHER_TYPE_IPV6) {
		const struct rte_ipv6_hdr *ip =
		    (const struct rte_ipv6_hdr *)(p + l3);
		uint32_t plen;

		if (len < l3 + sizeof(*ip) || (p[l3] >> 4) != 6)
			return 0;
		plen = rte_be_to_cpu_16(ip->payload_len);
		if (l3 + sizeof(*ip) + plen > m->pkt_len)
			return -1;
		/* TCP or UDP right after the fixed header, as netfront's */
		l4 = l3 + sizeof(*ip);
		at = l4_csum_offset(ip->proto, l4, len);
		if (!at || plen < at + 2 - l4)
			return 0;
		sum = rte_ipv6_phdr_cksum(ip, 0);
	} else {
		return 0;
	}
	/* A complete checksum equal to it by chance comes out the same
	 * when finished from it. */
	memcpy(&field, p + at, sizeof(field));
	if (field != sum && !(field == 0 && sum == 0xffff))
		return 0;
	m->ol_flags = (m->ol_flags & ~RTE_MBUF_F_RX_L4_CKSUM_MASK) |
		      RTE_MBUF_F_RX_L4_CKSUM_NONE;
	return 1;
}

void
dp_csum_complete(struct rte_mbuf *m)
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
dp_gso_split(struct dp_worker *w, struct rte_mbuf *m, struct rte_mbuf **out,
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
		dp_csum_complete(s);
		s->ol_flags &= ~(RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IPV4 |
				 RTE_MBUF_F_TX_IPV6);
		s->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	}
	return (unsigned)n;
}

/*
 * The smallest MSS a GSO packet may ask of a port (the guest picks it,
 * 1..65535): Linux's TCP_MIN_MSS, the least its TCP itself accepts, so
 * no honest guest goes below it. Below it NICs misbehave, and software
 * segmentation would turn 64 KiB into thousands of frames.
 */
#define DP_GSO_MSS_MIN 88u

enum gso_verdict { GSO_DROP, GSO_PLAIN, GSO_TSO, GSO_SPLIT };

/* What becomes of GSO packet m on its way out of port e. */
static enum gso_verdict
gso_check(const struct dp_eth *e, struct rte_mbuf *m)
{
	uint32_t hdrs, payload, mss = m->tso_segsz;

	if (!parse_tcp(m))
		return GSO_DROP;
	hdrs = m->l2_len + m->l3_len + m->l4_len;
	payload = m->pkt_len > hdrs ? m->pkt_len - hdrs : 0;
	/* One segment's worth (an MSS as large as the packet, or
	 * larger): a frame like any other. */
	if (payload <= mss)
		return payload + hdrs - m->l2_len <= e->mtu ? GSO_PLAIN
							    : GSO_DROP;
	if (mss < DP_GSO_MSS_MIN || m->l3_len + m->l4_len + mss > e->mtu)
		return GSO_DROP;
	if (e->tso)
		return GSO_TSO;
	return (payload + mss - 1) / mss <= DP_GSO_MAX_SEGS ? GSO_SPLIT
							   : GSO_DROP;
}

/* The port's TSO wants the headers' lengths and the TCP checksum field
 * holding the pseudo-header sum, as netfront and the kernel leave it. */
static void
tso_flags(const struct dp_eth *e, struct rte_mbuf *m)
{
	m->ol_flags |= RTE_MBUF_F_TX_TCP_CKSUM;
	m->ol_flags &= ~RTE_MBUF_F_RX_L4_CKSUM_MASK;
	if (e->ip_csum && (m->ol_flags & RTE_MBUF_F_TX_IPV4)) {
		struct rte_ipv4_hdr *ip =
		    rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, m->l2_len);

		ip->hdr_checksum = 0;
		m->ol_flags |= RTE_MBUF_F_TX_IP_CKSUM;
	}
}

/* The iovecs of one packet handed to the kernel: its header and up to
 * this many less one mbufs (a 64 KiB packet in 2 KiB mbufs has 33). */
#define DP_VNET_IOV 64

/*
 * GSO packet m (parsed by gso_check) goes whole to the kernel that
 * drives e's interface, through the port's socket with virtio-net
 * headers (dp_eth.vnet): the header says where to cut it, and the
 * kernel cuts it where that costs least (the NIC's TSO, a netfront's
 * GSO to its backend, else its own GSO late on the way out). One writev
 * a packet, where the PMD would take a frame per segment, each copied
 * into its ring and each through the emulated or paravirtual NIC.
 *
 * The TCP checksum field is set to the pseudo-header's sum over the
 * TCP length the packet has, which is what the kernel expects of a
 * GSO packet and adjusts for each segment; the IPv4 header's checksum
 * and length it sets per segment itself. m is consumed, counted as sent
 * or dropped; false, m kept, when it has too many mbufs for the iovecs
 * (the caller cuts it here instead).
 */
static bool
eth_vnet_send(struct dp_worker *w, struct dp_eth *e, struct rte_mbuf *m)
{
	struct virtio_net_hdr h;
	struct iovec iov[DP_VNET_IOV];
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t l3 = m->l2_len, l4 = l3 + m->l3_len;
	uint32_t tlen = m->pkt_len - l4;
	bool v4 = (m->ol_flags & RTE_MBUF_F_TX_IPV4) != 0;
	uint16_t sum;
	unsigned n = 0;
	ssize_t r;

	if (m->nb_segs >= DP_VNET_IOV)
		return false;
	if (v4) {
		struct {
			uint8_t addrs[8];
			uint8_t zero, proto;
			rte_be16_t len;
		} __rte_packed ph = { .proto = IPPROTO_TCP,
				      .len = rte_cpu_to_be_16((uint16_t)tlen) };

		memcpy(ph.addrs, p + l3 + 12, sizeof(ph.addrs));
		sum = rte_raw_cksum(&ph, sizeof(ph));
	} else {
		struct {
			uint8_t addrs[32];
			rte_be32_t len;
			uint8_t zero[3], proto;
		} __rte_packed ph = { .len = rte_cpu_to_be_32(tlen),
				      .proto = IPPROTO_TCP };

		memcpy(ph.addrs, p + l3 + 8, sizeof(ph.addrs));
		sum = rte_raw_cksum(&ph, sizeof(ph));
	}
	memcpy(p + l4 + 16, &sum, sizeof(sum));
	memset(&h, 0, sizeof(h));
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.gso_type = v4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
	h.hdr_len = rte_cpu_to_le_16((uint16_t)(l4 + m->l4_len));
	h.gso_size = rte_cpu_to_le_16(m->tso_segsz);
	h.csum_start = rte_cpu_to_le_16((uint16_t)l4);
	h.csum_offset = rte_cpu_to_le_16(16);
	iov[n++] = (struct iovec){ .iov_base = &h, .iov_len = sizeof(h) };
	for (struct rte_mbuf *s = m; s; s = s->next)
		if (s->data_len)
			iov[n++] = (struct iovec){
				.iov_base = rte_pktmbuf_mtod(s, void *),
				.iov_len = s->data_len };
	r = writev(e->vnet_fd, iov, (int)n);
	if (r == (ssize_t)(sizeof(h) + m->pkt_len)) {
		e->stats[w->id][DP_E_TX_PACKETS]++;
		e->stats[w->id][DP_E_TX_GSO_WHOLE]++;
		e->stats[w->id][DP_E_TX_BYTES] += m->pkt_len;
	} else if (r < 0 && (errno == EAGAIN || errno == ENOBUFS ||
			     errno == ENOMEM)) {
		/* Its send buffer or the interface's queue is full. */
		e->stats[w->id][DP_E_TX_DROP_FULL]++;
	} else if (r < 0 && (errno == ENETDOWN || errno == ENXIO)) {
		e->stats[w->id][DP_E_TX_DROP_LINK]++;
	} else {
		/* The kernel refused the header (EINVAL). */
		e->stats[w->id][DP_E_TX_DROP_GSO]++;
	}
	rte_pktmbuf_free(m);
	return true;
}

/*
 * Offloads of a burst the port is about to send: GSO packets go to the
 * port's TSO or are segmented here, blank checksums are completed, and a
 * GSO packet the port cannot take as it is (an MSS below DP_GSO_MSS_MIN,
 * segments above its MTU, or what rte_eth_tx_prepare refuses) is dropped
 * and counted. Returns how many frames are left at the front of pkts,
 * in order, *bytes less what was dropped; -1 when a GSO packet had to be
 * segmented: the burst has then been sent, in order, in pieces.
 */
static int
tx_prepare(struct dp_worker *w, struct dp_eth *e, struct rte_mbuf **pkts,
	   unsigned n, uint64_t *bytes)
{
	struct rte_mbuf *segs[DP_GSO_MAX_SEGS];
	unsigned i, k = 0, tso = 0;

	/* Uplinks get wire-size frames: segment GSO packets first, unless
	 * the port does. */
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		if (dp_is_gso(m)) {
			switch (gso_check(e, m)) {
			case GSO_DROP:
				e->stats[w->id][DP_E_TX_DROP_GSO]++;
				*bytes -= m->pkt_len;
				rte_pktmbuf_free(m);
				continue;
			case GSO_PLAIN:
				m->ol_flags &= ~(RTE_MBUF_F_TX_TCP_SEG |
						 RTE_MBUF_F_TX_IPV4 |
						 RTE_MBUF_F_TX_IPV6);
				break;
			case GSO_TSO:
				tso_flags(e, m);
				tso++;
				break;
			case GSO_SPLIT:
				goto split;
			}
		}
		pkts[k++] = m;
	}
	for (i = 0; i < k; i++)
		if ((pkts[i]->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) ==
		    RTE_MBUF_F_RX_L4_CKSUM_NONE)
			dp_csum_complete(pkts[i]);
	if (!tso)
		return (int)k;
	/* The port's own checks of its offloads (a minimum MSS, segment
	 * counts, header fix-ups): what it refuses is dropped here rather
	 * than handed to the device. */
	for (i = 0; i < k;) {
		uint16_t q = eth_txq_lock(w, e);
		uint16_t ok = rte_eth_tx_prepare(e->port_id, q, &pkts[i],
						 (uint16_t)(k - i));

		eth_txq_unlock(e, q);

		i += ok;
		if (i == k)
			break;
		e->stats[w->id][DP_E_TX_DROP_PREPARE]++;
		*bytes -= pkts[i]->pkt_len;
		rte_pktmbuf_free(pkts[i]);
		memmove(&pkts[i], &pkts[i + 1], (k - i - 1) * sizeof(pkts[0]));
		k--;
	}
	return (int)k;

split:
	/* In order: what came before, the packet (whole to the kernel, or
	 * its segments), the rest. */
	if (k)
		dp_deliver_eth(w, e, pkts, k, NULL);
	if (!e->vnet || !eth_vnet_send(w, e, pkts[i])) {
		unsigned ns = dp_gso_split(w, pkts[i], segs, DP_GSO_MAX_SEGS);

		if (ns)
			dp_deliver_eth(w, e, segs, ns, NULL);
		else
			e->stats[w->id][DP_E_TX_DROP_GSO]++;
	}
	if (i + 1 < n)
		dp_deliver_eth(w, e, &pkts[i + 1], n - i - 1, NULL);
	return -1;
}

void
dp_deliver_eth(struct dp_worker *w, struct dp_eth *e, struct rte_mbuf **pkts,
	       unsigned n, const struct dp_burst_sum *sum)
{
	struct dp_burst_sum here = { 0, 0 };
	uint64_t bytes;
	uint16_t sent;

	/* Nothing waits for a port whose link went down. */
	if (unlikely(atomic_load_explicit(&e->link, memory_order_relaxed) ==
		     DP_LINK_DOWN)) {
		e->stats[w->id][DP_E_TX_DROP_LINK] += n;
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
	bytes = sum->bytes;
	/* Offloads only when a frame has one: a GSO packet, or a checksum
	 * to complete (the BAD bit is set in both NONE and BAD). */
	if (unlikely(sum->ol &
		     (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_RX_L4_CKSUM_BAD))) {
		int k = tx_prepare(w, e, pkts, n, &bytes);

		if (k < 0)
			return;
		n = (unsigned)k;
	}
	uint16_t q = eth_txq_lock(w, e);
	sent = rte_eth_tx_burst(e->port_id, q, pkts, (uint16_t)n);
	eth_txq_unlock(e, q);
	e->stats[w->id][DP_E_TX_PACKETS] += sent;
	if (sent < n) {
		for (unsigned i = sent; i < n; i++)
			bytes -= pkts[i]->pkt_len;
		e->stats[w->id][DP_E_TX_DROP_FULL] += n - sent;
		rte_pktmbuf_free_bulk(&pkts[sent], n - sent);
	}
	e->stats[w->id][DP_E_TX_BYTES] += bytes;
}
