/* SPDX-License-Identifier: GPL-2.0-only */
/* The simulated hypervisor alone: grant checks and event semantics. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "simhv.h"
#include "tests.h"

#define PG SIMHV_PAGE_SIZE

/* A fresh hypervisor in /dev/shm with domains 1 and 2 (64 pages each). */
static struct simhv *
fresh(char *dir)
{
	struct simhv *hv;

	strcpy(dir, "/dev/shm/simhv-XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	hv = simhv_open(dir, true);
	CHECK(hv != NULL);
	CHECK_EQ(simhv_domain_create(hv, 1, 64), 0);
	CHECK_EQ(simhv_domain_create(hv, 2, 64), 0);
	return hv;
}

static void
cleanup(struct simhv *hv, const char *dir)
{
	char cmd[128];

	simhv_close(hv);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_EQ(system(cmd), 0);
}

static int16_t
copy_from(struct simhv *hv, uint16_t self, uint16_t dom, uint32_t ref,
	  uint16_t off, uint16_t len, void *dst)
{
	xengnttab_grant_copy_segment_t s = { 0 };

	s.source.foreign.ref = ref;
	s.source.foreign.domid = dom;
	s.source.foreign.offset = off;
	s.dest.virt = dst;
	s.len = len;
	s.flags = GNTCOPY_source_gref;
	s.status = 99;
	CHECK_EQ(simhv_grant_copy(hv, self, 1, &s), 0);
	return s.status;
}

static int16_t
copy_to(struct simhv *hv, uint16_t self, uint16_t dom, uint32_t ref,
	uint16_t off, uint16_t len, const void *src)
{
	xengnttab_grant_copy_segment_t s = { 0 };

	s.dest.foreign.ref = ref;
	s.dest.foreign.domid = dom;
	s.dest.foreign.offset = off;
	s.source.virt = (void *)src;
	s.len = len;
	s.flags = GNTCOPY_dest_gref;
	s.status = 99;
	CHECK_EQ(simhv_grant_copy(hv, self, 1, &s), 0);
	return s.status;
}

/* A grant-to-grant segment from (sd, sref, soff) to (dd, dref, doff). */
static int16_t
copy_g2g(struct simhv *hv, uint16_t self, uint16_t sd, uint32_t sref,
	 uint16_t soff, uint16_t dd, uint32_t dref, uint16_t doff, uint16_t len)
{
	xengnttab_grant_copy_segment_t s = { 0 };

	s.source.foreign.domid = sd;
	s.source.foreign.ref = sref;
	s.source.foreign.offset = soff;
	s.dest.foreign.domid = dd;
	s.dest.foreign.ref = dref;
	s.dest.foreign.offset = doff;
	s.len = len;
	s.flags = GNTCOPY_source_gref | GNTCOPY_dest_gref;
	s.status = 99;
	CHECK_EQ(simhv_grant_copy(hv, self, 1, &s), 0);
	return s.status;
}

static int
readable(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, timeout_ms);
}

/* A guest port of dom `g` bound by a dom0 handle; returns both ports. */
static void
connect_ports(struct simhv_evtchn *guest, uint16_t g, struct simhv_evtchn *be,
	      int *gp, int *bp)
{
	*gp = simhv_evtchn_alloc_unbound(guest, 0);
	CHECK(*gp > 0);
	*bp = simhv_evtchn_bind_interdomain(be, g, (uint32_t)*gp);
	CHECK(*bp > 0);
}

/* ---- opening ---- */

TEST(open_reopen_and_errors)
{
	char dir[64], path[128], longdir[128];
	struct simhv *hv = fresh(dir), *again, *old;
	struct stat sb;
	int fd;

	CHECK(simhv_domain_exists(hv, 0));
	CHECK_STREQ(simhv_dir(hv), dir);
	/* A second open sees the same state. */
	again = simhv_open(dir, false);
	CHECK(again != NULL);
	CHECK(simhv_domain_exists(again, 1));
	CHECK_EQ(simhv_domain_pages(again, 2), 64);
	simhv_close(again);
	/* No state there. */
	CHECK(simhv_open("/dev/shm/simhv-does-not-exist", false) == NULL);
	CHECK_EQ(errno, ENOENT);
	/* Socket paths must fit under the directory. */
	memset(longdir, 'x', 100);
	memcpy(longdir, "/dev/shm/", 9);
	longdir[100] = '\0';
	CHECK(simhv_open(longdir, true) == NULL);
	CHECK_EQ(errno, ENAMETOOLONG);
	/* A state of another version is refused. */
	snprintf(path, sizeof(path), "%s/state", dir);
	fd = open(path, O_RDWR);
	CHECK(fd >= 0);
	CHECK_EQ(pwrite(fd, "NOTSIMHV", 8, 0), 8);
	CHECK(simhv_open(dir, false) == NULL);
	CHECK_EQ(errno, EINVAL);
	/* A state of another size too. */
	CHECK(fstat(fd, &sb) == 0);
	CHECK_EQ(ftruncate(fd, sb.st_size + PG), 0);
	CHECK(simhv_open(dir, false) == NULL);
	CHECK_EQ(errno, EINVAL);
	close(fd);
	/* create discards the earlier state; a process still holding it
	 * keeps its own view. */
	old = hv;
	hv = simhv_open(dir, true);
	CHECK(hv != NULL);
	CHECK(!simhv_domain_exists(hv, 1));
	CHECK(simhv_domain_exists(hv, 0));
	CHECK(simhv_domain_exists(old, 1));
	simhv_close(old);
	cleanup(hv, dir);
}

TEST(state_is_sparse)
{
	char dir[64], path[128];
	struct simhv *hv = fresh(dir);
	struct simhv_evtchn *e = simhv_evtchn_open(hv, 1);
	struct stat sb;
	int refs = 0;

	CHECK(e != NULL);
	CHECK(simhv_evtchn_alloc_unbound(e, 0) > 0);
	snprintf(path, sizeof(path), "%s/state", dir);
	CHECK(stat(path, &sb) == 0);
	/* Hundreds of MiB of address space, almost none of it memory. */
	CHECK(sb.st_size > 200ll << 20);
	CHECK(sb.st_blocks * 512ll <= 64 << 10);
	/* A full grant table takes its pages ... */
	for (int i = 0; i < 16000; i++)
		refs += simhv_grant_access(hv, 1, 0, 0, false) > 0;
	CHECK_EQ(refs, 16000);
	CHECK(stat(path, &sb) == 0);
	CHECK(sb.st_blocks * 512ll >= 100 << 10);
	/* ... and gives them back when its domain is destroyed. */
	CHECK_EQ(simhv_domain_destroy(hv, 1), 0);
	CHECK(stat(path, &sb) == 0);
	CHECK(sb.st_blocks * 512ll <= 64 << 10);
	CHECK_EQ(simhv_domain_grants(hv, 1), 0);
	simhv_evtchn_close(e);
	cleanup(hv, dir);
}

/* ---- domains ---- */

