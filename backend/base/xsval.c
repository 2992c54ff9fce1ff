/* SPDX-License-Identifier: GPL-2.0-only */
#include "xsval.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "sw.h"

/* Leading decimal digits of s as a number no larger than max; *end set
 * past them. At least one digit, no sign or blank. */
static int
digits(const char *s, uint64_t max, uint64_t *out, const char **end)
{
	uint64_t v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		uint64_t d = (uint64_t)(*p - '0');

		/* v * 10 + d <= max, without overflow */
		if (d > max || v > (max - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	*end = p;
	return 0;
}

int
nb_xsval_uint(const char *s, unsigned max, unsigned *out)
{
	const char *end;
	uint64_t v;
	int r;

	if (!s)
		return -EINVAL;
	r = digits(s, max, &v, &end);
	if (r < 0)
		return r;
	if (*end)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
nb_xsval_mac(const char *s, uint8_t mac[6])
{
	uint8_t b[6];

	if (!s)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		int hi = hexval(*s), lo;

		if (hi < 0)
			return -EINVAL;
		s++;
		lo = hexval(*s);
		if (lo >= 0) {
			b[i] = (uint8_t)(hi << 4 | lo);
			s++;
		} else {
			b[i] = (uint8_t)hi;
		}
		if (i < 5 && *s++ != ':')
			return -EINVAL;
	}
	if (*s)
		return -EINVAL;
	memcpy(mac, b, 6);
	return 0;
}

int
nb_xsval_rate(const char *s, uint64_t *bytes, uint64_t *usec)
{
	const char *p;
	uint64_t b, u;

	if (!s)
		return -EINVAL;
	if (!*s) {
		*bytes = *usec = 0;
		return 0;
	}
	if (digits(s, UINT64_MAX / 10, &b, &p) < 0 || *p++ != ',' ||
	    digits(p, 1000000000ull, &u, &p) < 0 || *p || b == 0 || u == 0)
		return -EINVAL;
	*bytes = b;
	*usec = u;
	return 0;
}

int
nb_xsval_ips(const char *s, struct sw_port_conf *pc)
{
	char tok[INET6_ADDRSTRLEN + 1];

	if (!s)
		return -EINVAL;
	while (*s) {
		size_t n = strcspn(s, " ,");

		if (n == 0) {
			s++;
			continue;
		}
		if (n >= sizeof(tok))
			return -EINVAL;
		memcpy(tok, s, n);
		tok[n] = '\0';
		s += n;
		if (memchr(tok, ':', n)) {
			if (pc->nip6 == SW_MAX_IPS ||
			    inet_pton(AF_INET6, tok, pc->ip6[pc->nip6]) != 1)
				return -EINVAL;
			pc->nip6++;
		} else {
			if (pc->nip4 == SW_MAX_IPS ||
			    inet_pton(AF_INET, tok, pc->ip4[pc->nip4]) != 1)
				return -EINVAL;
			pc->nip4++;
		}
	}
	return 0;
}

int
nb_xsval_vifpath(const char *rest, unsigned *domid, unsigned *devid)
{
	const char *p = rest;
	uint64_t dom, dev;

	if (*p == '\0')
		return 0;
	if (*p++ != '/' || digits(p, 0x7fef, &dom, &p) < 0)
		return -EINVAL;
	if (*p == '\0')
		return 1;
	if (*p++ != '/' || digits(p, 0xffff, &dev, &p) < 0 ||
	    (*p != '\0' && *p != '/'))
		return -EINVAL;
	*domid = (unsigned)dom;
	*devid = (unsigned)dev;
	return 2;
}
