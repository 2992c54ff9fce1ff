/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * simguest: one simulated guest with one vif, as a process.
 *
 * It creates its domain in the simulated hypervisor, plays the toolstack
 * for its vif, connects its netfront and then runs a traffic mode:
 *   --send N   send N test frames of --size bytes to --dst (bursts of 32,
 *              spread over the queues; with --window W at most W
 *              unanswered at a time)
 *   --recv N   receive until N test frames for our MAC arrived, checking
 *              each (test frames for others, flooded here, are checked
 *              and not counted)
 *   --echo     send every frame addressed to it back, MACs swapped (until
 *              --timeout); what only flooding brought (another guest's
 *              frames while the switch learns) is not for it, as a NIC
 *              would filter it, and is counted in not_for_us
 *   --idle     just stay connected (until --timeout or a signal)
 * and prints one JSON line with its counters (after closing the vif, so
 * it says whether the backend left grants mapped). --timeout (seconds)
 * bounds the wait for InitWait (at most libxl's 10 s), the connection and
 * the traffic. The feature options (--no-sg, --no-split, --no-gso, ...)
 * change what the frontend announces; the vif options (--bridge, --ip,
 * --rate, --mtu, --vifname) become backend keys as xl would write them.
 * Exit 0 on success, 1 when the backend did not come up, on a timeout, a
 * corrupted frame, a broken device or grants left mapped; 2 on bad
 * arguments.
 *
 * --count N (with --idle only): N guests in this one process, domains
 * --domid .. --domid + N - 1, guest i with --mac + i (added to the
 * MAC's low 24 bits), each with the one vif the options describe; they
 * share one xenstore connection and one hypervisor handle, connect one
 * after the other and then wait on all their event channels in one
 * poll. What a thousand connected, silent guests need, without a
 * thousand processes each waking to look at its own. One JSON line per
 * vif at the end (closing them one after the other); exit 1 if any did
 * not connect, broke, got a corrupted frame or was left with grants
 * mapped.
 *
 * --static-grants: after connecting, hand every TX and RX buffer grant
 * of every queue to the backend over the control ring
 * (ADD_GREF_MAPPING): netif.h's static grants, which let the backend
 * copy without a grant operation per packet.
 *
 * Test frames: ethertype 0x88b5, then (little-endian) a 32-bit sequence
 * number, the 16-bit frame length and a 32-bit FNV-1a checksum of the
 * rest of the frame, then bytes (seq + i) & 0xff. A receiver checks the
 * length, the checksum and every byte.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xenstore.h>
#ifndef __XEN_INTERFACE_VERSION__
#define __XEN_INTERFACE_VERSION__ 0x00040e00
#endif
#include <xen/io/netif.h>

#include "simfront.h"
#include "simhv.h"

#define ETH_TEST 0x88b5
#define HDR_LEN 24 /* Ethernet 14, seq 4, length 2, checksum 4 */
#define BURST 32

static volatile sig_atomic_t stop;

static void
on_signal(int s)
{
	(void)s;
	stop = 1;
}

static int
parse_mac(const char *s, uint8_t m[6])
{
	unsigned b[6];
	char end;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &end) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (b[i] > 0xff)
			return -1;
		m[i] = (uint8_t)b[i];
	}
	return 0;
}

static bool
parse_num(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 0);
	return errno == 0 && end != s && *end == '\0' && *v <= max;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint32_t
fnv1a(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void
make_frame(uint8_t *f, size_t len, const uint8_t dst[6], const uint8_t src[6],
	   uint32_t seq)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = ETH_TEST >> 8;
	f[13] = ETH_TEST & 0xff;
	put32(f + 14, seq);
	put16(f + 18, (uint16_t)len);
	for (size_t i = HDR_LEN; i < len; i++)
		f[i] = (uint8_t)(seq + i);
	put32(f + 20, fnv1a(f + HDR_LEN, len - HDR_LEN));
}

