/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ring/ctrl alone: Toeplitz against the Microsoft RSS verification
 * vectors and netif.h's reference code, frame hashing, every control
 * request against fake grant pages, and the control ring with a test
 * playing the frontend through the public ring macros.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* netif.h's reference Toeplitz, as an independent check of ours. */
#define XEN_NETIF_DEFINE_TOEPLITZ
#include "ctrl.h"
#include "tests.h"

static const uint8_t rss_key[CTRL_HASH_KEY_MAX] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
	0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
	0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
	0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

/* ---- Microsoft RSS verification suite ---- */

struct v4vec {
	uint8_t src[4], dst[4];
	uint16_t sport, dport;
	uint32_t ip, tcp;
};

static const struct v4vec v4vecs[] = {
	{ { 66, 9, 149, 187 }, { 161, 142, 100, 80 }, 2794, 1766,
	  0x323e8fc2, 0x51ccc178 },
	{ { 199, 92, 111, 2 }, { 65, 69, 140, 83 }, 14230, 4739,
	  0xd718262a, 0xc626b0ea },
	{ { 24, 19, 198, 95 }, { 12, 22, 207, 184 }, 12898, 38024,
	  0xd2d0a5de, 0x5c2b394a },
	{ { 38, 27, 205, 30 }, { 209, 142, 163, 6 }, 48228, 2217,
	  0x82989176, 0xafc7327f },
	{ { 153, 39, 163, 191 }, { 202, 188, 127, 2 }, 44251, 1303,
	  0x5d1809c5, 0x10e828a2 },
};

struct v6vec {
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint32_t ip, tcp;
};

static const struct v6vec v6vecs[] = {
	/* 3ffe:2501:200:1fff::7 -> 3ffe:2501:200:3::1 */
	{ { 0x3f, 0xfe, 0x25, 0x01, 0x02, 0x00, 0x1f, 0xff,
	    0, 0, 0, 0, 0, 0, 0, 0x07 },
	  { 0x3f, 0xfe, 0x25, 0x01, 0x02, 0x00, 0x00, 0x03,
	    0, 0, 0, 0, 0, 0, 0, 0x01 },
	  2794, 1766, 0x2cc18cd5, 0x40207d3d },
	/* 3ffe:501:8::260:97ff:fe40:efab -> ff02::1 */
	{ { 0x3f, 0xfe, 0x05, 0x01, 0x00, 0x08, 0x00, 0x00,
	    0x02, 0x60, 0x97, 0xff, 0xfe, 0x40, 0xef, 0xab },
	  { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 },
	  14230, 4739, 0x0f0c461c, 0xdde51bbf },
	/* 3ffe:1900:4545:3:200:f8ff:fe21:67cf -> fe80::200:f8ff:fe21:67cf */
	{ { 0x3f, 0xfe, 0x19, 0x00, 0x45, 0x45, 0x00, 0x03,
	    0x02, 0x00, 0xf8, 0xff, 0xfe, 0x21, 0x67, 0xcf },
	  { 0xfe, 0x80, 0, 0, 0, 0, 0, 0,
	    0x02, 0x00, 0xf8, 0xff, 0xfe, 0x21, 0x67, 0xcf },
	  44251, 38024, 0x4b61e985, 0x02d1feef },
};

static unsigned
v4input(const struct v4vec *v, uint8_t *b, bool ports)
{
	memcpy(b, v->src, 4);
	memcpy(b + 4, v->dst, 4);
	if (!ports)
		return 8;
	b[8] = v->sport >> 8, b[9] = v->sport & 0xff;
	b[10] = v->dport >> 8, b[11] = v->dport & 0xff;
	return 12;
}

static unsigned
v6input(const struct v6vec *v, uint8_t *b, bool ports)
{
	memcpy(b, v->src, 16);
	memcpy(b + 16, v->dst, 16);
	if (!ports)
		return 32;
	b[32] = v->sport >> 8, b[33] = v->sport & 0xff;
	b[34] = v->dport >> 8, b[35] = v->dport & 0xff;
	return 36;
}

TEST(toeplitz_rss_ipv4)
{
	uint8_t b[12];

	for (unsigned i = 0; i < sizeof(v4vecs) / sizeof(v4vecs[0]); i++) {
		unsigned n = v4input(&v4vecs[i], b, false);

		CHECK_EQ(ctrl_toeplitz(rss_key, b, n), v4vecs[i].ip);
		n = v4input(&v4vecs[i], b, true);
		CHECK_EQ(ctrl_toeplitz(rss_key, b, n), v4vecs[i].tcp);
	}
}

TEST(toeplitz_rss_ipv6)
{
	uint8_t b[36];

	for (unsigned i = 0; i < sizeof(v6vecs) / sizeof(v6vecs[0]); i++) {
		unsigned n = v6input(&v6vecs[i], b, false);

		CHECK_EQ(ctrl_toeplitz(rss_key, b, n), v6vecs[i].ip);
		n = v6input(&v6vecs[i], b, true);
		CHECK_EQ(ctrl_toeplitz(rss_key, b, n), v6vecs[i].tcp);
	}
}

TEST(toeplitz_matches_netif_h_reference)
{
	uint8_t key[CTRL_HASH_KEY_MAX], buf[36];

	srand(1);
	for (int iter = 0; iter < 2000; iter++) {
		unsigned n = (unsigned)rand() % 37;

		for (unsigned i = 0; i < sizeof(key); i++)
			key[i] = (uint8_t)rand();
		for (unsigned i = 0; i < n; i++)
			buf[i] = (uint8_t)rand();
		CHECK_EQ(ctrl_toeplitz(key, buf, n),
			 xen_netif_toeplitz_hash(key, sizeof(key), buf, n));
	}
	/* All-zero key (SET_HASH_KEY of length 0) always hashes to 0. */
	memset(key, 0, sizeof(key));
	memset(buf, 0xff, sizeof(buf));
	CHECK_EQ(ctrl_toeplitz(key, buf, 36), 0);
}

