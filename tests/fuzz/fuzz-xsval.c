/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Fuzz the parsers of xenstore values (backend/base/xsval.c). The first byte
 * picks the parser, the rest is the value. What a parser accepts must
 * be within its limits and read back the same when written out again.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sw.h"
#include "xsval.h"

static void
check_uint(const char *s, unsigned max)
{
	unsigned v = ~0u;

	if (nb_xsval_uint(s, max, &v) < 0)
		return;
	/* Accepted: only digits, within max, the same number. */
	if (v > max || strspn(s, "0123456789") != strlen(s) ||
	    strtoull(s, NULL, 10) != v)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	unsigned a, b;

	if (size < 1)
		return 0;
	s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 5) {
	case 0:
		check_uint(s, 0xffff);
		check_uint(s, 0);
		check_uint(s, ~0u);
		break;
	case 1: {
		uint8_t mac[6], again[6];
		char back[18];

		if (nb_xsval_mac(s, mac) == 0) {
			if (strlen(s) > 17)
				abort();
			snprintf(back, sizeof(back),
				 "%02x:%02x:%02x:%02x:%02x:%02x", mac[0],
				 mac[1], mac[2], mac[3], mac[4], mac[5]);
			if (nb_xsval_mac(back, again) < 0 ||
			    memcmp(mac, again, 6) != 0)
				abort();
		}
		break;
	}
	case 2: {
		uint64_t bytes = 1, usec = 1;

		if (nb_xsval_rate(s, &bytes, &usec) == 0 && s[0] &&
		    (bytes == 0 || usec == 0 || usec > 1000000000ull ||
		     !strchr(s, ',')))
			abort();
		break;
	}
	case 3: {
		struct sw_port_conf pc;

		sw_port_conf_init(&pc, 0, false);
		if (nb_xsval_ips(s, &pc) == 0 &&
		    (pc.nip4 > SW_MAX_IPS || pc.nip6 > SW_MAX_IPS))
			abort();
		break;
	}
	default: {
		int r = nb_xsval_vifpath(s, &a, &b);

		if ((r == 0 && s[0]) || (r == 1 && s[0] != '/') ||
		    (r == 2 && (a > 0x7fef || b > 0xffff)) || r > 2)
			abort();
		break;
	}
	}
	free(s);
	return 0;
}