TEST(domain_create_rules)
{
	char dir[64];
	struct simhv *hv = fresh(dir);
	char *mem;

	CHECK_EQ(simhv_domain_create(hv, 0, 8), -EINVAL);
	CHECK_EQ(simhv_domain_create(hv, SIMHV_MAX_DOMAINS, 8), -EINVAL);
	CHECK_EQ(simhv_domain_create(hv, 3, 0), -EINVAL);
	CHECK_EQ(simhv_domain_create(hv, 1, 8), -EEXIST);
	CHECK_EQ(simhv_domain_create(hv, SIMHV_MAX_DOMAINS - 1, 3), 0);
	CHECK_EQ(simhv_domain_pages(hv, SIMHV_MAX_DOMAINS - 1), 3);
	CHECK_EQ(simhv_domain_pages(hv, 9), -ESRCH);
	CHECK(!simhv_domain_exists(hv, 9));
	CHECK(!simhv_domain_exists(hv, SIMHV_MAX_DOMAINS));
	mem = simhv_guest_memory(hv, 1);
	CHECK(mem != NULL);
	for (unsigned i = 0; i < 64 * PG; i++)
		CHECK_EQ(mem[i], 0);
	CHECK(simhv_guest_memory(hv, 0) == NULL);
	CHECK_EQ(errno, ESRCH);
	CHECK(simhv_guest_memory(hv, 9) == NULL);
	CHECK_EQ(simhv_domain_destroy(hv, 0), -EPERM);
	CHECK_EQ(simhv_domain_destroy(hv, 9), -ESRCH);
	/* Grant refs start above Linux's reserved ones and are refused for
	 * pages the domain does not have. */
	CHECK_EQ(simhv_grant_access(hv, 1, 0, 0, false), 8);
	CHECK_EQ(simhv_grant_access(hv, 1, 0, 64, false), -EINVAL);
	CHECK_EQ(simhv_grant_access(hv, 1, SIMHV_MAX_DOMAINS, 0, false),
		 -EINVAL);
	CHECK_EQ(simhv_grant_access(hv, 9, 0, 0, false), -ESRCH);
	cleanup(hv, dir);
}

/* ---- grant copy: good copies ---- */

TEST(copy_both_ways_byte_exact)
{
	char dir[64];
	struct simhv *hv = fresh(dir);
	unsigned char *mem = simhv_guest_memory(hv, 1);
	unsigned char in[PG], out[PG];
	int ref = simhv_grant_access(hv, 1, 0, 5, false);

	CHECK(mem && ref > 0);
	for (unsigned i = 0; i < PG; i++)
		mem[5 * PG + i] = (unsigned char)(i * 7 + 3);
	/* A whole page out of the guest. */
	memset(out, 0, sizeof(out));
	CHECK_EQ(copy_from(hv, 0, 1, (uint32_t)ref, 0, PG, out), GNTST_okay);
	CHECK(memcmp(out, mem + 5 * PG, PG) == 0);
	/* A slice in the middle, into the middle of a local buffer. */
	memset(out, 0xee, sizeof(out));
	CHECK_EQ(copy_from(hv, 0, 1, (uint32_t)ref, 1000, 333, out + 10),
		 GNTST_okay);
	CHECK(memcmp(out + 10, mem + 5 * PG + 1000, 333) == 0);
	CHECK_EQ(out[9], 0xee);
	CHECK_EQ(out[343], 0xee);
	/* Into the guest, ending exactly at the page's end. */
	for (unsigned i = 0; i < PG; i++)
		in[i] = (unsigned char)(255 - i);
	CHECK_EQ(copy_to(hv, 0, 1, (uint32_t)ref, PG - 96, 96, in),
		 GNTST_okay);
	CHECK(memcmp(mem + 6 * PG - 96, in, 96) == 0);
	CHECK_EQ(mem[6 * PG - 97], (unsigned char)((PG - 97) * 7 + 3));
	CHECK_EQ(mem[6 * PG], 0); /* the next page untouched */
	/* A zero-length copy is fine. */
	CHECK_EQ(copy_to(hv, 0, 1, (uint32_t)ref, 0, 0, in), GNTST_okay);
	/* Local to local is a plain memcpy. */
	xengnttab_grant_copy_segment_t s = { 0 };
	s.source.virt = in;
	s.dest.virt = out;
	s.len = 64;
	CHECK_EQ(simhv_grant_copy(hv, 0, 1, &s), 0);
	CHECK_EQ(s.status, GNTST_okay);
	CHECK(memcmp(in, out, 64) == 0);
	cleanup(hv, dir);
}

TEST(copy_grant_to_grant)
{
	char dir[64];
	struct simhv *hv = fresh(dir);
	char *m1 = simhv_guest_memory(hv, 1), *m2 = simhv_guest_memory(hv, 2);
	int src = simhv_grant_access(hv, 1, 0, 1, true);
	int dst = simhv_grant_access(hv, 2, 0, 2, false);
	int dst_ro = simhv_grant_access(hv, 2, 0, 3, true);
	int src_other = simhv_grant_access(hv, 1, 2, 4, false);

	CHECK(src > 0 && dst > 0 && dst_ro > 0 && src_other > 0);
	memcpy(m1 + PG + 10, "grant2grant", 11);
	CHECK_EQ(copy_g2g(hv, 0, 1, (uint32_t)src, 10, 2, (uint32_t)dst, 20,
			  11), GNTST_okay);
	CHECK(memcmp(m2 + 2 * PG + 20, "grant2grant", 11) == 0);
	/* Both sides are checked. */
	CHECK_EQ(copy_g2g(hv, 0, 1, (uint32_t)src, 10, 2, (uint32_t)dst_ro, 0,
			  11), GNTST_permission_denied);
	CHECK_EQ(copy_g2g(hv, 0, 1, (uint32_t)src_other, 0, 2, (uint32_t)dst,
			  0, 11), GNTST_permission_denied);
	/* Within one domain, from one granted page to another. */
	int d1 = simhv_grant_access(hv, 1, 0, 9, false);
	CHECK_EQ(copy_g2g(hv, 0, 1, (uint32_t)src, 10, 1, (uint32_t)d1, 0, 11),
		 GNTST_okay);
	CHECK(memcmp(m1 + 9 * PG, "grant2grant", 11) == 0);
	cleanup(hv, dir);
}

/* ---- grant copy: each failure ---- */

TEST(copy_ref_out_of_range)
{
	char dir[64], buf[16];
	struct simhv *hv = fresh(dir);

	CHECK_EQ(copy_from(hv, 0, 1, SIMHV_MAX_GRANTS, 0, 8, buf),
		 GNTST_bad_gntref);
	CHECK_EQ(copy_from(hv, 0, 1, UINT32_MAX, 0, 8, buf), GNTST_bad_gntref);
	CHECK_EQ(copy_to(hv, 0, 1, SIMHV_MAX_GRANTS + 5, 0, 8, buf),
		 GNTST_bad_gntref);
	cleanup(hv, dir);
}

TEST(copy_ref_not_in_use)
{
	char dir[64], buf[16] = "";
	struct simhv *hv = fresh(dir);
	int ref = simhv_grant_access(hv, 1, 0, 3, false);

	CHECK(ref > 0);
	CHECK_EQ(copy_from(hv, 0, 1, 3000, 0, 8, buf), GNTST_bad_gntref);
	CHECK_EQ(copy_from(hv, 0, 1, 0, 0, 8, buf), GNTST_bad_gntref);
	CHECK_EQ(copy_from(hv, 0, 1, (uint32_t)ref, 0, 8, buf), GNTST_okay);
	/* An ended grant is no longer in use. */
	CHECK_EQ(simhv_grant_end(hv, 1, (uint32_t)ref), 0);
	CHECK_EQ(copy_from(hv, 0, 1, (uint32_t)ref, 0, 8, buf),
		 GNTST_bad_gntref);
	CHECK_EQ(copy_to(hv, 0, 1, (uint32_t)ref, 0, 8, buf),
		 GNTST_bad_gntref);
	CHECK_EQ(simhv_grant_end(hv, 1, (uint32_t)ref), -EINVAL);
	CHECK_EQ(simhv_grant_end(hv, 1, SIMHV_MAX_GRANTS), -EINVAL);
	cleanup(hv, dir);
}

