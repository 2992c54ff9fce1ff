/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * gntcopy-cost: what one grant-copy call costs on real Xen, three ways,
 * in the domain it runs in (the lab's dom0: run by the gntcopy-cost
 * scenario). Pages are granted by this domain to itself (gntalloc), so
 * no guest is needed:
 *
 *   gntdev-va     what netbackd does today: IOCTL_GNTDEV_GRANT_COPY, a
 *                 grant ref on one side and a user address on the other
 *                 (gntdev pins the user page of every segment and issues
 *                 GNTTABOP_copy 16 operations at a time);
 *   gntdev-gref   the same ioctl with a grant ref on both sides (nothing
 *                 to pin; still 16 operations a hypercall);
 *   hypercall     GNTTABOP_copy through privcmd (libxencall), grant refs
 *                 on both sides, the whole batch in one hypercall;
 *
 * beside a system call that does nothing (getppid), the floor of any
 * call in this domain. For each, and each batch size and length, the
 * wall time per call and per segment (one vCPU, nothing else running)
 * as JSON lines, and the bytes are checked after every mode.
 *
 * usage: gntcopy-cost [SECONDS_PER_FIGURE]   (default 0.3)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xencall.h>
#include <xengnttab.h>
#include <xen/xen.h>
#include <xen/grant_table.h>

#define PAGE 4096u
#define MAX_SEGS 64u

enum mode { M_VA, M_GREF, M_HC, M_NULL, M_COUNT };
static const char *const mode_name[M_COUNT] = {
	"gntdev_va", "gntdev_gref", "hypercall", "null_syscall"
};

