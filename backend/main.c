/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * netbackd: a userspace Xen network backend.
 *
 * main() parses the configuration, starts DPDK, the hypervisor seam, the
 * switch and the workers, then runs the control loop: xenstore watches,
 * vifs a worker found broken, signals and periodic statistics.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include <xenstore.h>

#include "ctl.h"
#include "mgmt.h"
#include "prof.h"
#include "sandbox.h"
#include "sw.h"

#define NB_MAX_EAL_ARGS 64

static void
usage(FILE *f)
{
	fprintf(f,
"usage: netbackd [options]\n"
"  -c, --config FILE        configuration file (netbackd.conf(5))\n"
"      --sim DIR            use the simulated hypervisor in DIR\n"
"      --domid N            our domain id (default: read from xenstore)\n"
"  -n, --network NAME[=DEVARGS]\n"
"                           add a network, with a DPDK uplink if DEVARGS\n"
"  -w, --workers N          worker lcores (default 1)\n"
"      --max-queues N       multi-queue-max-queues offered (default: workers)\n"
"      --eal ARGS           extra DPDK EAL arguments\n"
"      --poll MODE          adaptive (default) or always\n"
"      --mbufs N            packet buffers in the pool\n"
"  -l, --log-level LEVEL    err, warn, info (default), debug\n"
"      --log-file FILE      log there instead of stderr\n"
"      --syslog             also log to syslog\n"
"  -s, --stats-interval S   log per-vif counters every S seconds\n"
"      --duration S         exit after S seconds\n"
"      --user NAME          run as NAME once everything is open\n"
"      --no-sandbox         no seccomp filter (default: one is entered)\n"
"      --control-socket PATH\n"
"                           netbackctl's socket, or off (default\n"
"                           /run/netbackd/netbackd.sock)\n"
"      --check-config       parse the configuration and exit\n"
"  -h, --help\n");
}

enum {
	OPT_SIM = 256, OPT_DOMID, OPT_EAL, OPT_POLL, OPT_MBUFS, OPT_LOGFILE,
	OPT_SYSLOG, OPT_DURATION, OPT_CHECK, OPT_MAXQ, OPT_USER, OPT_NOSANDBOX, OPT_CTL,
};

static const struct option long_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "sim", required_argument, NULL, OPT_SIM },
	{ "domid", required_argument, NULL, OPT_DOMID },
	{ "network", required_argument, NULL, 'n' },
	{ "workers", required_argument, NULL, 'w' },
	{ "max-queues", required_argument, NULL, OPT_MAXQ },
	{ "eal", required_argument, NULL, OPT_EAL },
	{ "poll", required_argument, NULL, OPT_POLL },
	{ "mbufs", required_argument, NULL, OPT_MBUFS },
	{ "log-level", required_argument, NULL, 'l' },
	{ "log-file", required_argument, NULL, OPT_LOGFILE },
	{ "syslog", no_argument, NULL, OPT_SYSLOG },
	{ "stats-interval", required_argument, NULL, 's' },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "check-config", no_argument, NULL, OPT_CHECK },
	{ "user", required_argument, NULL, OPT_USER },
	{ "no-sandbox", no_argument, NULL, OPT_NOSANDBOX },
	{ "control-socket", required_argument, NULL, OPT_CTL },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct opts {
	const char *config;
	int log_level;
	const char *log_file;
	bool use_syslog, check;
	unsigned stats_s, duration_s;
};

static int
bad(const char *opt, const char *val, const char *why)
{
	fprintf(stderr, "netbackd: --%s '%s': %s\n", opt, val, why);
	return -EINVAL;
}