TEST(copy_readonly_grant_as_dest)
{
	char dir[64], buf[16];
	struct simhv *hv = fresh(dir);
	char *mem = simhv_guest_memory(hv, 1);
	int ro = simhv_grant_access(hv, 1, 0, 4, true);

	CHECK(ro > 0);
	memcpy(mem + 4 * PG, "readonly", 8);
	CHECK_EQ(copy_from(hv, 0, 1, (uint32_t)ro, 0, 8, buf), GNTST_okay);
	CHECK(memcmp(buf, "readonly", 8) == 0);
	CHECK_EQ(copy_to(hv, 0, 1, (uint32_t)ro, 0, 8, "XXXXXXXX"),
		 GNTST_permission_denied);
	CHECK(memcmp(mem + 4 * PG, "readonly", 8) == 0);
	cleanup(hv, dir);
}

TEST(copy_beyond_page)
{
	char dir[64], buf[PG];
	struct simhv *hv = fresh(dir);
	char *mem = simhv_guest_memory(hv, 1);
	int ref = simhv_grant_access(hv, 1, 0, 3, false);

	CHECK(ref > 0);
	memset(buf, 'z', sizeof(buf));
	CHECK_EQ(copy_from(hv, 0, 1, (uint32_t)ref, 4000, 97, buf),
		 GNTST_bad_copy_arg);
	CHECK_EQ(copy_from(hv, 0, 1, (uint32_t)ref, 1, PG, buf),
		 GNTST_bad_copy_arg);
	CHECK_EQ(copy_to(hv, 0, 1, (uint32_t)ref, 4000, 97, buf),
		 GNTST_bad_copy_arg);
	CHECK_EQ(copy_to(hv, 0, 1, (uint32_t)ref, UINT16_MAX, 1, buf),
		 GNTST_bad_copy_arg);
	/* Nothing was written, not even the part inside the page. */
	CHECK_EQ(mem[3 * PG + 4000], 0);
	CHECK_EQ(mem[4 * PG], 0);
	/* Up to the last byte is fine. */
	CHECK_EQ(copy_to(hv, 0, 1, (uint32_t)ref, 4000, 96, buf), GNTST_okay);
	cleanup(hv, dir);
}

TEST(copy_grant_to_another_domain)
{
	char dir[64], buf[16];
	struct simhv *hv = fresh(dir);
	int other = simhv_grant_access(hv, 1, 2, 5, false);

	CHECK(other > 0);
	CHECK_EQ(copy_from(hv, 0, 1, (uint32_t)other, 0, 8, buf),
		 GNTST_permission_denied);
	CHECK_EQ(copy_to(hv, 0, 1, (uint32_t)other, 0, 8, buf),
		 GNTST_permission_denied);
	/* The grantee itself may. */
	CHECK_EQ(copy_from(hv, 2, 1, (uint32_t)other, 0, 8, buf), GNTST_okay);
	cleanup(hv, dir);
}

TEST(copy_missing_domain)
{
	char dir[64], buf[16];
	struct simhv *hv = fresh(dir);
	int ref = simhv_grant_access(hv, 1, 0, 1, false);

	CHECK_EQ(copy_from(hv, 0, 7, (uint32_t)ref, 0, 8, buf),
		 GNTST_bad_domain);
	CHECK_EQ(copy_to(hv, 0, 7, (uint32_t)ref, 0, 8, buf),
		 GNTST_bad_domain);
	CHECK_EQ(copy_from(hv, 0, SIMHV_MAX_DOMAINS, 8, 0, 8, buf),
		 GNTST_bad_domain);
	CHECK_EQ(copy_from(hv, 0, UINT16_MAX, 8, 0, 8, buf), GNTST_bad_domain);
	/* dom0's memory is not simulated: nothing can be copied from it. */
	CHECK_EQ(copy_from(hv, 1, 0, 8, 0, 8, buf), GNTST_bad_domain);
	/* A missing destination with a good source. */
	CHECK_EQ(copy_g2g(hv, 0, 1, (uint32_t)ref, 0, 7, 8, 0, 8),
		 GNTST_bad_domain);
	cleanup(hv, dir);
}

TEST(copy_checks_in_xen_order)
{
	char dir[64];
	struct simhv *hv = fresh(dir);
	int rw = simhv_grant_access(hv, 1, 0, 1, false);
	int ro = simhv_grant_access(hv, 2, 0, 1, true);
	int other = simhv_grant_access(hv, 1, 2, 2, false);

	CHECK(rw > 0 && ro > 0 && other > 0);
	/* Domains first: a missing dest domain beats a bad source ref. */
	CHECK_EQ(copy_g2g(hv, 0, 1, 5000, 0, 7, 8, 0, 8), GNTST_bad_domain);
	/* Source entry before dest entry. */
	CHECK_EQ(copy_g2g(hv, 0, 1, (uint32_t)other, 0, 2, 5000, 0, 8),
		 GNTST_permission_denied);
	CHECK_EQ(copy_g2g(hv, 0, 1, 5000, 0, 2, (uint32_t)ro, 0, 8),
		 GNTST_bad_gntref);
	/* Entries before page bounds. */
	CHECK_EQ(copy_g2g(hv, 0, 1, 5000, 4000, 2, 8, 0, 200),
		 GNTST_bad_gntref);
	CHECK_EQ(copy_g2g(hv, 0, 1, (uint32_t)rw, 4000, 2, (uint32_t)ro, 0,
			  200), GNTST_permission_denied);
	CHECK_EQ(copy_g2g(hv, 0, 1, (uint32_t)rw, 0, 1, (uint32_t)rw, 4000,
			  200), GNTST_bad_copy_arg);
	cleanup(hv, dir);
}

TEST(copy_batch_and_counters)
{
	char dir[64], buf[4][16];
	struct simhv *hv = fresh(dir);
	char *mem = simhv_guest_memory(hv, 1);
	int rw = simhv_grant_access(hv, 1, 0, 3, false);
	xengnttab_grant_copy_segment_t segs[4] = { 0 };
	struct simhv_stats a, b;

	memcpy(mem + 3 * PG, "batch", 5);
	for (int i = 0; i < 4; i++) {
		segs[i].source.foreign.domid = 1;
		segs[i].source.foreign.ref = (uint32_t)rw;
		segs[i].dest.virt = buf[i];
		segs[i].len = 5;
		segs[i].flags = GNTCOPY_source_gref;
	}
	segs[1].source.foreign.ref = 3001;
	segs[2].source.foreign.domid = 9;
	simhv_get_stats(hv, &a);
	CHECK_EQ(simhv_grant_copy(hv, 0, 4, segs), 0);
	simhv_get_stats(hv, &b);
	/* One bad segment does not stop the others. */
	CHECK_EQ(segs[0].status, GNTST_okay);
	CHECK_EQ(segs[1].status, GNTST_bad_gntref);
	CHECK_EQ(segs[2].status, GNTST_bad_domain);
	CHECK_EQ(segs[3].status, GNTST_okay);
	CHECK(memcmp(buf[0], "batch", 5) == 0);
	CHECK(memcmp(buf[3], "batch", 5) == 0);
	CHECK_EQ(b.copy_calls - a.copy_calls, 1);
	CHECK_EQ(b.copy_segs - a.copy_segs, 4);
	CHECK_EQ(b.copy_errors - a.copy_errors, 2);
	/* An empty batch is a call; a NULL one with segments is refused. */
	CHECK_EQ(simhv_grant_copy(hv, 0, 0, NULL), 0);
	CHECK_EQ(simhv_grant_copy(hv, 0, 1, NULL), -EINVAL);
	simhv_get_stats(hv, &a);
	CHECK_EQ(a.copy_calls - b.copy_calls, 1);
	CHECK_EQ(a.copy_segs, b.copy_segs);
	CHECK_EQ(b.grants_active, 1);
	cleanup(hv, dir);
}

