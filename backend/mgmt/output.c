/* SPDX-License-Identifier: GPL-2.0-only */
/* Answers: JSON, or indented "key: value" text, from the same calls. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_telemetry.h>
#include <rte_version.h>

#include "mgmt_priv.h"
#include "pcapng.h"
#include "sw.h"
#include "xsval.h"

/* ---------------------------------------------------------------- output */


void __attribute__((format(printf, 2, 3)))
o_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->oom)
		return;
	for (;;) {
		size_t room = o->cap - o->len;

		va_start(ap, fmt);
		n = vsnprintf(o->b ? o->b + o->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->oom = true;
			return;
		}
		if ((size_t)n < room) {
			o->len += (size_t)n;
			return;
		}
		size_t cap = o->cap ? o->cap * 2 : 4096;
		while (cap < o->len + (size_t)n + 1)
			cap *= 2;
		char *b = realloc(o->b, cap);
		if (!b) {
			o->oom = true;
			return;
		}
		o->b = b;
		o->cap = cap;
	}
}

static void
o_jstr(struct out *o, const char *s)
{
	o_printf(o, "\"");
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			o_printf(o, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			o_printf(o, "\\u%04x", ch);
		else
			o_printf(o, "%c", ch);
	}
	o_printf(o, "\"");
}

static void
o_indent(struct out *o)
{
	for (int i = 1; i < o->depth; i++)
		o_printf(o, "  ");
}

/* Start an item: the comma or the indentation, and the key. */
static void
o_key(struct out *o, const char *key)
{
	int d = o->depth;

	if (o->json) {
		if (!o->first[d])
			o_printf(o, ", ");
		o->first[d] = false;
		if (key && !o->arr[d]) {
			o_jstr(o, key);
			o_printf(o, ": ");
		}
		return;
	}
	o->first[d] = false;
	if (d == 0)
		return;
	if (o->arr[d]) {
		o_indent(o);
		o_printf(o, "-");
		return;
	}
	if (o->dash[d]) {
		/* first field of an object in an array: on the dash line */
		o->dash[d] = false;
		for (int i = 1; i < d - 1; i++)
			o_printf(o, "  ");
		o_printf(o, "- ");
	} else {
		o_indent(o);
	}
	o_printf(o, "%s:", key ? key : "");
}

static void
o_open(struct out *o, const char *key, bool arr)
{
	bool in_arr = o->depth > 0 && o->arr[o->depth];

	if (o->depth + 1 >= NB_OUT_DEPTH) {
		o->oom = true;
		return;
	}
	if (o->json) {
		if (o->depth > 0)
			o_key(o, key);
		o_printf(o, arr ? "[" : "{");
	} else if (o->depth > 0) {
		if (in_arr && !arr) {
			/* its first field goes on a "- " line */
			o->first[o->depth] = false;
		} else {
			o_key(o, key);
			o_printf(o, "\n");
		}
	}
	o->depth++;
	o->first[o->depth] = true;
	o->arr[o->depth] = arr;
	o->dash[o->depth] = !o->json && in_arr && !arr;
}

void o_obj(struct out *o, const char *key) { o_open(o, key, false); }
void o_arr(struct out *o, const char *key) { o_open(o, key, true); }

void
o_close(struct out *o)
{
	if (o->depth == 0)
		return;
	if (o->json)
		o_printf(o, o->arr[o->depth] ? "]" : "}");
	else if (o->dash[o->depth] && o->depth > 1) {
		/* an empty object in an array */
		o_indent(o);
		o_printf(o, "- {}\n");
	}
	o->depth--;
	if (o->json && o->depth == 0)
		o_printf(o, "\n");
}

void
o_str(struct out *o, const char *key, const char *v)
{
	o_key(o, key);
	if (o->json)
		o_jstr(o, v);
	else
		o_printf(o, *v ? " %s\n" : "\n", v);
}

void
o_u64(struct out *o, const char *key, uint64_t v)
{
	o_key(o, key);
	o_printf(o, o->json ? "%" PRIu64 : " %" PRIu64 "\n", v);
}

void
o_int(struct out *o, const char *key, int64_t v)
{
	o_key(o, key);
	o_printf(o, o->json ? "%" PRId64 : " %" PRId64 "\n", v);
}

void
o_bool(struct out *o, const char *key, bool v)
{
	o_key(o, key);
	o_printf(o, o->json ? "%s" : " %s\n", v ? "true" : "false");
}
