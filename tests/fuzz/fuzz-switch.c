/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Fuzz switch/'s classification and forwarding: the input is a series of
 * (input port, time step, frame) records fed in bursts to a switch with
 * two networks, VLANs, anti-spoofing and a learn limit. Results must
 * name a real port, flood or drop, and a learned MAC must point at a port
 * of its network.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sw.h"

static struct sw *sw;
static int ports[6], nets[2];

static void
setup(void)
{
	struct sw_config c = { .max_ports = 8, .max_nets = 2,
			       .table_size = 64 };
	static const uint16_t vlan[6] = { 0, 0, 10, 10, 20, 0 };

	sw = sw_create(&c);
	if (!sw)
		abort();
	nets[0] = sw_net_add(sw, "a", 1000);
	nets[1] = sw_net_add(sw, "b", 0);
	for (int i = 0; i < 6; i++) {
		struct sw_port_conf pc = {
			.net = nets[i == 5],
			.antispoof = i % 2 == 0,
			.uplink = i == 1,
			.vlan = vlan[i],
			.learn_limit = i == 3 ? 4 : 0,
		};

		pc.mac[1] = 0x16;
		pc.mac[5] = (uint8_t)i;
		ports[i] = sw_port_add(sw, &pc);
		if (ports[i] < 0)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sw_frame f[SW_MAX_BURST];
	struct sw_result r[SW_MAX_BURST];
	uint16_t flood[8];
	uint64_t now = 0;
	size_t off = 0;

	if (!sw)
		setup();
	while (off + 3 <= size) {
		unsigned in = data[off] % 6, n = 0;
		size_t len;

		now += data[off + 1] * 100u;
		len = data[off + 2];
		off += 3;
		/* One burst of up to 8 frames of that length from `in`. */
		while (n < 8 && off < size) {
			size_t l = len < size - off ? len : size - off;

			f[n].data = data + off;
			f[n].len = (uint32_t)l;
			off += l;
			n++;
			if (l < len)
				break;
		}
		/* Frames shorter than 64 bytes are readable up to their
		 * length only: ASan checks sw_forward stays within it. */
		sw_forward(sw, ports[in], f, n, now, r);
		for (unsigned i = 0; i < n; i++) {
			if (r[i].port == SW_FLOOD) {
				unsigned k = sw_flood_ports(sw, ports[in],
							    r[i].vlan, flood, 8);
				for (unsigned j = 0; j < k; j++)
					if (flood[j] == ports[in] ||
					    sw_port_net(sw, flood[j]) !=
						sw_port_net(sw, ports[in]))
						abort();
			} else if (r[i].port != SW_DROP) {
				if (r[i].port == ports[in] ||
				    sw_port_net(sw, r[i].port) !=
					sw_port_net(sw, ports[in]))
					abort();
			}
		}
		if (data[off - 1] & 1)
			sw_age(sw, now);
	}
	return 0;
}
