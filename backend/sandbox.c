/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Least privilege, entered once everything is open: the hypervisor
 * devices (/dev/xen/gntdev, evtchn, privcmd), the xenstore connection,
 * the DPDK ports, the log file.
 *
 *  - nb_sandbox_user(): become an unprivileged user (and its group);
 *    every thread follows, and with the uid every capability goes.
 *  - nb_sandbox_seccomp(): from then on, every thread may make only the
 *    system calls the data path and the control thread use, ioctl only
 *    with the request numbers they use; any other fails with EPERM (not
 *    executed), so a compromised netbackd cannot open files, execute
 *    programs, make new sockets, send to an address of its choosing,
 *    trace others, or reach another ioctl of the devices it holds. The
 *    caller closes privcmd first (hv_drop_privileges()): its hypercall
 *    ioctl would be any hypercall as dom0.
 *
 * What stays open stays usable: that is why the user needs no access
 * to the /dev/xen devices of its own (see the README on permissions).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <linux/vfio.h>
#include <pwd.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <seccomp.h>
#include <xen/xen.h>
#include <xen/sys/evtchn.h>
#include <xen/sys/gntdev.h>

#include "sandbox.h"

int
nb_sandbox_user(const char *user, char *err, size_t el)
{
	struct passwd *pw = getpwnam(user);

	if (!pw) {
		snprintf(err, el, "no user '%s'", user);
		return -ENOENT;
	}
	if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0) {
		snprintf(err, el, "cannot become '%s': %s", user,
			 strerror(errno));
		return -errno;
	}
	/* Never back: setuid(0) must fail now. */
	if (pw->pw_uid != 0 && setuid(0) == 0) {
		snprintf(err, el, "could become root again after '%s'", user);
		return -EPERM;
	}
	return 0;
}

/*
 * What netbackd calls once running: I/O on what is open (xenstore
 * socket, eventfds, signalfd, the log, tap and packet sockets, the
 * hypervisor devices' ioctls), memory (grant maps, malloc), threads'
 * waiting and waking, time, and the way out. The simulated hypervisor
 * additionally opens a domain's memory file on first use (openat, for
 * reading and writing only: no O_CREAT) and rings doorbells (sendto to
 * an address). ioctl, sendto: see nb_ioctls and nb_sandbox_seccomp().
 */
static const int allowed[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(close),
	SCMP_SYS(fcntl), SCMP_SYS(fstat),
	SCMP_SYS(newfstatat), SCMP_SYS(lseek), SCMP_SYS(fsync),
	SCMP_SYS(fdatasync),
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(select),
	SCMP_SYS(pselect6), SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait),
	SCMP_SYS(epoll_ctl),
	/* DPDK's interrupt thread makes its epoll instance anew each time
	 * a port's interrupt callback comes or goes (closing a
	 * virtio-user or vhost port): refused, it panics. A new epoll
	 * instance reaches nothing that is not already open. */
	SCMP_SYS(epoll_create), SCMP_SYS(epoll_create1),
	SCMP_SYS(recvfrom), SCMP_SYS(recvmsg), SCMP_SYS(accept),
	SCMP_SYS(accept4),
	SCMP_SYS(shutdown),
	SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap),
	SCMP_SYS(mprotect), SCMP_SYS(madvise), SCMP_SYS(brk),
	SCMP_SYS(futex), SCMP_SYS(sched_yield), SCMP_SYS(nanosleep),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(clock_gettime),
	SCMP_SYS(gettimeofday), SCMP_SYS(timerfd_settime),
	SCMP_SYS(timerfd_gettime),
	SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(getuid),
	SCMP_SYS(geteuid), SCMP_SYS(getrandom),
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(rt_sigaction), SCMP_SYS(tgkill), SCMP_SYS(sigaltstack),
	SCMP_SYS(restart_syscall),
	SCMP_SYS(exit), SCMP_SYS(exit_group),
	/* glibc's threads (libxenstore's reader, DPDK's helpers) */
	SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
	SCMP_SYS(sched_getaffinity), SCMP_SYS(sched_setaffinity),
};

/*
 * The ioctls netbackd makes once running, by request number; any other
 * fails with EPERM whatever the descriptor. With privcmd closed before
 * (hv_drop_privileges()) no hypercall is left but grant operations and
 * event channels, through what libxengnttab and libxenevtchn 4.17 issue
 * for the calls hv_xen.c makes (their disassembly holds these numbers):
 */