struct bed {
	xengnttab_handle *gt;
	xencall_handle *xc;
	uint32_t src_ref[MAX_SEGS], dst_ref[MAX_SEGS];
	uint8_t *src, *dst;   /* granted pages, MAX_SEGS each */
	uint8_t *local;       /* ordinary memory, MAX_SEGS pages */
	gnttab_copy_t *ops;   /* hypercall buffer */
	xengnttab_grant_copy_segment_t segs[MAX_SEGS];
	uint16_t self;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Segment i copies len bytes from source page i to destination page i. */
static void
prepare(struct bed *b, enum mode m, unsigned n, unsigned len)
{
	for (unsigned i = 0; i < n; i++) {
		if (m == M_HC) {
			gnttab_copy_t *o = &b->ops[i];

			memset(o, 0, sizeof(*o));
			o->source.u.ref = b->src_ref[i];
			o->source.domid = b->self;
			o->dest.u.ref = b->dst_ref[i];
			o->dest.domid = b->self;
			o->len = (uint16_t)len;
			o->flags = GNTCOPY_source_gref | GNTCOPY_dest_gref;
			continue;
		}
		xengnttab_grant_copy_segment_t *s = &b->segs[i];

		memset(s, 0, sizeof(*s));
		s->source.foreign.ref = b->src_ref[i];
		s->source.foreign.domid = b->self;
		s->len = (uint16_t)len;
		s->flags = GNTCOPY_source_gref;
		if (m == M_GREF) {
			s->dest.foreign.ref = b->dst_ref[i];
			s->dest.foreign.domid = b->self;
			s->flags |= GNTCOPY_dest_gref;
		} else {
			s->dest.virt = b->local + (size_t)i * PAGE;
		}
	}
}

/* One call of n segments; 0 when it and every segment succeeded. */
static int
one_call(struct bed *b, enum mode m, unsigned n)
{
	switch (m) {
	case M_NULL:
		return getppid() > 0 ? 0 : -1;
	case M_HC:
		if (xencall3(b->xc, __HYPERVISOR_grant_table_op, GNTTABOP_copy,
			     (uint64_t)(uintptr_t)b->ops, n) < 0)
			return -errno;
		for (unsigned i = 0; i < n; i++)
			if (b->ops[i].status != GNTST_okay)
				return -1000 + b->ops[i].status;
		return 0;
	default:
		if (xengnttab_grant_copy(b->gt, n, b->segs) < 0)
			return -errno;
		for (unsigned i = 0; i < n; i++)
			if (b->segs[i].status != GNTST_okay)
				return -1000 + b->segs[i].status;
		return 0;
	}
}

/* The destination of mode m holds the source's bytes. */
static int
check(struct bed *b, enum mode m, unsigned n, unsigned len)
{
	uint8_t *dst = m == M_VA ? b->local : b->dst;

	if (m == M_NULL)
		return 0;
	for (unsigned i = 0; i < n; i++)
		if (memcmp(dst + (size_t)i * PAGE, b->src + (size_t)i * PAGE,
			   len))
			return -1;
	return 0;
}

static void
figure(const char *metric, double v, const char *unit)
{
	printf("{\"bench\": \"gntcopy-cost\", \"metric\": \"%s\", "
	       "\"value\": %.1f, \"unit\": \"%s\"}\n",
	       metric, v, unit);
}

static int
measure(struct bed *b, enum mode m, unsigned n, unsigned len, double secs)
{
	char name[96];
	uint64_t calls = 0;
	int r;

	/* Fresh bytes in the source, none in the destinations. */
	for (unsigned i = 0; i < MAX_SEGS * PAGE; i++)
		b->src[i] = (uint8_t)(i * 7 + n + len + (unsigned)m);
	memset(b->dst, 0, MAX_SEGS * PAGE);
	memset(b->local, 0, MAX_SEGS * PAGE);
	prepare(b, m, n, len);
	if ((r = one_call(b, m, n)) != 0) {
		fprintf(stderr, "gntcopy-cost: %s %ux%u: call failed (%d)\n",
			mode_name[m], n, len, r);
		return -1;
	}
	if (check(b, m, n, len)) {
		fprintf(stderr, "gntcopy-cost: %s %ux%u: bytes differ\n",
			mode_name[m], n, len);
		return -1;
	}
	double t0 = now_s(), t;

	do {
		for (unsigned k = 0; k < 64; k++)
			if (one_call(b, m, n) != 0)
				return -1;
		calls += 64;
		t = now_s();
	} while (t - t0 < secs);
	double ns = (t - t0) * 1e9 / (double)calls;

	if (m == M_NULL) {
		figure("null_syscall_ns_per_call", ns, "ns");
		return 0;
	}
	snprintf(name, sizeof(name), "%s_ns_per_call_%ux%u", mode_name[m], n,
		 len);
	figure(name, ns, "ns");
	snprintf(name, sizeof(name), "%s_ns_per_segment_%ux%u", mode_name[m],
		 n, len);
	figure(name, ns / n, "ns");
	return 0;
}

int
main(int argc, char **argv)
{
	static const unsigned nsegs[] = { 1, 4, 16, 64 }, lens[] = { 64, 2048 };
	double secs = argc > 1 ? atof(argv[1]) : 0.3;
	struct bed b = { 0 };
	xengntshr_handle *gs;
	int bad = 0;

	if (secs <= 0) {
		fprintf(stderr, "usage: gntcopy-cost [SECONDS_PER_FIGURE]\n");
		return 2;
	}
	b.gt = xengnttab_open(NULL, 0);
	gs = xengntshr_open(NULL, 0);
	b.xc = xencall_open(NULL, 0);
	if (!b.gt || !gs || !b.xc) {
		fprintf(stderr, "gntcopy-cost: gntdev, gntalloc and privcmd "
				"are needed: %s\n", strerror(errno));
		return 1;
	}
	/* Granted to ourselves: domid 0 is dom0's own id, the only domain
	 * this runs in (a driver domain would need its own id here). */
	b.self = 0;
	b.src = xengntshr_share_pages(gs, b.self, MAX_SEGS, b.src_ref, 1);
	b.dst = xengntshr_share_pages(gs, b.self, MAX_SEGS, b.dst_ref, 1);
	b.local = aligned_alloc(PAGE, MAX_SEGS * PAGE);
	b.ops = xencall_alloc_buffer(b.xc, MAX_SEGS * sizeof(gnttab_copy_t));
	if (!b.src || !b.dst || !b.local || !b.ops) {
		fprintf(stderr, "gntcopy-cost: cannot allocate: %s\n",
			strerror(errno));
		return 1;
	}
	bad |= measure(&b, M_NULL, 1, 0, secs);
	for (unsigned li = 0; li < 2; li++)
		for (unsigned ni = 0; ni < 4; ni++)
			for (unsigned m = M_VA; m <= M_HC; m++)
				bad |= measure(&b, (enum mode)m, nsegs[ni],
					       lens[li], secs);
	xencall_free_buffer(b.xc, b.ops);
	xengntshr_unshare(gs, b.src, MAX_SEGS);
	xengntshr_unshare(gs, b.dst, MAX_SEGS);
	free(b.local);
	xencall_close(b.xc);
	xengntshr_close(gs);
	xengnttab_close(b.gt);
	return bad ? 1 : 0;
}