/* 1 good test frame, 0 not a test frame, -1 corrupted. */
static int
check_frame(const uint8_t *f, size_t len)
{
	uint32_t seq;

	if (len < 14 || f[12] != (ETH_TEST >> 8) || f[13] != (ETH_TEST & 0xff))
		return 0;
	if (len < HDR_LEN || (size_t)(f[18] | f[19] << 8) != len ||
	    get32(f + 20) != fnv1a(f + HDR_LEN, len - HDR_LEN))
		return -1;
	seq = get32(f + 14);
	for (size_t i = HDR_LEN; i < len; i++)
		if (f[i] != (uint8_t)(seq + i))
			return -1;
	return 1;
}

/* Send one frame, waiting up to a second for ring space. */
static int
send_wait(struct simfront *f, unsigned q, const uint8_t *frame, size_t len)
{
	int r;

	for (int t = 0; t < 1000 && !stop; t++) {
		r = simfront_send(f, q, frame, len, NULL);
		if (r != -ENOSPC)
			return r;
		simfront_flush(f, q);
		simfront_poll(f, 1);
	}
	return -ENOSPC;
}

/*
 * Every buffer grant of every queue to the backend, per queue and
 * direction one ADD_GREF_MAPPING of SIMFRONT_RING_SIZE entries (TX
 * read-only). 0, a XEN_NETIF_CTRL_STATUS_* or a negative errno.
 */
static int
static_grants(struct simfront *f, unsigned nq)
{
	struct xen_netif_gref *t = simfront_ctrl_scratch(f, 0);

	if (!simfront_has_ctrl(f))
		return -EOPNOTSUPP;
	for (unsigned q = 0; q < nq; q++) {
		for (int tx = 0; tx < 2; tx++) {
			for (unsigned i = 0; i < SIMFRONT_RING_SIZE; i++) {
				t[i].ref = tx ? simfront_tx_gref(f, q, i)
					      : simfront_rx_gref(f, q, i);
				t[i].flags = tx ? XEN_NETIF_CTRLF_GREF_readonly
						: 0;
				t[i].status = 0;
			}
			int r = simfront_ctrl(
			    f, XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING, q,
			    simfront_ctrl_scratch_gref(f, 0),
			    SIMFRONT_RING_SIZE, NULL, 5000);
			if (r != XEN_NETIF_CTRL_STATUS_SUCCESS)
				return r;
		}
	}
	return 0;
}

static void
usage(void)
{
	fprintf(stderr,
"usage: simguest --hv DIR --domid N --mac MAC [options] MODE\n"
"  MODE: --send N --size S --dst MAC [--window W] | --recv N | --echo |\n"
"        --idle   (--send and --recv may be combined)\n"
"  options: --devid N --backend-domid N --bridge NAME --ip ADDRS\n"
"           --rate RATE --mtu N --vifname NAME --queues N --rx-fill N\n"
"           --pages N --timeout S --keep --count N (with --idle: N guests,\n"
"           domids and MACs counting up from --domid and --mac)\n"
"           --no-sg --no-split --no-rx-copy --no-gso --no-gso-tcpv4\n"
"           --no-gso-tcpv6 --no-ipv6-csum --csum-offload-off\n"
"           --no-rx-notify --static-grants\n"
"           --announce (first send one broadcast, so the switch learns\n"
"           where this guest is, as a host's first ARP would)\n");
}

enum {
	O_HV = 256, O_DOMID, O_DEVID, O_BDOM, O_MAC, O_BRIDGE, O_IP, O_RATE,
	O_MTU, O_VIFNAME, O_QUEUES, O_RXFILL, O_PAGES, O_TIMEOUT, O_KEEP,
	O_NOSG, O_NOSPLIT, O_NORXCOPY, O_NOGSO, O_NOGSO4, O_NOGSO6,
	O_NOIP6CSUM, O_NOCSUM, O_NORXNOTIFY, O_SEND, O_SIZE, O_DST,
	O_WINDOW, O_RECV, O_ECHO, O_IDLE, O_STATIC, O_ANNOUNCE, O_COUNT,
};

