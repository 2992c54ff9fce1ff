/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * backend/base/prof.c: the sampling profile NETBACKD_PROFILE asks for.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "prof.h"
#include "tests.h"

static volatile uint64_t sink;

static double
cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Spend `secs` of CPU time here. */
static __attribute__((noinline)) void
burn(double secs)
{
	double t0 = cpu_s();

	while (cpu_s() - t0 < secs)
		for (unsigned i = 0; i < 100000; i++)
			sink = sink * 6364136223846793005u + i;
}

TEST(off_unless_asked)
{
	unsetenv("NETBACKD_PROFILE");
	CHECK_EQ(nb_prof_start(), 0);
	nb_prof_stop(); /* nothing to write */
	setenv("NETBACKD_PROFILE", "/nonexistent-dir/x.prof", 1);
	CHECK_EQ(nb_prof_start(), -ENOENT);
}

/* Samples land where the CPU time went, in a mapping of this program,
 * and the counts add up to the total the file gives. */
TEST(samples_where_the_time_goes)
{
	char path[] = "/tmp/nbprof-XXXXXX", line[512], self[512];
	int fd = mkstemp(path);
	unsigned long samples = 1, lost = 1, sum = 0, in_self = 0;
	int part = 0;
	ssize_t sl;
	FILE *f;

	CHECK(fd >= 0);
	close(fd);
	sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
	CHECK(sl > 0);
	self[sl] = '\0';
	setenv("NETBACKD_PROFILE", path, 1);
	CHECK_EQ(nb_prof_start(), 0);
	burn(0.5);
	nb_prof_stop();
	f = fopen(path, "r");
	CHECK(f != NULL);
	/* The executable mappings of this program. */
	uintptr_t lo[16], hi[16];
	unsigned nm = 0;

	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "# samples %lu lost %lu", &samples, &lost) == 2)
			continue;
		if (strncmp(line, "# maps", 6) == 0) {
			part = 1;
			continue;
		}
		if (strncmp(line, "# pcs", 5) == 0) {
			part = 2;
			continue;
		}
		if (part == 1) {
			unsigned long a, b;
			char perm[8];

			if (sscanf(line, "%lx-%lx %7s", &a, &b, perm) == 3 &&
			    strchr(perm, 'x') && strstr(line, self) && nm < 16) {
				lo[nm] = a;
				hi[nm++] = b;
			}
		} else if (part == 2) {
			unsigned long pc, n;

			CHECK_EQ(sscanf(line, "%lx %lu", &pc, &n), 2);
			sum += n;
			for (unsigned i = 0; i < nm; i++)
				if (pc >= lo[i] && pc < hi[i])
					in_self += n;
		}
	}
	fclose(f);
	unlink(path);
	CHECK(nm > 0);
	CHECK_EQ(lost, 0);
	CHECK_EQ(sum, samples);
	/* 0.5 s at one sample a tick (100 to 1000 a second). */
	if (samples < 20)
		FAIL("%lu samples in 0.5 s of CPU", samples);
	/* burn() and the clock it reads; not libc's setup or the kernel */
	if (in_self * 2 < samples)
		FAIL("%lu of %lu samples in this program", in_self, samples);
}

TESTS_MAIN()
