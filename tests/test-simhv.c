/* SPDX-License-Identifier: GPL-2.0-only */
/* The simulated hypervisor alone: grant checks and event semantics. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "simhv.h"
#include "tests.h"

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
	CHECK_EQ(simhv_grant_copy(hv, self, 1, &s), 0);
	return s.status;
}

static int16_t
copy_to(struct simhv *hv, uint16_t self, uint16_t dom, uint32_t ref,
	uint16_t off, uint16_t len, void *src)
{
	xengnttab_grant_copy_segment_t s = { 0 };

	s.dest.foreign.ref = ref;
	s.dest.foreign.domid = dom;
	s.dest.foreign.offset = off;
	s.source.virt = src;
	s.len = len;
	s.flags = GNTCOPY_dest_gref;
	CHECK_EQ(simhv_grant_copy(hv, self, 1, &s), 0);
	return s.status;
}

TEST(grant_copy_status_codes)
{
	char dir[64], buf[4096];
	struct simhv *hv = fresh(dir);
	char *mem = simhv_guest_memory(hv, 1);
	int rw = simhv_grant_access(hv, 1, 0, 3, false);
	int ro = simhv_grant_access(hv, 1, 0, 4, true);
	int other = simhv_grant_access(hv, 1, 2, 5, false);

	CHECK(mem && rw >= 8 && ro >= 8 && other >= 8);
	memcpy(mem + 3 * 4096 + 100, "hello", 5);
	CHECK_EQ(copy_from(hv, 0, 1, (uint32_t)rw, 100, 5, buf), GNTST_okay);
	CHECK(memcmp(buf, "hello", 5) == 0);
	CHECK_EQ(copy_to(hv, 0, 1, (uint32_t)rw, 4000, 5, "world"), GNTST_okay);
	CHECK(memcmp(mem + 3 * 4096 + 4000, "world", 5) == 0);
	/* read-only grant: may be read, not written */
	CHECK_EQ(copy_from(hv, 0, 1, (uint32_t)ro, 0, 10, buf), GNTST_okay);
	CHECK_EQ(copy_to(hv, 0, 1, (uint32_t)ro, 0, 10, buf),
		 GNTST_permission_denied);
	/* bad refs: out of range, and in range but not in use */
	CHECK_EQ(copy_from(hv, 0, 1, SIMHV_MAX_GRANTS + 5, 0, 10, buf),
		 GNTST_bad_gntref);
	CHECK_EQ(copy_from(hv, 0, 1, 3000, 0, 10, buf), GNTST_bad_gntref);
	/* beyond the page */
	CHECK_EQ(copy_from(hv, 0, 1, (uint32_t)rw, 4000, 200, buf),
		 GNTST_bad_copy_arg);
	/* a grant to another domain */
	CHECK_EQ(copy_from(hv, 0, 1, (uint32_t)other, 0, 10, buf),
		 GNTST_permission_denied);
	CHECK_EQ(copy_from(hv, 2, 1, (uint32_t)other, 0, 10, buf), GNTST_okay);
	/* no such domain */
	CHECK_EQ(copy_from(hv, 0, 7, 8, 0, 10, buf), GNTST_bad_domain);
	/* a batch: one bad segment does not stop the others */
	xengnttab_grant_copy_segment_t segs[3] = { 0 };
	for (int i = 0; i < 3; i++) {
		segs[i].source.foreign.domid = 1;
		segs[i].source.foreign.ref = (uint32_t)(i == 1 ? 3001 : rw);
		segs[i].dest.virt = buf;
		segs[i].len = 8;
		segs[i].flags = GNTCOPY_source_gref;
	}
	CHECK_EQ(simhv_grant_copy(hv, 0, 3, segs), 0);
	CHECK_EQ(segs[0].status, GNTST_okay);
	CHECK_EQ(segs[1].status, GNTST_bad_gntref);
	CHECK_EQ(segs[2].status, GNTST_okay);
	struct simhv_stats st;
	simhv_get_stats(hv, &st);
	CHECK(st.copy_errors >= 6);
	cleanup(hv, dir);
}