struct args {
	const char *hvdir;
	unsigned long domid, devid, bdom, queues, size, rx_fill, pages, mtu;
	unsigned long nsend, nrecv, window, count;
	double timeout;
	bool echo, idle, keep, have_mac, have_dst, statics, announce;
	uint8_t mac[6], dst[6];
	struct simtool_vif tv;
	struct simfront_conf fc;
};

static int
parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "hv", 1, NULL, O_HV },
		{ "domid", 1, NULL, O_DOMID },
		{ "devid", 1, NULL, O_DEVID },
		{ "backend-domid", 1, NULL, O_BDOM },
		{ "mac", 1, NULL, O_MAC },
		{ "bridge", 1, NULL, O_BRIDGE },
		{ "ip", 1, NULL, O_IP },
		{ "rate", 1, NULL, O_RATE },
		{ "mtu", 1, NULL, O_MTU },
		{ "vifname", 1, NULL, O_VIFNAME },
		{ "queues", 1, NULL, O_QUEUES },
		{ "rx-fill", 1, NULL, O_RXFILL },
		{ "pages", 1, NULL, O_PAGES },
		{ "timeout", 1, NULL, O_TIMEOUT },
		{ "keep", 0, NULL, O_KEEP },
		{ "no-sg", 0, NULL, O_NOSG },
		{ "no-split", 0, NULL, O_NOSPLIT },
		{ "no-rx-copy", 0, NULL, O_NORXCOPY },
		{ "no-gso", 0, NULL, O_NOGSO },
		{ "no-gso-tcpv4", 0, NULL, O_NOGSO4 },
		{ "no-gso-tcpv6", 0, NULL, O_NOGSO6 },
		{ "no-ipv6-csum", 0, NULL, O_NOIP6CSUM },
		{ "csum-offload-off", 0, NULL, O_NOCSUM },
		{ "no-rx-notify", 0, NULL, O_NORXNOTIFY },
		{ "send", 1, NULL, O_SEND },
		{ "size", 1, NULL, O_SIZE },
		{ "dst", 1, NULL, O_DST },
		{ "window", 1, NULL, O_WINDOW },
		{ "recv", 1, NULL, O_RECV },
		{ "echo", 0, NULL, O_ECHO },
		{ "idle", 0, NULL, O_IDLE },
		{ "announce", 0, NULL, O_ANNOUNCE },
		{ "static-grants", 0, NULL, O_STATIC },
		{ "count", 1, NULL, O_COUNT },
		{ NULL, 0, NULL, 0 },
	};
	struct simfront_conf *fc = &a->fc;
	bool ok = true;
	int opt;

	memset(a, 0, sizeof(*a));
	simfront_conf_default(fc, NULL, 0, 0);
	a->queues = 1;
	a->size = 64;
	a->timeout = 30;
	a->count = 1;
	while (ok && (opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case O_HV: a->hvdir = optarg; break;
		case O_DOMID:
			ok = parse_num(optarg, SIMHV_MAX_DOMAINS - 1,
				       &a->domid);
			break;
		case O_DEVID: ok = parse_num(optarg, 0xffff, &a->devid); break;
		case O_BDOM:
			ok = parse_num(optarg, SIMHV_MAX_DOMAINS - 1, &a->bdom);
			break;
		case O_MAC: a->have_mac = parse_mac(optarg, a->mac) == 0; break;
		case O_BRIDGE: a->tv.bridge = optarg; break;
		case O_IP: a->tv.ip = optarg; break;
		case O_RATE: a->tv.rate = optarg; break;
		case O_MTU: ok = parse_num(optarg, 65535, &a->mtu); break;
		case O_VIFNAME: a->tv.vifname = optarg; break;
		case O_QUEUES:
			ok = parse_num(optarg, SIMFRONT_MAX_QUEUES,
				       &a->queues) && a->queues > 0;
			break;
		case O_RXFILL:
			ok = parse_num(optarg, SIMFRONT_RING_SIZE, &a->rx_fill);
			break;
		case O_PAGES:
			ok = parse_num(optarg, 1u << 24, &a->pages);
			break;
		case O_TIMEOUT:
			a->timeout = strtod(optarg, NULL);
			ok = a->timeout > 0;
			break;
		case O_KEEP: a->keep = true; break;
		case O_NOSG: fc->sg = false; break;
		case O_NOSPLIT: fc->no_split = true; break;
		case O_NORXCOPY: fc->no_rx_copy = true; break;
		case O_NOGSO: fc->gso_tcpv4 = fc->gso_tcpv6 = false; break;
		case O_NOGSO4: fc->gso_tcpv4 = false; break;
		case O_NOGSO6: fc->gso_tcpv6 = false; break;
		case O_NOIP6CSUM: fc->ipv6_csum = false; break;
		case O_NOCSUM: fc->no_csum = true; break;
		case O_NORXNOTIFY: fc->rx_notify = false; break;
		case O_SEND:
			ok = parse_num(optarg, 1ul << 40, &a->nsend);
			break;
		case O_SIZE:
			ok = parse_num(optarg, 65535, &a->size) &&
			     a->size >= HDR_LEN;
			break;
		case O_DST: a->have_dst = parse_mac(optarg, a->dst) == 0; break;
		case O_WINDOW:
			ok = parse_num(optarg, 1ul << 40, &a->window);
			break;
		case O_RECV:
			ok = parse_num(optarg, 1ul << 40, &a->nrecv);
			break;
		case O_ECHO: a->echo = true; break;
		case O_IDLE: a->idle = true; break;
		case O_ANNOUNCE: a->announce = true; break;
		case O_STATIC:
			a->statics = true;
			fc->ctrl_ring = true;
			break;
		case O_COUNT:
			ok = parse_num(optarg, SIMHV_MAX_DOMAINS - 1,
				       &a->count) && a->count > 0;
			break;
		default: ok = false; break;
		}
	}
	if (!ok || optind != argc || !a->hvdir || a->domid == 0 ||
	    a->domid == a->bdom || !a->have_mac || (a->nsend && !a->have_dst) ||
	    (!a->nsend && !a->nrecv && !a->echo && !a->idle))
		return -1;
	/* Many guests: silent ones, in domains that all exist. */
	if (a->count > 1 &&
	    (!a->idle || a->nsend || a->nrecv || a->echo || a->statics ||
	     a->announce || a->keep || a->tv.vifname ||
	     a->domid + a->count > SIMHV_MAX_DOMAINS ||
	     (a->bdom >= a->domid && a->bdom < a->domid + a->count)))
		return -1;
	fc->domid = (uint16_t)a->domid;
	fc->devid = (uint16_t)a->devid;
	fc->backend_domid = (uint16_t)a->bdom;
	fc->queues = (unsigned)a->queues;
	fc->rx_fill = (unsigned)a->rx_fill;
	a->tv.domid = (uint16_t)a->domid;
	a->tv.devid = (uint16_t)a->devid;
	a->tv.backend_domid = (uint16_t)a->bdom;
	a->tv.mtu = (unsigned)a->mtu;
	memcpy(a->tv.mac, a->mac, 6);
	if (!a->pages)
		a->pages = simfront_pages((unsigned)a->queues);
	/* libxl's 10 s for InitWait, unless we are told to be quicker. */
	a->tv.initwait_ms = a->timeout < 10 ? (int)(a->timeout * 1000)
					     : 10000;
	return 0;
}

