/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A net_af_packet port on an interface the kernel keeps using: the host
 * keeps its NIC and its address, and netbackd's uplink shares the NIC.
 *
 * A packet socket sees all of the interface's traffic: what the host
 * itself sends (PACKET_OUTGOING) and what arrives for the interface's
 * own MAC (PACKET_HOST), beside the frames for the guests. Those two are
 * the host's own; switched, they would cost a copy each and, their
 * destination unknown to the switch, be flooded to the guests. A socket
 * filter keeps them in the kernel: the port receives broadcast,
 * multicast and frames for other MACs only.
 *
 * The socket the port receives on (netbackd's own, or the PMD's one
 * where it has one queue pair) is what its worker sleeps on: readable
 * while frames wait in its RX ring.
 *
 * A packet socket also sees frames after GRO (or the NIC's LRO or
 * hardware GRO) merged them: up to 64 KiB with no segment size. Where
 * the devargs size none of the PMD's ring, netbackd receives on a socket
 * and RX ring of its own, whose slots hold any of them whole (ctl.h,
 * NB_RING_*), and the PMD's sockets get a filter that takes nothing
 * (the PMD only sends). The interface keeps all of its merging then: its
 * GRO, and the NIC's LRO and hardware GRO, which the host's own TCP
 * needs to run at full speed. With slots the devargs sized, the PMD
 * receives, would copy the first slot's worth of a merged frame, cut,
 * and the merging goes off instead. What was changed is changed back
 * when the port closes.
 *
 * The other way, GSO packets (a guest's TSO) go out whole on a second
 * socket with virtio-net headers, for the kernel to cut, or the NIC
 * (dp/eth.c): the PMD's ring would take them a frame per segment.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/ethtool.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>

#include "ctl.h"

/* Keeps broadcast, multicast and frames for other hosts. */
static struct sock_filter not_the_hosts[] = {
	BPF_STMT(BPF_LD | BPF_B | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_HOST, 2, 0),
	BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, PACKET_OTHERHOST, 1, 0),
	BPF_STMT(BPF_RET | BPF_K, 0xffffffffu),
	BPF_STMT(BPF_RET | BPF_K, 0),
};

/*
 * The packet sockets this file made for the ports open now (their rings
 * and GSO sockets): a second port on the same interface must not take
 * them for the PMD's when it filters those.
 */
static int own_fd[2 * DP_MAX_ETHS];
static unsigned n_own;

static int
own(int fd)
{
	if (fd >= 0 && n_own < 2 * DP_MAX_ETHS)
		own_fd[n_own++] = fd;
	return fd;
}

static bool
is_own(int fd)
{
	for (unsigned i = 0; i < n_own; i++)
		if (own_fd[i] == fd)
			return true;
	return false;
}

/* Closes one of this file's sockets. */
static void
own_close(int fd)
{
	for (unsigned i = 0; i < n_own; i++)
		if (own_fd[i] == fd) {
			own_fd[i] = own_fd[--n_own];
			break;
		}
	close(fd);
}

/* Takes nothing: the PMD's sockets where netbackd has its own ring. */
static struct sock_filter nothing[] = {
	BPF_STMT(BPF_RET | BPF_K, 0),
};

#define NB_PROG(f) { .len = sizeof(f) / sizeof((f)[0]), .filter = (f) }

/*
 * The packet sockets bound to ifindex (the PMD's, one per queue pair)
 * get the filter prog: how many, or -errno; *fd_last the last one's fd.
 * Outgoing frames, which every filter here drops, are not even handed
 * to them where the kernel allows (PACKET_IGNORE_OUTGOING, 4.20): no
 * clone of each frame the host sends.
 */
static int
filter_sockets(int ifindex, struct sock_fprog prog, int *fd_last)
{
	struct rlimit rl;
	int n = 0, last = 4096, one = 1;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		last = rl.rlim_cur < 65536 ? (int)rl.rlim_cur : 65536;
	for (int fd = 0; fd < last; fd++) {
		struct sockaddr_ll sl;
		socklen_t len = sizeof(sl);

		if (is_own(fd) ||
		    getsockname(fd, (struct sockaddr *)&sl, &len) != 0 ||
		    len < offsetof(struct sockaddr_ll, sll_addr) ||
		    sl.sll_family != AF_PACKET ||
		    sl.sll_ifindex != ifindex)
			continue;
		if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
			       sizeof(prog)) != 0)
			return -errno;
		(void)setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
				 sizeof(one));
		*fd_last = fd;
		n++;
	}
	return n;
}