/* Command line: a first pass finds --config, the second overrides it. */
static int
parse_args(int argc, char **argv, struct nb_conf *c, struct opts *o)
{
	char err[512];
	int opt, r;
	unsigned v;

	o->log_level = LOG_INFO;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:n:w:l:s:h", long_opts,
				  NULL)) != -1) {
		if (opt == 'c')
			o->config = optarg;
		else if (opt == 'h') {
			usage(stdout);
			exit(0);
		} else if (opt == '?') {
			usage(stderr);
			return -EINVAL;
		}
	}
	if (o->config && nb_conf_load(c, o->config, err, sizeof(err)) < 0) {
		fprintf(stderr, "netbackd: %s\n", err);
		return -EINVAL;
	}
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:n:w:l:s:h", long_opts,
				  NULL)) != -1) {
		switch (opt) {
		case 'c':
			break;
		case OPT_SIM:
#ifndef NB_HAVE_SIM
			return bad("sim", optarg, "this netbackd was built "
				   "without the simulator (-Dsimulator=false)");
#endif
			if (strlen(optarg) >= sizeof(c->sim_dir))
				return bad("sim", optarg, "path too long");
			snprintf(c->sim_dir, sizeof(c->sim_dir), "%s", optarg);
			break;
		case OPT_DOMID:
			if (nb_parse_uint(optarg, 0, 0x7fef, &v) < 0)
				return bad("domid", optarg, "not a domid");
			c->domid = (int)v;
			break;
		case 'n': {
			char name[NB_NAME_MAX + 1], *eq = strchr(optarg, '=');
			size_t len = eq ? (size_t)(eq - optarg) : strlen(optarg);

			if (len > NB_NAME_MAX)
				return bad("network", optarg, "name too long");
			memcpy(name, optarg, len);
			name[len] = '\0';
			r = nb_conf_add_net(c, name, eq ? eq + 1 : NULL,
					    "--network", 0, err, sizeof(err));
			if (r < 0) {
				fprintf(stderr, "netbackd: %s\n", err);
				return r;
			}
			break;
		}
		case 'w':
			if (nb_parse_uint(optarg, 1, NB_MAX_WORKERS, &v) < 0)
				return bad("workers", optarg, "must be 1..16");
			c->workers = v;
			break;
		case OPT_MAXQ:
			if (nb_parse_uint(optarg, 1, NB_MAX_QUEUES, &v) < 0)
				return bad("max-queues", optarg,
					   "must be 1..16");
			c->max_queues = v;
			break;
		case OPT_EAL:
			if (strlen(optarg) >= sizeof(c->eal))
				return bad("eal", optarg, "too long");
			snprintf(c->eal, sizeof(c->eal), "%s", optarg);
			break;
		case OPT_POLL:
			if (strcmp(optarg, "always") == 0)
				c->poll_always = true;
			else if (strcmp(optarg, "adaptive") == 0)
				c->poll_always = false;
			else
				return bad("poll", optarg,
					   "must be adaptive or always");
			break;
		case OPT_MBUFS:
			if (nb_parse_uint(optarg, 1024, 1u << 22, &v) < 0)
				return bad("mbufs", optarg,
					   "must be 1024..4194304");
			c->mbufs = v;
			break;
		case 'l':
			o->log_level = nb_log_level_parse(optarg);
			if (o->log_level < 0)
				return bad("log-level", optarg,
					   "must be err, warn, info or debug");
			break;
		case OPT_LOGFILE:
			o->log_file = optarg;
			break;
		case OPT_SYSLOG:
			o->use_syslog = true;
			break;
		case 's':
			if (nb_parse_uint(optarg, 1, 86400, &v) < 0)
				return bad("stats-interval", optarg,
					   "must be 1..86400");
			o->stats_s = v;
			break;
		case OPT_DURATION:
			if (nb_parse_uint(optarg, 1, 1u << 30, &v) < 0)
				return bad("duration", optarg,
					   "must be a positive number");
			o->duration_s = v;
			break;
		case OPT_CHECK:
			o->check = true;
			break;
		case OPT_USER:
			if (strlen(optarg) >= sizeof(c->user))
				return bad("user", optarg, "name too long");
			snprintf(c->user, sizeof(c->user), "%s", optarg);
			break;
		case OPT_NOSANDBOX:
			c->sandbox = false;
			break;
		case OPT_CTL:
			if (strlen(optarg) >= sizeof(c->ctl_path) ||
			    (optarg[0] != '/' && strcmp(optarg, "off") != 0))
				return bad("control-socket", optarg,
					   "an absolute path or off");
			snprintf(c->ctl_path, sizeof(c->ctl_path), "%s",
				 optarg);
			break;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "netbackd: unexpected argument '%s'\n",
			argv[optind]);
		return -EINVAL;
	}
	if (c->max_queues == 0)
		c->max_queues = c->workers;
	return 0;
}

/* The level of the DPDK message being written, as a syslog level. */
static int
dpdk_log_level(const char *line)
{
	/* Said at every start: DPDK's pre-v2 telemetry socket is not
	 * made, as nothing registers for it. Not a warning for us. */
	if (strstr(line, "No legacy callbacks, legacy socket not created"))
		return LOG_DEBUG;
	/* Said for each hugepage size with none reserved (1 GiB, mostly)
	 * while another size is used: without any, netbackd runs with
	 * --no-huge and DPDK does not look. */
	if (strstr(line, "No free ") && strstr(line, "hugepages reported"))
		return LOG_INFO;
	return rte_log_cur_msg_loglevel() - (int)RTE_LOG_EMERG + LOG_EMERG;
}