TEST(grant_update_repoints)
{
	char dir[64], buf[8];
	struct simhv *hv = fresh(dir);
	char *mem = simhv_guest_memory(hv, 1);
	uint32_t ref = (uint32_t)simhv_grant_access(hv, 1, 0, 1, false);
	char *map;

	memcpy(mem + 1 * PG, "page one", 8);
	memcpy(mem + 2 * PG, "page two", 8);
	map = simhv_map_grants(hv, 0, 1, 1, &ref, false);
	CHECK(map != NULL);
	CHECK_EQ(simhv_grant_update(hv, 1, ref, 2, true), 0);
	/* Copies see the new page at once, now read-only ... */
	CHECK_EQ(copy_from(hv, 0, 1, ref, 0, 8, buf), GNTST_okay);
	CHECK(memcmp(buf, "page two", 8) == 0);
	CHECK_EQ(copy_to(hv, 0, 1, ref, 0, 8, buf), GNTST_permission_denied);
	/* ... the mapping keeps the page it mapped, and its count. */
	CHECK(memcmp(map, "page one", 8) == 0);
	CHECK_EQ(simhv_domain_mapped(hv, 1), 1);
	CHECK_EQ(simhv_grant_update(hv, 1, ref, 64, false), -EINVAL);
	CHECK_EQ(simhv_grant_update(hv, 1, 5000, 1, false), -EINVAL);
	CHECK_EQ(simhv_grant_update(hv, 9, ref, 1, false), -ESRCH);
	CHECK_EQ(simhv_unmap_grants(hv, map, 1), 0);
	cleanup(hv, dir);
}

/* ---- mapping ---- */

TEST(map_contiguous_and_counts)
{
	char dir[64];
	struct simhv *hv = fresh(dir);
	char *mem = simhv_guest_memory(hv, 1);
	uint32_t refs[3];
	struct simhv_stats st;
	char *p, *q;

	refs[0] = (uint32_t)simhv_grant_access(hv, 1, 0, 6, false);
	refs[1] = (uint32_t)simhv_grant_access(hv, 1, 0, 20, false);
	refs[2] = (uint32_t)simhv_grant_access(hv, 1, 0, 9, false);
	p = simhv_map_grants(hv, 0, 1, 3, refs, true);
	CHECK(p != NULL);
	CHECK_EQ(simhv_domain_mapped(hv, 1), 3);
	/* Pages in ref order, at contiguous addresses, shared both ways. */
	p[5] = 'x';
	p[PG + 5] = 'y';
	p[2 * PG + PG - 1] = 'z';
	CHECK_EQ(mem[6 * PG + 5], 'x');
	CHECK_EQ(mem[20 * PG + 5], 'y');
	CHECK_EQ(mem[10 * PG - 1], 'z');
	mem[20 * PG + 100] = 'g';
	CHECK_EQ(p[PG + 100], 'g');
	/* A second mapping of the same grant counts again. */
	q = simhv_map_grants(hv, 0, 1, 1, &refs[1], false);
	CHECK(q != NULL && q != p);
	CHECK_EQ(q[5], 'y');
	CHECK_EQ(simhv_domain_mapped(hv, 1), 4);
	simhv_get_stats(hv, &st);
	CHECK_EQ(st.maps, 4);
	/* Unmap must match a mapping. */
	CHECK_EQ(simhv_unmap_grants(hv, p, 2), -EINVAL);
	CHECK_EQ(simhv_unmap_grants(hv, p + PG, 1), -EINVAL);
	CHECK_EQ(simhv_unmap_grants(hv, p, 3), 0);
	CHECK_EQ(simhv_unmap_grants(hv, p, 3), -EINVAL);
	CHECK_EQ(simhv_domain_mapped(hv, 1), 1);
	CHECK_EQ(simhv_unmap_grants(hv, q, 1), 0);
	CHECK_EQ(simhv_domain_mapped(hv, 1), 0);
	/* What close finds still mapped, it unmaps. */
	p = simhv_map_grants(hv, 0, 1, 1, refs, true);
	CHECK(p != NULL);
	struct simhv *other = simhv_open(dir, false);
	CHECK(other != NULL);
	CHECK(simhv_map_grants(other, 0, 1, 1, refs, true) != NULL);
	CHECK_EQ(simhv_domain_mapped(hv, 1), 2);
	simhv_close(other);
	CHECK_EQ(simhv_domain_mapped(hv, 1), 1);
	CHECK_EQ(simhv_unmap_grants(hv, p, 1), 0);
	cleanup(hv, dir);
}

TEST(grant_end_busy_while_mapped)
{
	char dir[64], buf[8];
	struct simhv *hv = fresh(dir);
	uint32_t ref = (uint32_t)simhv_grant_access(hv, 1, 0, 6, false);
	char *p = simhv_map_grants(hv, 0, 1, 1, &ref, true);

	CHECK(p != NULL);
	CHECK_EQ(simhv_grant_end(hv, 1, ref), -EBUSY);
	/* The entry stays valid. */
	CHECK_EQ(copy_from(hv, 0, 1, ref, 0, 8, buf), GNTST_okay);
	CHECK_EQ(simhv_domain_grants(hv, 1), 1);
	CHECK_EQ(simhv_unmap_grants(hv, p, 1), 0);
	CHECK_EQ(simhv_grant_end(hv, 1, ref), 0);
	CHECK_EQ(simhv_domain_grants(hv, 1), 0);
	/* The freed ref is handed out again. */
	CHECK_EQ(simhv_grant_access(hv, 1, 0, 7, false), (int)ref);
	cleanup(hv, dir);
}

TEST(map_errors)
{
	char dir[64];
	struct simhv *hv = fresh(dir);
	uint32_t good = (uint32_t)simhv_grant_access(hv, 1, 0, 6, false);
	uint32_t ro = (uint32_t)simhv_grant_access(hv, 1, 0, 7, true);
	uint32_t other = (uint32_t)simhv_grant_access(hv, 1, 2, 8, false);
	uint32_t refs[2];

	errno = 0;
	CHECK(simhv_map_grants(hv, 0, 1, 1, &ro, true) == NULL);
	CHECK_EQ(errno, EPERM);
	CHECK(simhv_map_grants(hv, 0, 1, 1, &other, false) == NULL);
	CHECK_EQ(errno, EPERM);
	refs[0] = 4000;
	CHECK(simhv_map_grants(hv, 0, 1, 1, refs, false) == NULL);
	CHECK_EQ(errno, EINVAL);
	refs[0] = SIMHV_MAX_GRANTS;
	CHECK(simhv_map_grants(hv, 0, 1, 1, refs, false) == NULL);
	CHECK_EQ(errno, EINVAL);
	CHECK(simhv_map_grants(hv, 0, 1, 0, &good, false) == NULL);
	CHECK_EQ(errno, EINVAL);
	CHECK(simhv_map_grants(hv, 0, 7, 1, &good, false) == NULL);
	CHECK_EQ(errno, ESRCH);
	CHECK(simhv_map_grants(hv, 1, 0, 1, &good, false) == NULL);
	CHECK_EQ(errno, ESRCH);
	/* A failure part-way leaves no count behind. */
	refs[0] = good;
	refs[1] = other;
	CHECK(simhv_map_grants(hv, 0, 1, 2, refs, false) == NULL);
	CHECK_EQ(errno, EPERM);
	CHECK_EQ(simhv_domain_mapped(hv, 1), 0);
	CHECK_EQ(simhv_grant_end(hv, 1, good), 0);
	/* A read-only grant maps read-only. */
	char *p = simhv_map_grants(hv, 0, 1, 1, &ro, false);
	CHECK(p != NULL);
	CHECK_EQ(simhv_domain_mapped(hv, 1), 1);
	CHECK_EQ(simhv_unmap_grants(hv, p, 1), 0);
	cleanup(hv, dir);
}