/* ---- frame hashing ---- */

static void
hash_on(struct ctrl_hash *h, uint32_t flags)
{
	ctrl_hash_init(h);
	h->algorithm = XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ;
	h->flags = flags;
	memcpy(h->key, rss_key, sizeof(rss_key));
}

static unsigned
eth(uint8_t *f, uint16_t proto, bool vlan)
{
	memset(f, 0, 14);
	f[0] = 0x02, f[6] = 0x02, f[11] = 1;
	if (vlan) {
		f[12] = 0x81, f[13] = 0x00, f[14] = 0x00, f[15] = 0x05;
		f[16] = proto >> 8, f[17] = proto & 0xff;
		return 18;
	}
	f[12] = proto >> 8, f[13] = proto & 0xff;
	return 14;
}

/* IPv4 + 20-byte TCP header (or UDP); returns the frame length. */
static unsigned
v4frame(uint8_t *f, const struct v4vec *v, bool vlan, uint8_t proto,
	unsigned ihl, uint16_t frag)
{
	unsigned l3 = eth(f, 0x0800, vlan), l4 = l3 + ihl * 4;

	memset(f + l3, 0, ihl * 4 + 20);
	f[l3] = 0x40 | ihl;
	f[l3 + 6] = frag >> 8, f[l3 + 7] = frag & 0xff;
	f[l3 + 8] = 64;
	f[l3 + 9] = proto;
	memcpy(f + l3 + 12, v->src, 4);
	memcpy(f + l3 + 16, v->dst, 4);
	f[l4] = v->sport >> 8, f[l4 + 1] = v->sport & 0xff;
	f[l4 + 2] = v->dport >> 8, f[l4 + 3] = v->dport & 0xff;
	return l4 + 20;
}

static unsigned
v6frame(uint8_t *f, const struct v6vec *v, bool vlan, uint8_t nh)
{
	unsigned l3 = eth(f, 0x86dd, vlan), l4 = l3 + 40;

	memset(f + l3, 0, 60);
	f[l3] = 0x60;
	f[l3 + 6] = nh;
	f[l3 + 7] = 64;
	memcpy(f + l3 + 8, v->src, 16);
	memcpy(f + l3 + 24, v->dst, 16);
	f[l4] = v->sport >> 8, f[l4 + 1] = v->sport & 0xff;
	f[l4 + 2] = v->dport >> 8, f[l4 + 3] = v->dport & 0xff;
	return l4 + 20;
}

/* Hash a copy of exactly len bytes, so an over-read hits the heap end. */
static bool
hash_exact(const struct ctrl_hash *h, const uint8_t *f, unsigned len,
	   uint32_t *hash, uint8_t *type)
{
	uint8_t *c = malloc(len ? len : 1);
	bool r;

	memcpy(c, f, len);
	r = ctrl_hash_frame(h, c, len, hash, type);
	free(c);
	return r;
}

#define ALL_TYPES CTRL_HASH_FLAGS_SUPPORTED

TEST(frame_ipv4_tcp)
{
	struct ctrl_hash h;
	uint8_t f[128];
	uint32_t hash;
	uint8_t type;

	for (unsigned i = 0; i < sizeof(v4vecs) / sizeof(v4vecs[0]); i++) {
		const struct v4vec *v = &v4vecs[i];
		unsigned n = v4frame(f, v, false, 6, 5, 0);

		hash_on(&h, ALL_TYPES);
		CHECK(hash_exact(&h, f, n, &hash, &type));
		CHECK_EQ(hash, v->tcp);
		CHECK_EQ(type, _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP);

		hash_on(&h, XEN_NETIF_CTRL_HASH_TYPE_IPV4);
		CHECK(hash_exact(&h, f, n, &hash, &type));
		CHECK_EQ(hash, v->ip);
		CHECK_EQ(type, _XEN_NETIF_CTRL_HASH_TYPE_IPV4);

		/* Only IPv6 types enabled: no match, nothing written. */
		hash_on(&h, XEN_NETIF_CTRL_HASH_TYPE_IPV6 |
				XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP);
		hash = 0x1234, type = 0x77;
		CHECK(!hash_exact(&h, f, n, &hash, &type));
		CHECK_EQ(hash, 0x1234);
		CHECK_EQ(type, 0x77);
	}
}

