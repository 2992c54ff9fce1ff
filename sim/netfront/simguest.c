/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * simguest: one simulated guest with one vif, as a process.
 *
 * It creates its domain in the simulated hypervisor, plays the toolstack
 * for its vif, connects its netfront and then runs a traffic mode:
 *   --send N   send N test frames of --size bytes to --dst (bursts of 32;
 *              with --window W at most W unanswered at a time)
 *   --recv N   receive until N test frames arrived, checking each byte
 *   --echo     send every frame back, MACs swapped (until --timeout)
 * and prints one JSON line with its counters. Exit 0 on success, 1 on a
 * timeout or a corrupted frame, 2 on bad arguments.
 *
 * Test frames: ethertype 0x88b5, then a 32-bit sequence number, then
 * bytes (seq + i) & 0xff, so a receiver can check every byte.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xenstore.h>

#include "simfront.h"
#include "simhv.h"

#define ETH_TEST 0x88b5

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

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4],
		   &b[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		m[i] = (uint8_t)b[i];
	return 0;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
make_frame(uint8_t *f, size_t len, const uint8_t dst[6], const uint8_t src[6],
	   uint32_t seq)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = ETH_TEST >> 8;
	f[13] = ETH_TEST & 0xff;
	memcpy(f + 14, &seq, 4);
	for (size_t i = 18; i < len; i++)
		f[i] = (uint8_t)(seq + i);
}

/* 1 good test frame, 0 not a test frame, -1 corrupted. */
static int
check_frame(const uint8_t *f, size_t len)
{
	uint32_t seq;

	if (len < 18 || f[12] != (ETH_TEST >> 8) || f[13] != (ETH_TEST & 0xff))
		return 0;
	memcpy(&seq, f + 14, 4);
	for (size_t i = 18; i < len; i++)
		if (f[i] != (uint8_t)(seq + i))
			return -1;
	return 1;
}

