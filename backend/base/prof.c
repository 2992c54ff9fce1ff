/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A sampling profile for diagnosis where no profiler runs (a PV dom0 in
 * the lab has no perf): with NETBACKD_PROFILE=FILE, the process's CPU
 * time is sampled by ITIMER_PROF (a SIGPROF at each tick in which it
 * ran), each sample the program counter of the thread that ran, counted
 * in a fixed table. At exit FILE gets the process's mappings, then a
 * "pc count" line per address; bench/prof-report.py turns them into
 * functions. Nothing is allocated or called in the handler but atomic
 * adds; the file is opened and the mappings read before the sandbox.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <ucontext.h>
#include <unistd.h>

#include "log.h"
#include "prof.h"

/* Distinct addresses kept (open addressing); later ones count apart. */
#define PROF_SLOTS 16384u
#define PROF_MAPS_MAX (256u * 1024u)

struct prof_slot {
	_Atomic uintptr_t pc;
	_Atomic uint64_t n;
};

static struct prof_slot *slots;
static _Atomic uint64_t lost, total;
static atomic_bool stopped;
static int prof_fd = -1;
static char *maps;
static size_t maps_len;

static void
on_prof(int sig, siginfo_t *si, void *uc_)
{
	const ucontext_t *uc = uc_;
	uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	uint32_t h = (uint32_t)((pc >> 2) * 2654435761u) % PROF_SLOTS;

	(void)sig;
	(void)si;
	if (atomic_load_explicit(&stopped, memory_order_relaxed))
		return;
	atomic_fetch_add_explicit(&total, 1, memory_order_relaxed);
	for (unsigned i = 0; i < 64; i++, h = (h + 1) % PROF_SLOTS) {
		uintptr_t cur = atomic_load_explicit(&slots[h].pc,
						     memory_order_relaxed);

		if (cur == 0 &&
		    atomic_compare_exchange_strong(&slots[h].pc, &cur, pc))
			cur = pc;
		if (cur == pc) {
			atomic_fetch_add_explicit(&slots[h].n, 1,
						  memory_order_relaxed);
			return;
		}
	}
	atomic_fetch_add_explicit(&lost, 1, memory_order_relaxed);
}

/* /proc/self/maps, whole, into maps. */
static int
read_maps(void)
{
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return -errno;
	maps = malloc(PROF_MAPS_MAX);
	if (!maps) {
		close(fd);
		return -ENOMEM;
	}
	while (maps_len < PROF_MAPS_MAX &&
	       (r = read(fd, maps + maps_len, PROF_MAPS_MAX - maps_len)) > 0)
		maps_len += (size_t)r;
	close(fd);
	return 0;
}

int
nb_prof_start(void)
{
	const char *path = getenv("NETBACKD_PROFILE");
	struct sigaction sa = { .sa_sigaction = on_prof,
				.sa_flags = SA_SIGINFO | SA_RESTART };
	/* The shortest interval: in effect one sample a tick. */
	struct itimerval it = { .it_interval = { 0, 1000 },
				.it_value = { 0, 1000 } };
	sigset_t set;
	int r;

	if (!path || !path[0])
		return 0;
	slots = calloc(PROF_SLOTS, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	prof_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (prof_fd < 0) {
		r = -errno;
		nb_err("NETBACKD_PROFILE: cannot open %s: %s", path,
		       strerror(errno));
		return r;
	}
	r = read_maps();
	if (r < 0) {
		nb_err("NETBACKD_PROFILE: cannot read /proc/self/maps: %s",
		       strerror(-r));
		goto fail;
	}
	sigemptyset(&sa.sa_mask);
	sigemptyset(&set);
	sigaddset(&set, SIGPROF);
	if (sigaction(SIGPROF, &sa, NULL) < 0 ||
	    pthread_sigmask(SIG_UNBLOCK, &set, NULL) != 0 ||
	    setitimer(ITIMER_PROF, &it, NULL) < 0) {
		r = -errno;
		nb_err("NETBACKD_PROFILE: cannot start sampling: %s",
		       strerror(errno));
		goto fail;
	}
	nb_info("profiling into %s", path);
	return 0;
fail:
	/* No profile at exit for a start that failed. */
	close(prof_fd);
	prof_fd = -1;
	return r;
}

/* The timer keeps running (the sandbox allows no setitimer): samples
 * from here on are not counted, and the table stays. */
void
nb_prof_stop(void)
{
	char line[64];

	if (prof_fd < 0)
		return;
	atomic_store(&stopped, true);
	dprintf(prof_fd, "# samples %lu lost %lu\n# maps\n",
		(unsigned long)atomic_load(&total),
		(unsigned long)atomic_load(&lost));
	if (write(prof_fd, maps, maps_len) != (ssize_t)maps_len)
		nb_warn("NETBACKD_PROFILE: the mappings were cut short");
	dprintf(prof_fd, "# pcs\n");
	for (unsigned i = 0; i < PROF_SLOTS; i++) {
		uintptr_t pc = atomic_load(&slots[i].pc);
		int n;

		if (!pc)
			continue;
		n = snprintf(line, sizeof(line), "%lx %lu\n",
			     (unsigned long)pc,
			     (unsigned long)atomic_load(&slots[i].n));
		if (write(prof_fd, line, (size_t)n) != n)
			break;
	}
	close(prof_fd);
	prof_fd = -1;
}