TEST(frame_ipv4_udp_fragment_options_vlan)
{
	const struct v4vec *v = &v4vecs[0];
	struct ctrl_hash h;
	uint8_t f[128];
	uint32_t hash;
	uint8_t type;
	unsigned n;

	/* UDP: IPv4 type when enabled, no match with only IPV4_TCP. */
	n = v4frame(f, v, false, 17, 5, 0);
	hash_on(&h, ALL_TYPES);
	CHECK(hash_exact(&h, f, n, &hash, &type));
	CHECK_EQ(hash, v->ip);
	CHECK_EQ(type, _XEN_NETIF_CTRL_HASH_TYPE_IPV4);
	hash_on(&h, XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP);
	CHECK(!hash_exact(&h, f, n, &hash, &type));

	/* Fragments (MF set, or an offset) hash without ports. */
	const uint16_t frags[] = { 0x2000, 0x0001, 0x2010 };
	for (unsigned i = 0; i < 3; i++) {
		n = v4frame(f, v, false, 6, 5, frags[i]);
		hash_on(&h, ALL_TYPES);
		CHECK(hash_exact(&h, f, n, &hash, &type));
		CHECK_EQ(hash, v->ip);
		CHECK_EQ(type, _XEN_NETIF_CTRL_HASH_TYPE_IPV4);
		hash_on(&h, XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP);
		CHECK(!hash_exact(&h, f, n, &hash, &type));
	}
	/* DF alone is not a fragment. */
	n = v4frame(f, v, false, 6, 5, 0x4000);
	hash_on(&h, ALL_TYPES);
	CHECK(hash_exact(&h, f, n, &hash, &type));
	CHECK_EQ(hash, v->tcp);

	/* IP options: the ports come after them. */
	n = v4frame(f, v, false, 6, 7, 0);
	CHECK(hash_exact(&h, f, n, &hash, &type));
	CHECK_EQ(hash, v->tcp);
	CHECK_EQ(type, _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP);

	/* One 802.1Q tag. */
	n = v4frame(f, v, true, 6, 5, 0);
	CHECK(hash_exact(&h, f, n, &hash, &type));
	CHECK_EQ(hash, v->tcp);
	CHECK_EQ(type, _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP);

	/* Bad version or IHL: no match. */
	n = v4frame(f, v, false, 6, 5, 0);
	f[14] = 0x65;
	CHECK(!hash_exact(&h, f, n, &hash, &type));
	f[14] = 0x44;
	CHECK(!hash_exact(&h, f, n, &hash, &type));
	/* Not IP. */
	n = v4frame(f, v, false, 6, 5, 0);
	f[12] = 0x08, f[13] = 0x06;
	CHECK(!hash_exact(&h, f, n, &hash, &type));
}

TEST(frame_ipv6)
{
	struct ctrl_hash h;
	uint8_t f[128];
	uint32_t hash;
	uint8_t type;

	for (unsigned i = 0; i < sizeof(v6vecs) / sizeof(v6vecs[0]); i++) {
		const struct v6vec *v = &v6vecs[i];

		for (int vlan = 0; vlan < 2; vlan++) {
			unsigned n = v6frame(f, v, vlan, 6);

			hash_on(&h, ALL_TYPES);
			CHECK(hash_exact(&h, f, n, &hash, &type));
			CHECK_EQ(hash, v->tcp);
			CHECK_EQ(type, _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP);
			hash_on(&h, XEN_NETIF_CTRL_HASH_TYPE_IPV6);
			CHECK(hash_exact(&h, f, n, &hash, &type));
			CHECK_EQ(hash, v->ip);
			CHECK_EQ(type, _XEN_NETIF_CTRL_HASH_TYPE_IPV6);
			hash_on(&h, XEN_NETIF_CTRL_HASH_TYPE_IPV4 |
					XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP);
			CHECK(!hash_exact(&h, f, n, &hash, &type));

			/* UDP */
			n = v6frame(f, v, vlan, 17);
			hash_on(&h, ALL_TYPES);
			CHECK(hash_exact(&h, f, n, &hash, &type));
			CHECK_EQ(hash, v->ip);
			CHECK_EQ(type, _XEN_NETIF_CTRL_HASH_TYPE_IPV6);
			hash_on(&h, XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP);
			CHECK(!hash_exact(&h, f, n, &hash, &type));
		}
	}
}

TEST(frame_disabled)
{
	struct ctrl_hash h;
	uint8_t f[128];
	uint32_t hash = 5;
	uint8_t type = 9;
	unsigned n = v4frame(f, &v4vecs[0], false, 6, 5, 0);

	ctrl_hash_init(&h);
	h.flags = ALL_TYPES; /* algorithm NONE */
	CHECK(!hash_exact(&h, f, n, &hash, &type));
	hash_on(&h, 0);
	CHECK(!hash_exact(&h, f, n, &hash, &type));
	CHECK_EQ(hash, 5);
	CHECK_EQ(type, 9);
}

/* Every truncation: right answer for what is there, never an over-read. */
TEST(frame_truncated)
{
	struct ctrl_hash h;
	uint8_t f[128];
	uint32_t hash;
	uint8_t type;

	for (int vlan = 0; vlan < 2; vlan++) {
		unsigned l3 = vlan ? 18 : 14;
		unsigned n = v4frame(f, &v4vecs[0], vlan, 6, 5, 0);

		for (unsigned len = 0; len <= n; len++) {
			hash_on(&h, ALL_TYPES);
			bool r = hash_exact(&h, f, len, &hash, &type);

			if (len < l3 + 20) {
				CHECK(!r);
			} else if (len < l3 + 24) {
				CHECK(r);
				CHECK_EQ(hash, v4vecs[0].ip);
			} else {
				CHECK(r);
				CHECK_EQ(hash, v4vecs[0].tcp);
			}
			hash_on(&h, XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP);
			r = hash_exact(&h, f, len, &hash, &type);
			CHECK_EQ(r, len >= l3 + 24);
		}
		n = v4frame(f, &v4vecs[0], vlan, 6, 7, 0); /* options */
		for (unsigned len = 0; len <= n; len++) {
			hash_on(&h, ALL_TYPES);
			bool r = hash_exact(&h, f, len, &hash, &type);

			CHECK_EQ(r, len >= l3 + 28);
			if (r)
				CHECK_EQ(hash, len >= l3 + 32 ? v4vecs[0].tcp :
								 v4vecs[0].ip);
		}
		n = v6frame(f, &v6vecs[0], vlan, 6);
		for (unsigned len = 0; len <= n; len++) {
			hash_on(&h, ALL_TYPES);
			bool r = hash_exact(&h, f, len, &hash, &type);

			CHECK_EQ(r, len >= l3 + 40);
			if (r)
				CHECK_EQ(hash, len >= l3 + 44 ? v6vecs[0].tcp :
								 v6vecs[0].ip);
		}
	}
}