struct run {
	unsigned long sent, got, bad, echoed, echo_lost, not_for_us;
	double t_first, t_last;
};

/* Take every received frame of queue q: check, count, echo. */
static bool
receive(struct simfront *f, unsigned q, const struct args *a, uint8_t *rbuf,
	struct run *r)
{
	struct simfront_rxinfo info;
	bool busy = false;
	int n;

	while ((n = simfront_recv(f, q, rbuf, 65536, &info)) != -EAGAIN) {
		int c;

		busy = true;
		if (n < 0) {
			r->bad++;
			continue;
		}
		c = check_frame(rbuf, (size_t)n);
		if (c < 0) {
			r->bad++;
		} else if (c > 0 && memcmp(rbuf, a->mac, 6) == 0) {
			/* Test frames for us; others flooded here (while
			 * the switch learns) are checked, not counted. */
			r->got++;
			r->t_last = now_s();
			if (r->got == 1)
				r->t_first = r->t_last;
		}
		/* Echoed with the MACs swapped, a frame for another would
		 * leave with that other's address as its source: spoofing,
		 * which netbackd rightly refuses. */
		if (a->echo && n >= 12 && memcmp(rbuf, a->mac, 6) != 0) {
			r->not_for_us++;
		} else if (a->echo && n >= 12) {
			uint8_t tmp[6];

			memcpy(tmp, rbuf, 6);
			memcpy(rbuf, rbuf + 6, 6);
			memcpy(rbuf + 6, tmp, 6);
			if (send_wait(f, q, rbuf, (size_t)n) == 0)
				r->echoed++;
			else
				r->echo_lost++;
		}
	}
	if (a->echo)
		simfront_flush(f, q);
	return busy;
}