TEST(map_readonly_faults_on_write)
{
	char dir[64];
	struct simhv *hv = fresh(dir);
	char *mem = simhv_guest_memory(hv, 1);
	uint32_t ro = (uint32_t)simhv_grant_access(hv, 1, 0, 7, true);
	volatile char *p = simhv_map_grants(hv, 0, 1, 1, &ro, false);
	int st;

	CHECK(p != NULL);
	mem[7 * PG] = 'r';
	CHECK_EQ(p[0], 'r');
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL);
		p[0] = 'w';
		_exit(0);
	}
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
	CHECK_EQ(mem[7 * PG], 'r');
	CHECK_EQ(simhv_unmap_grants(hv, (void *)p, 1), 0);
	cleanup(hv, dir);
}

/* ---- event channels ---- */

TEST(evtchn_bind_notify_pending_unmask)
{
	char dir[64];
	struct simhv *hv = fresh(dir);
	struct simhv_evtchn *g = simhv_evtchn_open(hv, 1);
	struct simhv_evtchn *b = simhv_evtchn_open(hv, 0);
	struct simhv_evtchn *x = simhv_evtchn_open(hv, 2);
	int gp, bp, bfd;

	CHECK(g && b && x);
	bfd = simhv_evtchn_fd(b);
	gp = simhv_evtchn_alloc_unbound(g, 0);
	CHECK(gp > 0);
	CHECK_EQ(simhv_domain_ports(hv, 1), 1);
	/* Only the named remote may bind, only an unbound port, once. */
	CHECK_EQ(simhv_evtchn_bind_interdomain(x, 1, (uint32_t)gp), -EPERM);
	CHECK_EQ(simhv_evtchn_bind_interdomain(b, 1, 0), -EINVAL);
	CHECK_EQ(simhv_evtchn_bind_interdomain(b, 1, 77), -EINVAL);
	CHECK_EQ(simhv_evtchn_bind_interdomain(b, 1, SIMHV_MAX_PORTS),
		 -EINVAL);
	CHECK_EQ(simhv_evtchn_bind_interdomain(b, 5, (uint32_t)gp), -ESRCH);
	bp = simhv_evtchn_bind_interdomain(b, 1, (uint32_t)gp);
	CHECK(bp > 0);
	CHECK_EQ(simhv_evtchn_bind_interdomain(b, 1, (uint32_t)gp), -EBUSY);
	/* An unbound port cannot notify. */
	int lone = simhv_evtchn_alloc_unbound(g, 0);
	CHECK(lone > 0);
	CHECK_EQ(simhv_evtchn_notify(g, (uint32_t)lone), -ENOTCONN);
	/* Another handle's port is not ours to use. */
	CHECK_EQ(simhv_evtchn_notify(x, (uint32_t)gp), -EINVAL);
	CHECK_EQ(simhv_evtchn_unmask(x, (uint32_t)gp), -EINVAL);
	CHECK_EQ(simhv_evtchn_unbind(x, (uint32_t)gp), -EINVAL);
	CHECK_EQ(simhv_evtchn_notify(b, 0), -EINVAL);

	CHECK_EQ(readable(bfd, 0), 0);
	CHECK_EQ(simhv_evtchn_pending(b), -EAGAIN);
	/* A notify wakes the peer's fd and is taken once. */
	CHECK_EQ(simhv_evtchn_notify(g, (uint32_t)gp), 0);
	CHECK_EQ(readable(bfd, 1000), 1);
	CHECK_EQ(simhv_evtchn_pending(b), bp);
	CHECK_EQ(readable(bfd, 0), 0);
	CHECK_EQ(simhv_evtchn_pending(b), -EAGAIN);
	/* After unmask the next notify delivers again. */
	CHECK_EQ(simhv_evtchn_unmask(b, (uint32_t)bp), 0);
	CHECK_EQ(simhv_evtchn_notify(g, (uint32_t)gp), 0);
	CHECK_EQ(readable(bfd, 1000), 1);
	CHECK_EQ(simhv_evtchn_pending(b), bp);
	/* The other direction. */
	CHECK_EQ(simhv_evtchn_notify(b, (uint32_t)bp), 0);
	CHECK_EQ(readable(simhv_evtchn_fd(g), 1000), 1);
	CHECK_EQ(simhv_evtchn_pending(g), gp);
	CHECK_EQ(simhv_evtchn_pending(g), -EAGAIN);
	simhv_evtchn_close(x);
	simhv_evtchn_close(b);
	simhv_evtchn_close(g);
	CHECK_EQ(simhv_domain_ports(hv, 0), 0);
	CHECK_EQ(simhv_domain_ports(hv, 1), 0);
	cleanup(hv, dir);
}

TEST(evtchn_notifies_coalesce_while_masked)
{
	char dir[64];
	struct simhv *hv = fresh(dir);
	struct simhv_evtchn *g = simhv_evtchn_open(hv, 1);
	struct simhv_evtchn *b = simhv_evtchn_open(hv, 0);
	struct simhv_stats s0, s1;
	int gp, bp;

	CHECK(g && b);
	connect_ports(g, 1, b, &gp, &bp);
	simhv_get_stats(hv, &s0);
	for (int i = 0; i < 100; i++)
		CHECK_EQ(simhv_evtchn_notify(g, (uint32_t)gp), 0);
	simhv_get_stats(hv, &s1);
	/* 100 notifies, one delivery: the first masked the port. */
	CHECK_EQ(s1.notifies - s0.notifies, 100);
	CHECK_EQ(s1.deliveries - s0.deliveries, 1);
	CHECK_EQ(simhv_evtchn_pending(b), bp);
	CHECK_EQ(simhv_evtchn_pending(b), -EAGAIN);
	CHECK_EQ(readable(simhv_evtchn_fd(b), 0), 0);
	/* The 99 that came while masked are one pending event. */
	CHECK_EQ(simhv_evtchn_unmask(b, (uint32_t)bp), 0);
	CHECK_EQ(simhv_evtchn_pending(b), bp);
	CHECK_EQ(simhv_evtchn_pending(b), -EAGAIN);
	simhv_get_stats(hv, &s1);
	CHECK_EQ(s1.deliveries - s0.deliveries, 2);
	CHECK_EQ(simhv_evtchn_unmask(b, (uint32_t)bp), 0);
	CHECK_EQ(simhv_evtchn_pending(b), -EAGAIN);
	simhv_evtchn_close(b);
	simhv_evtchn_close(g);
	cleanup(hv, dir);
}

TEST(evtchn_delivery_at_unmask)
{
	char dir[64];
	struct simhv *hv = fresh(dir);
	struct simhv_evtchn *g = simhv_evtchn_open(hv, 1);
	struct simhv_evtchn *b = simhv_evtchn_open(hv, 0);
	int gp, bp, bfd;

	CHECK(g && b);
	bfd = simhv_evtchn_fd(b);
	connect_ports(g, 1, b, &gp, &bp);
	CHECK_EQ(simhv_evtchn_notify(g, (uint32_t)gp), 0);
	CHECK_EQ(simhv_evtchn_pending(b), bp);
	/* Masked: a notify only marks it pending, the fd stays quiet. */
	CHECK_EQ(simhv_evtchn_notify(g, (uint32_t)gp), 0);
	CHECK_EQ(readable(bfd, 0), 0);
	CHECK_EQ(simhv_evtchn_pending(b), -EAGAIN);
	/* Unmask delivers it, and leaves the port masked again. */
	CHECK_EQ(simhv_evtchn_unmask(b, (uint32_t)bp), 0);
	CHECK_EQ(readable(bfd, 1000), 1);
	CHECK_EQ(simhv_evtchn_pending(b), bp);
	CHECK_EQ(simhv_evtchn_notify(g, (uint32_t)gp), 0);
	CHECK_EQ(readable(bfd, 0), 0);
	/* Unmask with it pending again: once more. */
	CHECK_EQ(simhv_evtchn_unmask(b, (uint32_t)bp), 0);
	CHECK_EQ(simhv_evtchn_pending(b), bp);
	/* Unmask with nothing pending: nothing, and the port is open. */
	CHECK_EQ(simhv_evtchn_unmask(b, (uint32_t)bp), 0);
	CHECK_EQ(readable(bfd, 0), 0);
	CHECK_EQ(simhv_evtchn_notify(g, (uint32_t)gp), 0);
	CHECK_EQ(readable(bfd, 1000), 1);
	CHECK_EQ(simhv_evtchn_pending(b), bp);
	simhv_evtchn_close(b);
	simhv_evtchn_close(g);
	cleanup(hv, dir);
}