TEST(hash_queue)
{
	struct ctrl_hash h;

	ctrl_hash_init(&h);
	CHECK_EQ(ctrl_hash_queue(&h, 10, 4), 2);
	CHECK_EQ(ctrl_hash_queue(&h, 10, 0), 0);
	h.size = 3;
	h.mapping[0] = 1, h.mapping[1] = 3, h.mapping[2] = 0;
	CHECK_EQ(ctrl_hash_queue(&h, 4, 4), 3);  /* 4 % 3 = 1 */
	CHECK_EQ(ctrl_hash_queue(&h, 6, 4), 1);  /* 6 % 3 = 0 */
	CHECK_EQ(ctrl_hash_queue(&h, 5, 4), 0);
	/* Queues went away after the mapping was set. */
	CHECK_EQ(ctrl_hash_queue(&h, 4, 2), 1);
}

/* ---- requests, against fake grant pages ---- */

#define NPAGES 4
#define BAD_REF 0xdead /* gref_add fails for it */
#define BUSY_REF 0xbeef
#define FAKE_GREF_MAX 256u /* what the fake backend maps at most */

struct fake {
	uint8_t page[NPAGES][4096];
	uint32_t mapped[FAKE_GREF_MAX];
	bool ro[FAKE_GREF_MAX];
	unsigned nmapped;
	unsigned adds, dels, reads, writes;
};

static int
f_read(void *arg, uint32_t gref, uint32_t off, void *buf, uint32_t len)
{
	struct fake *f = arg;

	f->reads++;
	if (gref >= NPAGES || off > 4096 || len > 4096 - off)
		return -EINVAL;
	memcpy(buf, f->page[gref] + off, len);
	return 0;
}

static int
f_write(void *arg, uint32_t gref, uint32_t off, const void *buf, uint32_t len)
{
	struct fake *f = arg;

	f->writes++;
	if (gref >= NPAGES || off > 4096 || len > 4096 - off)
		return -EINVAL;
	memcpy(f->page[gref] + off, buf, len);
	return 0;
}

static int
f_find(struct fake *f, uint32_t gref)
{
	for (unsigned i = 0; i < f->nmapped; i++)
		if (f->mapped[i] == gref)
			return (int)i;
	return -1;
}

static int
f_add(void *arg, uint32_t gref, bool ro)
{
	struct fake *f = arg;

	f->adds++;
	if (gref == BAD_REF)
		return -EIO;
	if (f_find(f, gref) >= 0)
		return -EEXIST;
	if (f->nmapped == FAKE_GREF_MAX)
		return -ENOSPC;
	f->ro[f->nmapped] = ro;
	f->mapped[f->nmapped++] = gref;
	return 0;
}

static int
f_del(void *arg, uint32_t gref)
{
	struct fake *f = arg;
	int i = f_find(f, gref);

	f->dels++;
	if (i < 0)
		return -ENOENT;
	if (gref == BUSY_REF)
		return -EBUSY;
	f->mapped[i] = f->mapped[--f->nmapped];
	f->ro[i] = f->ro[f->nmapped];
	return 0;
}

struct env {
	struct fake fk;
	struct ctrl_ops ops;
	struct ctrl_hash h;
	struct xen_netif_ctrl_response rsp;
	uint16_t id;
};

static struct env *
env_new(bool grefs)
{
	struct env *e = calloc(1, sizeof(*e));

	e->ops.read = f_read;
	e->ops.write = f_write;
	if (grefs) {
		e->ops.gref_add = f_add;
		e->ops.gref_del = f_del;
	}
	e->ops.arg = &e->fk;
	ctrl_hash_init(&e->h);
	return e;
}

/* Send one request; check the echo; return the status. */
static uint32_t
req(struct env *e, unsigned nqueues, uint16_t type, uint32_t d0, uint32_t d1,
    uint32_t d2)
{
	struct xen_netif_ctrl_request r = {
		.id = ++e->id, .type = type, .data = { d0, d1, d2 },
	};

	memset(&e->rsp, 0xa5, sizeof(e->rsp));
	ctrl_handle(&e->h, nqueues, &e->ops, &r, &e->rsp);
	CHECK_EQ(e->rsp.id, e->id);
	CHECK_EQ(e->rsp.type, type);
	return e->rsp.status;
}

#define OK XEN_NETIF_CTRL_STATUS_SUCCESS
#define NOTSUP XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED
#define INVAL XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER
#define OVERFLOW XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW

TEST(hash_init)
{
	struct ctrl_hash h;

	memset(&h, 0xff, sizeof(h));
	ctrl_hash_init(&h);
	CHECK_EQ(h.algorithm, XEN_NETIF_CTRL_HASH_ALGORITHM_NONE);
	CHECK_EQ(h.flags, 0);
	CHECK_EQ(h.size, 0);
	for (unsigned i = 0; i < CTRL_HASH_KEY_MAX; i++)
		CHECK_EQ(h.key[i], 0);
}

TEST(req_hash_flags)
{
	struct env *e = env_new(false);

	CHECK_EQ(req(e, 1, XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 0, 0, 0), OK);
	CHECK_EQ(e->rsp.data, XEN_NETIF_CTRL_HASH_TYPE_IPV4 |
				      XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP |
				      XEN_NETIF_CTRL_HASH_TYPE_IPV6 |
				      XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP);
	CHECK_EQ(req(e, 1, XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, 0x5, 0, 0), OK);
	CHECK_EQ(e->rsp.data, 0);
	CHECK_EQ(e->h.flags, 0x5);
	CHECK_EQ(req(e, 1, XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, 0x13, 0, 0),
		 INVAL);
	CHECK_EQ(e->h.flags, 0x5);
	CHECK_EQ(req(e, 1, XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, 0x80000000u, 0,
		     0), INVAL);
	CHECK_EQ(e->h.flags, 0x5);
	CHECK_EQ(req(e, 1, XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, 0, 0, 0), OK);
	CHECK_EQ(e->h.flags, 0);
	free(e);
}