static void
traffic(struct simfront *f, const struct args *a, struct run *r)
{
	static uint8_t frames[BURST][65536], rbuf[65536];
	double deadline = now_s() + a->timeout;
	unsigned nq = simfront_queues(f);

	while (!stop && now_s() < deadline && !simfront_broken(f)) {
		bool busy = false;

		/* A burst of up to 32 per queue, one push each. */
		for (unsigned q = 0; q < nq && r->sent < a->nsend; q++) {
			struct simfront_frame fr[BURST];
			unsigned n = 0;
			int k;

			while (n < BURST && r->sent + n < a->nsend &&
			       (!a->window ||
				r->sent + n < r->got + a->window)) {
				make_frame(frames[n], a->size, a->dst, a->mac,
					   (uint32_t)(r->sent + n));
				fr[n].data = frames[n];
				fr[n].len = a->size;
				fr[n].opt = NULL;
				n++;
			}
			k = simfront_send_burst(f, q, fr, n);
			if (k > 0) {
				r->sent += (unsigned)k;
				busy = true;
			}
		}
		for (unsigned q = 0; q < nq; q++)
			busy |= receive(f, q, a, rbuf, r);
		if (a->nsend && r->sent == a->nsend &&
		    (!a->nrecv || r->got >= a->nrecv) && !a->echo && !a->idle)
			break;
		if (!a->nsend && a->nrecv && r->got >= a->nrecv && !a->echo)
			break;
		simfront_poll(f, busy ? 0 : 20);
	}
}

/* --count: guest i of many, its own domain, vif and counters. */
struct guest {
	struct simtool_vif tv;
	struct simfront *f;
	struct run run;
	bool dom, vif;
	int leaked;
};

/* Bring one guest up: 0, or 1 after saying why not. */
static int
many_up(struct args *a, struct simhv *hv, struct xs_handle *xs,
	struct guest *g)
{
	struct simfront_conf fc = a->fc;
	int r;

