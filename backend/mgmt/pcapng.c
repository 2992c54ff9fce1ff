/* SPDX-License-Identifier: GPL-2.0-only */
#include <string.h>

#include "pcapng.h"

#define PAD4(n) (((n) + 3u) & ~(size_t)3u)

struct w {
	uint8_t *b;
	size_t len, off;
	bool full;
};

static void
put(struct w *w, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (w->full || w->off + n > w->len) {
		w->full = true;
		return;
	}
	memcpy(w->b + w->off, p, n);
	w->off += n;
}

static void
put32(struct w *w, uint32_t v)
{
	put(w, &v, 4);
}

static void
pad(struct w *w)
{
	static const uint8_t z[4];

	put(w, z, PAD4(w->off) - w->off);
}

static void
opt(struct w *w, uint16_t code, const void *v, uint16_t n)
{
	put(w, &code, 2);
	put(w, &n, 2);
	put(w, v, n);
	pad(w);
}

/* Open a block: type and a length filled in by end(). */
static void
begin(struct w *w, uint8_t *buf, size_t len, uint32_t type)
{
	*w = (struct w){ .b = buf, .len = len };
	put32(w, type);
	put32(w, 0);
}

static size_t
end(struct w *w)
{
	uint32_t total;

	opt(w, 0, NULL, 0); /* opt_endofopt */
	total = (uint32_t)(w->off + 4);
	put32(w, total);
	if (w->full)
		return 0;
	memcpy(w->b + 4, &total, 4);
	return total;
}

size_t
nb_pcapng_shb(uint8_t *buf, size_t len, const char *app)
{
	struct w w;
	uint32_t magic = 0x1a2b3c4d;
	uint16_t ver[2] = { 1, 0 };
	int64_t section = -1;

	begin(&w, buf, len, NB_PCAPNG_SHB);
	put32(&w, magic);
	put(&w, ver, sizeof(ver));
	put(&w, &section, 8);
	opt(&w, 4, app, (uint16_t)strnlen(app, 256)); /* shb_userappl */
	return end(&w);
}

size_t
nb_pcapng_idb(uint8_t *buf, size_t len, uint32_t snaplen, const char *name)
{
	struct w w;
	uint16_t link[2] = { 1, 0 }; /* LINKTYPE_ETHERNET, reserved */
	uint8_t tsresol = 9;	      /* 10^-9 s */

	begin(&w, buf, len, NB_PCAPNG_IDB);
	put(&w, link, sizeof(link));
	put32(&w, snaplen);
	opt(&w, 2, name, (uint16_t)strnlen(name, 256)); /* if_name */
	opt(&w, 9, &tsresol, 1);			 /* if_tsresol */
	return end(&w);
}

size_t
nb_pcapng_epb(uint8_t *buf, size_t len, uint32_t ifid, uint64_t ts_ns,
	      const void *data, uint32_t caplen, uint32_t orig_len, bool out)
{
	struct w w;
	uint32_t flags = out ? 2u : 1u; /* epb_flags: outbound, inbound */

	begin(&w, buf, len, NB_PCAPNG_EPB);
	put32(&w, ifid);
	put32(&w, (uint32_t)(ts_ns >> 32));
	put32(&w, (uint32_t)ts_ns);
	put32(&w, caplen);
	put32(&w, orig_len);
	put(&w, data, caplen);
	pad(&w);
	opt(&w, 2, &flags, 4);
	return end(&w);
}

size_t
nb_pcapng_isb(uint8_t *buf, size_t len, uint32_t ifid, uint64_t ts_ns,
	      uint64_t recv, uint64_t drop)
{
	struct w w;

	begin(&w, buf, len, NB_PCAPNG_ISB);
	put32(&w, ifid);
	put32(&w, (uint32_t)(ts_ns >> 32));
	put32(&w, (uint32_t)ts_ns);
	opt(&w, 4, &recv, 8); /* isb_ifrecv */
	opt(&w, 5, &drop, 8); /* isb_ifdrop */
	return end(&w);
}