/*
 * Is arg option opt, in any spelling EAL's getopt_long takes: "--opt" or
 * "--opt=VAL" for a long one, "-o" or "-oVAL" for a short one (the
 * value as the next word needs no check).
 */
static bool
arg_is(const char *arg, const char *opt)
{
	size_t n = strlen(opt);

	if (strncmp(arg, opt, n) != 0)
		return false;
	return arg[n] == '\0' || opt[1] != '-' || arg[n] == '=';
}

/* Did the user give option a, or b (its other name, or NULL)? */
static bool
has_arg(int argc, char **argv, const char *a, const char *b)
{
	for (int i = 0; i < argc; i++)
		if (arg_is(argv[i], a) || (b && arg_is(argv[i], b)))
			return true;
	return false;
}

static bool
have_hugepages(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	unsigned long free_pages = 0;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "HugePages_Free: %lu", &free_pages) == 1)
			break;
	fclose(f);
	if (free_pages < 64)
		return false;
	/* Reserved pages are of use only through a hugetlbfs mount. */
	bool mounted = false;
	char dev[64], dir[256], type[64];

	f = fopen("/proc/mounts", "r");
	if (!f)
		return false;
	while (!mounted && fgets(line, sizeof(line), f))
		mounted = sscanf(line, "%63s %255s %63s", dev, dir, type) == 3 &&
			  strcmp(type, "hugetlbfs") == 0;
	fclose(f);
	return mounted;
}

/*
 * EAL's argv: the user's --eal words, then defaults for what they did not
 * say: one main lcore plus `workers` worker lcores that float over the
 * CPUs we may use, no hugepages when the machine has none (a PV driver
 * domain never does), and no shared files.
 */
static int
build_eal_args(struct nb_conf *c, char *buf, char **argv)
{
	int argc = 0;
	char *save, *tok;
	static char lcores[128], cpus[64];

	argv[argc++] = "netbackd";
	snprintf(buf, sizeof(c->eal), "%s", c->eal);
	for (tok = strtok_r(buf, " \t", &save); tok;
	     tok = strtok_r(NULL, " \t", &save)) {
		if (argc >= NB_MAX_EAL_ARGS - 12)
			return -E2BIG;
		argv[argc++] = tok;
	}
	if (!has_arg(argc, argv, "-l", "--lcores") &&
	    !has_arg(argc, argv, "-c", NULL)) {
		cpu_set_t set;
		int lo = -1, hi = -1;

		if (sched_getaffinity(0, sizeof(set), &set) == 0)
			for (int i = 0; i < CPU_SETSIZE; i++)
				if (CPU_ISSET(i, &set)) {
					if (lo < 0)
						lo = i;
					hi = i;
				}
		if (lo < 0)
			lo = hi = 0;
		snprintf(cpus, sizeof(cpus), "(%d-%d)", lo, hi);
		snprintf(lcores, sizeof(lcores), "(0-%u)@%s", c->workers,
			 cpus);
		argv[argc++] = "--lcores";
		argv[argc++] = lcores;
	}
	if (!has_arg(argc, argv, "--no-huge", NULL) &&
	    !has_arg(argc, argv, "--huge-dir", NULL) && !have_hugepages()) {
		argv[argc++] = "--no-huge";
		if (!has_arg(argc, argv, "-m", "--socket-mem"))
		{
			argv[argc++] = "-m";
			argv[argc++] = "512";
		}
	}
	/* No shared files, so several netbackds (tests) never collide.
	 * --in-memory does that with hugepages; --no-huge wants
	 * --no-shconf instead (it implies legacy memory). */
	if (!has_arg(argc, argv, "--in-memory", NULL) &&
	    !has_arg(argc, argv, "--no-shconf", NULL)) {
		bool nohuge = has_arg(argc, argv, "--no-huge", NULL);

		argv[argc++] = nohuge ? "--no-shconf" : "--in-memory";
	}
	/* Our own runtime directory: DPDK's telemetry socket is
	 * /run/dpdk/netbackd/dpdk_telemetry.v2 (dpdk-telemetry.py -f
	 * netbackd). */
	if (!has_arg(argc, argv, "--file-prefix", NULL))
		argv[argc++] = "--file-prefix=netbackd";
	if (c->sim_dir[0] && !has_arg(argc, argv, "--no-pci", "-a"))
		argv[argc++] = "--no-pci";
	if (!has_arg(argc, argv, "--log-level", NULL))
		argv[argc++] = "--log-level=lib.*:warning";
	argv[argc] = NULL;
	return argc;
}