	r = simtool_domain_create(xs, hv, g->tv.domid, (uint32_t)a->pages);
	if (r < 0) {
		fprintf(stderr, "simguest: domain %u: %s\n", g->tv.domid,
			strerror(-r));
		return 1;
	}
	g->dom = true;
	r = simtool_vif_add(xs, &g->tv);
	g->vif = true;
	if (r < 0) {
		fprintf(stderr, "simguest: vif%u.%u: the backend did not reach "
			"InitWait: %s\n", g->tv.domid, g->tv.devid,
			strerror(-r));
		return 1;
	}
	fc.hv = hv;
	fc.domid = g->tv.domid;
	if ((g->f = simfront_new(&fc, xs)) == NULL) {
		fprintf(stderr, "simguest: frontend: %s\n", strerror(errno));
		return 1;
	}
	r = simfront_connect(g->f, (int)(a->timeout * 1000));
	if (r < 0) {
		fprintf(stderr, "simguest: vif%u.%u: the backend did not "
			"connect: %s\n", g->tv.domid, g->tv.devid,
			strerror(-r));
		return 1;
	}
	return 0;
}

/*
 * --count N --idle: N guests in this process (see the top). Returns the
 * exit code.
 */
static int
run_many(struct args *a, struct simhv *hv, struct xs_handle *xs)
{
	static uint8_t rbuf[65536];
	unsigned n = (unsigned)a->count, up = 0;
	struct guest *g = calloc(n, sizeof(*g));
	struct pollfd *pfd = calloc(n, sizeof(*pfd));
	double deadline;
	int rc = 0;

	if (g == NULL || pfd == NULL) {
		fprintf(stderr, "simguest: out of memory\n");
		free(g);
		free(pfd);
		return 1;
	}
	for (unsigned i = 0; i < n && !stop && rc == 0; i++) {
		uint32_t low = ((uint32_t)a->mac[3] << 16 |
				(uint32_t)a->mac[4] << 8 | a->mac[5]) + i;

		g[i].tv = a->tv;
		g[i].tv.domid = (uint16_t)(a->domid + i);
		g[i].tv.mac[3] = (uint8_t)(low >> 16);
		g[i].tv.mac[4] = (uint8_t)(low >> 8);
		g[i].tv.mac[5] = (uint8_t)low;
		rc = many_up(a, hv, xs, &g[i]);
		if (rc == 0)
			up++;
	}
	if (rc == 0 && !stop)
		fprintf(stderr, "simguest: %u vifs connected, vif%u.%lu to "
			"vif%u.%lu\n", up, g[0].tv.domid, a->devid,
			g[n - 1].tv.domid, a->devid);
	for (unsigned i = 0; i < up; i++)
		pfd[i] = (struct pollfd){ .fd = simfront_fd(g[i].f),
					  .events = POLLIN };
	deadline = now_s() + a->timeout;
	while (rc == 0 && !stop && now_s() < deadline) {
		double left = deadline - now_s();

		/* A second at most: a signal just before poll is seen. */
		if (poll(pfd, up, left < 1 ? (int)(left * 1000) + 1 : 1000) <= 0)
			continue;
		for (unsigned i = 0; i < up; i++) {
			struct args ga;

			if (!(pfd[i].revents & POLLIN))
				continue;
			ga = *a;
			memcpy(ga.mac, g[i].tv.mac, 6);
			simfront_poll(g[i].f, 0);
			for (unsigned q = 0; q < simfront_queues(g[i].f); q++)
				receive(g[i].f, q, &ga, rbuf, &g[i].run);
		}
	}
	for (unsigned i = 0; i < n; i++) {
		struct simfront_stats st = { 0 }, qs;
		const char *broken = NULL;

		if (g[i].f != NULL && i < up) {
			broken = simfront_broken(g[i].f);
			for (unsigned q = 0; q < simfront_queues(g[i].f); q++) {
				simfront_stats(g[i].f, q, &qs);
				st.rx_packets += qs.rx_packets;
				st.rx_errors += qs.rx_errors;
				st.events += qs.events;
			}
			g[i].leaked = simfront_close(g[i].f, 5000);
			printf("{\"vif\": \"vif%u.%u\", \"received\": %lu, "
			       "\"bad\": %lu, \"rx_packets\": %lu, "
			       "\"rx_errors\": %lu, \"events\": %lu, "
			       "\"broken\": %s%s%s, \"leaked_grants\": %d}\n",
			       g[i].tv.domid, g[i].tv.devid, g[i].run.got,
			       g[i].run.bad, st.rx_packets, st.rx_errors,
			       st.events, broken ? "\"" : "",
			       broken ? broken : "null", broken ? "\"" : "",
			       g[i].leaked);
			if (g[i].run.bad || broken || g[i].leaked)
				rc = 1;
		}
		simfront_free(g[i].f);
		if (g[i].vif)
			simtool_vif_remove(xs, &g[i].tv, 5000);
		if (g[i].dom)
			simtool_domain_destroy(xs, hv, g[i].tv.domid,
					       g[i].tv.backend_domid);
	}
	fflush(stdout);
	free(pfd);
	free(g);
	return rc;
}

