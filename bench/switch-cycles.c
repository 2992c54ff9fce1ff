/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The switch alone: TSC cycles per frame of sw_forward_group()
 * on the traffic of bench/switch-pcap.sh (64 "A" hosts behind an
 * uplink sending to 64 "B" hosts behind a second port, every pair in
 * turn, bursts of 32), with no packet I/O around it. Beside it, the
 * cycles of a loop that only reads each frame's first bytes: the floor
 * the switch is measured against. The figure to read in a profile of
 * the whole worker is how much of it the switch takes.
 * usage: switch-cycles [--vlans N] [--bursts N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "sw.h"

#define HOSTS 64u
#define BURST 32u
#define FRAME 60u

static volatile uint64_t keep; /* what the loops computed, kept */

static void
mac(uint8_t *m, uint8_t kind, unsigned i)
{
	const uint8_t v[6] = { 0x02, 0, kind, 0, (uint8_t)(i >> 8),
			       (uint8_t)i };

	memcpy(m, v, 6);
}

static double
tsc_hz(void)
{
	struct timespec a, b;
	uint64_t t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &a);
	t0 = __rdtsc();
	do
		clock_gettime(CLOCK_MONOTONIC, &b);
	while ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec) < 1e8);
	t1 = __rdtsc();
	return (double)(t1 - t0) /
	       ((double)(b.tv_sec - a.tv_sec) +
		(double)(b.tv_nsec - a.tv_nsec) / 1e9);
}

static void
json(const char *metric, double v, const char *unit)
{
	printf("{\"bench\": \"switch-cycles\", \"metric\": \"%s\", "
	       "\"value\": %.2f, \"unit\": \"%s\"}\n",
	       metric, v, unit);
}

int
main(int argc, char **argv)
{
	struct sw_config cfg = { .max_ports = 16, .max_nets = 1,
				 .table_size = 8192, .hash_seed = 0x5eed };
	unsigned vlans = 0, bursts = 2000000, nframes = 0;
	static uint8_t data[HOSTS * HOSTS][FRAME + 4];
	static struct sw_frame frames[HOSTS * HOSTS];
	struct sw_vlan_conf vc;
	struct sw_port_conf pc;
	struct sw_result res[BURST];
	struct sw_group g;
	struct sw *sw;
	int net, up, sink;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--vlans") == 0 && i + 1 < argc)
			vlans = (unsigned)atoi(argv[++i]);
		else if (strcmp(argv[i], "--bursts") == 0 && i + 1 < argc)
			bursts = (unsigned)atoi(argv[++i]);
		else {
			fprintf(stderr,
				"usage: switch-cycles [--vlans N] [--bursts N]\n");
			return 2;
		}
	}
	if (vlans > 64) {
		fprintf(stderr, "switch-cycles: at most 64 VLANs\n");
		return 2;
	}
	sw = sw_create(&cfg);
	net = sw ? sw_net_add(sw, "bench", 300000) : -1;
	if (net < 0) {
		fprintf(stderr, "switch-cycles: no switch\n");
		return 1;
	}
	/* Both ports trunks of every VLAN used, or access ports. */
	memset(&vc, 0, sizeof(vc));
	vc.trunk = vlans > 0;
	for (unsigned v = 0; v < vlans; v++)
		sw_vlan_set(&vc, 10 + v);
	sw_port_conf_init(&pc, net, true);
	pc.vlan_conf = vlans ? &vc : NULL;
	up = sw_port_add(sw, &pc);
	sw_port_conf_init(&pc, net, false);
	pc.antispoof = false;
	pc.vlan_conf = vlans ? &vc : NULL;
	sink = sw_port_add(sw, &pc);
	if (up < 0 || sink < 0) {
		fprintf(stderr, "switch-cycles: ports refused\n");
		return 1;
	}
	for (unsigned j = 0; j < HOSTS; j++) {
		uint8_t m[6];

		mac(m, 0xb, j);
		if (sw_static_add(sw, net, m, vlans ? 10 + j % vlans : 0,
				  sink) < 0) {
			fprintf(stderr, "switch-cycles: static entry refused\n");
			return 1;
		}
	}
	for (unsigned i = 0; i < HOSTS; i++)
		for (unsigned j = 0; j < HOSTS; j++) {
			uint8_t *d = data[nframes];
			unsigned off = 12;

			if (vlans && i % vlans != j % vlans)
				continue;
			mac(d, 0xb, j);
			mac(d + 6, 0xa, i);
			if (vlans) {
				d[12] = 0x81;
				d[13] = 0;
				d[14] = 0;
				d[15] = (uint8_t)(10 + i % vlans);
				off = 16;
			}
			d[off] = 0x08;
			d[off + 1] = 0;
			frames[nframes].data = d;
			frames[nframes].len = FRAME;
			nframes++;
		}

	/* The floor: a loop that reads what the switch must read. */
	uint64_t sink_sum = 0, t0, t1, ms = 0;
	unsigned at = 0;

	t0 = __rdtsc();
	for (unsigned b = 0; b < bursts; b++) {
		for (unsigned i = 0; i < BURST; i++) {
			const uint8_t *d = frames[at + i].data;
			uint64_t v;

			memcpy(&v, d, 8);
			sink_sum += v ^ d[12];
		}
		at = at + 2 * BURST > nframes ? 0 : at + BURST;
	}
	/* Stored before the clock is read: the loop cannot move past it. */
	keep = sink_sum;
	t1 = __rdtsc();
	double floor = (double)(t1 - t0) / ((double)bursts * BURST);

	at = 0;
	t0 = __rdtsc();
	for (unsigned b = 0; b < bursts; b++) {
		const struct sw_frame *f = &frames[at];

		at = at + 2 * BURST > nframes ? 0 : at + BURST;
		if ((b & 1023) == 0)
			ms++;
		sw_forward_group(sw, up, f, BURST, ms, res, &g);
		sink_sum += g.ndest;
	}
	t1 = __rdtsc();
	double cyc = (double)(t1 - t0) / ((double)bursts * BURST);
	uint64_t fwd = sw_port_counter(sw, sink, SW_C_TX);

	if (fwd != (uint64_t)bursts * BURST) {
		fprintf(stderr,
			"switch-cycles: %llu of %llu frames reached the sink\n",
			(unsigned long long)fwd,
			(unsigned long long)bursts * BURST);
		return 1;
	}
	double hz = tsc_hz();

	json(vlans ? "switch_cycles_per_frame_vlans" : "switch_cycles_per_frame",
	     cyc, "TSC cycles");
	json("read_floor_cycles_per_frame", floor, "TSC cycles");
	json("switch_mpps_one_core", hz / cyc / 1e6, "Mpps");
	json("tsc_ghz", hz / 1e9, "GHz");
	keep = sink_sum;
	return 0;
}