TEST(req_hash_key)
{
	struct env *e = env_new(false);
	uint8_t old[CTRL_HASH_KEY_MAX];

	memcpy(e->fk.page[1], rss_key, sizeof(rss_key));
	memset(e->fk.page[1] + sizeof(rss_key), 0x77, 100);
	CHECK_EQ(req(e, 1, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 1, 40, 0), OK);
	CHECK_EQ(e->rsp.data, 0);
	CHECK(memcmp(e->h.key, rss_key, 40) == 0);

	/* Too long: overflow, key kept. */
	CHECK_EQ(req(e, 1, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 1, 41, 0),
		 OVERFLOW);
	CHECK_EQ(req(e, 1, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 1, 0xffffffffu, 0),
		 OVERFLOW);
	CHECK(memcmp(e->h.key, rss_key, 40) == 0);
	/* Unreadable grant: invalid, key kept. */
	CHECK_EQ(req(e, 1, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 99, 16, 0), INVAL);
	CHECK(memcmp(e->h.key, rss_key, 40) == 0);

	/* Short key: zero padded, nothing of the old key left. */
	memset(e->fk.page[2], 0x11, 4096);
	CHECK_EQ(req(e, 1, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 2, 10, 0), OK);
	for (unsigned i = 0; i < CTRL_HASH_KEY_MAX; i++)
		CHECK_EQ(e->h.key[i], i < 10 ? 0x11 : 0);

	/* Length 0: all-zero key. */
	memcpy(old, e->h.key, sizeof(old));
	CHECK_EQ(req(e, 1, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 2, 0, 0), OK);
	for (unsigned i = 0; i < CTRL_HASH_KEY_MAX; i++)
		CHECK_EQ(e->h.key[i], 0);
	free(e);
}

TEST(req_mapping_size)
{
	struct env *e = env_new(false);

	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE, 0, 0, 0),
		 OK);
	CHECK_EQ(e->rsp.data, CTRL_HASH_MAPPING_MAX);
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 129, 0,
		     0), INVAL);
	CHECK_EQ(e->h.size, 0);
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 128, 0,
		     0), OK);
	CHECK_EQ(e->rsp.data, 0);
	CHECK_EQ(e->h.size, 128);

	/* A new size zero-fills the table. */
	for (unsigned i = 0; i < 128; i++)
		e->h.mapping[i] = 3;
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 16, 0,
		     0), OK);
	CHECK_EQ(e->h.size, 16);
	for (unsigned i = 0; i < 128; i++)
		CHECK_EQ(e->h.mapping[i], 0);
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE,
		     0xffffffffu, 0, 0), INVAL);
	CHECK_EQ(e->h.size, 16);
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 0, 0, 0),
		 OK);
	CHECK_EQ(e->h.size, 0);
	free(e);
}

static void
put_map(struct env *e, unsigned gref, const uint32_t *v, unsigned n)
{
	memcpy(e->fk.page[gref], v, n * sizeof(*v));
}

TEST(req_mapping)
{
	struct env *e = env_new(false);
	const uint32_t good[6] = { 0, 1, 2, 3, 3, 2 };
	struct ctrl_hash saved;

	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 8, 0, 0),
		 OK);
	put_map(e, 1, good, 6);
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 1, 6, 2), OK);
	CHECK_EQ(e->rsp.data, 0);
	const uint32_t want[8] = { 0, 0, 0, 1, 2, 3, 3, 2 };
	for (unsigned i = 0; i < 8; i++)
		CHECK_EQ(e->h.mapping[i], want[i]);
	/* A sub-table leaves the rest alone. */
	const uint32_t one = 1;
	put_map(e, 2, &one, 1);
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 2, 1, 0), OK);
	CHECK_EQ(e->h.mapping[0], 1);
	CHECK_EQ(e->h.mapping[7], 2);
	CHECK_EQ(ctrl_hash_queue(&e->h, 8 + 5, 4), 3);
	/* Zero entries: nothing to do. */
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 99, 0, 8), OK);

	/* Every error leaves the table unchanged. */
	memcpy(&saved, &e->h, sizeof(saved));
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 1, 6, 3),
		 INVAL); /* beyond size */
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 1, 9, 0),
		 INVAL);
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 1, 0, 9),
		 INVAL);
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 1, 2,
		     0xffffffffu), INVAL); /* offset + len wraps */
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 1,
		     0xffffffffu, 2), INVAL);
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 1, 1025, 0),
		 INVAL); /* more than a page */
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 99, 2, 0),
		 INVAL); /* unreadable */
	const uint32_t bad[3] = { 3, 2, 4 }; /* 4 is not < nqueues */
	put_map(e, 3, bad, 3);
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 3, 3, 0),
		 INVAL);
	CHECK_EQ(req(e, 3, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 1, 6, 2),
		 INVAL); /* good[3] = 3 not < 3 queues */
	CHECK(memcmp(&saved, &e->h, sizeof(saved)) == 0);
	/* The same entries with more queues are fine. */
	CHECK_EQ(req(e, 5, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 3, 3, 0), OK);
	CHECK_EQ(e->h.mapping[2], 4);

	/* No size set: any non-empty mapping is invalid. */
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 0, 0, 0),
		 OK);
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 1, 1, 0),
		 INVAL);
	free(e);
}