int
main(int argc, char **argv)
{
	struct args a;
	struct run run = { 0 };
	struct simfront_stats st = { 0 }, qs;
	struct simfront *f = NULL;
	struct simhv *hv;
	struct xs_handle *xs;
	const char *broken;
	double t0, secs;
	int r, rc = 0, leaked = 0;
	unsigned nq;

	if (parse_args(argc, argv, &a) < 0) {
		usage();
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	hv = simhv_open(a.hvdir, false);
	if (!hv) {
		fprintf(stderr, "simguest: cannot open %s: %s\n", a.hvdir,
			strerror(errno));
		return 1;
	}
	xs = xs_open(0);
	if (!xs) {
		fprintf(stderr, "simguest: cannot open xenstore: %s\n",
			strerror(errno));
		simhv_close(hv);
		return 1;
	}
	if (a.count > 1) {
		rc = run_many(&a, hv, xs);
		goto out;
	}
	r = simtool_domain_create(xs, hv, a.tv.domid, (uint32_t)a.pages);
	if (r < 0) {
		fprintf(stderr, "simguest: domain %u: %s\n", a.tv.domid,
			strerror(-r));
		rc = 1;
		goto out;
	}
	r = simtool_vif_add(xs, &a.tv);
	if (r < 0) {
		fprintf(stderr, "simguest: vif%u.%u: the backend did not reach "
			"InitWait: %s\n", a.tv.domid, a.tv.devid, strerror(-r));
		rc = 1;
		goto out_dom;
	}
	a.fc.hv = hv;
	f = simfront_new(&a.fc, xs);
	if (!f) {
		fprintf(stderr, "simguest: frontend: %s\n", strerror(errno));
		rc = 1;
		goto out_vif;
	}
	r = simfront_connect(f, (int)(a.timeout * 1000));
	if (r < 0) {
		char path[128], *e;
		unsigned len;

		snprintf(path, sizeof(path),
			 "/local/domain/%u/backend/vif/%u/%u/error",
			 a.tv.backend_domid, a.tv.domid, a.tv.devid);
		e = xs_read(xs, XBT_NULL, path, &len);
		fprintf(stderr, "simguest: vif%u.%u: the backend did not "
			"connect: %s%s%s\n", a.tv.domid, a.tv.devid,
			strerror(-r), e ? ": " : "", e ? e : "");
		free(e);
		rc = 1;
		goto out_front;
	}
	nq = simfront_queues(f);
	if (a.statics && (r = static_grants(f, nq)) != 0) {
		fprintf(stderr, "simguest: vif%u.%u: static grants refused: "
			"%d\n", a.tv.domid, a.tv.devid, r);
		rc = 1;
		goto out_front;
	}
	fprintf(stderr, "simguest: vif%u.%u connected, %u queue(s)%s\n",
		a.tv.domid, a.tv.devid, nq,
		simfront_split(f) ? ", split event channels" : "");

	if (a.announce) {
		static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff,
						  0xff };
		uint8_t hello[64];

		make_frame(hello, sizeof(hello), bcast, a.mac, 0);
		if (send_wait(f, 0, hello, sizeof(hello)) == 0)
			simfront_flush(f, 0);
	}
	t0 = now_s();
	traffic(f, &a, &run);
	secs = now_s() - t0;
	/* Let the last TX responses come back. */
	for (int i = 0; i < 50; i++)
		simfront_poll(f, 2);
	if (a.keep) {
		/* Stay connected until told to go (restart tests). */
		while (!stop)
			simfront_poll(f, 100);
	}
	broken = simfront_broken(f);
	for (unsigned q = 0; q < nq; q++) {
		simfront_stats(f, q, &qs);
		st.tx_packets += qs.tx_packets;
		st.tx_bytes += qs.tx_bytes;
		st.tx_ok += qs.tx_ok;
		st.tx_error += qs.tx_error;
		st.tx_dropped += qs.tx_dropped;
		st.rx_packets += qs.rx_packets;
		st.rx_bytes += qs.rx_bytes;
		st.rx_errors += qs.rx_errors;
		st.rx_unasked += qs.rx_unasked;
		st.events += qs.events;
		st.notify_sent += qs.notify_sent;
	}
	leaked = simfront_close(f, 5000);
	printf("{\"vif\": \"vif%u.%u\", \"queues\": %u, \"sent\": %lu, "
	       "\"tx_ok\": %lu, \"tx_errors\": %lu, \"tx_dropped\": %lu, "
	       "\"tx_bytes\": %lu, \"received\": %lu, \"bad\": %lu, "
	       "\"echoed\": %lu, \"echo_lost\": %lu, \"not_for_us\": %lu, "
	       "\"rx_packets\": %lu, "
	       "\"rx_bytes\": %lu, \"rx_errors\": %lu, \"rx_unasked\": %lu, "
	       "\"events\": %lu, \"notifies\": %lu, \"broken\": %s%s%s, "
	       "\"leaked_grants\": %d, \"seconds\": %.3f, \"rx_mpps\": %.4f}\n",
	       a.tv.domid, a.tv.devid, nq, run.sent, st.tx_ok,
	       st.tx_error + st.tx_dropped, st.tx_dropped, st.tx_bytes,
	       run.got, run.bad, run.echoed, run.echo_lost, run.not_for_us,
	       st.rx_packets,
	       st.rx_bytes, st.rx_errors, st.rx_unasked, st.events,
	       st.notify_sent, broken ? "\"" : "", broken ? broken : "null",
	       broken ? "\"" : "", leaked, secs,
	       run.got > 1 && run.t_last > run.t_first
		   ? (double)(run.got - 1) / (run.t_last - run.t_first) / 1e6
		   : 0.0);
	fflush(stdout);
	if (run.bad || run.sent < a.nsend || run.got < a.nrecv) {
		fprintf(stderr, "simguest: vif%u.%u: %lu of %lu sent, %lu of "
			"%lu received, %lu bad\n", a.tv.domid, a.tv.devid,
			run.sent, a.nsend, run.got, a.nrecv, run.bad);
		rc = 1;
	}
	if (broken) {
		fprintf(stderr, "simguest: vif%u.%u broken: %s\n", a.tv.domid,
			a.tv.devid, broken);
		rc = 1;
	}
	if (leaked) {
		fprintf(stderr, "simguest: vif%u.%u: the backend still maps %d "
			"grants\n", a.tv.domid, a.tv.devid, leaked);
		rc = 1;
	}
out_front:
	simfront_free(f);
out_vif:
	simtool_vif_remove(xs, &a.tv, 5000);
out_dom:
	simtool_domain_destroy(xs, hv, a.tv.domid, a.tv.backend_domid);
out:
	xs_close(xs);
	simhv_close(hv);
	return rc;
}