/*
 * Everything is open (hypervisor, xenstore, ports, log): drop what is
 * not needed any more. Built with sanitizers, the seccomp filter stays
 * off: their runtime makes calls of its own (LeakSanitizer at exit).
 */
static int
enter_sandbox(struct nb_daemon *d)
{
	char err[256];

	/* privcmd would let a compromised netbackd make any hypercall:
	 * liveness comes from xenstore from now on (hv.h). */
	hv_drop_privileges(d->dp.hv);
	if (d->conf.user[0]) {
		if (nb_sandbox_user(d->conf.user, err, sizeof(err)) < 0) {
			nb_err("%s", err);
			return -1;
		}
		nb_info("running as user %s", d->conf.user);
	} else if (geteuid() == 0) {
		nb_info("running as root (set `user` to drop it)");
	}
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
	nb_info("seccomp filter off: built with sanitizers");
#else
	if (!d->conf.sandbox) {
		nb_info("seccomp filter off (--no-sandbox)");
		return 0;
	}
	if (nb_sandbox_seccomp(d->conf.sim_dir[0] != '\0', err,
			       sizeof(err)) < 0) {
		nb_err("%s", err);
		return -1;
	}
	nb_info("seccomp filter on: only the system calls netbackd uses");
#endif
	return 0;
}

/* The signals the control loop reads, as a file (made before the
 * sandbox, which allows no new descriptors). */
static int
signals_fd(void)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	return signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
}

static int
control_loop(struct nb_daemon *d, const struct opts *o, int sfd)
{
	uint64_t start = nb_now_ms(), next_stats, last_ping = start, last_link = 0;

	next_stats = start + o->stats_s * 1000ull;

	for (;;) {
		struct pollfd pfd[4 + 32] = {
			{ .fd = xs_fileno(d->xs), .events = POLLIN },
			{ .fd = d->dp.ctl_wakefd, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
			{ .fd = hv_evtchn_fd(d->ctl_evh), .events = POLLIN },
		};
		unsigned nm = mgmt_pollfds(d, pfd + 4, 32);
		int tmo = mgmt_timeout(d);
		/* Control rings whose hold ended or with requests left. */
		int ct = ctl_xenbus_ctrl_tick(d);

		if (ct >= 0 && (tmo < 0 || ct < tmo))
			tmo = ct;
		int r = poll(pfd, 4 + nm, tmo >= 0 && tmo < 200 ? tmo : 200);

		if (r < 0 && errno != EINTR) {
			nb_err("poll: %s", strerror(errno));
			break;
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
			ctl_xenbus_handle_watches(d);
		ctl_xenbus_tick(d);
		uint64_t t = nb_now_ms();
		if (t - last_link >= 1000) {
			last_link = t;
			ctl_eth_link_check(d);
			/* MAC aging, beside the workers (the switch's
			 * clock: the TSC's milliseconds). */
			unsigned aged = sw_age(d->dp.sw, dp_fast_ms());
			if (aged)
				nb_debug("%u MAC entr%s aged out", aged,
					 aged == 1 ? "y" : "ies");
		}
		/* A dead xenstore does not always wake the watch fd: ask it
		 * once a second when nothing else did. */
		uint64_t now = nb_now_ms();
		if ((pfd[0].revents & (POLLHUP | POLLERR)) || d->xs_lost ||
		    (r == 0 && now - last_ping >= 1000 &&
		     (last_ping = now, !ctl_xenbus_alive(d)))) {
			nb_err("xenstore connection lost: stopping, the vifs' "
			       "state left for the next netbackd");
			close(sfd);
			return -EPIPE;
		}
		mgmt_handle(d, pfd + 4, nm);
		if (pfd[1].revents & POLLIN) {
			uint64_t v;

			if (read(d->dp.ctl_wakefd, &v, sizeof(v)) < 0) {
				/* nothing pending after all */
			}
			ctl_xenbus_check_fatal(d);
		}
		if (pfd[3].revents & POLLIN) {
			uint32_t ports[CTL_EVT_BURST], unmask[CTL_EVT_BURST];
			unsigned nu = 0;
			int n;

			/* Control rings: rare requests, answered here, a
			 * bounded number of ports a loop (the rest keep the
			 * fd readable); a storming ring's port stays masked
			 * until ctl_xenbus_ctrl_tick(). */
			n = hv_evtchn_pending(d->ctl_evh, ports,
					      CTL_EVT_BURST);
			for (int i = 0; i < n; i++)
				if (ctl_xenbus_ctrl_event(d, (int)ports[i]))
					unmask[nu++] = ports[i];
			hv_evtchn_unmask(d->ctl_evh, unmask, nu);
		}
		if (pfd[2].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					mgmt_log_stats(d);
					mgmt_log_queue_stats(d);
					mgmt_log_tables(d);
				} else {
					nb_info("signal %u: stopping",
						si.ssi_signo);
					break;
				}
			}
		}
		now = nb_now_ms();
		if (o->stats_s && now >= next_stats) {
			mgmt_log_stats(d);
			next_stats = now + o->stats_s * 1000ull;
		}
		if (o->duration_s && now - start >= o->duration_s * 1000ull) {
			nb_info("duration reached: stopping");
			break;
		}
	}
	close(sfd);
	return 0;
}