TEST(req_algorithm)
{
	struct env *e = env_new(false);

	e->h.flags = 0x3;
	e->h.size = 4;
	e->h.key[0] = 9;
	CHECK_EQ(req(e, 1, XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM,
		     XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ, 0, 0), OK);
	CHECK_EQ(e->h.algorithm, XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ);
	CHECK_EQ(req(e, 1, XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM, 2, 0, 0),
		 INVAL);
	CHECK_EQ(e->h.algorithm, XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ);
	CHECK_EQ(req(e, 1, XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM,
		     XEN_NETIF_CTRL_HASH_ALGORITHM_NONE, 0, 0), OK);
	CHECK_EQ(e->h.algorithm, XEN_NETIF_CTRL_HASH_ALGORITHM_NONE);
	/* Nothing else reset. */
	CHECK_EQ(e->h.flags, 0x3);
	CHECK_EQ(e->h.size, 4);
	CHECK_EQ(e->h.key[0], 9);
	free(e);
}

TEST(req_unknown)
{
	struct env *e = env_new(true);
	const uint16_t types[] = { XEN_NETIF_CTRL_TYPE_INVALID, 11, 0x1234,
				   0xffff };

	for (unsigned i = 0; i < 4; i++) {
		CHECK_EQ(req(e, 4, types[i], 1, 2, 3), NOTSUP);
		CHECK_EQ(e->rsp.data, 0);
	}
	free(e);
}

static void
put_grefs(struct env *e, unsigned page, const uint32_t *refs,
	  const uint16_t *flags, unsigned n)
{
	struct xen_netif_gref *t = (struct xen_netif_gref *)e->fk.page[page];

	for (unsigned i = 0; i < n; i++) {
		t[i].ref = refs[i];
		t[i].flags = flags ? flags[i] : 0;
		t[i].status = 0xffff;
	}
}

TEST(req_gref_not_supported)
{
	struct env *e = env_new(false);

	put_grefs(e, 1, (const uint32_t[]){ 100 }, NULL, 1);
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_GET_GREF_MAPPING_SIZE, 0, 0, 0),
		 NOTSUP);
	CHECK_EQ(e->rsp.data, 0);
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING, 0, 1, 1),
		 NOTSUP);
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_DEL_GREF_MAPPING, 0, 1, 1),
		 NOTSUP);
	CHECK_EQ(e->fk.reads, 0);
	free(e);
}

TEST(req_gref_size)
{
	struct env *e = env_new(true);

	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_GET_GREF_MAPPING_SIZE, 0, 0, 0),
		 OK);
	CHECK_EQ(e->rsp.data, CTRL_GREF_MAX);
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_GET_GREF_MAPPING_SIZE, 3, 0, 0),
		 OK);
	/* Queue index out of range (netif.h). */
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_GET_GREF_MAPPING_SIZE, 4, 0, 0),
		 INVAL);
	CHECK_EQ(e->rsp.data, 0);
	free(e);
}

TEST(req_gref_add)
{
	struct env *e = env_new(true);
	const uint32_t refs[3] = { 100, 101, 102 };
	const uint16_t flags[3] = { 0, XEN_NETIF_CTRLF_GREF_readonly, 0x8000 };

	put_grefs(e, 1, refs, flags, 3);
	/* data[0] queue, data[1] table gref, data[2] entries (netif.h) */
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING, 0, 1, 3), OK);
	CHECK_EQ(e->fk.nmapped, 3);
	CHECK_EQ(e->fk.mapped[0], 100);
	CHECK_EQ(e->fk.ro[0], false);
	CHECK_EQ(e->fk.mapped[1], 101);
	CHECK_EQ(e->fk.ro[1], true);
	CHECK_EQ(e->fk.ro[2], false); /* unknown flag bits are not readonly */
	/* The entries' status fields are not used for ADD. */
	struct xen_netif_gref *t = (struct xen_netif_gref *)e->fk.page[1];
	CHECK_EQ(t[0].status, 0xffff);
	CHECK_EQ(e->fk.writes, 0);

	/* Bad parameters: nothing read or added. */
	unsigned adds = e->fk.adds;
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING, 0, 1, 0),
		 INVAL);
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING, 0, 1, 513),
		 INVAL);
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING, 0, 99, 1),
		 INVAL);
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING, 4, 1, 1),
		 INVAL); /* queue index */
	CHECK_EQ(e->fk.adds, adds);
	CHECK_EQ(e->fk.nmapped, 3);

	/* A whole page of entries is accepted. */
	uint32_t many[512];
	for (unsigned i = 0; i < 512; i++)
		many[i] = 1000 + i;
	put_grefs(e, 2, many, NULL, 512);
	e->fk.nmapped = 0;
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING, 0, 2, 512),
		 INVAL); /* more than the fake holds: -ENOSPC, all undone */
	CHECK_EQ(e->fk.nmapped, 0);
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING, 0, 2, 256),
		 OK);
	CHECK_EQ(e->fk.nmapped, 256);
	free(e);
}