TEST(grant_to_grant_copy)
{
	char dir[64];
	struct simhv *hv = fresh(dir);
	char *m1 = simhv_guest_memory(hv, 1), *m2 = simhv_guest_memory(hv, 2);
	int src = simhv_grant_access(hv, 1, 0, 1, true);
	int dst = simhv_grant_access(hv, 2, 0, 2, false);
	xengnttab_grant_copy_segment_t s = { 0 };

	memcpy(m1 + 4096 + 10, "grant2grant", 11);
	s.source.foreign = (typeof(s.source.foreign)){ (uint32_t)src, 10, 1 };
	s.dest.foreign = (typeof(s.dest.foreign)){ (uint32_t)dst, 20, 2 };
	s.len = 11;
	s.flags = GNTCOPY_source_gref | GNTCOPY_dest_gref;
	CHECK_EQ(simhv_grant_copy(hv, 0, 1, &s), 0);
	CHECK_EQ(s.status, GNTST_okay);
	CHECK(memcmp(m2 + 2 * 4096 + 20, "grant2grant", 11) == 0);
	cleanup(hv, dir);
}

TEST(map_counts_and_busy_end)
{
	char dir[64];
	struct simhv *hv = fresh(dir);
	char *mem = simhv_guest_memory(hv, 1);
	uint32_t refs[2];

	refs[0] = (uint32_t)simhv_grant_access(hv, 1, 0, 6, false);
	refs[1] = (uint32_t)simhv_grant_access(hv, 1, 0, 9, false);
	char *p = simhv_map_grants(hv, 0, 1, 2, refs, true);
	CHECK(p != NULL);
	CHECK_EQ(simhv_domain_mapped(hv, 1), 2);
	p[5] = 'x';
	p[4096 + 5] = 'y';
	CHECK_EQ(mem[6 * 4096 + 5], 'x');
	CHECK_EQ(mem[9 * 4096 + 5], 'y');
	CHECK_EQ(simhv_grant_end(hv, 1, refs[0]), -EBUSY);
	CHECK_EQ(simhv_unmap_grants(hv, p, 2), 0);
	CHECK_EQ(simhv_domain_mapped(hv, 1), 0);
	CHECK_EQ(simhv_grant_end(hv, 1, refs[0]), 0);
	/* read-only grant cannot be mapped writable; foreign grant not at all */
	uint32_t ro = (uint32_t)simhv_grant_access(hv, 1, 0, 7, true);
	uint32_t other = (uint32_t)simhv_grant_access(hv, 1, 2, 8, false);
	CHECK(simhv_map_grants(hv, 0, 1, 1, &ro, true) == NULL);
	CHECK_EQ(errno, EPERM);
	CHECK(simhv_map_grants(hv, 0, 1, 1, &other, false) == NULL);
	CHECK_EQ(errno, EPERM);
	uint32_t bad = 4000;
	CHECK(simhv_map_grants(hv, 0, 1, 1, &bad, false) == NULL);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(simhv_domain_mapped(hv, 1), 0);
	cleanup(hv, dir);
}

TEST(evtchn_masking_and_coalescing)
{
	char dir[64];
	struct simhv *hv = fresh(dir);
	struct simhv_evtchn *g = simhv_evtchn_open(hv, 1);
	struct simhv_evtchn *b = simhv_evtchn_open(hv, 0);
	int gp, bp;

	CHECK(g && b);
	gp = simhv_evtchn_alloc_unbound(g, 0);
	CHECK(gp > 0);
	/* Only the named remote may bind, and only once. */
	struct simhv_evtchn *x = simhv_evtchn_open(hv, 2);
	CHECK_EQ(simhv_evtchn_bind_interdomain(x, 1, (uint32_t)gp), -EPERM);
	bp = simhv_evtchn_bind_interdomain(b, 1, (uint32_t)gp);
	CHECK(bp > 0);
	CHECK_EQ(simhv_evtchn_bind_interdomain(b, 1, (uint32_t)gp), -EBUSY);

	CHECK_EQ(simhv_evtchn_pending(b), -EAGAIN);
	/* One notify: delivered once, then the port is masked. */
	CHECK_EQ(simhv_evtchn_notify(g, (uint32_t)gp), 0);
	struct pollfd pfd = { simhv_evtchn_fd(b), POLLIN, 0 };
	CHECK_EQ(poll(&pfd, 1, 1000), 1);
	CHECK_EQ(simhv_evtchn_pending(b), bp);
	/* Many notifies while masked coalesce into one pending event. */
	for (int i = 0; i < 10; i++)
		CHECK_EQ(simhv_evtchn_notify(g, (uint32_t)gp), 0);
	CHECK_EQ(simhv_evtchn_pending(b), -EAGAIN);
	/* Unmask delivers what is pending, once. */
	CHECK_EQ(simhv_evtchn_unmask(b, (uint32_t)bp), 0);
	CHECK_EQ(simhv_evtchn_pending(b), bp);
	CHECK_EQ(simhv_evtchn_pending(b), -EAGAIN);
	/* Unmask with nothing pending: nothing, next notify delivers. */
	CHECK_EQ(simhv_evtchn_unmask(b, (uint32_t)bp), 0);
	CHECK_EQ(simhv_evtchn_pending(b), -EAGAIN);
	CHECK_EQ(simhv_evtchn_notify(g, (uint32_t)gp), 0);
	CHECK_EQ(simhv_evtchn_pending(b), bp);
	/* The other direction. */
	CHECK_EQ(simhv_evtchn_notify(b, (uint32_t)bp), 0);
	CHECK_EQ(simhv_evtchn_pending(g), gp);

	/* The backend unbinds: the guest's port is unbound again. */
	CHECK_EQ(simhv_domain_ports(hv, 0), 1);
	CHECK_EQ(simhv_evtchn_unbind(b, (uint32_t)bp), 0);
	CHECK_EQ(simhv_domain_ports(hv, 0), 0);
	CHECK_EQ(simhv_evtchn_notify(g, (uint32_t)gp), -ENOTCONN);
	/* ... and may be bound again (a restarted backend). */
	bp = simhv_evtchn_bind_interdomain(b, 1, (uint32_t)gp);
	CHECK(bp > 0);
	simhv_evtchn_close(x);
	simhv_evtchn_close(b);
	simhv_evtchn_close(g);
	CHECK_EQ(simhv_domain_ports(hv, 0), 0);
	CHECK_EQ(simhv_domain_ports(hv, 1), 0);
	cleanup(hv, dir);
}