TEST(evtchn_enotconn_after_peer_unbinds)
{
	char dir[64];
	struct simhv *hv = fresh(dir);
	struct simhv_evtchn *g = simhv_evtchn_open(hv, 1);
	struct simhv_evtchn *b = simhv_evtchn_open(hv, 0);
	int gp, bp;

	CHECK(g && b);
	connect_ports(g, 1, b, &gp, &bp);
	CHECK_EQ(simhv_domain_ports(hv, 0), 1);
	CHECK_EQ(simhv_evtchn_unbind(b, (uint32_t)bp), 0);
	CHECK_EQ(simhv_evtchn_unbind(b, (uint32_t)bp), -EINVAL);
	CHECK_EQ(simhv_domain_ports(hv, 0), 0);
	CHECK_EQ(simhv_domain_ports(hv, 1), 1);
	CHECK_EQ(simhv_evtchn_notify(g, (uint32_t)gp), -ENOTCONN);
	CHECK_EQ(simhv_evtchn_notify(b, (uint32_t)bp), -EINVAL);
	/* The guest's port is unbound again: a restarted backend binds. */
	bp = simhv_evtchn_bind_interdomain(b, 1, (uint32_t)gp);
	CHECK(bp > 0);
	CHECK_EQ(simhv_evtchn_notify(g, (uint32_t)gp), 0);
	CHECK_EQ(simhv_evtchn_pending(b), bp);
	/* The same when the peer closes its whole handle. */
	simhv_evtchn_close(b);
	CHECK_EQ(simhv_evtchn_notify(g, (uint32_t)gp), -ENOTCONN);
	/* And from the other side: the guest unbinds. */
	b = simhv_evtchn_open(hv, 0);
	CHECK(b != NULL);
	bp = simhv_evtchn_bind_interdomain(b, 1, (uint32_t)gp);
	CHECK(bp > 0);
	CHECK_EQ(simhv_evtchn_unbind(g, (uint32_t)gp), 0);
	CHECK_EQ(simhv_evtchn_notify(b, (uint32_t)bp), -ENOTCONN);
	simhv_evtchn_close(b);
	simhv_evtchn_close(g);
	cleanup(hv, dir);
}

TEST(evtchn_unbind_withdraws_delivery)
{
	char dir[64];
	struct simhv *hv = fresh(dir);
	struct simhv_evtchn *g = simhv_evtchn_open(hv, 1);
	struct simhv_evtchn *b = simhv_evtchn_open(hv, 0);
	int gp, bp;

	CHECK(g && b);
	connect_ports(g, 1, b, &gp, &bp);
	CHECK_EQ(simhv_evtchn_notify(g, (uint32_t)gp), 0);
	CHECK_EQ(simhv_evtchn_unbind(b, (uint32_t)bp), 0);
	CHECK_EQ(simhv_evtchn_pending(b), -EAGAIN);
	CHECK_EQ(readable(simhv_evtchn_fd(b), 0), 0);
	simhv_evtchn_close(b);
	simhv_evtchn_close(g);
	cleanup(hv, dir);
}

/*
 * More ports on one handle than a unix socket queues datagrams (10):
 * every one is delivered, none twice, and the fd goes quiet after.
 */
TEST(evtchn_many_ports_one_handle)
{
	enum { N = 300 };
	char dir[64];
	struct simhv *hv = fresh(dir);
	struct simhv_evtchn *g = simhv_evtchn_open(hv, 1);
	struct simhv_evtchn *b = simhv_evtchn_open(hv, 0);
	int gp[N], bp[N], seen[SIMHV_MAX_PORTS] = { 0 }, n = 0, p;

	CHECK(g && b);
	for (int i = 0; i < N; i++)
		connect_ports(g, 1, b, &gp[i], &bp[i]);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < N; i++)
			CHECK_EQ(simhv_evtchn_notify(g, (uint32_t)gp[i]), 0);
		n = 0;
		memset(seen, 0, sizeof(seen));
		while (n < N && readable(simhv_evtchn_fd(b), 1000) == 1) {
			while ((p = simhv_evtchn_pending(b)) >= 0) {
				CHECK(p < (int)SIMHV_MAX_PORTS);
				CHECK_EQ(seen[p], 0);
				seen[p] = 1;
				n++;
			}
		}
		CHECK_EQ(n, N);
		for (int i = 0; i < N; i++)
			CHECK_EQ(seen[bp[i]], 1);
		CHECK_EQ(readable(simhv_evtchn_fd(b), 0), 0);
		for (int i = 0; i < N; i++)
			CHECK_EQ(simhv_evtchn_unmask(b, (uint32_t)bp[i]), 0);
	}
	simhv_evtchn_close(b);
	simhv_evtchn_close(g);
	cleanup(hv, dir);
}

TEST(evtchn_handle_limits)
{
	char dir[64];
	struct simhv *hv = fresh(dir);
	struct simhv_evtchn *h[64];
	char path[128];
	struct stat sb;

	CHECK(simhv_evtchn_open(hv, SIMHV_MAX_DOMAINS) == NULL);
	CHECK_EQ(errno, EINVAL);
	/* Each handle has its socket in the directory, gone at close. */
	h[0] = simhv_evtchn_open(hv, 0);
	CHECK(h[0] != NULL);
	int id = -1;
	for (int i = 1; i < 100 && id < 0; i++) {
		snprintf(path, sizeof(path), "%s/evtchn-%d.sock", dir, i);
		if (stat(path, &sb) == 0 && S_ISSOCK(sb.st_mode))
			id = i;
	}
	CHECK(id > 0);
	simhv_evtchn_close(h[0]);
	CHECK(stat(path, &sb) < 0);
	/* Slots are reused after close. */
	for (int round = 0; round < 40; round++) {
		for (int i = 0; i < 64; i++) {
			h[i] = simhv_evtchn_open(hv, 1);
			CHECK(h[i] != NULL);
		}
		for (int i = 0; i < 64; i++)
			simhv_evtchn_close(h[i]);
	}
	cleanup(hv, dir);
}

/* ---- processes ---- */