/*
 * The port's own packet socket for GSO packets (dp_eth.vnet): bound to
 * ifindex with no protocol, so it receives nothing, with virtio-net
 * headers in front of what it sends, and not blocking (a full buffer
 * drops, counted). A send buffer large enough for some 64 KiB packets
 * in flight where the capability allows more than wmem_max. The fd, or
 * -errno.
 */
static int
vnet_socket(int ifindex)
{
	struct sockaddr_ll sl = { .sll_family = AF_PACKET,
				  .sll_ifindex = ifindex };
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1, buf = NB_VNET_SNDBUF, r;

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sl, sizeof(sl))) {
		r = -errno;
		close(fd);
		return r;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)))
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	return fd;
}

/*
 * netbackd's own RX socket and ring on ifindex (dp_eth.ring): the host's
 * own frames filtered out before the socket is bound, so none gets in,
 * and outgoing ones not even looked at where the kernel allows
 * (PACKET_IGNORE_OUTGOING, 4.20); slots as ctl.h's NB_RING_* say. The
 * fd, or -errno.
 */
static int
ring_socket(struct dp_eth *p, int ifindex)
{
	struct sock_fprog prog = NB_PROG(not_the_hosts);
	struct sockaddr_ll sl = { .sll_family = AF_PACKET,
				  .sll_protocol = htons(ETH_P_ALL),
				  .sll_ifindex = ifindex };
	struct tpacket_req req = {
		.tp_block_size = NB_RING_BLOCKSZ,
		.tp_block_nr = NB_RING_BLOCKS,
		.tp_frame_size = NB_RING_FRAMESZ,
		.tp_frame_nr = NB_RING_BLOCKS *
			       (NB_RING_BLOCKSZ / NB_RING_FRAMESZ),
	};
	int v = TPACKET_V2, one = 1, r;
	/* Protocol 0 until bound: it receives nothing meanwhile. */
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	void *map;

	if (fd < 0)
		return -errno;
	(void)setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
			 sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
		       sizeof(prog)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)))
		goto fail;
	map = mmap(NULL, (size_t)req.tp_block_size * req.tp_block_nr,
		   PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		goto fail;
	if (bind(fd, (struct sockaddr *)&sl, sizeof(sl))) {
		r = -errno;
		munmap(map, (size_t)req.tp_block_size * req.tp_block_nr);
		close(fd);
		return r;
	}
	p->ring = (struct dp_ring){
		.map = map,
		.len = (size_t)req.tp_block_size * req.tp_block_nr,
		.frame_size = req.tp_frame_size,
		.block_size = req.tp_block_size,
		.per_block = req.tp_block_size / req.tp_frame_size,
		.nframes = req.tp_frame_nr,
	};
	return fd;
fail:
	r = -errno;
	close(fd);
	return r;
}

/* What merges frames before a packet socket sees them, by ethtool's
 * feature names: GRO in the kernel, LRO and hardware GRO in the NIC
 * (virtio-net's receive of its host's large segments among them). */
static const char *const merging[] = { "rx-gro", "rx-lro", "rx-gro-hw" };
#define NB_MERGING (sizeof(merging) / sizeof(merging[0]))

/* One SIOCETHTOOL command on ifname: what the ioctl returned (>= 0), or
 * -errno. */
static int
ethtool(const char *ifname, void *cmd)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM, 0), r;

	if (s < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = cmd;
	r = ioctl(s, SIOCETHTOOL, &ifr);
	if (r < 0)
		r = -errno;
	close(s);
	return r;
}

/* Each merging feature's index among the interface's features, -1 where
 * it has none; the number of features, or -errno. */