static const uint32_t nb_ioctls[] = {
	/* xengnttab_map_domain_grant_refs(), xengnttab_unmap() */
	IOCTL_GNTDEV_MAP_GRANT_REF, IOCTL_GNTDEV_UNMAP_GRANT_REF,
	IOCTL_GNTDEV_GET_OFFSET_FOR_VADDR,
	/* xengnttab_grant_copy() */
	IOCTL_GNTDEV_GRANT_COPY,
	/* xenevtchn_bind_interdomain(), _unbind(), _notify(); pending and
	 * unmask are read() and write() */
	IOCTL_EVTCHN_BIND_INTERDOMAIN, IOCTL_EVTCHN_UNBIND,
	IOCTL_EVTCHN_NOTIFY,
	/* Interfaces of DPDK's ports at run time (link state, a
	 * net_af_packet port added by netbackctl, promiscuous mode, MAC,
	 * MTU) and the tap PMD's queues; what the sim suite's vdev and
	 * HVM tap tests were seen to make. */
	SIOCGIFFLAGS, SIOCSIFFLAGS, SIOCGIFINDEX, SIOCGIFHWADDR,
	SIOCSIFHWADDR, SIOCGIFMTU, SIOCSIFMTU, TUNSETIFF, TUNGETFEATURES,
	TUNSETQUEUE,
	/* A net_af_packet port's GRO and LRO, turned off while it is open
	 * and back on at close (ctl/afpacket.c). */
	SIOCETHTOOL,
	/* A vfio-pci port's INTx is unmasked through its device fd. */
	VFIO_DEVICE_SET_IRQS,
};

/* What a net_af_packet port's probe needs besides socket(AF_PACKET). */
static const int packet_calls[] = {
	SCMP_SYS(bind), SCMP_SYS(setsockopt), SCMP_SYS(getsockopt),
	SCMP_SYS(getsockname),
};

int
nb_sandbox_seccomp(bool sim, char *err, size_t el)
{
	scmp_filter_ctx ctx;
	int r = 0;

	/*
	 * glibc loads libgcc_s on the first pthread_cancel (DPDK cancels
	 * its interrupt thread at exit) and aborts if it cannot: load it
	 * now, while files may still be opened.
	 */
	if (!dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_NODELETE)) {
		snprintf(err, el, "cannot load libgcc_s.so.1: %s", dlerror());
		return -ENOENT;
	}
	ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));

	if (!ctx) {
		snprintf(err, el, "seccomp_init failed");
		return -ENOMEM;
	}
	/* Every thread, those DPDK and libxenstore started included. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	for (size_t i = 0; r == 0 && i < sizeof(allowed) / sizeof(allowed[0]);
	     i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	/* Threads, never processes: DPDK's telemetry thread starts one per
	 * client. clone3's flags sit behind a pointer the filter cannot
	 * read, so it answers ENOSYS and glibc falls back to clone. */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD,
					     CLONE_THREAD));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
				     SCMP_SYS(clone3), 0);
	/* Packet sockets: an HVM guest's -emu tap joins a network at run
	 * time as a net_af_packet port (netbackctl port-add from the
	 * hotplug script). Binding, options. No other family. */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				     SCMP_A0(SCMP_CMP_EQ, AF_PACKET));
	/* (and a datagram socket for the interface ioctls it makes) */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
				     SCMP_A0(SCMP_CMP_EQ, AF_INET),
				     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf,
					     SOCK_DGRAM));
	for (size_t i = 0; r == 0 && i < sizeof(packet_calls) /
					       sizeof(packet_calls[0]); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, packet_calls[i], 0);
	/* ioctl by request number: the kernel reads only the low 32 bits
	 * of it, so that is what is compared. */
	for (size_t i = 0; r == 0 && i < sizeof(nb_ioctls) /
					       sizeof(nb_ioctls[0]); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu,
					     nb_ioctls[i]));
	/* Sending on what is connected (xenstore, netbackctl's clients, a
	 * packet socket's TX kick), never to an address of one's choosing:
	 * the datagram socket kept for interface ioctls must not carry
	 * UDP anywhere (connect is not allowed either). sendmsg, whose
	 * address the filter cannot see, is not needed once running. The
	 * simulated hypervisor's doorbells are datagrams to a path. */
	if (r == 0 && sim)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sendto), 0);
	else if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sendto), 1,
				     SCMP_A4(SCMP_CMP_EQ, 0));
	/* Files: opened for reading and writing, never created. */
	if (r == 0 && sim)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
				     SCMP_A2(SCMP_CMP_MASKED_EQ, O_CREAT, 0));
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0) {
		snprintf(err, el, "cannot load the seccomp filter: %s",
			 strerror(-r));
		return r;
	}
	return 0;
}