int
main(int argc, char **argv)
{
	static struct nb_daemon daemon;
	struct nb_daemon *d = &daemon;
	struct opts o = { 0 };
	char ealbuf[sizeof(d->conf.eal)];
	char *eal_argv[NB_MAX_EAL_ARGS];
	int eal_argc, r, rc = 1, sfd;
	sigset_t mask;

	nb_conf_defaults(&d->conf);
	d->start_ms = nb_now_ms();
	if (parse_args(argc, argv, &d->conf, &o) < 0)
		return 2;
	if (d->conf.nnets == 0) {
		char err[128];

		/* libxl's default bridge name, internal. */
		nb_conf_add_net(&d->conf, "xenbr0", NULL, "default", 0, err,
				sizeof(err));
	}
	if (o.config) {
		/* absolute: netbackctl reload reads it from elsewhere */
		char *abs = realpath(o.config, NULL);

		snprintf(d->conf_path, sizeof(d->conf_path), "%s",
			 abs ? abs : o.config);
		free(abs);
	}
	/* A user that does not exist would be found out only once every
	 * port is open (nb_sandbox_user): refused now, and by
	 * --check-config. */
	if (d->conf.user[0] && !getpwnam(d->conf.user)) {
		fprintf(stderr, "netbackd: user '%s' does not exist: create "
			"it (systemd-sysusers creates the shipped 'netbackd') "
			"or name another in `user` / --user\n",
			d->conf.user);
		return 2;
	}
	if (o.check) {
		printf("configuration ok: %u network(s)\n", d->conf.nnets);
		return 0;
	}
	nb_log_init(o.log_level, o.log_file, o.use_syslog);
	/* DPDK's messages into the same log (file, syslog, journal), at
	 * their own levels. */
	FILE *dpdk_log = nb_log_stream("dpdk", dpdk_log_level);
	if (dpdk_log)
		rte_openlog_stream(dpdk_log);
	LIST_INIT(&d->vifs);

	/* A peer that goes away is an error to handle, not a reason to
	 * die: DPDK's virtio-user writes to its vhost-user socket without
	 * MSG_NOSIGNAL (at stop, and whenever it talks to a backend that
	 * may have closed it). */
	signal(SIGPIPE, SIG_IGN);
	/* Signals go to the control loop's signalfd, in every thread. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);

	eal_argc = build_eal_args(&d->conf, ealbuf, eal_argv);
	if (eal_argc < 0) {
		nb_err("too many EAL arguments");
		return 2;
	}
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		nb_err("DPDK EAL initialisation failed: %s",
		       rte_strerror(rte_errno));
		return 1;
	}
	dp_fast_ms_init();
	/*
	 * The private area holds the destination queue of an mbuf crossing
	 * to another worker (dp_mbuf_dest()), and takes a whole cache line:
	 * with 16 bytes, a frame's data would start 16 bytes into a line,
	 * and a 60-byte frame would straddle two, each copy of it writing
	 * and reading twice the lines.
	 */
	d->dp.pool = rte_pktmbuf_pool_create("nb_mbufs", d->conf.mbufs, 256,
					  RTE_ALIGN_CEIL(sizeof(void *) * 2,
							 RTE_CACHE_LINE_SIZE),
					  RTE_MBUF_DEFAULT_BUF_SIZE,
					  rte_socket_id());
	if (!d->dp.pool) {
		nb_err("cannot create %u mbufs: %s", d->conf.mbufs,
		       rte_strerror(rte_errno));
		goto out_eal;
	}
	d->dp.indirect_pool = rte_pktmbuf_pool_create("nb_indirect",
						   d->conf.mbufs, 256, 0, 0,
						   rte_socket_id());
	if (!d->dp.indirect_pool) {
		nb_err("cannot create %u indirect mbufs: %s", d->conf.mbufs,
		       rte_strerror(rte_errno));
		goto out_pool;
	}
	d->dp.ctl_wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->dp.ctl_wakefd < 0)
		goto out_pool;