TEST(two_processes_share_it)
{
	char dir[64];
	struct simhv *hv = fresh(dir);
	struct simhv_evtchn *b = simhv_evtchn_open(hv, 0);
	int pipefd[2], msg[3], st;
	char buf[2 * PG];

	CHECK(b != NULL);
	CHECK_EQ(pipe(pipefd), 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		/* The guest: its own open of the hypervisor. */
		struct simhv *g = simhv_open(dir, false);
		struct simhv_evtchn *e = g ? simhv_evtchn_open(g, 1) : NULL;
		char *mem = g ? simhv_guest_memory(g, 1) : NULL;

		if (!e || !mem)
			_exit(1);
		msg[0] = simhv_grant_access(g, 1, 0, 10, true);
		msg[1] = simhv_grant_access(g, 1, 0, 11, false);
		msg[2] = simhv_evtchn_alloc_unbound(e, 0);
		for (unsigned i = 0; i < PG; i++)
			mem[10 * PG + i] = (char)(i ^ 0x5a);
		memcpy(mem + 10 * PG, "from the guest", 15);
		if (write(pipefd[1], msg, sizeof(msg)) != sizeof(msg))
			_exit(2);
		/* Wait for the backend's word, answer, wait again. */
		if (readable(simhv_evtchn_fd(e), 5000) != 1 ||
		    simhv_evtchn_pending(e) != msg[2])
			_exit(3);
		if (memcmp(mem + 11 * PG, "from the backend", 17) != 0)
			_exit(4);
		if (simhv_evtchn_notify(e, (uint32_t)msg[2]) != 0)
			_exit(5);
		simhv_evtchn_close(e);
		simhv_close(g);
		_exit(0);
	}
	CHECK_EQ(read(pipefd[0], msg, sizeof(msg)), sizeof(msg));
	CHECK(msg[0] > 0 && msg[1] > 0 && msg[2] > 0);
	/* The guest wrote before granting: the backend sees it all. */
	CHECK_EQ(copy_from(hv, 0, 1, (uint32_t)msg[0], 0, PG, buf),
		 GNTST_okay);
	CHECK_STREQ(buf, "from the guest");
	for (unsigned i = 15; i < PG; i++)
		CHECK_EQ(buf[i], (char)(i ^ 0x5a));
	CHECK_EQ(copy_to(hv, 0, 1, (uint32_t)msg[1], 0, 17, "from the backend"),
		 GNTST_okay);
	int bp = simhv_evtchn_bind_interdomain(b, 1, (uint32_t)msg[2]);
	CHECK(bp > 0);
	CHECK_EQ(simhv_evtchn_notify(b, (uint32_t)bp), 0);
	CHECK_EQ(readable(simhv_evtchn_fd(b), 5000), 1);
	CHECK_EQ(simhv_evtchn_pending(b), bp);
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 0);
	/* The guest closed its handle on the way out. */
	CHECK_EQ(simhv_evtchn_notify(b, (uint32_t)bp), -ENOTCONN);
	simhv_evtchn_close(b);
	cleanup(hv, dir);
}

/* Take every delivered port of h and unmask it, as a driver does. */
static void
drain_unmask(struct simhv_evtchn *h)
{
	int p;

	while ((p = simhv_evtchn_pending(h)) >= 0)
		CHECK_EQ(simhv_evtchn_unmask(h, (uint32_t)p), 0);
}

/*
 * Wait until *v reaches want, sleeping on h between looks, with the
 * discipline of a real driver: look, sleep, take and unmask, look again.
 * A wake-up lost anywhere leaves it asleep past the timeout.
 */
static int
wait_for(_Atomic int *v, int want, struct simhv_evtchn *h)
{
	while (atomic_load(v) < want) {
		if (readable(simhv_evtchn_fd(h), 5000) != 1)
			return -1;
		drain_unmask(h);
	}
	return 0;
}

/* Ping-pong between two processes, each waking the other by event. */
TEST(evtchn_ping_pong_processes)
{
	enum { ROUNDS = 20000 };
	char dir[64];
	struct simhv *hv = fresh(dir);
	struct simhv_evtchn *b = simhv_evtchn_open(hv, 0);
	_Atomic int *sh = mmap(NULL, 3 * sizeof(int), PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int bp, st;

	CHECK(b != NULL && sh != MAP_FAILED);
	atomic_store(&sh[2], 0); /* the guest's port, once allocated */
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct simhv *g = simhv_open(dir, false);
		struct simhv_evtchn *e = g ? simhv_evtchn_open(g, 1) : NULL;
		int port = e ? simhv_evtchn_alloc_unbound(e, 0) : -1;

		if (port < 0)
			_exit(1);
		atomic_store(&sh[2], port);
		for (int i = 1; i <= ROUNDS; i++) {
			if (wait_for(&sh[0], i, e) < 0)
				_exit(2);
			atomic_store(&sh[1], i);
			/* Twice: the second coalesces or rides along as
			 * a spurious wake-up, which must be harmless. */
			if (simhv_evtchn_notify(e, (uint32_t)port) != 0 ||
			    simhv_evtchn_notify(e, (uint32_t)port) != 0)
				_exit(3);
		}
		_exit(0);
	}
	while (atomic_load(&sh[2]) == 0)
		usleep(1000);
	bp = simhv_evtchn_bind_interdomain(b, 1, (uint32_t)atomic_load(&sh[2]));
	CHECK(bp > 0);
	for (int i = 1; i <= ROUNDS; i++) {
		atomic_store(&sh[0], i);
		CHECK_EQ(simhv_evtchn_notify(b, (uint32_t)bp), 0);
		if (wait_for(&sh[1], i, b) < 0)
			FAIL("round %d: no wake-up from the guest", i);
	}
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 0);
	simhv_evtchn_close(b);
	cleanup(hv, dir);
}

/* Two processes granting at once never get the same ref. */
TEST(concurrent_grants_are_unique)
{
	enum { N = 3000 };
	char dir[64];
	struct simhv *hv = fresh(dir);
	int *refs = mmap(NULL, 2 * N * sizeof(int), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	static char seen[SIMHV_MAX_GRANTS];
	int st;

	CHECK(refs != MAP_FAILED);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct simhv *g = simhv_open(dir, false);

		for (int i = 0; g && i < N; i++)
			refs[N + i] = simhv_grant_access(g, 1, 0, 1, false);
		_exit(g ? 0 : 1);
	}
	for (int i = 0; i < N; i++)
		refs[i] = simhv_grant_access(hv, 1, 0, 2, false);
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	for (int i = 0; i < 2 * N; i++) {
		CHECK(refs[i] >= 8 && refs[i] < (int)SIMHV_MAX_GRANTS);
		CHECK_EQ(seen[refs[i]], 0);
		seen[refs[i]] = 1;
	}
	CHECK_EQ(simhv_domain_grants(hv, 1), 2 * N);
	cleanup(hv, dir);
}

/* ---- destroying a domain ---- */