static int
feature_index(const char *ifname, int idx[NB_MERGING])
{
	struct {
		struct ethtool_sset_info h;
		uint32_t n;
	} info = { .h = { .cmd = ETHTOOL_GSSET_INFO,
			  .sset_mask = 1ull << ETH_SS_FEATURES } };
	struct ethtool_gstrings *gs;
	int r = ethtool(ifname, &info);

	for (size_t m = 0; m < NB_MERGING; m++)
		idx[m] = -1;
	if (r < 0)
		return r;
	if (!info.h.sset_mask || info.n == 0 || info.n > 4096)
		return -ENOTSUP;
	gs = calloc(1, sizeof(*gs) + (size_t)info.n * ETH_GSTRING_LEN);
	if (!gs)
		return -ENOMEM;
	gs->cmd = ETHTOOL_GSTRINGS;
	gs->string_set = ETH_SS_FEATURES;
	gs->len = info.n;
	r = ethtool(ifname, gs);
	for (uint32_t i = 0; r == 0 && i < gs->len && i < info.n; i++) {
		const char *name = (const char *)gs->data + i * ETH_GSTRING_LEN;

		for (size_t m = 0; m < NB_MERGING; m++)
			if (strncmp(name, merging[m], ETH_GSTRING_LEN) == 0)
				idx[m] = (int)i;
	}
	free(gs);
	return r < 0 ? r : (int)info.n;
}

/* Sets feature i (of the n ifname has) on or off: 1 if it changed and is
 * now as asked, 0 if it already was, or -errno. */
static int
feature_set(const char *ifname, int n, int i, bool on)
{
	uint32_t blocks = ((uint32_t)n + 31) / 32, b = (uint32_t)i / 32,
		 bit = 1u << (i % 32);
	struct ethtool_gfeatures *g;
	struct ethtool_sfeatures *sf;
	int r;

	g = calloc(1, sizeof(*g) + blocks * sizeof(g->features[0]));
	sf = calloc(1, sizeof(*sf) + blocks * sizeof(sf->features[0]));
	if (!g || !sf) {
		free(g);
		free(sf);
		return -ENOMEM;
	}
	g->cmd = ETHTOOL_GFEATURES;
	g->size = blocks;
	r = ethtool(ifname, g);
	if (r == 0 && !!(g->features[b].active & bit) != on) {
		sf->cmd = ETHTOOL_SFEATURES;
		sf->size = blocks;
		sf->features[b].valid = bit;
		sf->features[b].requested = on ? bit : 0;
		r = ethtool(ifname, sf);
		/* The kernel says "done, but not all as asked" with a
		 * positive value: what counts is what is active now. */
		if (r >= 0 && (r = ethtool(ifname, g)) == 0)
			r = !!(g->features[b].active & bit) == on ? 1 : -EBUSY;
	}
	free(g);
	free(sf);
	return r;
}

/*
 * The rtnetlink socket, made when the first port needs it (ports open
 * before the seccomp filter, which allows no new one) and kept, so that
 * closing a port can set back what opening it changed.
 */
static int nl_fd = -1;

/*
 * The interface's gro_max_size (rtnetlink's IFLA_GRO_MAX_SIZE): read into
 * *old, and set to `set` unless 0. 0, or -errno (a kernel before 5.19
 * has none: -EOPNOTSUPP).
 */
static int
gro_max_size(int ifindex, uint32_t set, uint32_t *old)
{
	struct {
		struct nlmsghdr n;
		struct ifinfomsg i;
		char attrs[64];
	} req;
	char buf[16384];
	int s, r = -EOPNOTSUPP;

	if (nl_fd < 0)
		nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
			       NETLINK_ROUTE);
	if ((s = nl_fd) < 0)
		return -errno;
	memset(&req, 0, sizeof(req));
	req.n.nlmsg_len = NLMSG_LENGTH(sizeof(req.i));
	req.n.nlmsg_type = RTM_GETLINK;
	req.n.nlmsg_flags = NLM_F_REQUEST;
	req.i.ifi_family = AF_UNSPEC;
	req.i.ifi_index = ifindex;
	if (send(s, &req, req.n.nlmsg_len, 0) < 0) {
		r = -errno;
		goto out;
	}
	ssize_t len = recv(s, buf, sizeof(buf), 0);
	const struct nlmsghdr *h = (const struct nlmsghdr *)(void *)buf;

	if (len < 0) {
		r = -errno;
		goto out;
	}
	if (!NLMSG_OK(h, (size_t)len) || h->nlmsg_type != RTM_NEWLINK) {
		r = h->nlmsg_type == NLMSG_ERROR
			? ((const struct nlmsgerr *)NLMSG_DATA(h))->error
			: -EPROTO;
		goto out;
	}
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	int alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi)));

	for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, alen);
	     a = RTA_NEXT(a, alen))
		if (a->rta_type == IFLA_GRO_MAX_SIZE &&
		    RTA_PAYLOAD(a) >= sizeof(uint32_t)) {
			memcpy(old, RTA_DATA(a), sizeof(*old));
			r = 0;
		}
	if (r < 0 || !set)
		goto out;
	/* Set it, and wait for the kernel's answer. */
	struct rtattr *a = (struct rtattr *)(void *)req.attrs;

	memset(&req, 0, sizeof(req));
	req.n.nlmsg_type = RTM_NEWLINK;
	req.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	req.i.ifi_family = AF_UNSPEC;
	req.i.ifi_index = ifindex;
	a->rta_type = IFLA_GRO_MAX_SIZE;
	a->rta_len = RTA_LENGTH(sizeof(set));
	memcpy(RTA_DATA(a), &set, sizeof(set));
	req.n.nlmsg_len = NLMSG_LENGTH(sizeof(req.i)) + RTA_ALIGN(a->rta_len);
	if (send(s, &req, req.n.nlmsg_len, 0) < 0) {
		r = -errno;
		goto out;
	}
	len = recv(s, buf, sizeof(buf), 0);
	if (len < 0)
		r = -errno;
	else if (!NLMSG_OK(h, (size_t)len) || h->nlmsg_type != NLMSG_ERROR)
		r = -EPROTO;
	else
		r = ((const struct nlmsgerr *)NLMSG_DATA(h))->error;