TEST(two_processes_share_it)
{
	char dir[64];
	struct simhv *hv = fresh(dir);
	struct simhv_evtchn *b = simhv_evtchn_open(hv, 0);
	int pipefd[2];

	CHECK_EQ(pipe(pipefd), 0);
	pid_t pid = fork();
	if (pid == 0) {
		/* The guest: its own open of the hypervisor. */
		struct simhv *g = simhv_open(dir, false);
		struct simhv_evtchn *e = simhv_evtchn_open(g, 1);
		char *mem = simhv_guest_memory(g, 1);
		int ref = simhv_grant_access(g, 1, 0, 10, true);
		int port = simhv_evtchn_alloc_unbound(e, 0);
		int msg[2] = { ref, port };

		memcpy(mem + 10 * 4096, "from the guest", 15);
		if (write(pipefd[1], msg, sizeof(msg)) != sizeof(msg))
			_exit(1);
		/* Wait for the backend's notification, then answer. */
		struct pollfd pfd = { simhv_evtchn_fd(e), POLLIN, 0 };
		if (poll(&pfd, 1, 5000) != 1 ||
		    simhv_evtchn_pending(e) != port)
			_exit(2);
		simhv_evtchn_notify(e, (uint32_t)port);
		_exit(0);
	}
	int msg[2];
	CHECK_EQ(read(pipefd[0], msg, sizeof(msg)), sizeof(msg));
	char buf[16] = "";
	CHECK_EQ(copy_from(hv, 0, 1, (uint32_t)msg[0], 0, 15, buf), GNTST_okay);
	CHECK_STREQ(buf, "from the guest");
	int bp = simhv_evtchn_bind_interdomain(b, 1, (uint32_t)msg[1]);
	CHECK(bp > 0);
	CHECK_EQ(simhv_evtchn_notify(b, (uint32_t)bp), 0);
	struct pollfd pfd = { simhv_evtchn_fd(b), POLLIN, 0 };
	CHECK_EQ(poll(&pfd, 1, 5000), 1);
	CHECK_EQ(simhv_evtchn_pending(b), bp);
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	simhv_evtchn_close(b);
	cleanup(hv, dir);
}

TEST(domain_destroy)
{
	char dir[64], buf[8];
	struct simhv *hv = fresh(dir);
	int ref = simhv_grant_access(hv, 1, 0, 1, false);
	struct simhv_evtchn *g = simhv_evtchn_open(hv, 1);
	struct simhv_evtchn *b = simhv_evtchn_open(hv, 0);
	int gp = simhv_evtchn_alloc_unbound(g, 0);
	int bp = simhv_evtchn_bind_interdomain(b, 1, (uint32_t)gp);

	CHECK(ref > 0 && bp > 0);
	CHECK_EQ(simhv_domain_destroy(hv, 1), 0);
	CHECK(!simhv_domain_exists(hv, 1));
	CHECK_EQ(copy_from(hv, 0, 1, (uint32_t)ref, 0, 8, buf),
		 GNTST_bad_domain);
	CHECK_EQ(simhv_evtchn_notify(b, (uint32_t)bp), -ENOTCONN);
	simhv_evtchn_close(b);
	simhv_evtchn_close(g);
	cleanup(hv, dir);
}

TESTS_MAIN()