TEST(req_gref_add_rollback)
{
	struct env *e = env_new(true);

	/* 50 is mapped before; the request adds 10, 11, then hits 50. */
	CHECK_EQ(f_add(&e->fk, 50, false), 0);
	put_grefs(e, 1, (const uint32_t[]){ 10, 11, 50, 12 }, NULL, 4);
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING, 0, 1, 4),
		 INVAL);
	CHECK_EQ(e->fk.nmapped, 1);
	CHECK_EQ(e->fk.mapped[0], 50); /* not ours to undo */
	CHECK(f_find(&e->fk, 12) < 0); /* never tried */

	/* A failure of the first entry undoes nothing. */
	put_grefs(e, 1, (const uint32_t[]){ BAD_REF, 13 }, NULL, 2);
	unsigned dels = e->fk.dels;
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING, 0, 1, 2),
		 INVAL);
	CHECK_EQ(e->fk.dels, dels);
	CHECK_EQ(e->fk.nmapped, 1);

	/* The same gref twice in one request: the duplicate fails, the
	 * first is undone. */
	put_grefs(e, 1, (const uint32_t[]){ 20, 21, 20 }, NULL, 3);
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING, 0, 1, 3),
		 INVAL);
	CHECK_EQ(e->fk.nmapped, 1);
	CHECK_EQ(e->fk.mapped[0], 50);

	/* A failing last entry. */
	put_grefs(e, 1, (const uint32_t[]){ 30, 31, 32, BAD_REF }, NULL, 4);
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING, 0, 1, 4),
		 INVAL);
	CHECK_EQ(e->fk.nmapped, 1);
	free(e);
}

TEST(req_gref_del)
{
	struct env *e = env_new(true);
	struct xen_netif_gref *t = (struct xen_netif_gref *)e->fk.page[1];

	CHECK_EQ(f_add(&e->fk, 100, false), 0);
	CHECK_EQ(f_add(&e->fk, 102, true), 0);
	CHECK_EQ(f_add(&e->fk, BUSY_REF, false), 0);
	put_grefs(e, 1, (const uint32_t[]){ 100, 101, 102, BUSY_REF },
		  (const uint16_t[]){ 0, 0, 1, 0 }, 4);
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_DEL_GREF_MAPPING, 0, 1, 4), OK);
	CHECK_EQ(e->rsp.data, 2);
	CHECK_EQ(t[0].status, OK);
	CHECK_EQ(t[1].status, INVAL); /* never mapped */
	CHECK_EQ(t[2].status, OK);
	CHECK_EQ(t[3].status, INVAL); /* in use */
	/* ref and flags untouched */
	CHECK_EQ(t[1].ref, 101);
	CHECK_EQ(t[2].ref, 102);
	CHECK_EQ(t[2].flags, 1);
	CHECK_EQ(e->fk.nmapped, 1);
	CHECK_EQ(e->fk.mapped[0], BUSY_REF);

	/* Again: nothing left to remove. */
	put_grefs(e, 1, (const uint32_t[]){ 100 }, NULL, 1);
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_DEL_GREF_MAPPING, 0, 1, 1), OK);
	CHECK_EQ(e->rsp.data, 0);
	CHECK_EQ(t[0].status, INVAL);

	/* Bad parameters. */
	unsigned dels = e->fk.dels;
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_DEL_GREF_MAPPING, 0, 1, 0),
		 INVAL);
	CHECK_EQ(e->rsp.data, 0);
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_DEL_GREF_MAPPING, 0, 1, 513),
		 INVAL);
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_DEL_GREF_MAPPING, 0, 99, 1),
		 INVAL);
	CHECK_EQ(req(e, 4, XEN_NETIF_CTRL_TYPE_DEL_GREF_MAPPING, 9, 1, 1),
		 INVAL);
	CHECK_EQ(e->fk.dels, dels);
	free(e);
}

/* ---- the ring ---- */

struct rfe {
	union {
		xen_netif_ctrl_sring_t s;
		char page[RING_PAGE_SIZE];
	} p __attribute__((aligned(4096)));
	xen_netif_ctrl_front_ring_t fr;
	struct ctrl_ring br;
	struct xen_netif_ctrl_request out[CTRL_RING_SIZE + 1];
};

static struct rfe *
rfe_new(void)
{
	struct rfe *f = aligned_alloc(4096, sizeof(*f));

	memset(f, 0, sizeof(*f));
	SHARED_RING_INIT(&f->p.s);
	FRONT_RING_INIT(&f->fr, &f->p.s, RING_PAGE_SIZE);
	memset(f->p.s.ring, 0x5a, RING_PAGE_SIZE - offsetof(
		xen_netif_ctrl_sring_t, ring));
	ctrl_ring_init(&f->br, f->p.page);
	return f;
}

static void
put_req(struct rfe *f, uint16_t id, uint16_t type, uint32_t d0)
{
	struct xen_netif_ctrl_request *r =
	    RING_GET_REQUEST(&f->fr, f->fr.req_prod_pvt);

	r->id = id;
	r->type = type;
	r->data[0] = d0;
	r->data[1] = d0 + 1;
	r->data[2] = d0 + 2;
	f->fr.req_prod_pvt++;
}

TEST(ring_init_leaves_page)
{
	struct rfe *f = rfe_new();
	char copy[RING_PAGE_SIZE];

	memcpy(copy, f->p.page, sizeof(copy));
	ctrl_ring_init(&f->br, f->p.page);
	CHECK(memcmp(copy, f->p.page, sizeof(copy)) == 0);
	CHECK_EQ(RING_SIZE(&f->br.back), CTRL_RING_SIZE);
	free(f);
}

