/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * netbackd's least privilege (backend/sandbox.c), each case in a child
 * process so the filter and the user change stay there: allowed calls
 * work, forbidden ones fail with EPERM without running, and a dropped
 * user cannot become root again.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"
#include "tests.h"

/* Run fn in a child; its exit code (0: all checks held). */
static int
in_child(int (*fn)(const char *), const char *arg)
{
	pid_t pid = fork();
	int st;

	CHECK(pid >= 0);
	if (pid == 0)
		_exit(fn(arg));
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
}

/* Each failed expectation exits with its own code. */
static int
filtered(const char *file)
{
	char err[256];
	int p[2], fd;
	char c = 'x';

	if (pipe(p) < 0)
		return 1;
	if (nb_sandbox_seccomp(file != NULL, err, sizeof(err)) < 0)
		return 2;
	/* What netbackd does all day still works. */
	if (write(p[1], &c, 1) != 1 || read(p[0], &c, 1) != 1)
		return 3;
	void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || munmap(m, 4096) < 0)
		return 4;
	/* New sockets, programs, files are refused. */
	errno = 0;
	if (socket(AF_INET, SOCK_STREAM, 0) != -1 || errno != EPERM)
		return 5;
	char *const argv[] = { "/bin/true", NULL };
	errno = 0;
	if (execve("/bin/true", argv, NULL) != -1 || errno != EPERM)
		return 6;
	errno = 0;
	if (open("/tmp/netbackd-sandbox-new", O_RDWR | O_CREAT, 0600) != -1 ||
	    errno != EPERM)
		return 7;
	errno = 0;
	if (fork() != -1 || errno != EPERM)
		return 8;
	if (file) {
		/* The simulated hypervisor's domain memory: opened, not
		 * created. */
		fd = open(file, O_RDWR);
		if (fd < 0)
			return 9;
		close(fd);
	} else {
		errno = 0;
		if (open("/etc/hostname", O_RDONLY) != -1 || errno != EPERM)
			return 10;
	}
	return 0;
}

TEST(seccomp_allows_the_data_path_and_refuses_the_rest)
{
	char path[] = "/tmp/netbackd-sandbox-XXXXXX";
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	close(fd);
	CHECK_EQ(in_child(filtered, NULL), 0);
	CHECK_EQ(in_child(filtered, path), 0);
	unlink(path);
}

static void *
waits(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/* DPDK cancels its interrupt thread at exit: glibc must not need to
 * open libgcc_s then (it aborts if it cannot). */
static int
cancel_after(const char *unused)
{
	char err[256];
	pthread_t t;

	(void)unused;
	if (pthread_create(&t, NULL, waits, NULL) != 0)
		return 1;
	if (nb_sandbox_seccomp(false, err, sizeof(err)) < 0)
		return 2;
	if (pthread_cancel(t) != 0 || pthread_join(t, NULL) != 0)
		return 3;
	return 0;
}

TEST(threads_cancelled_inside_the_filter)
{
	CHECK_EQ(in_child(cancel_after, NULL), 0);
}

static int
dropped(const char *user)
{
	char err[256];

	if (nb_sandbox_user(user, err, sizeof(err)) < 0)
		return 1;
	if (getuid() == 0 || geteuid() == 0)
		return 2;
	if (setuid(0) == 0)
		return 3;
	return 0;
}

static int
unknown_user(const char *user)
{
	char err[256];

	return nb_sandbox_user(user, err, sizeof(err)) == -ENOENT &&
			   strstr(err, user)
		       ? 0
		       : 1;
}

TEST(user_drop_is_for_good)
{
	CHECK_EQ(in_child(unknown_user, "no-such-user-here"), 0);
	if (geteuid() != 0) {
		printf("skip: not root, nothing to drop\n");
		return;
	}
	CHECK_EQ(in_child(dropped, "nobody"), 0);
}

TESTS_MAIN()