TEST(domain_destroy)
{
	char dir[64], buf[8];
	struct simhv *hv = fresh(dir);
	char *mem = simhv_guest_memory(hv, 1);
	uint32_t ref = (uint32_t)simhv_grant_access(hv, 1, 0, 1, false);
	uint32_t mref = (uint32_t)simhv_grant_access(hv, 1, 0, 2, false);
	struct simhv_evtchn *g = simhv_evtchn_open(hv, 1);
	struct simhv_evtchn *b = simhv_evtchn_open(hv, 0);
	struct simhv_stats st;
	int gp, bp;
	char *map;

	CHECK(mem && g && b);
	connect_ports(g, 1, b, &gp, &bp);
	memcpy(mem + 2 * PG, "mapped", 6);
	map = simhv_map_grants(hv, 0, 1, 1, &mref, true);
	CHECK(map != NULL);
	CHECK_EQ(copy_from(hv, 0, 1, ref, 0, 8, buf), GNTST_okay);

	CHECK_EQ(simhv_domain_destroy(hv, 1), 0);
	CHECK(!simhv_domain_exists(hv, 1));
	CHECK_EQ(simhv_domain_destroy(hv, 1), -ESRCH);
	/* Grants are revoked ... */
	CHECK_EQ(copy_from(hv, 0, 1, ref, 0, 8, buf), GNTST_bad_domain);
	CHECK_EQ(copy_to(hv, 0, 1, ref, 0, 8, buf), GNTST_bad_domain);
	CHECK(simhv_map_grants(hv, 0, 1, 1, &ref, false) == NULL);
	CHECK_EQ(errno, ESRCH);
	CHECK_EQ(simhv_grant_access(hv, 1, 0, 1, false), -ESRCH);
	CHECK_EQ(simhv_grant_end(hv, 1, ref), -ESRCH);
	CHECK_EQ(simhv_domain_grants(hv, 1), 0);
	CHECK_EQ(simhv_domain_mapped(hv, 1), 0);
	/* ... but a mapping keeps its page until unmapped. */
	CHECK(memcmp(map, "mapped", 6) == 0);
	map[0] = 'M';
	/* Its ports are closed: the peer's is unbound. */
	CHECK_EQ(simhv_evtchn_notify(b, (uint32_t)bp), -ENOTCONN);
	CHECK_EQ(simhv_domain_ports(hv, 1), 0);
	CHECK_EQ(simhv_evtchn_notify(g, (uint32_t)gp), -EINVAL);
	CHECK_EQ(simhv_evtchn_pending(g), -EAGAIN);
	simhv_get_stats(hv, &st);
	CHECK_EQ(st.grants_active, 0);
	CHECK_EQ(st.maps, 0);
	CHECK_EQ(st.ports_bound, 1); /* dom0's, now unbound */
	CHECK_EQ(simhv_evtchn_unbind(b, (uint32_t)bp), 0);
	simhv_evtchn_close(g);

	/* The same domid again: a new domain with zeroed memory, which the
	 * backend's copies reach (not the old memory they had mapped). */
	CHECK_EQ(simhv_domain_create(hv, 1, 16), 0);
	CHECK_EQ(simhv_domain_pages(hv, 1), 16);
	char *nmem = simhv_guest_memory(hv, 1);
	CHECK(nmem != NULL);
	for (unsigned i = 0; i < 16 * PG; i++)
		CHECK_EQ(nmem[i], 0);
	uint32_t nref = (uint32_t)simhv_grant_access(hv, 1, 0, 2, false);
	CHECK_EQ(nref, 8);
	memcpy(nmem + 2 * PG, "reborn", 6);
	CHECK_EQ(copy_from(hv, 0, 1, nref, 0, 6, buf), GNTST_okay);
	CHECK(memcmp(buf, "reborn", 6) == 0);
	/* Unmapping the old mapping leaves the new domain's counts alone. */
	char *nmap = simhv_map_grants(hv, 0, 1, 1, &nref, true);
	CHECK(nmap != NULL);
	CHECK(memcmp(nmap, "reborn", 6) == 0);
	CHECK_EQ(simhv_unmap_grants(hv, map, 1), 0);
	CHECK_EQ(simhv_domain_mapped(hv, 1), 1);
	CHECK_EQ(simhv_grant_end(hv, 1, nref), -EBUSY);
	CHECK_EQ(simhv_unmap_grants(hv, nmap, 1), 0);
	CHECK_EQ(simhv_grant_end(hv, 1, nref), 0);
	simhv_evtchn_close(b);
	cleanup(hv, dir);
}

/* Another process's copies follow a domain through destroy and create. */
TEST(domain_recreate_seen_by_other_process)
{
	char dir[64], buf[8];
	struct simhv *hv = fresh(dir);
	struct simhv *be = simhv_open(dir, false);
	char *mem = simhv_guest_memory(hv, 2);
	uint32_t ref = (uint32_t)simhv_grant_access(hv, 2, 0, 3, false);

	CHECK(be && mem);
	memcpy(mem + 3 * PG, "first", 5);
	CHECK_EQ(copy_from(be, 0, 2, ref, 0, 5, buf), GNTST_okay);
	CHECK(memcmp(buf, "first", 5) == 0);
	CHECK_EQ(simhv_domain_destroy(hv, 2), 0);
	CHECK_EQ(copy_from(be, 0, 2, ref, 0, 5, buf), GNTST_bad_domain);
	CHECK_EQ(simhv_domain_create(hv, 2, 8), 0);
	mem = simhv_guest_memory(hv, 2);
	CHECK(mem != NULL);
	ref = (uint32_t)simhv_grant_access(hv, 2, 0, 7, false);
	memcpy(mem + 7 * PG, "second", 6);
	CHECK_EQ(copy_from(be, 0, 2, ref, 0, 6, buf), GNTST_okay);
	CHECK(memcmp(buf, "second", 6) == 0);
	/* The memory file is the new one: 8 pages. */
	CHECK_EQ(simhv_grant_access(hv, 2, 0, 8, false), -EINVAL);
	simhv_close(be);
	cleanup(hv, dir);
}

/*
 * A backend process killed with SIGKILL: its grant maps and event-channel
 * bindings stay until someone reaps them (the next simhv_open(), as a
 * restarted backend's), then the guest's grants can end and its port can
 * be bound again.
 */
TEST(killed_process_is_reaped)
{
	char dir[64];
	struct simhv *hv = fresh(dir);
	struct simhv_evtchn *g = simhv_evtchn_open(hv, 1);
	int pipefd[2], gref, gp, st;
	char ok;

	CHECK(g != NULL);
	gref = simhv_grant_access(hv, 1, 0, 3, false);
	CHECK(gref > 0);
	gp = simhv_evtchn_alloc_unbound(g, 0);
	CHECK(gp > 0);
	CHECK_EQ(pipe(pipefd), 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct simhv *b = simhv_open(dir, false);
		struct simhv_evtchn *e = b ? simhv_evtchn_open(b, 0) : NULL;
		uint32_t ref = (uint32_t)gref;

		if (!e)
			_exit(1);
		if (!simhv_map_grants(b, 0, 1, 1, &ref, true))
			_exit(2);
		if (simhv_evtchn_bind_interdomain(e, 1, (uint32_t)gp) <= 0)
			_exit(3);
		if (write(pipefd[1], "y", 1) != 1)
			_exit(4);
		for (;;)
			pause();
	}
	close(pipefd[1]);
	if (read(pipefd[0], &ok, 1) != 1) {
		waitpid(pid, &st, 0);
		FAIL("the backend process failed: %d", WEXITSTATUS(st));
	}
	CHECK_EQ(simhv_domain_mapped(hv, 1), 1);
	/* Alive: nothing of it is reaped. */
	CHECK_EQ(simhv_reap(hv), 0);
	CHECK_EQ(simhv_domain_mapped(hv, 1), 1);
	CHECK_EQ(simhv_evtchn_notify(g, (uint32_t)gp), 0);
	kill(pid, SIGKILL);
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	/* Dead but not reaped: still mapped, still bound. */
	CHECK_EQ(simhv_grant_end(hv, 1, (uint32_t)gref), -EBUSY);
	CHECK_EQ(simhv_evtchn_notify(g, (uint32_t)gp), 0);
	/* A new process opens the hypervisor, as a restarted backend. */
	struct simhv *again = simhv_open(dir, false);
	CHECK(again != NULL);
	CHECK_EQ(simhv_domain_mapped(hv, 1), 0);
	CHECK_EQ(simhv_evtchn_notify(g, (uint32_t)gp), -ENOTCONN);
	CHECK_EQ(simhv_reap(again), 0);
	/* The guest's port waits for a backend again, and binds. */
	struct simhv_evtchn *b2 = simhv_evtchn_open(again, 0);
	CHECK(b2 != NULL);
	CHECK(simhv_evtchn_bind_interdomain(b2, 1, (uint32_t)gp) > 0);
	uint32_t ref = (uint32_t)gref;
	void *m = simhv_map_grants(again, 0, 1, 1, &ref, true);
	CHECK(m != NULL);
	CHECK_EQ(simhv_domain_mapped(hv, 1), 1);
	CHECK_EQ(simhv_unmap_grants(again, m, 1), 0);
	CHECK_EQ(simhv_grant_end(hv, 1, (uint32_t)gref), 0);
	simhv_evtchn_close(b2);
	simhv_close(again);
	simhv_evtchn_close(g);
	cleanup(hv, dir);
}

TESTS_MAIN()