TEST(ring_take_respond_push)
{
	struct rfe *f = rfe_new();
	struct xen_netif_ctrl_response rsp;
	int notify;

	CHECK_EQ(ctrl_ring_take(&f->br, f->out, 8), 0);
	/* Nothing taken: no slot to answer into. */
	rsp = (struct xen_netif_ctrl_response){ .id = 1 };
	CHECK_EQ(ctrl_ring_respond(&f->br, &rsp), -ENOSPC);

	for (uint16_t i = 0; i < 5; i++)
		put_req(f, 10 + i, XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 100 * i);
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&f->fr, notify);
	CHECK(notify);
	CHECK_EQ(ctrl_ring_take(&f->br, f->out, 3), 3);
	CHECK_EQ(ctrl_ring_take(&f->br, f->out + 3, 8), 2);
	for (unsigned i = 0; i < 5; i++) {
		CHECK_EQ(f->out[i].id, 10 + i);
		CHECK_EQ(f->out[i].type, XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS);
		CHECK_EQ(f->out[i].data[0], 100 * i);
		CHECK_EQ(f->out[i].data[2], 100 * i + 2);
	}
	CHECK_EQ(ctrl_ring_take(&f->br, f->out, 8), 0);

	/* Answer through ctrl_handle. */
	struct ctrl_hash h;
	struct ctrl_ops ops = { 0 };
	ctrl_hash_init(&h);
	for (unsigned i = 0; i < 5; i++) {
		ctrl_handle(&h, 1, &ops, &f->out[i], &rsp);
		CHECK_EQ(ctrl_ring_respond(&f->br, &rsp), 0);
	}
	CHECK_EQ(ctrl_ring_respond(&f->br, &rsp), -ENOSPC);
	CHECK_EQ(f->p.s.rsp_prod, 0); /* not published yet */
	CHECK(ctrl_ring_push(&f->br)); /* rsp_event starts at 1 */
	CHECK_EQ(f->p.s.rsp_prod, 5);
	for (unsigned i = 0; i < 5; i++) {
		struct xen_netif_ctrl_response *r =
		    RING_GET_RESPONSE(&f->fr, f->fr.rsp_cons);

		CHECK_EQ(r->id, 10 + i);
		CHECK_EQ(r->type, XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS);
		CHECK_EQ(r->status, OK);
		CHECK_EQ(r->data, CTRL_HASH_FLAGS_SUPPORTED);
		f->fr.rsp_cons++;
	}
	/* The frontend did not ask for another event: no notify. */
	put_req(f, 20, 0, 0);
	RING_PUSH_REQUESTS(&f->fr);
	CHECK_EQ(ctrl_ring_take(&f->br, f->out, 8), 1);
	rsp.id = 20;
	CHECK_EQ(ctrl_ring_respond(&f->br, &rsp), 0);
	CHECK(!ctrl_ring_push(&f->br));
	CHECK_EQ(f->p.s.rsp_prod, 6);
	/* It asks (RING_FINAL_CHECK_FOR_RESPONSES): notify again. */
	f->p.s.rsp_event = 7;
	put_req(f, 21, 0, 0);
	RING_PUSH_REQUESTS(&f->fr);
	CHECK_EQ(ctrl_ring_take(&f->br, f->out, 8), 1);
	CHECK_EQ(ctrl_ring_respond(&f->br, &rsp), 0);
	CHECK(ctrl_ring_push(&f->br));
	/* Nothing new to publish: no notify. */
	CHECK(!ctrl_ring_push(&f->br));
	free(f);
}

TEST(ring_more_sets_event)
{
	struct rfe *f = rfe_new();
	int notify;

	put_req(f, 1, 1, 0);
	put_req(f, 2, 1, 0);
	RING_PUSH_REQUESTS(&f->fr);
	/* Unconsumed requests: more, without touching req_event. */
	f->p.s.req_event = 1000;
	CHECK(ctrl_ring_more(&f->br));
	CHECK_EQ(f->p.s.req_event, 1000);
	CHECK_EQ(ctrl_ring_take(&f->br, f->out, 8), 2);
	CHECK(!ctrl_ring_more(&f->br));
	CHECK_EQ(f->p.s.req_event, 3); /* next request wakes us */
	/* The frontend now must notify for its next request. */
	put_req(f, 3, 1, 0);
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&f->fr, notify);
	CHECK(notify);
	CHECK(ctrl_ring_more(&f->br));
	CHECK_EQ(ctrl_ring_take(&f->br, f->out, 8), 1);
	CHECK(!ctrl_ring_more(&f->br));
	/* A request slipped in before the final check is seen by it. */
	put_req(f, 4, 1, 0);
	RING_PUSH_REQUESTS(&f->fr);
	CHECK(ctrl_ring_more(&f->br));
	free(f);
}

TEST(ring_hostile_producer)
{
	struct rfe *f = rfe_new();
	struct xen_netif_ctrl_response rsp = { 0 };

	/* A full ring is legal: all 256 taken, then no more room. */
	f->p.s.req_prod = CTRL_RING_SIZE;
	CHECK_EQ(ctrl_ring_take(&f->br, f->out, CTRL_RING_SIZE + 1),
		 (int)CTRL_RING_SIZE);
	CHECK_EQ(f->out[0].id, 0x5a5a);
	/* Beyond a ring ahead of what we answered: fatal. */
	f->p.s.req_prod = CTRL_RING_SIZE + 1;
	CHECK_EQ(ctrl_ring_take(&f->br, f->out, 8), -EPROTO);
	/* After answering one, one more is legal. */
	CHECK_EQ(ctrl_ring_respond(&f->br, &rsp), 0);
	CHECK_EQ(ctrl_ring_take(&f->br, f->out, 8), 1);
	CHECK_EQ(ctrl_ring_respond(&f->br, &rsp), 0);
	CHECK_EQ(ctrl_ring_respond(&f->br, &rsp), 0);
	/* Producer far ahead, or behind (wrapped): fatal, nothing taken. */
	RING_IDX cons = f->br.back.req_cons;
	f->p.s.req_prod = cons + 100000;
	CHECK_EQ(ctrl_ring_take(&f->br, f->out, 8), -EPROTO);
	f->p.s.req_prod = cons - 1;
	CHECK_EQ(ctrl_ring_take(&f->br, f->out, 8), -EPROTO);
	CHECK_EQ(f->br.back.req_cons, cons);
	free(f);
}

TESTS_MAIN()