out:
	return r;
}

/* Turns off all that merges frames before the packet socket sees them
 * (merging[]). */
static void
merging_off(struct dp_eth *p)
{
	int idx[NB_MERGING];
	int n = feature_index(p->kif, idx);

	if (n < 0) {
		nb_warn("pif %s: cannot read %s's offloads (%s): if GRO or "
			"LRO is on, TCP frames the kernel merges reach the "
			"guests cut", p->name, p->kif, strerror(-n));
		return;
	}
	for (size_t m = 0; m < NB_MERGING; m++) {
		if (idx[m] < 0)
			continue;
		int r = feature_set(p->kif, n, idx[m], false);

		if (r == 1) {
			p->kif_off |= (uint8_t)(1u << m);
			nb_info("pif %s: %s turned off on %s while netbackd "
				"uses it (a packet socket would get merged "
				"frames)", p->name, merging[m], p->kif);
		} else if (r < 0) {
			nb_warn("pif %s: %s is on on %s and cannot be turned "
				"off (%s): TCP frames it merges reach the guests "
				"cut; `ethtool -K %s %s off`", p->name,
				merging[m], p->kif, strerror(-r), p->kif,
				merging[m]);
		}
	}
}

/*
 * An interface whose gro_max_size is larger than a slot of netbackd's
 * ring takes (BIG TCP) gets NB_RING_GRO_MAX while netbackd uses it.
 */
static void
gro_cap(struct dp_eth *p, int ifindex)
{
	uint32_t old = 0;
	int r = gro_max_size(ifindex, 0, &old);

	if (r == 0 && old > NB_RING_GRO_MAX) {
		r = gro_max_size(ifindex, NB_RING_GRO_MAX, &old);
		if (r == 0) {
			p->kif_gro = old;
			nb_info("pif %s: %s's gro_max_size %u lowered to %u "
				"while netbackd uses it (its slots' size)",
				p->name, p->kif, old, NB_RING_GRO_MAX);
		} else {
			nb_warn("pif %s: cannot lower %s's gro_max_size %u to "
				"%u (%s): frames GRO merges beyond that are "
				"dropped (rx_drop_cut)", p->name, p->kif, old,
				NB_RING_GRO_MAX, strerror(-r));
		}
	}
}