static void
usage(void)
{
	fprintf(stderr,
"usage: simguest --hv DIR --domid N --mac MAC [--devid N] [--bridge NAME]\n"
"                [--queues N] [--no-sg] [--no-split] [--no-rx-copy]\n"
"                [--timeout S] [--keep]\n"
"                (--send N --size S --dst MAC [--window W] | --recv N |\n"
"                 --echo | --idle)\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "hv", 1, NULL, 'H' },     { "domid", 1, NULL, 'd' },
		{ "devid", 1, NULL, 'v' },  { "mac", 1, NULL, 'm' },
		{ "bridge", 1, NULL, 'b' }, { "queues", 1, NULL, 'q' },
		{ "no-sg", 0, NULL, 'S' },  { "no-split", 0, NULL, 'P' },
		{ "no-rx-copy", 0, NULL, 'R' },
		{ "timeout", 1, NULL, 't' }, { "send", 1, NULL, 's' },
		{ "size", 1, NULL, 'z' },   { "dst", 1, NULL, 'D' },
		{ "recv", 1, NULL, 'r' },   { "echo", 0, NULL, 'e' },
		{ "idle", 0, NULL, 'i' },   { "keep", 0, NULL, 'k' },
		{ "window", 1, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	const char *hvdir = NULL, *bridge = NULL;
	unsigned domid = 0, devid = 0, queues = 1, size = 64;
	unsigned long nsend = 0, nrecv = 0, window = 0;
	double timeout = 30;
	bool sg = true, split = true, rxcopy = true, echo = false, idle = false;
	bool keep = false, have_mac = false, have_dst = false;
	uint8_t mac[6], dst[6];
	int opt, rc = 0;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'H': hvdir = optarg; break;
		case 'd': domid = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'v': devid = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'm': have_mac = parse_mac(optarg, mac) == 0; break;
		case 'b': bridge = optarg; break;
		case 'q': queues = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'S': sg = false; break;
		case 'P': split = false; break;
		case 'R': rxcopy = false; break;
		case 't': timeout = strtod(optarg, NULL); break;
		case 's': nsend = strtoul(optarg, NULL, 0); break;
		case 'z': size = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'D': have_dst = parse_mac(optarg, dst) == 0; break;
		case 'r': nrecv = strtoul(optarg, NULL, 0); break;
		case 'e': echo = true; break;
		case 'i': idle = true; break;
		case 'k': keep = true; break;
		case 'w': window = strtoul(optarg, NULL, 0); break;
		default: usage(); return 2;
		}
	}
	if (!hvdir || domid == 0 || domid >= SIMHV_MAX_DOMAINS || !have_mac ||
	    (nsend && !have_dst) || size < 18 || size > 65535 ||
	    queues == 0 || queues > SIMFRONT_MAX_QUEUES ||
	    (!nsend && !nrecv && !echo && !idle)) {
		usage();
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	struct simhv *hv = simhv_open(hvdir, false);
	struct xs_handle *xs = xs_open(0);
	if (!hv || !xs) {
		fprintf(stderr, "simguest: cannot open %s: %s\n",
			hv ? "xenstore" : hvdir, strerror(errno));
		return 1;
	}
	int r = simtool_domain_create(xs, hv, (uint16_t)domid,
				      simfront_pages(queues));
	if (r < 0) {
		fprintf(stderr, "simguest: domain %u: %s\n", domid,
			strerror(-r));
		return 1;
	}
	struct simtool_vif tv = { .domid = (uint16_t)domid,
				  .devid = (uint16_t)devid,
				  .bridge = bridge };
	memcpy(tv.mac, mac, 6);
	r = simtool_vif_add(xs, &tv);
	if (r < 0) {
		fprintf(stderr, "simguest: vif%u.%u: backend did not reach "
			"InitWait: %s\n", domid, devid, strerror(-r));
		rc = 1;
		goto out_dom;
	}
	struct simfront_conf fc;
	simfront_conf_default(&fc, hv, (uint16_t)domid, (uint16_t)devid);
	fc.queues = queues;
	fc.sg = sg;
	fc.no_split = !split;
	fc.no_rx_copy = !rxcopy;
	struct simfront *f = simfront_new(&fc, xs);
	if (!f) {
		fprintf(stderr, "simguest: frontend: %s\n", strerror(errno));
		rc = 1;
		goto out_dom;
	}
	r = simfront_connect(f, (int)(timeout * 1000));
	if (r < 0) {
		char path[128];
		unsigned len;

		snprintf(path, sizeof(path),
			 "/local/domain/0/backend/vif/%u/%u/error", domid,
			 devid);
		char *e = xs_read(xs, XBT_NULL, path, &len);
		fprintf(stderr, "simguest: vif%u.%u: connect failed: %s%s%s\n",
			domid, devid, strerror(-r), e ? ": " : "", e ? e : "");
		free(e);
		rc = 1;
		goto out_front;
	}
	fprintf(stderr, "simguest: vif%u.%u connected, %u queue(s)%s\n",
		domid, devid, simfront_queues(f),
		simfront_split(f) ? ", split event channels" : "");

	uint8_t *frame = malloc(65536), *rbuf = malloc(65536);
	unsigned long sent = 0, got = 0, bad = 0, echoed = 0;
	double t0 = now_s(), deadline = t0 + timeout;
	double t_first = 0, t_last = 0;
	unsigned nq = simfront_queues(f);

	while (!stop && now_s() < deadline) {
		bool busy = false;

		/* Send a burst of 32 across the queues. */
		for (unsigned k = 0; k < 32 && sent < nsend; k++) {
			/* With a window, at most that many frames are out
			 * before their echo comes back. */
			if (window && sent - got >= window)
				break;
			make_frame(frame, size, dst, mac, (uint32_t)sent);
			if (simfront_send(f, (unsigned)(sent % nq), frame, size,
					  NULL) < 0)
				break;
			sent++;
			busy = true;
		}
		for (unsigned q = 0; q < nq; q++)
			simfront_flush(f, q);
		for (unsigned q = 0; q < nq; q++) {
			struct simfront_rxinfo info;
			int n;

			while ((n = simfront_recv(f, q, rbuf, 65536, &info)) !=
			       -EAGAIN) {
				busy = true;
				if (n < 0) {
					bad++;
					continue;
				}
				int c = check_frame(rbuf, (size_t)n);
				if (c < 0)
					bad++;
				else if (c > 0) {
					got++;
					t_last = now_s();
					if (got == 1)
						t_first = t_last;
				}
				if (echo && n >= 14) {
					uint8_t tmp[6];

					memcpy(tmp, rbuf, 6);
					memcpy(rbuf, rbuf + 6, 6);
					memcpy(rbuf + 6, tmp, 6);
					if (simfront_send(f, q, rbuf, (size_t)n,
							  NULL) == 0)
						echoed++;
				}
			}
			if (echo)
				simfront_flush(f, q);
		}
		if (nsend && sent == nsend && (!nrecv || got >= nrecv) && !echo &&
		    !idle)
			break;
		if (!nsend && nrecv && got >= nrecv)
			break;
		if (!busy)
			simfront_poll(f, 20);
		else
			simfront_poll(f, 0);
	}
	double secs = now_s() - t0;
	/* Let the last TX responses come back. */
	for (int i = 0; i < 50; i++)
		simfront_poll(f, 2);

	struct simfront_stats st = { 0 }, qs;
	for (unsigned q = 0; q < nq; q++) {
		simfront_stats(f, q, &qs);
		st.tx_packets += qs.tx_packets;
		st.tx_ok += qs.tx_ok;
		st.tx_error += qs.tx_error + qs.tx_dropped;
		st.rx_packets += qs.rx_packets;
		st.rx_errors += qs.rx_errors;
		st.events += qs.events;
		st.notify_sent += qs.notify_sent;
	}
	printf("{\"vif\": \"vif%u.%u\", \"sent\": %lu, \"tx_ok\": %lu, "
	       "\"tx_errors\": %lu, \"received\": %lu, \"bad\": %lu, "
	       "\"echoed\": %lu, \"rx_packets\": %lu, \"events\": %lu, "
	       "\"notifies\": %lu, \"seconds\": %.3f, \"rx_mpps\": %.4f}\n",
	       domid, devid, sent, st.tx_ok, st.tx_error, got, bad, echoed,
	       st.rx_packets, st.events, st.notify_sent, secs,
	       got > 1 && t_last > t_first
		   ? (double)(got - 1) / (t_last - t_first) / 1e6 : 0.0);
	fflush(stdout);
	if (bad || sent < nsend || (nrecv && got < nrecv))
		rc = 1;
	free(frame);
	free(rbuf);
	if (keep) {
		/* Leave the vif connected (restart tests). */
		while (!stop)
			simfront_poll(f, 100);
	}
	int leaked = simfront_close(f, 5000);
	if (leaked) {
		fprintf(stderr, "simguest: backend still maps %d grants\n",
			leaked);
		rc = 1;
	}
	simtool_vif_remove(xs, &tv, 5000);
out_front:
	simfront_free(f);
out_dom:
	simtool_domain_destroy(xs, hv, (uint16_t)domid, 0);
	xs_close(xs);
	simhv_close(hv);
	return rc;
}
