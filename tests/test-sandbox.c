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
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xen/xen.h>
#include <xen/sys/evtchn.h>
#include <xen/sys/gntdev.h>
#include <xen/sys/privcmd.h>

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

/*
 * ioctl by request number: the hypervisor's and the ports' ones reach
 * the kernel (a pipe answers ENOTTY), any other is refused by the
 * filter (EPERM), privcmd's hypercall first of all.
 */
static int
ioctls(const char *sim)
{
	char err[256];
	int p[2], n = 0, s;
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(9),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct iovec iov = { .iov_base = "x", .iov_len = 1 };
	struct msghdr mh = { .msg_name = &to, .msg_namelen = sizeof(to),
			     .msg_iov = &iov, .msg_iovlen = 1 };
	privcmd_hypercall_t hc = { .op = 0 };

	if (pipe(p) < 0)
		return 1;
	if (nb_sandbox_seccomp(sim != NULL, err, sizeof(err)) < 0)
		return 2;
	errno = 0;
	if (ioctl(p[0], IOCTL_PRIVCMD_HYPERCALL, &hc) != -1 || errno != EPERM)
		return 3;
	errno = 0;
	if (ioctl(p[0], IOCTL_PRIVCMD_MMAPBATCH, &hc) != -1 || errno != EPERM)
		return 4;
	errno = 0;
	if (ioctl(p[0], TIOCSTI, "x") != -1 || errno != EPERM)
		return 5;
	errno = 0;
	if (ioctl(p[0], IOCTL_EVTCHN_RESET) != -1 || errno != EPERM)
		return 6;
	/* Those on the list run (and a pipe knows none of them). */
	errno = 0;
	if (ioctl(p[0], IOCTL_GNTDEV_GRANT_COPY, &n) != -1 || errno != ENOTTY)
		return 7;
	errno = 0;
	if (ioctl(p[0], IOCTL_EVTCHN_NOTIFY, &n) != -1 || errno != ENOTTY)
		return 8;
	/* The datagram socket a net_af_packet port needs for interface
	 * ioctls carries no UDP: no sendto an address, no sendmsg (the
	 * simulated hypervisor's doorbells need sendto). */
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0)
		return 9;
	struct ifreq ifr = { .ifr_name = "lo" };
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return 9;
	errno = 0;
	if (sendmsg(s, &mh, 0) != -1 || errno != EPERM)
		return 10;
	errno = 0;
	if (!sim && (sendto(s, "x", 1, 0, (struct sockaddr *)&to,
			    sizeof(to)) != -1 || errno != EPERM))
		return 11;
	/* Sending on what is connected still works. */
	if (send(p[1], "x", 1, 0) == -1 && errno == EPERM)
		return 12;
	return 0;
}

TEST(seccomp_allows_listed_ioctls_only)
{
	CHECK_EQ(in_child(ioctls, NULL), 0);
	CHECK_EQ(in_child(ioctls, "sim"), 0);
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