int
ctl_afpacket_share(struct dp_eth *p, int ifindex)
{
	struct sock_fprog keep = NB_PROG(not_the_hosts),
			  none = NB_PROG(nothing);
	int n, fd = -1;

	p->kif[0] = '\0';
	p->kif_index = ifindex;
	p->kif_off = 0;
	p->kif_gro = 0;
	/* What the kernel sends itself, or got from a device that offloads
	 * checksums (a netfront, virtio-net), comes with the checksum
	 * unfinished. */
	p->csum_partial = true;
	if (ifindex <= 0) {
		if (p->whole) {
			nb_err("pif %s: no interface index for its own RX "
			       "ring; framesz=2048 in its devargs receives "
			       "through the PMD's", p->name);
			return -ENODEV;
		}
		nb_warn("pif %s: no interface index: the host's own frames "
			"are not filtered out", p->name);
		return 0;
	}
	/* The name may be out of reach (a port added at run time, under
	 * the seccomp filter): what needs it (ethtool) is then skipped. */
	if (!if_indextoname((unsigned)ifindex, p->kif))
		snprintf(p->kif, sizeof(p->kif), "#%d", ifindex);
	if (p->whole) {
		/* netbackd receives; the PMD's sockets only send. */
		n = filter_sockets(ifindex, none, &fd);
		if (n >= 0)
			n = fd = own(ring_socket(p, ifindex));
		if (n < 0) {
			nb_err("pif %s: cannot set up its RX ring on %s (%s); "
			       "framesz=2048 in its devargs receives through "
			       "the PMD's", p->name, p->kif, strerror(-n));
			return n;
		}
		p->rx_fd = fd;
		n = 1;
		nb_info("pif %s: %s: receives on a ring of its own (%u slots "
			"of %u KiB: merged frames whole); the host's own "
			"frames stay in the kernel", p->name, p->kif,
			p->ring.nframes, p->ring.frame_size >> 10);
	} else {
		n = filter_sockets(ifindex, keep, &fd);
		/* One queue pair, one socket: the worker that polls it may
		 * sleep on it instead of napping (with several, which
		 * socket is which queue is the PMD's secret). */
		if (n == 1)
			p->rx_fd = fd;
		if (n <= 0)
			nb_warn("pif %s: %s: no socket filter (%s): the host's "
				"own frames on %s reach the switch", p->name,
				p->kif, n < 0 ? strerror(-n)
					      : "no packet socket found",
				p->kif);
		else
			nb_info("pif %s: %s: the host's own frames stay in the "
				"kernel (%d socket%s filtered)", p->name,
				p->kif, n, n == 1 ? "" : "s");
	}
	/* GSO packets go whole to the kernel on a socket of their own,
	 * whose frames the filter keeps from coming back (outgoing). */
	if (n > 0 && (fd = own(vnet_socket(ifindex))) >= 0) {
		p->vnet_fd = fd;
		p->vnet = true;
		nb_info("pif %s: GSO packets go to %s whole (virtio-net "
			"headers): the kernel or the NIC cuts them", p->name,
			p->kif);
	} else if (n > 0) {
		nb_info("pif %s: no packet socket with virtio-net headers on "
			"%s (%s): GSO packets are cut here", p->name, p->kif,
			strerror(-fd));
	}
	/* Slots that take any merged frame: the interface keeps its GRO,
	 * LRO and hardware GRO. */
	if (p->whole)
		gro_cap(p, ifindex);
	else if (p->kif[0] != '#')
		merging_off(p);
	return 0;
}

void
ctl_afpacket_restore(struct dp_eth *p)
{
	int idx[NB_MERGING];
	int n;

	if (p->vnet_fd >= 0)
		own_close(p->vnet_fd);
	p->vnet = false;
	p->vnet_fd = -1;
	if (p->ring.map) {
		munmap(p->ring.map, p->ring.len);
		own_close(p->rx_fd);
		p->rx_fd = -1;
		p->ring.map = NULL;
	}
	if (!p->kif[0])
		return;
	n = p->kif_off ? feature_index(p->kif, idx) : 0;
	for (size_t m = 0; m < NB_MERGING; m++) {
		if (!(p->kif_off & (1u << m)))
			continue;
		int r = n > 0 && idx[m] >= 0 ? feature_set(p->kif, n, idx[m],
							   true)
					     : n < 0 ? n : -ENOENT;

		if (r < 0)
			nb_warn("pif %s: cannot turn %s back on on %s (%s): "
				"`ethtool -K %s %s on`", p->name, merging[m],
				p->kif, strerror(-r), p->kif, merging[m]);
	}
	p->kif_off = 0;
	if (p->kif_gro) {
		uint32_t now = 0;
		int r = gro_max_size(p->kif_index, p->kif_gro, &now);

		if (r < 0)
			nb_warn("pif %s: cannot set %s's gro_max_size back to "
				"%u (%s): `ip link set %s gro_max_size %u`",
				p->name, p->kif, p->kif_gro, strerror(-r),
				p->kif, p->kif_gro);
		p->kif_gro = 0;
	}
	p->kif[0] = '\0';
}