#ifdef NB_HAVE_SIM
	if (d->conf.sim_dir[0])
		d->dp.hv = hv_open_sim(d->conf.sim_dir,
				    d->conf.domid >= 0 ? d->conf.domid : 0);
	else
#endif
		d->dp.hv = hv_open_xen();
	if (!d->dp.hv) {
		nb_err("cannot open the hypervisor interface (%s): %s",
		       d->conf.sim_dir[0] ? d->conf.sim_dir : "xen",
		       strerror(errno));
		goto out_fd;
	}
	d->dp.nworkers = rte_lcore_count() - 1;
	if (d->dp.nworkers == 0) {
		nb_err("no worker lcore: give EAL at least two lcores "
		       "(e.g. --lcores 0@0,1@0)");
		goto out_hv;
	}
	nb_info("hypervisor: %s, %u network(s), %u worker(s)",
		d->dp.hv->ops->name, d->conf.nnets, d->dp.nworkers);
	d->ctl_evh = hv_evtchn_open(d->dp.hv, false);
	if (!d->ctl_evh) {
		nb_err("cannot open event channels: %s", strerror(errno));
		goto out_hv;
	}
	r = ctl_net_init(d);
	if (r < 0) {
		/* (the port or network that failed said why) */
		nb_err("cannot set up the networks and their ports: %s",
		       strerror(-r));
		goto out_net;
	}
	d->dp.poll_always = d->conf.poll_always;
	d->dp.rx_drain_ms = d->conf.rx_drain_ms;
	d->dp.rx_stall_ms = d->conf.rx_stall_ms;
	d->dp.rx_queue_mbufs = d->conf.rx_queue_mbufs;
	d->dp.rx_queue_bytes = d->conf.rx_queue_bytes;
	r = dp_workers_start(&d->dp, d->eth, d->neth);
	if (r < 0)
		goto out_workers;
	/* The control socket before "serving": it answers from then on.
	 * One asked for by name must be there; without the default one
	 * netbackd still serves its guests (netbackctl cannot reach it). */
	if (mgmt_open(d) < 0) {
		if (d->conf.ctl_path[0])
			goto out_xenbus;
		nb_warn("serving without a control socket: netbackctl "
			"cannot reach this netbackd");
	}
	r = ctl_xenbus_start(d);
	if (r < 0)
		goto out_xenbus;
	sfd = signals_fd();
	if (sfd < 0) {
		nb_err("signalfd: %s", strerror(errno));
		goto out_xenbus;
	}

	/* Serving: tell systemd (Type=notify) while sockets may still be
	 * made, so units ordered after us (xendomains) start now. */
	r = nb_notify_ready();
	if (r < 0)
		nb_warn("cannot tell systemd we are ready: %s", strerror(-r));
	if (nb_prof_start() < 0 || enter_sandbox(d) < 0) {
		close(sfd);
		goto out_xenbus;
	}
	rc = control_loop(d, &o, sfd) < 0 ? 1 : 0;
	if (o.stats_s)
		mgmt_log_stats(d);
out_xenbus:
	mgmt_close(d);
	ctl_xenbus_stop(d);
out_workers:
	dp_workers_stop(&d->dp);
out_net:
	/* also what ctl_net_init opened before it failed */
	ctl_net_fini(d);
	nb_info("stopped: %lu pages mapped, %lu ports bound", d->dp.hv->maps,
		d->dp.hv->ports);
	if (d->dp.hv->maps || d->dp.hv->ports)
		rc = 1;
out_hv:
	if (d->ctl_evh)
		hv_evtchn_close(d->ctl_evh);
	hv_close(d->dp.hv);
out_fd:
	close(d->dp.ctl_wakefd);
out_pool:
	rte_mempool_free(d->dp.indirect_pool);
	rte_mempool_free(d->dp.pool);
out_eal:
	rte_eal_cleanup();
	nb_prof_stop();
	return rc;
}
