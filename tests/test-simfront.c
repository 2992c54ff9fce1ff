/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * simfront and simtool without netbackd: the test plays the backend (and
 * libxl's peer) itself, over xenstored-sim and a fresh simulated
 * hypervisor, and looks at what the frontend put in xenstore, in its
 * grants, its ports and on its rings.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xenstore.h>

#ifndef __XEN_INTERFACE_VERSION__
#define __XEN_INTERFACE_VERSION__ 0x00040e00
#endif
/* The test's half of the rings runs in this process, the frontend's in
 * a thread or here: ring.h's barriers as C11 fences. */
#define xen_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define xen_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#include <xen/io/netif.h>
#include <xen/io/xenbus.h>

#include "simenv.h"
#include "simfront.h"
#include "simhv.h"
#include "tests.h"

/* Linux 5.9+ XDP extra; older netif.h lack it (as simfront.c). */
#ifndef XEN_NETIF_EXTRA_TYPE_XDP
#define XEN_NETIF_EXTRA_TYPE_XDP 5
#endif

#define BE 0  /* backend domain */
#define DOM 1 /* guest domain */
#define PAGE SIMHV_PAGE_SIZE

/* The test bed: a frontend (its own xenstore and hypervisor handles,
 * driven from a thread while it waits on xenstore) and the backend's
 * end of the rings, played here. */
struct bed {
	struct simenv e;
	char be[96], fe[96];
	struct xs_handle *fxs;
	struct simfront_conf c;
	struct simfront *f;
	pthread_t th;
	int rc;
	/* backend side of queue 0 */
	struct simhv_evtchn *evh;
	netif_tx_back_ring_t tx;
	netif_rx_back_ring_t rx;
	void *txmap, *rxmap;
	int txport, rxport; /* the backend's bound ports */
	/* backend side of the control ring */
	xen_netif_ctrl_back_ring_t ctrl;
	void *ctrlmap;
	int ctrlport;
};

/* The keys a netback offers, as netbackd and Linux write them. */
static const char *const be_full[] = {
	"feature-rx-copy=1", "feature-rx-flip=0", "feature-sg=1",
	"feature-gso-tcpv4=1", "feature-gso-tcpv6=1",
	"feature-ipv6-csum-offload=1", "feature-split-event-channels=1",
	"multi-queue-max-queues=4", NULL,
};

static void
bed_up(struct bed *b)
{
	memset(b, 0, sizeof(*b));
	simenv_init(&b->e);
	CHECK_EQ(simtool_domain_create(b->e.xs, b->e.hv, DOM,
				       simfront_pages(SIMFRONT_MAX_QUEUES) * 2),
		 0);
	snprintf(b->be, sizeof(b->be), "/local/domain/0/backend/vif/1/0");
	snprintf(b->fe, sizeof(b->fe), "/local/domain/1/device/vif/0");
	b->fxs = xs_open(0);
	CHECK(b->fxs != NULL);
	/* The frontend opens its own hypervisor handle from the path. */
	simfront_conf_default(&b->c, NULL, DOM, 0);
	b->c.hv_dir = b->e.dir;
	b->evh = simhv_evtchn_open(b->e.hv, BE);
	CHECK(b->evh != NULL);
}

static void
bed_down(struct bed *b)
{
	if (b->txmap)
		simhv_unmap_grants(b->e.hv, b->txmap, 1);
	if (b->rxmap)
		simhv_unmap_grants(b->e.hv, b->rxmap, 1);
	if (b->ctrlmap)
		simhv_unmap_grants(b->e.hv, b->ctrlmap, 1);
	simhv_evtchn_close(b->evh);
	simfront_free(b->f);
	xs_close(b->fxs);
	simenv_fini(&b->e);
}

static void
put(struct bed *b, const char *dir, const char *key, const char *val)
{
	char path[192];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	CHECK(xs_write(b->e.xs, XBT_NULL, path, val, (unsigned)strlen(val)));
}

/* The backend's keys ("key=value"), then InitWait. */
static void
be_offer(struct bed *b, const char *const *kv)
{
	for (; kv && *kv; kv++) {
		char key[64];
		const char *eq = strchr(*kv, '=');

		snprintf(key, sizeof(key), "%.*s", (int)(eq - *kv), *kv);
		put(b, b->be, key, eq + 1);
	}
	put(b, b->be, "state", "2");
}

static char *
rd(struct bed *b, const char *dir, const char *key)
{
	char path[192];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	return simenv_read(&b->e, path);
}

static int
rd_int(struct bed *b, const char *dir, const char *key)
{
	char *s = rd(b, dir, key);
	int v = s ? atoi(s) : -1;

	free(s);
	return v;
}

static void
check_key(struct bed *b, const char *dir, const char *key, const char *want)
{
	char *s = rd(b, dir, key);

	if (want && (!s || strcmp(s, want) != 0))
		FAIL("%s/%s = '%s', want '%s'", dir, key, s ? s : "(none)",
		     want);
	if (!want && s)
		FAIL("%s/%s = '%s', want no key", dir, key, s);
	free(s);
}

static void *
connect_thread(void *arg)
{
	struct bed *b = arg;

	b->rc = simfront_connect(b->f, 5000);
	return NULL;
}

static void
connect_start(struct bed *b)
{
	b->f = simfront_new(&b->c, b->fxs);
	CHECK(b->f != NULL);
	CHECK_EQ(pthread_create(&b->th, NULL, connect_thread, b), 0);
}

static int
connect_end(struct bed *b)
{
	pthread_join(b->th, NULL);
	return b->rc;
}

/* Backend: map queue 0's rings and bind its ports (dir: where its keys
 * are). */
static void
be_attach(struct bed *b, const char *dir)
{
	uint32_t ref;
	int port;

	ref = (uint32_t)rd_int(b, dir, "tx-ring-ref");
	b->txmap = simhv_map_grants(b->e.hv, BE, DOM, 1, &ref, true);
	CHECK(b->txmap != NULL);
	ref = (uint32_t)rd_int(b, dir, "rx-ring-ref");
	b->rxmap = simhv_map_grants(b->e.hv, BE, DOM, 1, &ref, true);
	CHECK(b->rxmap != NULL);
	BACK_RING_INIT(&b->tx, (netif_tx_sring_t *)b->txmap, PAGE);
	BACK_RING_INIT(&b->rx, (netif_rx_sring_t *)b->rxmap, PAGE);
	port = rd_int(b, dir, "event-channel");
	if (port < 0)
		port = rd_int(b, dir, "event-channel-tx");
	b->txport = simhv_evtchn_bind_interdomain(b->evh, DOM, (uint32_t)port);
	CHECK(b->txport > 0);
	b->rxport = b->txport;
	port = rd_int(b, dir, "event-channel-rx");
	if (port >= 0) {
		b->rxport = simhv_evtchn_bind_interdomain(b->evh, DOM,
							  (uint32_t)port);
		CHECK(b->rxport > 0);
	}
}

/* The whole handshake with the full offer; queue 0 attached. */
static void
connected(struct bed *b)
{
	be_offer(b, be_full);
	connect_start(b);
	CHECK(simtool_wait(b->e.xs, 5000, "4", "%s/state", b->fe));
	be_attach(b, b->fe);
	put(b, b->be, "state", "4");
	CHECK_EQ(connect_end(b), 0);
}

/* Backend: the next delivered port within ms (unmasked), or -1. */
static int
be_event(struct bed *b, int ms)
{
	struct pollfd p = { .fd = simhv_evtchn_fd(b->evh), .events = POLLIN };
	int port;

	poll(&p, 1, ms);
	port = simhv_evtchn_pending(b->evh);
	if (port < 0)
		return -1;
	simhv_evtchn_unmask(b->evh, (uint32_t)port);
	return port;
}

static int16_t
gcopy(struct bed *b, bool to_guest, uint32_t ref, uint16_t off, void *local,
      uint16_t len)
{
	xengnttab_grant_copy_segment_t s;

	memset(&s, 0, sizeof(s));
	if (to_guest) {
		s.dest.foreign.ref = ref;
		s.dest.foreign.domid = DOM;
		s.dest.foreign.offset = off;
		s.source.virt = local;
		s.flags = GNTCOPY_dest_gref;
	} else {
		s.source.foreign.ref = ref;
		s.source.foreign.domid = DOM;
		s.source.foreign.offset = off;
		s.dest.virt = local;
		s.flags = GNTCOPY_source_gref;
	}
	s.len = len;
	CHECK_EQ(simhv_grant_copy(b->e.hv, BE, 1, &s), 0);
	return s.status;
}

static void
fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 8));
}

/* ---- simtool ---- */

struct vif_call {
	struct xs_handle *xs;
	struct simtool_vif v;
	int rc;
};

static void *
vif_add_thread(void *arg)
{
	struct vif_call *vc = arg;

	vc->rc = simtool_vif_add(vc->xs, &vc->v);
	return NULL;
}

static void *
vif_remove_thread(void *arg)
{
	struct vif_call *vc = arg;

	vc->rc = simtool_vif_remove(vc->xs, &vc->v, 5000);
	return NULL;
}

static void
check_perms(struct bed *b, const char *path, unsigned owner, int reader)
{
	unsigned n = 0;
	struct xs_permissions *p = xs_get_permissions(b->e.xs, XBT_NULL, path,
						      &n);

	CHECK(p != NULL);
	CHECK(n >= 1);
	CHECK_EQ(p[0].id, owner);
	CHECK_EQ(p[0].perms, XS_PERM_NONE);
	if (reader >= 0) {
		CHECK_EQ(n, 2);
		CHECK_EQ(p[1].id, reader);
		CHECK_EQ(p[1].perms, XS_PERM_READ);
	} else {
		CHECK_EQ(n, 1);
	}
	free(p);
}

TEST(simtool_writes_the_libxl_layout)
{
	struct bed b;
	struct vif_call vc = { 0 };
	pthread_t th;
	char *s;

	bed_up(&b);
	/* The domain, as libxl makes it. */
	CHECK(simhv_domain_exists(b.e.hv, DOM));
	check_key(&b, "/local/domain/1", "name", "guest1");
	check_key(&b, "/local/domain/1", "domid", "1");
	check_perms(&b, "/local/domain/1", 0, DOM);
	check_perms(&b, "/local/domain/1/device", DOM, -1);
	CHECK(xs_is_domain_introduced(b.e.xs, DOM));
	CHECK_EQ(simtool_domain_create(b.e.xs, b.e.hv, DOM, 16), -EEXIST);

	/* A vif: the backend answers InitWait. */
	vc.xs = b.fxs;
	vc.v.domid = DOM;
	vc.v.devid = 0;
	memcpy(vc.v.mac, "\x00\x16\x3e\x0a\x0b\x0c", 6);
	vc.v.bridge = "xenbr0.10:20";
	vc.v.ip = "10.0.0.1 2001:db8::1";
	vc.v.rate = "10Mb/s";
	vc.v.vifname = "web0";
	vc.v.mtu = 9000;
	vc.v.extra_be[0] = "custom=yes";
	CHECK_EQ(pthread_create(&th, NULL, vif_add_thread, &vc), 0);
	CHECK(simtool_wait(b.e.xs, 5000, "1", "%s/state", b.be));
	static const char *const bek[][2] = {
		{ "bridge", "xenbr0.10:20" },
		{ "frontend", "/local/domain/1/device/vif/0" },
		{ "frontend-id", "1" }, { "handle", "0" },
		{ "hotplug-status", "" }, { "mac", "00:16:3e:0a:0b:0c" },
		{ "online", "1" },
		{ "script", "/etc/xen/scripts/vif-netbackd" },
		{ "state", "1" }, { "type", "vif" },
		{ "ip", "10.0.0.1 2001:db8::1" }, { "rate", "10Mb/s" },
		{ "vifname", "web0" }, { "mtu", "9000" }, { "custom", "yes" },
	};
	for (size_t i = 0; i < sizeof(bek) / sizeof(bek[0]); i++)
		check_key(&b, b.be, bek[i][0], bek[i][1]);
	static const char *const fek[][2] = {
		{ "backend", "/local/domain/0/backend/vif/1/0" },
		{ "backend-id", "0" }, { "handle", "0" },
		{ "mac", "00:16:3e:0a:0b:0c" }, { "mtu", "9000" },
		{ "state", "1" }, { "trusted", "1" },
	};
	for (size_t i = 0; i < sizeof(fek) / sizeof(fek[0]); i++)
		check_key(&b, b.fe, fek[i][0], fek[i][1]);
	check_perms(&b, b.be, BE, DOM);
	check_perms(&b, b.fe, DOM, BE);
	/* Not plugged until the backend is in InitWait. */
	usleep(100000);
	CHECK_EQ(pthread_tryjoin_np(th, NULL), EBUSY);
	check_key(&b, b.be, "hotplug-status", "");
	put(&b, b.be, "state", "2");
	pthread_join(th, NULL);
	CHECK_EQ(vc.rc, 0);
	check_key(&b, b.be, "hotplug-status", "connected");

	/* network-detach: online 0, Closing, wait for Closed, remove. */
	CHECK_EQ(pthread_create(&th, NULL, vif_remove_thread, &vc), 0);
	CHECK(simtool_wait(b.e.xs, 5000, "5", "%s/state", b.be));
	check_key(&b, b.be, "online", "0");
	put(&b, b.be, "state", "6");
	pthread_join(th, NULL);
	CHECK_EQ(vc.rc, 0);
	s = simenv_read(&b.e, b.be);
	CHECK(s == NULL);
	s = simenv_read(&b.e, b.fe);
	CHECK(s == NULL);

	/* Destroy: gone from the hypervisor and from xenstore. */
	put(&b, "/local/domain/0/backend/vif/1/1", "state", "4");
	CHECK_EQ(simtool_domain_destroy(b.e.xs, b.e.hv, DOM, BE), 0);
	CHECK(!simhv_domain_exists(b.e.hv, DOM));
	CHECK(!xs_is_domain_introduced(b.e.xs, DOM));
	s = simenv_read(&b.e, "/local/domain/1");
	CHECK(s == NULL);
	s = simenv_read(&b.e, "/local/domain/0/backend/vif/1");
	CHECK(s == NULL);
	bed_down(&b);
}

TEST(simtool_times_out_without_backend)
{
	struct bed b;
	struct simtool_vif v = { .domid = DOM, .initwait_ms = 300 };

	bed_up(&b);
	v.untrusted = true;
	CHECK_EQ(simtool_vif_add(b.e.xs, &v), -ETIMEDOUT);
	check_key(&b, b.be, "hotplug-status", "");
	check_key(&b, b.fe, "trusted", "0");
	check_key(&b, b.fe, "mtu", "1500");
	check_key(&b, b.be, "mtu", NULL);
	check_key(&b, b.be, "bridge", NULL);
	/* Removing a vif whose backend never answers: gone after the
	 * wait all the same. */
	CHECK_EQ(simtool_vif_remove(b.e.xs, &v, 200), -ETIMEDOUT);
	CHECK(simenv_read(&b.e, b.be) == NULL);
	CHECK(simenv_read(&b.e, b.fe) == NULL);
	CHECK_EQ(simtool_wait_state(b.e.xs, 100, 1u << XenbusStateConnected,
				    "%s/state", b.be), -ETIMEDOUT);
	/* A missing key reads as Unknown. */
	CHECK_EQ(simtool_wait_state(b.e.xs, 100, 1u << XenbusStateUnknown,
				    "%s/state", b.be), XenbusStateUnknown);
	bed_down(&b);
}

/* ---- handshake and keys ---- */

TEST(keys_one_queue_full_offer)
{
	struct bed b;

	bed_up(&b);
	be_offer(&b, be_full);
	connect_start(&b);
	/* Connected before the backend is: straight from Initialising. */
	CHECK(simtool_wait(b.e.xs, 5000, "4", "%s/state", b.fe));
	check_key(&b, b.be, "state", "2");
	static const char *const want[][2] = {
		{ "multi-queue-num-queues", "1" }, /* the backend offers */
		{ "request-rx-copy", "1" }, { "feature-rx-notify", "1" },
		{ "feature-sg", "1" }, { "feature-gso-tcpv4", "1" },
		{ "feature-gso-tcpv6", "1" },
		{ "feature-ipv6-csum-offload", "1" },
		{ "feature-no-csum-offload", NULL },
		{ "event-channel", NULL }, { "queue-0", NULL },
		{ "xdp-headroom", NULL },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		check_key(&b, b.fe, want[i][0], want[i][1]);
	CHECK(rd_int(&b, b.fe, "event-channel-tx") > 0);
	CHECK(rd_int(&b, b.fe, "event-channel-rx") > 0);
	CHECK(rd_int(&b, b.fe, "event-channel-tx") !=
	      rd_int(&b, b.fe, "event-channel-rx"));

	/* The rings map; the RX ring is full of writable buffers. */
	be_attach(&b, b.fe);
	CHECK_EQ(b.tx.sring->req_prod, 0);
	CHECK_EQ(b.tx.sring->rsp_event, 1);
	CHECK_EQ(b.rx.sring->req_prod, 256);
	for (unsigned i = 0; i < 256; i++) {
		netif_rx_request_t r;
		void *m;

		RING_COPY_REQUEST(&b.rx, i, &r);
		CHECK_EQ(r.id, i);
		m = simhv_map_grants(b.e.hv, BE, DOM, 1, &r.gref, true);
		CHECK(m != NULL);
		simhv_unmap_grants(b.e.hv, m, 1);
	}
	/* TX buffers are read-only to the backend. */
	uint32_t tref = simfront_tx_gref(b.f, 0, 7);
	CHECK(simhv_map_grants(b.e.hv, BE, DOM, 1, &tref, true) == NULL);
	CHECK_EQ(errno, EPERM);
	void *m = simhv_map_grants(b.e.hv, BE, DOM, 1, &tref, false);
	CHECK(m != NULL);
	simhv_unmap_grants(b.e.hv, m, 1);
	/* Not granted to any other domain. */
	CHECK(simhv_map_grants(b.e.hv, 2, DOM, 1, &tref, false) == NULL);

	put(&b, b.be, "state", "4");
	CHECK_EQ(connect_end(&b), 0);
	CHECK_EQ(simfront_queues(b.f), 1);
	CHECK(simfront_split(b.f));
	CHECK_EQ(simfront_connect(b.f, 100), -EALREADY);
	bed_down(&b);
}

TEST(keys_backend_offers_little)
{
	struct bed b;
	static const char *const little[] = { "feature-rx-copy=1",
					      "feature-xdp-headroom=1", NULL };

	bed_up(&b);
	b.c.queues = 4; /* no multi-queue-max-queues: one queue */
	be_offer(&b, little);
	connect_start(&b);
	CHECK(simtool_wait(b.e.xs, 5000, "4", "%s/state", b.fe));
	check_key(&b, b.fe, "multi-queue-num-queues", NULL);
	check_key(&b, b.fe, "event-channel-tx", NULL);
	check_key(&b, b.fe, "queue-0", NULL);
	check_key(&b, b.fe, "xdp-headroom", "0");
	CHECK(rd_int(&b, b.fe, "event-channel") > 0);
	CHECK(rd_int(&b, b.fe, "tx-ring-ref") > 0);
	be_attach(&b, b.fe);
	put(&b, b.be, "state", "4");
	CHECK_EQ(connect_end(&b), 0);
	CHECK_EQ(simfront_queues(b.f), 1);
	CHECK(!simfront_split(b.f));
	/* No feature-sg at the backend: a frame that needs two slots
	 * cannot go; no GSO offered: no GSO frame. */
	static uint8_t fr[5000];
	struct simfront_txopt gso = { .gso_size = 1448,
				      .gso_type = XEN_NETIF_GSO_TYPE_TCPV4 };
	CHECK_EQ(simfront_send(b.f, 0, fr, sizeof(fr), NULL), -EMSGSIZE);
	CHECK_EQ(simfront_send(b.f, 0, fr, 1000, &gso), -EOPNOTSUPP);
	CHECK_EQ(simfront_send(b.f, 0, fr, 1000, NULL), 0);
	CHECK_EQ(simfront_send(b.f, 1, fr, 1000, NULL), -EINVAL);
	CHECK_EQ(simfront_send(b.f, 0, fr, 0, NULL), -EINVAL);
	CHECK_EQ(simfront_send(b.f, 0, fr, 65536, NULL), -EINVAL);
	bed_down(&b);
}

TEST(keys_multi_queue)
{
	struct bed b;
	static const char *const two[] = {
		"feature-rx-copy=1", "feature-split-event-channels=1",
		"multi-queue-max-queues=2", NULL,
	};
	char dir[128];

	bed_up(&b);
	b.c.queues = 4;
	be_offer(&b, two);
	connect_start(&b);
	CHECK(simtool_wait(b.e.xs, 5000, "4", "%s/state", b.fe));
	check_key(&b, b.fe, "multi-queue-num-queues", "2");
	check_key(&b, b.fe, "tx-ring-ref", NULL);
	check_key(&b, b.fe, "event-channel-tx", NULL);
	for (unsigned q = 0; q < 3; q++) {
		snprintf(dir, sizeof(dir), "%s/queue-%u", b.fe, q);
		if (q == 2) {
			check_key(&b, dir, "tx-ring-ref", NULL);
			continue;
		}
		CHECK(rd_int(&b, dir, "tx-ring-ref") > 0);
		CHECK(rd_int(&b, dir, "rx-ring-ref") > 0);
		CHECK(rd_int(&b, dir, "event-channel-tx") > 0);
		CHECK(rd_int(&b, dir, "event-channel-rx") > 0);
		check_key(&b, dir, "event-channel", NULL);
	}
	snprintf(dir, sizeof(dir), "%s/queue-1", b.fe);
	be_attach(&b, dir);
	CHECK_EQ(b.rx.sring->req_prod, 256);
	put(&b, b.be, "state", "4");
	CHECK_EQ(connect_end(&b), 0);
	CHECK_EQ(simfront_queues(b.f), 2);
	bed_down(&b);
}

TEST(keys_multi_queue_single_channels)
{
	struct bed b;
	char dir[128];

	bed_up(&b);
	b.c.queues = 3;
	b.c.no_split = true;
	be_offer(&b, be_full);
	connect_start(&b);
	CHECK(simtool_wait(b.e.xs, 5000, "4", "%s/state", b.fe));
	check_key(&b, b.fe, "multi-queue-num-queues", "3");
	for (unsigned q = 0; q < 3; q++) {
		snprintf(dir, sizeof(dir), "%s/queue-%u", b.fe, q);
		CHECK(rd_int(&b, dir, "event-channel") > 0);
		check_key(&b, dir, "event-channel-tx", NULL);
	}
	put(&b, b.be, "state", "4");
	CHECK_EQ(connect_end(&b), 0);
	CHECK(!simfront_split(b.f));
	bed_down(&b);
}

TEST(keys_feature_toggles)
{
	struct bed b;

	bed_up(&b);
	b.c.sg = b.c.gso_tcpv4 = b.c.gso_tcpv6 = b.c.ipv6_csum = false;
	b.c.rx_notify = false;
	b.c.no_csum = true;
	b.c.no_rx_copy = true;
	be_offer(&b, be_full);
	connect_start(&b);
	CHECK(simtool_wait(b.e.xs, 5000, "4", "%s/state", b.fe));
	static const char *const want[][2] = {
		{ "request-rx-copy", NULL }, { "feature-rx-notify", NULL },
		{ "feature-sg", NULL }, { "feature-gso-tcpv4", NULL },
		{ "feature-gso-tcpv6", NULL },
		{ "feature-ipv6-csum-offload", NULL },
		{ "feature-no-csum-offload", "1" },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		check_key(&b, b.fe, want[i][0], want[i][1]);
	/* The backend refuses such a frontend. */
	put(&b, b.be, "error", "frontend lacks request-rx-copy");
	put(&b, b.be, "state", "5");
	CHECK_EQ(connect_end(&b), -ECONNREFUSED);
	bed_down(&b);
}

TEST(connect_refusals_and_timeouts)
{
	struct bed b;
	static const char *const nocopy[] = { "feature-sg=1", NULL };

	bed_up(&b);
	/* No backend at all. */
	b.f = simfront_new(&b.c, b.fxs);
	CHECK(b.f != NULL);
	CHECK_EQ(simfront_connect(b.f, 300), -ETIMEDOUT);
	CHECK_EQ(simhv_domain_grants(b.e.hv, DOM), 0);
	/* A backend without feature-rx-copy: netfront gives up and writes
	 * nothing. */
	be_offer(&b, nocopy);
	CHECK_EQ(simfront_connect(b.f, 1000), -ENODEV);
	check_key(&b, b.fe, "tx-ring-ref", NULL);
	check_key(&b, b.fe, "state", NULL);
	CHECK_EQ(simhv_domain_grants(b.e.hv, DOM), 0);
	CHECK_EQ(simhv_domain_ports(b.e.hv, DOM), 0);
	/* A backend that never connects. */
	put(&b, b.be, "feature-rx-copy", "1");
	CHECK_EQ(simfront_connect(b.f, 500), -ETIMEDOUT);
	check_key(&b, b.fe, "state", "4");
	simfront_free(b.f);
	/* Everything given back by free. */
	CHECK_EQ(simhv_domain_grants(b.e.hv, DOM), 0);
	CHECK_EQ(simhv_domain_ports(b.e.hv, DOM), 0);
	b.f = NULL;
	/* Bad configurations. */
	struct simfront_conf c = b.c;
	c.queues = SIMFRONT_MAX_QUEUES + 1;
	CHECK(simfront_new(&c, b.fxs) == NULL);
	CHECK_EQ(errno, EINVAL);
	c = b.c;
	c.first_page = simfront_pages(SIMFRONT_MAX_QUEUES) * 2;
	CHECK(simfront_new(&c, b.fxs) == NULL);
	CHECK_EQ(errno, ENOMEM);
	c = b.c;
	c.domid = 9;
	CHECK(simfront_new(&c, b.fxs) == NULL);
	bed_down(&b);
}

/* ---- TX ---- */

/* Backend: take the next TX request. */
static netif_tx_request_t
be_tx_req(struct bed *b)
{
	netif_tx_request_t r;

	CHECK((int32_t)(b->tx.sring->req_prod - b->tx.req_cons) > 0);
	RING_COPY_REQUEST(&b->tx, b->tx.req_cons, &r);
	b->tx.req_cons++;
	return r;
}

static void
be_tx_rsp(struct bed *b, uint16_t id, int16_t status)
{
	netif_tx_response_t *r = RING_GET_RESPONSE(&b->tx, b->tx.rsp_prod_pvt);

	r->id = id;
	r->status = status;
	b->tx.rsp_prod_pvt++;
}

static void
be_tx_push(struct bed *b)
{
	int kick;

	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&b->tx, kick);
	if (kick)
		CHECK_EQ(simhv_evtchn_notify(b->evh, (uint32_t)b->txport), 0);
}

/* Backend: read a whole packet (all slots) and answer it OKAY. */
static size_t
be_tx_packet(struct bed *b, uint8_t *out, unsigned *nslots)
{
	netif_tx_request_t r = be_tx_req(b), first = r;
	size_t got = 0;

	*nslots = 1;
	if (r.flags & NETTXF_extra_info) {
		b->tx.req_cons++;
		be_tx_rsp(b, 0, NETIF_RSP_NULL);
	}
	for (;;) {
		/* The first slot holds what fits in its page. */
		uint16_t len = r.size;

		if (*nslots == 1 && r.offset + r.size > PAGE)
			len = (uint16_t)(PAGE - r.offset);
		CHECK_EQ(gcopy(b, false, r.gref, r.offset, out + got, len),
			 GNTST_okay);
		got += len;
		be_tx_rsp(b, r.id, NETIF_RSP_OKAY);
		if (!(r.flags & NETTXF_more_data))
			break;
		r = be_tx_req(b);
		(*nslots)++;
	}
	CHECK_EQ(got, first.size);
	return got;
}

TEST(tx_requests_as_the_backend_sees_them)
{
	struct bed b;
	static uint8_t fr[9000], got[65536];
	struct simfront_txopt csum = { .flags = NETTXF_csum_blank |
					       NETTXF_data_validated |
					       NETTXF_more_data };
	struct simfront_stats st;
	netif_tx_request_t r;
	netif_extra_info_t x;
	unsigned slots;

	bed_up(&b);
	connected(&b);
	while (be_event(&b, 0) >= 0)
		; /* the kicks of connect */

	/* One slot; the flags the caller may set, and no others. */
	fill(fr, sizeof(fr), 1);
	CHECK_EQ(simfront_send(b.f, 0, fr, 100, &csum), 0);
	CHECK_EQ(b.tx.sring->req_prod, 0); /* not before the flush */
	simfront_flush(b.f, 0);
	CHECK_EQ(be_event(&b, 1000), b.txport);
	CHECK_EQ(b.tx.sring->req_prod, 1);
	RING_COPY_REQUEST(&b.tx, 0, &r);
	CHECK_EQ(r.size, 100);
	CHECK_EQ(r.offset, 0);
	CHECK_EQ(r.flags, NETTXF_csum_blank | NETTXF_data_validated);
	CHECK_EQ(r.gref, simfront_tx_gref(b.f, 0, r.id));
	CHECK_EQ(be_tx_packet(&b, got, &slots), 100);
	CHECK_EQ(slots, 1);
	CHECK(memcmp(got, fr, 100) == 0);

	/* 9000 bytes from offset 100 with a GSO extra: 3996 + 4096 + 908,
	 * the first slot carrying the whole length, the extra after it. */
	struct simfront_txopt gso = { .gso_size = 1448,
				      .gso_type = XEN_NETIF_GSO_TYPE_TCPV4,
				      .flags = NETTXF_csum_blank,
				      .offset = 100 };
	fill(fr, sizeof(fr), 2);
	CHECK_EQ(simfront_send(b.f, 0, fr, 9000, &gso), 0);
	simfront_flush(b.f, 0);
	CHECK_EQ(b.tx.sring->req_prod, 5);
	RING_COPY_REQUEST(&b.tx, 1, &r);
	CHECK_EQ(r.size, 9000);
	CHECK_EQ(r.offset, 100);
	CHECK_EQ(r.flags, NETTXF_csum_blank | NETTXF_extra_info |
				  NETTXF_more_data);
	memcpy(&x, RING_GET_REQUEST(&b.tx, 2), sizeof(x));
	CHECK_EQ(x.type, XEN_NETIF_EXTRA_TYPE_GSO);
	CHECK_EQ(x.flags, 0);
	CHECK_EQ(x.u.gso.size, 1448);
	CHECK_EQ(x.u.gso.type, XEN_NETIF_GSO_TYPE_TCPV4);
	RING_COPY_REQUEST(&b.tx, 3, &r);
	CHECK_EQ(r.size, 4096);
	CHECK_EQ(r.offset, 0);
	CHECK_EQ(r.flags, NETTXF_more_data);
	RING_COPY_REQUEST(&b.tx, 4, &r);
	CHECK_EQ(r.size, 908);
	CHECK_EQ(r.flags, 0);
	CHECK_EQ(be_tx_packet(&b, got, &slots), 9000);
	CHECK_EQ(slots, 3);
	CHECK(memcmp(got, fr, 9000) == 0);

	/* An offset that leaves no room for the Ethernet header: moved to
	 * the page start, as netfront bounces it. */
	struct simfront_txopt late = { .offset = 4090 };
	CHECK_EQ(simfront_send(b.f, 0, fr, 60, &late), 0);
	simfront_flush(b.f, 0);
	RING_COPY_REQUEST(&b.tx, 5, &r);
	CHECK_EQ(r.offset, 0);
	CHECK_EQ(be_tx_packet(&b, got, &slots), 60);
	CHECK(memcmp(got, fr, 60) == 0);

	/* Responses: counted by status, the NULL of the extra ignored. */
	be_tx_push(&b);
	CHECK_EQ(simfront_poll(b.f, 1000), 1);
	simfront_stats(b.f, 0, &st);
	CHECK_EQ(st.tx_ok, 5);
	CHECK_EQ(st.tx_packets, 3);
	CHECK_EQ(st.tx_bytes, 9160);
	CHECK(st.events >= 1);

	/* A burst: one push, one notification, since the backend asked
	 * (RING_FINAL_CHECK) for the next request. */
	int more;
	RING_FINAL_CHECK_FOR_REQUESTS(&b.tx, more);
	CHECK(!more);
	uint64_t sent_before = st.notify_sent;
	struct simfront_frame burst[32];
	for (unsigned i = 0; i < 32; i++) {
		burst[i].data = fr + i;
		burst[i].len = 60 + i;
		burst[i].opt = NULL;
	}
	CHECK_EQ(simfront_send_burst(b.f, 0, burst, 32), 32);
	CHECK_EQ(be_event(&b, 1000), b.txport);
	CHECK_EQ(be_event(&b, 50), -1);
	simfront_stats(b.f, 0, &st);
	CHECK_EQ(st.notify_sent, sent_before + 1);
	/* Statuses, each counted apart. */
	for (unsigned i = 0; i < 32; i++) {
		r = be_tx_req(&b);
		CHECK_EQ(r.size, 60 + i);
		CHECK_EQ(gcopy(&b, false, r.gref, r.offset, got, r.size),
			 GNTST_okay);
		CHECK(memcmp(got, fr + i, r.size) == 0);
		be_tx_rsp(&b, r.id, i < 20 ? NETIF_RSP_OKAY
				 : i < 28 ? NETIF_RSP_ERROR
					  : NETIF_RSP_DROPPED);
	}
	/* Without the backend asking, a push does not notify. */
	CHECK_EQ(simfront_send(b.f, 0, fr, 60, NULL), 0);
	simfront_flush(b.f, 0);
	CHECK_EQ(be_event(&b, 50), -1);
	r = be_tx_req(&b);
	be_tx_rsp(&b, r.id, NETIF_RSP_OKAY);
	be_tx_push(&b);
	CHECK_EQ(simfront_poll(b.f, 1000), 1);
	simfront_stats(b.f, 0, &st);
	CHECK_EQ(st.tx_ok, 5 + 20 + 1);
	CHECK_EQ(st.tx_error, 8);
	CHECK_EQ(st.tx_dropped, 4);
	CHECK(simfront_broken(b.f) == NULL);
	bed_down(&b);
}

TEST(tx_ring_full_and_ids_reused)
{
	struct bed b;
	static uint8_t fr[2000];
	bool used[256] = { 0 };
	netif_tx_request_t r;

	bed_up(&b);
	connected(&b);
	/* 256 one-slot frames fill the ring; the next waits. */
	for (unsigned i = 0; i < 256; i++)
		CHECK_EQ(simfront_send(b.f, 0, fr, 100, NULL), 0);
	CHECK_EQ(simfront_send(b.f, 0, fr, 100, NULL), -ENOSPC);
	simfront_flush(b.f, 0);
	for (unsigned i = 0; i < 256; i++) {
		r = be_tx_req(&b);
		CHECK(r.id < 256 && !used[r.id]); /* each id in flight once */
		used[r.id] = true;
		be_tx_rsp(&b, r.id, NETIF_RSP_OKAY);
	}
	be_tx_push(&b);
	simfront_poll(b.f, 1000);
	/* Answered: ring and ids free again, many times round. */
	for (unsigned round = 0; round < 5; round++) {
		for (unsigned i = 0; i < 128; i++)
			CHECK_EQ(simfront_send(b.f, 0, fr, sizeof(fr), NULL),
				 0);
		simfront_flush(b.f, 0);
		for (unsigned i = 0; i < 128; i++) {
			r = be_tx_req(&b);
			be_tx_rsp(&b, r.id, NETIF_RSP_OKAY);
		}
		be_tx_push(&b);
		simfront_poll(b.f, 1000);
	}
	struct simfront_stats st;
	simfront_stats(b.f, 0, &st);
	CHECK_EQ(st.tx_ok, 256 + 5 * 128);
	/* A raw request's id is in flight: its answer is no bug, and the
	 * id is not handed out meanwhile. */
	netif_tx_request_t raw = { .gref = simfront_tx_gref(b.f, 0, 5),
				   .id = 5, .size = 60 };
	simfront_raw_tx(b.f, 0, &raw);
	simfront_flush(b.f, 0);
	r = be_tx_req(&b);
	CHECK_EQ(r.id, 5);
	for (unsigned i = 0; i < 255; i++)
		CHECK_EQ(simfront_send(b.f, 0, fr, 60, NULL), 0);
	simfront_flush(b.f, 0);
	for (unsigned i = 0; i < 255; i++) {
		netif_tx_request_t q = be_tx_req(&b);

		CHECK(q.id != 5);
		be_tx_rsp(&b, q.id, NETIF_RSP_OKAY);
	}
	be_tx_rsp(&b, 5, NETIF_RSP_ERROR);
	be_tx_push(&b);
	simfront_poll(b.f, 1000);
	CHECK(simfront_broken(b.f) == NULL);
	simfront_stats(b.f, 0, &st);
	CHECK_EQ(st.tx_error, 1);
	bed_down(&b);
}

TEST(tx_bogus_responses_break_the_device)
{
	struct bed b;
	static uint8_t fr[100];

	bed_up(&b);
	connected(&b);
	CHECK_EQ(simfront_send(b.f, 0, fr, 100, NULL), 0);
	simfront_flush(b.f, 0);
	netif_tx_request_t r = be_tx_req(&b);
	be_tx_rsp(&b, r.id, NETIF_RSP_OKAY);
	be_tx_rsp(&b, r.id, NETIF_RSP_OKAY); /* twice */
	be_tx_push(&b);
	simfront_poll(b.f, 1000);
	CHECK(simfront_broken(b.f) != NULL);
	CHECK(strstr(simfront_broken(b.f), "inactive") != NULL);
	CHECK_EQ(simfront_send(b.f, 0, fr, 100, NULL), -ENODEV);
	bed_down(&b);

	/* A response producer beyond the ring. */
	bed_up(&b);
	connected(&b);
	b.tx.sring->rsp_prod = 1000;
	simfront_poll(b.f, 0);
	CHECK(simfront_broken(b.f) != NULL);
	CHECK(strstr(simfront_broken(b.f), "producer") != NULL);
	bed_down(&b);
}

/* ---- RX ---- */

/* Backend: answer the next RX request with data (grant copy) or an
 * error status. */
static void
be_rx_slot(struct bed *b, const uint8_t *data, uint16_t len, uint16_t off,
	   uint16_t flags, int16_t status)
{
	netif_rx_request_t req;
	netif_rx_response_t *r;

	CHECK((int32_t)(b->rx.sring->req_prod - b->rx.req_cons) > 0);
	RING_COPY_REQUEST(&b->rx, b->rx.req_cons, &req);
	b->rx.req_cons++;
	if (len)
		CHECK_EQ(gcopy(b, true, req.gref, off, (void *)data, len),
			 GNTST_okay);
	r = RING_GET_RESPONSE(&b->rx, b->rx.rsp_prod_pvt);
	r->id = req.id;
	r->offset = off;
	r->flags = flags;
	r->status = status ? status : (int16_t)len;
	b->rx.rsp_prod_pvt++;
}

static void
be_rx_extra(struct bed *b, const netif_extra_info_t *x)
{
	b->rx.req_cons++;
	memcpy(RING_GET_RESPONSE(&b->rx, b->rx.rsp_prod_pvt), x, sizeof(*x));
	b->rx.rsp_prod_pvt++;
}

static void
be_rx_push(struct bed *b)
{
	int kick;

	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&b->rx, kick);
	if (kick)
		CHECK_EQ(simhv_evtchn_notify(b->evh, (uint32_t)b->rxport), 0);
}

TEST(rx_frames_by_grant_copy)
{
	struct bed b;
	static uint8_t fr[9000], got[65536];
	struct simfront_rxinfo info;
	struct simfront_stats st;
	netif_extra_info_t x = { .type = XEN_NETIF_EXTRA_TYPE_GSO };

	bed_up(&b);
	connected(&b);
	while (be_event(&b, 0) >= 0)
		;
	CHECK_EQ(simfront_recv(b.f, 0, got, sizeof(got), &info), -EAGAIN);
	CHECK_EQ(simfront_poll(b.f, 0), 0);

	/* One slot, at an offset, validated. */
	fill(fr, sizeof(fr), 3);
	be_rx_slot(&b, fr, 1000, 64, NETRXF_data_validated, 0);
	be_rx_push(&b);
	CHECK_EQ(simfront_poll(b.f, 1000), 1);
	CHECK_EQ(simfront_recv(b.f, 0, got, sizeof(got), &info), 1000);
	CHECK(memcmp(got, fr, 1000) == 0);
	CHECK_EQ(info.flags, NETRXF_data_validated);
	CHECK_EQ(info.slots, 1);
	CHECK_EQ(info.gso_size, 0);
	/* The end of the batch asks for an event on the next response. */
	CHECK_EQ(simfront_recv(b.f, 0, got, sizeof(got), &info), -EAGAIN);

	/* 9000 bytes with a GSO extra: data, extra, data, data. */
	x.u.gso.size = 1448;
	x.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
	fill(fr, sizeof(fr), 4);
	be_rx_slot(&b, fr, 4096, 0, NETRXF_csum_blank | NETRXF_data_validated |
				      NETRXF_extra_info | NETRXF_more_data, 0);
	be_rx_extra(&b, &x);
	be_rx_slot(&b, fr + 4096, 4096, 0, NETRXF_more_data, 0);
	be_rx_slot(&b, fr + 8192, 808, 0, 0, 0);
	/* An error status, then a frame too big for the caller. */
	be_rx_slot(&b, NULL, 0, 0, 0, NETIF_RSP_ERROR);
	be_rx_slot(&b, fr, 3000, 0, 0, 0);
	be_rx_push(&b);
	CHECK_EQ(simfront_poll(b.f, 1000), 1);
	CHECK_EQ(simfront_recv(b.f, 0, got, sizeof(got), &info), 9000);
	CHECK(memcmp(got, fr, 9000) == 0);
	CHECK_EQ(info.slots, 4);
	CHECK_EQ(info.gso_size, 1448);
	CHECK_EQ(info.gso_type, XEN_NETIF_GSO_TYPE_TCPV4);
	CHECK(info.flags & NETRXF_csum_blank);
	CHECK_EQ(simfront_recv(b.f, 0, got, sizeof(got), &info), -EIO);
	CHECK_EQ(info.status, NETIF_RSP_ERROR);
	CHECK_EQ(simfront_recv(b.f, 0, got, 2000, &info), -EMSGSIZE);

	/* The backend asks to hear of new buffers; the end of the batch
	 * refills the ring and tells it on the RX port. */
	b.rx.sring->req_event = b.rx.sring->req_prod + 1;
	xen_mb();
	CHECK_EQ(simfront_recv(b.f, 0, got, sizeof(got), &info), -EAGAIN);
	CHECK_EQ(b.rx.sring->req_prod, b.rx.rsp_prod_pvt + 256);
	CHECK_EQ(be_event(&b, 1000), b.rxport);
	CHECK(b.rxport != b.txport);
	/* And asked for an event on the next response. */
	CHECK_EQ(b.rx.sring->rsp_event, b.rx.rsp_prod_pvt + 1);

	simfront_stats(b.f, 0, &st);
	CHECK_EQ(st.rx_packets, 2);
	CHECK_EQ(st.rx_bytes, 10000);
	CHECK_EQ(st.rx_errors, 2);
	CHECK_EQ(st.rx_unasked, 0);
	CHECK(simfront_broken(b.f) == NULL);
	bed_down(&b);
}

TEST(rx_bad_packets_counted)
{
	struct bed b;
	static uint8_t fr[4096], got[65536];
	struct simfront_rxinfo info;
	struct simfront_stats st;
	netif_extra_info_t bad = { .type = 9 };

	bed_up(&b);
	b.c.sg = false;      /* to see frames it did not ask for */
	b.c.no_csum = true;
	connected(&b);
	fill(fr, sizeof(fr), 5);
	/* A slot running past its page. */
	be_rx_slot(&b, fr, 100, 0, 0, 0);
	RING_GET_RESPONSE(&b.rx, b.rx.rsp_prod_pvt - 1)->offset = 4050;
	/* An unknown extra type. */
	be_rx_slot(&b, fr, 100, 0, NETRXF_extra_info, 0);
	be_rx_extra(&b, &bad);
	/* A response that names another buffer. */
	be_rx_slot(&b, fr, 100, 0, 0, 0);
	RING_GET_RESPONSE(&b.rx, b.rx.rsp_prod_pvt - 1)->id ^= 1;
	/* Two slots without feature-sg, a blank checksum despite
	 * feature-no-csum-offload: delivered, counted as unasked. */
	be_rx_slot(&b, fr, 4096, 0, NETRXF_more_data, 0);
	be_rx_slot(&b, fr, 10, 0, 0, 0);
	be_rx_slot(&b, fr, 60, 0, NETRXF_csum_blank, 0);
	/* The first slot of a packet whose rest is not published. */
	be_rx_slot(&b, fr, 100, 0, NETRXF_more_data, 0);
	be_rx_push(&b);
	CHECK_EQ(simfront_recv(b.f, 0, got, sizeof(got), &info), -EIO);
	CHECK_EQ(simfront_recv(b.f, 0, got, sizeof(got), &info), -EIO);
	CHECK_EQ(info.slots, 2);
	CHECK_EQ(simfront_recv(b.f, 0, got, sizeof(got), &info), -EIO);
	CHECK_EQ(simfront_recv(b.f, 0, got, sizeof(got), &info), 4106);
	CHECK(memcmp(got, fr, 4096) == 0 && memcmp(got + 4096, fr, 10) == 0);
	CHECK_EQ(simfront_recv(b.f, 0, got, sizeof(got), &info), 60);
	CHECK_EQ(simfront_recv(b.f, 0, got, sizeof(got), &info), -EIO);
	CHECK_EQ(simfront_recv(b.f, 0, got, sizeof(got), &info), -EAGAIN);
	simfront_stats(b.f, 0, &st);
	CHECK_EQ(st.rx_errors, 4);
	CHECK_EQ(st.rx_packets, 2);
	CHECK_EQ(st.rx_unasked, 2);
	CHECK(simfront_broken(b.f) == NULL);

	/* The producer going backwards breaks the device. */
	b.rx.sring->rsp_prod -= 3;
	CHECK_EQ(simfront_recv(b.f, 0, got, sizeof(got), &info), -EAGAIN);
	CHECK(simfront_broken(b.f) != NULL);
	CHECK(strstr(simfront_broken(b.f), "backwards") != NULL);
	bed_down(&b);
}

TEST(rx_without_rx_notify_and_small_fill)
{
	struct bed b;
	static uint8_t fr[100], got[65536];
	struct simfront_rxinfo info;

	bed_up(&b);
	b.c.rx_notify = false;
	b.c.rx_fill = 8;
	b.c.first_page = simfront_pages(1); /* a second vif's place */
	connected(&b);
	CHECK_EQ(b.rx.sring->req_prod, 8);
	for (unsigned i = 0; i < 8; i++)
		be_rx_slot(&b, fr, 100, 0, 0, 0);
	be_rx_push(&b);
	b.rx.sring->req_event = b.rx.sring->req_prod + 1;
	xen_mb();
	while (be_event(&b, 0) >= 0)
		;
	for (unsigned i = 0; i < 8; i++)
		CHECK_EQ(simfront_recv(b.f, 0, got, sizeof(got), &info), 100);
	CHECK_EQ(simfront_recv(b.f, 0, got, sizeof(got), &info), -EAGAIN);
	/* Refilled to 8, but no notification: not announced. */
	CHECK_EQ(b.rx.sring->req_prod, 16);
	CHECK_EQ(be_event(&b, 100), -1);
	bed_down(&b);
}

/* ---- close ---- */

static void *
close_thread(void *arg)
{
	struct bed *b = arg;

	b->rc = simfront_close(b->f, 5000);
	return NULL;
}

TEST(close_walks_states_and_reports_leaks)
{
	struct bed b;
	pthread_t th;

	bed_up(&b);
	connected(&b);
	CHECK(simhv_domain_grants(b.e.hv, DOM) >= 2 + 512);
	/* The backend unmaps the TX ring but "forgets" the RX ring. */
	simhv_unmap_grants(b.e.hv, b.txmap, 1);
	b.txmap = NULL;
	CHECK_EQ(pthread_create(&th, NULL, close_thread, &b), 0);
	CHECK(simtool_wait(b.e.xs, 5000, "5", "%s/state", b.fe));
	put(&b, b.be, "state", "5");
	CHECK(simtool_wait(b.e.xs, 5000, "6", "%s/state", b.fe));
	put(&b, b.be, "state", "6");
	pthread_join(th, NULL);
	CHECK_EQ(b.rc, 1);
	CHECK_EQ(simhv_domain_grants(b.e.hv, DOM), 1);
	CHECK_EQ(simhv_domain_ports(b.e.hv, DOM), 0);
	CHECK_EQ(simfront_queues(b.f), 0);
	bed_down(&b);

	/* A backend Closed already: no more states, nothing left. */
	bed_up(&b);
	connected(&b);
	simhv_unmap_grants(b.e.hv, b.txmap, 1);
	simhv_unmap_grants(b.e.hv, b.rxmap, 1);
	b.txmap = b.rxmap = NULL;
	put(&b, b.be, "state", "6");
	CHECK_EQ(simfront_close(b.f, 5000), 0);
	check_key(&b, b.fe, "state", "4");
	CHECK_EQ(simhv_domain_grants(b.e.hv, DOM), 0);
	CHECK_EQ(simhv_domain_ports(b.e.hv, DOM), 0);
	bed_down(&b);
}

/* ---- hostile hooks ---- */

TEST(raw_hooks_put_anything_on_the_rings)
{
	struct bed b;
	netif_tx_request_t r, t = { .gref = 4242, .offset = 4095,
				    .flags = NETTXF_more_data, .id = 999,
				    .size = 1 };
	netif_extra_info_t x = { .type = 77, .flags = 0xff }, y;
	netif_rx_request_t rr = { .id = 12345, .gref = 777 }, rq;

	bed_up(&b);
	b.c.rx_fill = 200;
	connected(&b);
	while (be_event(&b, 0) >= 0)
		;
	simfront_raw_tx(b.f, 0, &t);
	simfront_raw_tx_extra(b.f, 0, &x);
	simfront_flush(b.f, 0);
	CHECK_EQ(b.tx.sring->req_prod, 2);
	RING_COPY_REQUEST(&b.tx, 0, &r);
	CHECK(memcmp(&r, &t, sizeof(r)) == 0);
	memcpy(&y, RING_GET_REQUEST(&b.tx, 1), sizeof(y));
	CHECK(memcmp(&y, &x, sizeof(y)) == 0);
	/* Any producer value, with a notification. */
	simfront_raw_tx_prod(b.f, 0, 0xdeadbeef);
	CHECK_EQ(b.tx.sring->req_prod, 0xdeadbeef);
	CHECK_EQ(be_event(&b, 1000), b.txport);
	while (be_event(&b, 0) >= 0)
		; /* the flush's and the raw one, coalesced or not */
	simfront_raw_rx(b.f, 0, &rr);
	CHECK_EQ(b.rx.sring->req_prod, 201);
	RING_COPY_REQUEST(&b.rx, 200, &rq);
	CHECK_EQ(rq.id, 12345);
	CHECK_EQ(rq.gref, 777);
	simfront_raw_rx_prod(b.f, 0, 7);
	CHECK_EQ(b.rx.sring->req_prod, 7);
	CHECK_EQ(be_event(&b, 1000), b.rxport);
	simfront_raw_notify(b.f, 0, false);
	CHECK_EQ(be_event(&b, 1000), b.txport);
	CHECK(simfront_rx_gref(b.f, 0, 3) != simfront_tx_gref(b.f, 0, 3));
	bed_down(&b);
}

/* ---- control ring ---- */

static const char *const be_ctrl[] = {
	"feature-rx-copy=1", "feature-split-event-channels=1",
	"feature-ctrl-ring=1", NULL,
};

/* Backend: map the control ring and bind its port. */
static void
be_ctrl_attach(struct bed *b)
{
	uint32_t ref = (uint32_t)rd_int(b, b->fe, "ctrl-ring-ref");
	int port = rd_int(b, b->fe, "event-channel-ctrl");

	b->ctrlmap = simhv_map_grants(b->e.hv, BE, DOM, 1, &ref, true);
	CHECK(b->ctrlmap != NULL);
	BACK_RING_INIT(&b->ctrl, (xen_netif_ctrl_sring_t *)b->ctrlmap, PAGE);
	CHECK(port > 0);
	b->ctrlport = simhv_evtchn_bind_interdomain(b->evh, DOM,
						    (uint32_t)port);
	CHECK(b->ctrlport > 0);
}

/* Connected with a control ring, queue 0 and the ring attached. */
static void
ctrl_connected(struct bed *b)
{
	b->c.ctrl_ring = true;
	be_offer(b, be_ctrl);
	connect_start(b);
	CHECK(simtool_wait(b->e.xs, 5000, "4", "%s/state", b->fe));
	be_attach(b, b->fe);
	be_ctrl_attach(b);
	put(b, b->be, "state", "4");
	CHECK_EQ(connect_end(b), 0);
	while (be_event(b, 0) >= 0)
		; /* the kicks of connect */
}

/* Backend: wait up to 2 s for the next control request (asking for an
 * event on it as a backend must); false if none came. Other ports'
 * events met meanwhile are counted in *other. */
static bool
be_ctrl_req(struct bed *b, struct xen_netif_ctrl_request *req, int *other)
{
	for (int i = 0; i < 200; i++) {
		int more, p;

		RING_FINAL_CHECK_FOR_REQUESTS(&b->ctrl, more);
		if (more) {
			RING_COPY_REQUEST(&b->ctrl, b->ctrl.req_cons, req);
			b->ctrl.req_cons++;
			return true;
		}
		p = be_event(b, 10);
		if (p >= 0 && p != b->ctrlport && other)
			(*other)++;
	}
	return false;
}

static void
be_ctrl_rsp(struct bed *b, uint16_t id, uint16_t type, uint32_t status,
	    uint32_t data)
{
	struct xen_netif_ctrl_response *r =
	    RING_GET_RESPONSE(&b->ctrl, b->ctrl.rsp_prod_pvt);
	int kick;

	r->id = id;
	r->type = type;
	r->status = status;
	r->data = data;
	b->ctrl.rsp_prod_pvt++;
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&b->ctrl, kick);
	if (kick)
		CHECK_EQ(simhv_evtchn_notify(b->evh, (uint32_t)b->ctrlport),
			 0);
}

/* simfront_ctrl() from a thread while the test answers. */
struct ctrl_call {
	struct bed *b;
	pthread_t th;
	uint16_t type;
	uint32_t d[3], data;
	int rc;
};

static void *
ctrl_thread(void *arg)
{
	struct ctrl_call *c = arg;

	c->rc = simfront_ctrl(c->b->f, c->type, c->d[0], c->d[1], c->d[2],
			      &c->data, 5000);
	return NULL;
}

static void
ctrl_start(struct ctrl_call *c, struct bed *b, uint16_t type, uint32_t d0,
	   uint32_t d1, uint32_t d2)
{
	memset(c, 0, sizeof(*c));
	c->b = b;
	c->type = type;
	c->d[0] = d0;
	c->d[1] = d1;
	c->d[2] = d2;
	c->data = 0xdeadbeef;
	CHECK_EQ(pthread_create(&c->th, NULL, ctrl_thread, c), 0);
}

static int
ctrl_end(struct ctrl_call *c)
{
	pthread_join(c->th, NULL);
	return c->rc;
}

TEST(ctrl_ring_keys_grants_and_pages)
{
	struct bed b;

	/* Three pages more per vif, whatever is offered. */
	CHECK_EQ(simfront_pages(1), 2 + 2 * 256 + 3);
	CHECK_EQ(simfront_pages(2), 2 * (2 + 2 * 256) + 3);

	bed_up(&b);
	b.c.ctrl_ring = true;
	be_offer(&b, be_ctrl);
	connect_start(&b);
	CHECK(simtool_wait(b.e.xs, 5000, "4", "%s/state", b.fe));
	CHECK(rd_int(&b, b.fe, "ctrl-ring-ref") > 0);
	CHECK(rd_int(&b, b.fe, "event-channel-ctrl") > 0);
	CHECK(rd_int(&b, b.fe, "event-channel-ctrl") !=
	      rd_int(&b, b.fe, "event-channel-tx"));
	CHECK(rd_int(&b, b.fe, "event-channel-ctrl") !=
	      rd_int(&b, b.fe, "event-channel-rx"));
	be_attach(&b, b.fe);
	be_ctrl_attach(&b);
	/* A fresh ring: nothing requested, an event asked for. */
	CHECK_EQ(b.ctrl.sring->req_prod, 0);
	CHECK_EQ(b.ctrl.sring->rsp_event, 1);
	put(&b, b.be, "state", "4");
	CHECK_EQ(connect_end(&b), 0);
	CHECK(simfront_has_ctrl(b.f));

	/* Scratch pages: writable to the backend, distinct, the caller's
	 * bytes seen through the grant. */
	uint32_t s0 = simfront_ctrl_scratch_gref(b.f, 0),
		 s1 = simfront_ctrl_scratch_gref(b.f, 1);
	CHECK(s0 != 0 && s1 != 0 && s0 != s1);
	CHECK(s0 != (uint32_t)rd_int(&b, b.fe, "ctrl-ring-ref"));
	CHECK(simfront_ctrl_scratch(b.f, 2) == NULL);
	CHECK_EQ(simfront_ctrl_scratch_gref(b.f, 2), 0);
	uint8_t *sp = simfront_ctrl_scratch(b.f, 1);
	CHECK(sp != NULL);
	memcpy(sp + 100, "scratch", 7);
	void *m = simhv_map_grants(b.e.hv, BE, DOM, 1, &s1, true);
	CHECK(m != NULL);
	CHECK(memcmp((uint8_t *)m + 100, "scratch", 7) == 0);
	simhv_unmap_grants(b.e.hv, m, 1);
	CHECK(simfront_ctrl_scratch(b.f, 0) != simfront_ctrl_scratch(b.f, 1));

	/* Close ends the three grants and frees the port as well. */
	simhv_unmap_grants(b.e.hv, b.txmap, 1);
	simhv_unmap_grants(b.e.hv, b.rxmap, 1);
	simhv_unmap_grants(b.e.hv, b.ctrlmap, 1);
	b.txmap = b.rxmap = b.ctrlmap = NULL;
	put(&b, b.be, "state", "6");
	CHECK_EQ(simfront_close(b.f, 5000), 0);
	CHECK(!simfront_has_ctrl(b.f));
	CHECK_EQ(simhv_domain_grants(b.e.hv, DOM), 0);
	CHECK_EQ(simhv_domain_ports(b.e.hv, DOM), 0);
	CHECK_EQ(simfront_ctrl(b.f, XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 0, 0,
			       0, NULL, 100),
		 -ENOTCONN);
	bed_down(&b);

	/* A control ring still mapped at close is a leak like any. */
	bed_up(&b);
	ctrl_connected(&b);
	simhv_unmap_grants(b.e.hv, b.txmap, 1);
	simhv_unmap_grants(b.e.hv, b.rxmap, 1);
	b.txmap = b.rxmap = NULL;
	put(&b, b.be, "state", "6");
	CHECK_EQ(simfront_close(b.f, 5000), 1);
	CHECK_EQ(simhv_domain_grants(b.e.hv, DOM), 1);
	CHECK_EQ(simhv_domain_ports(b.e.hv, DOM), 0);
	bed_down(&b);
}

TEST(ctrl_ring_not_asked_or_not_offered)
{
	struct bed b;

	/* Offered but not asked for: no keys, the default layout. */
	bed_up(&b);
	be_offer(&b, be_ctrl);
	connect_start(&b);
	CHECK(simtool_wait(b.e.xs, 5000, "4", "%s/state", b.fe));
	check_key(&b, b.fe, "ctrl-ring-ref", NULL);
	check_key(&b, b.fe, "event-channel-ctrl", NULL);
	put(&b, b.be, "state", "4");
	CHECK_EQ(connect_end(&b), 0);
	CHECK(!simfront_has_ctrl(b.f));
	CHECK(simfront_ctrl_scratch(b.f, 0) == NULL);
	CHECK_EQ(simfront_ctrl(b.f, XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 0, 0,
			       0, NULL, 100),
		 -ENOTCONN);
	/* Two ring grants and 512 buffers, nothing for a control ring. */
	CHECK_EQ(simhv_domain_grants(b.e.hv, DOM), 2 + 512);
	bed_down(&b);

	/* Asked for but not offered. */
	bed_up(&b);
	b.c.ctrl_ring = true;
	be_offer(&b, be_full);
	connect_start(&b);
	CHECK(simtool_wait(b.e.xs, 5000, "4", "%s/state", b.fe));
	check_key(&b, b.fe, "ctrl-ring-ref", NULL);
	check_key(&b, b.fe, "event-channel-ctrl", NULL);
	put(&b, b.be, "state", "4");
	CHECK_EQ(connect_end(&b), 0);
	CHECK(!simfront_has_ctrl(b.f));
	CHECK_EQ(simfront_ctrl(b.f, XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 0, 0,
			       0, NULL, 100),
		 -ENOTCONN);
	bed_down(&b);
}

TEST(ctrl_requests_and_responses)
{
	struct bed b;
	struct ctrl_call c;
	struct xen_netif_ctrl_request req;
	int other = 0;
	uint32_t data;

	bed_up(&b);
	ctrl_connected(&b);

	/* A query: id 0, its data, the answer's status and data. */
	ctrl_start(&c, &b, XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 1, 2, 3);
	CHECK(be_ctrl_req(&b, &req, &other));
	CHECK_EQ(req.id, 0);
	CHECK_EQ(req.type, XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS);
	CHECK_EQ(req.data[0], 1);
	CHECK_EQ(req.data[1], 2);
	CHECK_EQ(req.data[2], 3);
	be_ctrl_rsp(&b, req.id, req.type, XEN_NETIF_CTRL_STATUS_SUCCESS, 0xf);
	CHECK_EQ(ctrl_end(&c), XEN_NETIF_CTRL_STATUS_SUCCESS);
	CHECK_EQ(c.data, 0xf);

	/* A key in a scratch page, read by grant copy; id 1. */
	uint8_t key[40], got[40];
	fill(key, sizeof(key), 9);
	memcpy(simfront_ctrl_scratch(b.f, 0), key, sizeof(key));
	ctrl_start(&c, &b, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY,
		   simfront_ctrl_scratch_gref(b.f, 0), sizeof(key), 0);
	CHECK(be_ctrl_req(&b, &req, &other));
	CHECK_EQ(req.id, 1);
	CHECK_EQ(req.data[0], simfront_ctrl_scratch_gref(b.f, 0));
	CHECK_EQ(gcopy(&b, false, req.data[0], 0, got, (uint16_t)req.data[1]),
		 GNTST_okay);
	CHECK(memcmp(got, key, sizeof(key)) == 0);
	/* The backend can write scratch pages back (gref tables' status). */
	CHECK_EQ(gcopy(&b, true, simfront_ctrl_scratch_gref(b.f, 1), 8, key,
		       4),
		 GNTST_okay);
	CHECK(memcmp((uint8_t *)simfront_ctrl_scratch(b.f, 1) + 8, key, 4) ==
	      0);
	/* A data-ring event while the frontend waits on the control ring
	 * is left for simfront_poll(), and the fd says so. */
	CHECK_EQ(simhv_evtchn_notify(b.evh, (uint32_t)b.rxport), 0);
	usleep(50000);
	be_ctrl_rsp(&b, req.id, req.type,
		    XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER, 0);
	CHECK_EQ(ctrl_end(&c), XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
	CHECK_EQ(c.data, 0);
	struct pollfd pfd = { .fd = simfront_fd(b.f), .events = POLLIN };
	CHECK_EQ(poll(&pfd, 1, 1000), 1);
	struct simfront_stats st0, st1;
	simfront_stats(b.f, 0, &st0);
	CHECK_EQ(simfront_poll(b.f, 0), 1);
	simfront_stats(b.f, 0, &st1);
	CHECK_EQ(st1.events, st0.events + 1);
	CHECK_EQ(simfront_poll(b.f, 0), 0);

	/* Unanswered: a timeout; the late answer is skipped by the next
	 * request, which gets its own. */
	CHECK_EQ(simfront_ctrl(b.f, XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE,
			       0, 0, 0, &data, 100),
		 -ETIMEDOUT);
	CHECK(be_ctrl_req(&b, &req, &other));
	CHECK_EQ(req.id, 2);
	be_ctrl_rsp(&b, 2, req.type, XEN_NETIF_CTRL_STATUS_SUCCESS, 64);
	ctrl_start(&c, &b, XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM,
		   XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ, 0, 0);
	CHECK(be_ctrl_req(&b, &req, &other));
	CHECK_EQ(req.id, 3);
	be_ctrl_rsp(&b, 3, req.type, XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED, 7);
	CHECK_EQ(ctrl_end(&c), XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED);
	CHECK_EQ(c.data, 7);
	CHECK_EQ(other, 0);
	CHECK(simfront_broken(b.f) == NULL);

	/* Many round trips: the ring wraps (128 slots). */
	for (unsigned i = 0; i < 300; i++) {
		ctrl_start(&c, &b, XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, i, 0,
			   0);
		CHECK(be_ctrl_req(&b, &req, &other));
		CHECK_EQ(req.id, 4 + i);
		CHECK_EQ(req.data[0], i);
		be_ctrl_rsp(&b, req.id, req.type, 0, i * 3);
		CHECK_EQ(ctrl_end(&c), 0);
		CHECK_EQ(c.data, i * 3);
	}

	/* A wrong id breaks the device. */
	ctrl_start(&c, &b, XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 0, 0, 0);
	CHECK(be_ctrl_req(&b, &req, &other));
	be_ctrl_rsp(&b, (uint16_t)(req.id + 1), req.type, 0, 0);
	CHECK_EQ(ctrl_end(&c), -EPROTO);
	CHECK(simfront_broken(b.f) != NULL);
	CHECK(strstr(simfront_broken(b.f), "ctrl") != NULL);
	CHECK_EQ(simfront_ctrl(b.f, XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 0, 0,
			       0, NULL, 100),
		 -ENODEV);
	bed_down(&b);

	/* So does a wrong type. */
	bed_up(&b);
	ctrl_connected(&b);
	ctrl_start(&c, &b, XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 0, 0, 0);
	CHECK(be_ctrl_req(&b, &req, &other));
	be_ctrl_rsp(&b, req.id, XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, 0, 0);
	CHECK_EQ(ctrl_end(&c), -EPROTO);
	CHECK(simfront_broken(b.f) != NULL);
	bed_down(&b);

	/* And a response producer beyond the ring. */
	bed_up(&b);
	ctrl_connected(&b);
	b.ctrl.sring->rsp_prod = 1000;
	CHECK_EQ(simfront_ctrl(b.f, XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 0, 0,
			       0, NULL, 1000),
		 -EPROTO);
	CHECK(simfront_broken(b.f) != NULL);
	CHECK(strstr(simfront_broken(b.f), "producer") != NULL);
	bed_down(&b);
}

TEST(ctrl_raw_hooks)
{
	struct bed b;
	struct xen_netif_ctrl_request r = { .id = 4321, .type = 99,
					    .data = { 1, 2, 3 } },
				      q;

	bed_up(&b);
	ctrl_connected(&b);
	simfront_raw_ctrl(b.f, &r);
	CHECK_EQ(be_event(&b, 1000), b.ctrlport);
	CHECK_EQ(b.ctrl.sring->req_prod, 1);
	RING_COPY_REQUEST(&b.ctrl, 0, &q);
	CHECK(memcmp(&q, &r, sizeof(q)) == 0);
	simfront_raw_ctrl_prod(b.f, 0xabcdef);
	CHECK_EQ(b.ctrl.sring->req_prod, 0xabcdef);
	CHECK_EQ(be_event(&b, 1000), b.ctrlport);
	/* The raw request's answer comes before a real request's own. */
	simfront_raw_ctrl_prod(b.f, 1);
	while (be_event(&b, 50) >= 0)
		;
	b.ctrl.req_cons = 1;
	be_ctrl_rsp(&b, 4321, 99, 0, 0);
	struct ctrl_call c;
	struct xen_netif_ctrl_request req;
	ctrl_start(&c, &b, XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 0, 0, 0);
	CHECK(be_ctrl_req(&b, &req, NULL));
	CHECK_EQ(req.id, 0);
	be_ctrl_rsp(&b, req.id, req.type, 0, 5);
	CHECK_EQ(ctrl_end(&c), 0);
	CHECK_EQ(c.data, 5);
	CHECK(simfront_broken(b.f) == NULL);
	bed_down(&b);
}

/* ---- multicast control ---- */

TEST(mcast_control_keys_and_requests)
{
	struct bed b;
	static const char *const mc[] = {
		"feature-rx-copy=1", "feature-multicast-control=1",
		"feature-dynamic-multicast-control=1", NULL,
	};
	const uint8_t mac[6] = { 0x01, 0x00, 0x5e, 0x01, 0x02, 0x03 };
	struct simfront_stats st;
	netif_tx_request_t r;
	netif_extra_info_t x;

	bed_up(&b);
	b.c.mcast_control = true;
	be_offer(&b, mc);
	connect_start(&b);
	CHECK(simtool_wait(b.e.xs, 5000, "4", "%s/state", b.fe));
	check_key(&b, b.fe, "request-multicast-control", "1");
	be_attach(&b, b.fe);
	put(&b, b.be, "state", "4");
	CHECK_EQ(connect_end(&b), 0);
	while (be_event(&b, 0) >= 0)
		;

	/* A dummy request and its MCAST_ADD extra, one push. */
	CHECK_EQ(simfront_mcast(b.f, 0, true, mac), 0);
	CHECK_EQ(be_event(&b, 1000), b.txport);
	CHECK_EQ(b.tx.sring->req_prod, 2);
	r = be_tx_req(&b);
	CHECK_EQ(r.flags, NETTXF_extra_info);
	CHECK_EQ(r.size, 0);
	CHECK_EQ(r.offset, 0);
	CHECK(r.id < 256);
	CHECK_EQ(r.gref, simfront_tx_gref(b.f, 0, r.id));
	memcpy(&x, RING_GET_REQUEST(&b.tx, b.tx.req_cons), sizeof(x));
	b.tx.req_cons++;
	CHECK_EQ(x.type, XEN_NETIF_EXTRA_TYPE_MCAST_ADD);
	CHECK_EQ(x.flags, 0);
	CHECK(memcmp(x.u.mcast.addr, mac, 6) == 0);
	be_tx_rsp(&b, r.id, NETIF_RSP_OKAY);
	be_tx_rsp(&b, 0, NETIF_RSP_NULL);

	/* MCAST_DEL, refused. */
	CHECK_EQ(simfront_mcast(b.f, 0, false, mac), 0);
	r = be_tx_req(&b);
	CHECK_EQ(r.flags, NETTXF_extra_info);
	memcpy(&x, RING_GET_REQUEST(&b.tx, b.tx.req_cons), sizeof(x));
	b.tx.req_cons++;
	CHECK_EQ(x.type, XEN_NETIF_EXTRA_TYPE_MCAST_DEL);
	CHECK(memcmp(x.u.mcast.addr, mac, 6) == 0);
	be_tx_rsp(&b, r.id, NETIF_RSP_ERROR);
	be_tx_rsp(&b, 0, NETIF_RSP_NULL);
	be_tx_push(&b);
	simfront_poll(b.f, 1000);
	simfront_stats(b.f, 0, &st);
	CHECK_EQ(st.tx_mcast, 2);
	CHECK_EQ(st.tx_ok, 1);
	CHECK_EQ(st.tx_error, 1);
	CHECK_EQ(st.tx_packets, 0);
	CHECK(simfront_broken(b.f) == NULL);
	CHECK_EQ(simfront_mcast(b.f, 1, true, mac), -EINVAL);

	/* At run time, the backend offering the dynamic variant. */
	CHECK_EQ(simfront_set_mcast_control(b.f, false), 0);
	check_key(&b, b.fe, "request-multicast-control", "0");
	CHECK_EQ(simfront_set_mcast_control(b.f, true), 0);
	check_key(&b, b.fe, "request-multicast-control", "1");
	bed_down(&b);

	/* Not offered: not asked, no requests. Offered but not asked for
	 * at connect: no key, requests allowed. */
	bed_up(&b);
	b.c.mcast_control = true;
	connected(&b);
	check_key(&b, b.fe, "request-multicast-control", NULL);
	CHECK_EQ(simfront_mcast(b.f, 0, true, mac), -EOPNOTSUPP);
	CHECK_EQ(simfront_set_mcast_control(b.f, true), -EOPNOTSUPP);
	CHECK_EQ(b.tx.sring->req_prod, 0);
	bed_down(&b);

	bed_up(&b);
	be_offer(&b, mc);
	connect_start(&b);
	CHECK(simtool_wait(b.e.xs, 5000, "4", "%s/state", b.fe));
	check_key(&b, b.fe, "request-multicast-control", NULL);
	be_attach(&b, b.fe);
	put(&b, b.be, "state", "4");
	CHECK_EQ(connect_end(&b), 0);
	CHECK_EQ(simfront_mcast(b.f, 0, true, mac), 0);
	CHECK_EQ(b.tx.sring->req_prod, 2);
	bed_down(&b);
}

/* ---- XDP ---- */

struct xdp_call {
	struct bed *b;
	pthread_t th;
	unsigned headroom;
	int timeout, rc;
};

static void *
xdp_thread(void *arg)
{
	struct xdp_call *c = arg;

	c->rc = simfront_xdp(c->b->f, c->headroom, c->timeout);
	return NULL;
}

TEST(xdp_headroom_at_connect_and_reconfigure)
{
	struct bed b;
	struct xdp_call c = { 0 };
	static const char *const xdp[] = { "feature-rx-copy=1",
					   "feature-xdp-headroom=1", NULL };

	bed_up(&b);
	b.c.xdp_headroom = 256;
	be_offer(&b, xdp);
	connect_start(&b);
	CHECK(simtool_wait(b.e.xs, 5000, "4", "%s/state", b.fe));
	check_key(&b, b.fe, "xdp-headroom", "256");
	put(&b, b.be, "state", "4");
	CHECK_EQ(connect_end(&b), 0);

	/* Attach: headroom, Reconfiguring, the backend's Reconfigured,
	 * Connected, the backend's Connected. */
	c.b = &b;
	c.headroom = 512;
	c.timeout = 5000;
	CHECK_EQ(pthread_create(&c.th, NULL, xdp_thread, &c), 0);
	CHECK(simtool_wait(b.e.xs, 5000, "7", "%s/state", b.fe));
	check_key(&b, b.fe, "xdp-headroom", "512");
	usleep(50000);
	check_key(&b, b.fe, "state", "7"); /* waits for the backend */
	put(&b, b.be, "state", "8");
	CHECK(simtool_wait(b.e.xs, 5000, "4", "%s/state", b.fe));
	usleep(50000);
	CHECK_EQ(pthread_tryjoin_np(c.th, NULL), EBUSY);
	put(&b, b.be, "state", "4");
	pthread_join(c.th, NULL);
	CHECK_EQ(c.rc, 0);

	/* A backend that never answers; a headroom beyond the limit. */
	CHECK_EQ(simfront_xdp(b.f, 0, 200), -ETIMEDOUT);
	check_key(&b, b.fe, "xdp-headroom", "0");
	CHECK_EQ(simfront_xdp(b.f, 0x8000, 200), -EINVAL);
	bed_down(&b);

	/* Not offered: no key at connect, no attach. */
	bed_up(&b);
	b.c.xdp_headroom = 256;
	connected(&b);
	check_key(&b, b.fe, "xdp-headroom", NULL);
	CHECK_EQ(simfront_xdp(b.f, 256, 200), -EOPNOTSUPP);
	check_key(&b, b.fe, "state", "4");
	bed_down(&b);

	/* Beyond the limit in the conf. */
	bed_up(&b);
	b.c.xdp_headroom = 0x8000;
	CHECK(simfront_new(&b.c, b.fxs) == NULL);
	CHECK_EQ(errno, EINVAL);
	bed_down(&b);
}

/* ---- RX extras ---- */

static netif_extra_info_t
hash_extra(uint8_t htype, uint8_t alg, uint32_t v, uint8_t flags)
{
	netif_extra_info_t x = { .type = XEN_NETIF_EXTRA_TYPE_HASH,
				 .flags = flags };

	x.u.hash.type = htype;
	x.u.hash.algorithm = alg;
	for (unsigned i = 0; i < 4; i++)
		x.u.hash.value[i] = (uint8_t)(v >> (8 * i)); /* LSB first */
	return x;
}

static netif_extra_info_t
xdp_extra(uint16_t headroom, uint8_t flags)
{
	netif_extra_info_t x = { .type = XEN_NETIF_EXTRA_TYPE_XDP,
				 .flags = flags };

	x.u.pad[0] = headroom; /* u.xdp.headroom in newer headers */
	return x;
}

TEST(rx_hash_and_xdp_extras)
{
	struct bed b;
	static uint8_t fr[4096], got[65536];
	struct simfront_rxinfo info;
	struct simfront_stats st;
	netif_extra_info_t gso = { .type = XEN_NETIF_EXTRA_TYPE_GSO }, x;

	bed_up(&b);
	connected(&b);
	fill(fr, sizeof(fr), 11);
	gso.u.gso.size = 1448;
	gso.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;

	/* XDP, hash, GSO chained, the data after the headroom: as kernel
	 * netback lays it out, offset 0 and the size counting the
	 * headroom. */
	be_rx_slot(&b, fr, 1500, 256, NETRXF_extra_info | NETRXF_csum_blank,
		   0);
	RING_GET_RESPONSE(&b.rx, b.rx.rsp_prod_pvt - 1)->offset = 0;
	RING_GET_RESPONSE(&b.rx, b.rx.rsp_prod_pvt - 1)->status = 256 + 1500;
	x = xdp_extra(256, XEN_NETIF_EXTRA_FLAG_MORE);
	be_rx_extra(&b, &x);
	x = hash_extra(_XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP,
		       XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ, 0x12345678,
		       XEN_NETIF_EXTRA_FLAG_MORE);
	be_rx_extra(&b, &x);
	be_rx_extra(&b, &gso);
	/* GSO first, hash last; no XDP. */
	be_rx_slot(&b, fr + 7, 60, 0, NETRXF_extra_info, 0);
	gso.flags = XEN_NETIF_EXTRA_FLAG_MORE;
	be_rx_extra(&b, &gso);
	x = hash_extra(_XEN_NETIF_CTRL_HASH_TYPE_IPV6,
		       XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ, 0xa1b2c3d4, 0);
	be_rx_extra(&b, &x);
	/* No extras at all, at an offset. */
	be_rx_slot(&b, fr, 100, 3000, 0, 0);
	/* The hash twice. */
	be_rx_slot(&b, fr, 100, 0, NETRXF_extra_info, 0);
	x = hash_extra(0, 1, 1, XEN_NETIF_EXTRA_FLAG_MORE);
	be_rx_extra(&b, &x);
	x = hash_extra(0, 1, 2, 0);
	be_rx_extra(&b, &x);
	/* XDP twice, both fine on their own. */
	be_rx_slot(&b, fr, 100, 0, NETRXF_extra_info, 0);
	x = xdp_extra(0, XEN_NETIF_EXTRA_FLAG_MORE);
	be_rx_extra(&b, &x);
	x = xdp_extra(0, 0);
	be_rx_extra(&b, &x);
	/* An XDP headroom beyond the limit. */
	be_rx_slot(&b, fr, 100, 0, NETRXF_extra_info, 0);
	x = xdp_extra(0x8000, 0);
	be_rx_extra(&b, &x);
	/* A hash type that is no _XEN_NETIF_CTRL_HASH_TYPE_*. */
	be_rx_slot(&b, fr, 100, 0, NETRXF_extra_info, 0);
	x = hash_extra(4, 1, 0, 0);
	be_rx_extra(&b, &x);
	/* Data from an offset running past the page. */
	be_rx_slot(&b, fr, 100, 3996, 0, 0);
	RING_GET_RESPONSE(&b.rx, b.rx.rsp_prod_pvt - 1)->status = 101;
	/* Fine again: only an XDP extra. */
	be_rx_slot(&b, fr, 200, 128, NETRXF_extra_info, 0);
	RING_GET_RESPONSE(&b.rx, b.rx.rsp_prod_pvt - 1)->offset = 0;
	RING_GET_RESPONSE(&b.rx, b.rx.rsp_prod_pvt - 1)->status = 128 + 200;
	x = xdp_extra(128, 0);
	be_rx_extra(&b, &x);
	be_rx_push(&b);

	CHECK_EQ(simfront_recv(b.f, 0, got, sizeof(got), &info), 1500);
	CHECK(memcmp(got, fr, 1500) == 0);
	CHECK_EQ(info.slots, 4);
	CHECK(info.hash_valid);
	CHECK_EQ(info.hash, 0x12345678);
	CHECK_EQ(info.hash_type, _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP);
	CHECK_EQ(info.hash_alg, XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ);
	CHECK_EQ(info.xdp_headroom, 256);
	CHECK_EQ(info.offset, 0);
	CHECK_EQ(info.gso_size, 1448);
	CHECK_EQ(info.gso_type, XEN_NETIF_GSO_TYPE_TCPV4);
	CHECK(info.flags & NETRXF_csum_blank);

	CHECK_EQ(simfront_recv(b.f, 0, got, sizeof(got), &info), 60);
	CHECK(memcmp(got, fr + 7, 60) == 0);
	CHECK_EQ(info.slots, 3);
	CHECK(info.hash_valid);
	CHECK_EQ(info.hash, 0xa1b2c3d4);
	CHECK_EQ(info.hash_type, _XEN_NETIF_CTRL_HASH_TYPE_IPV6);
	CHECK_EQ(info.xdp_headroom, 0);
	CHECK_EQ(info.offset, 0);
	CHECK_EQ(info.gso_size, 1448);

	CHECK_EQ(simfront_recv(b.f, 0, got, sizeof(got), &info), 100);
	CHECK(memcmp(got, fr, 100) == 0);
	CHECK(!info.hash_valid);
	CHECK_EQ(info.hash, 0);
	CHECK_EQ(info.offset, 3000);
	CHECK_EQ(info.slots, 1);

	for (unsigned i = 0; i < 4; i++)
		CHECK_EQ(simfront_recv(b.f, 0, got, sizeof(got), &info), -EIO);
	CHECK_EQ(simfront_recv(b.f, 0, got, sizeof(got), &info), -EIO);
	CHECK_EQ(info.offset, 3996);

	CHECK_EQ(simfront_recv(b.f, 0, got, sizeof(got), &info), 200);
	CHECK(memcmp(got, fr, 200) == 0);
	CHECK_EQ(info.xdp_headroom, 128);
	CHECK_EQ(info.offset, 0);
	CHECK(!info.hash_valid);
	CHECK_EQ(info.slots, 2);
	CHECK_EQ(simfront_recv(b.f, 0, got, sizeof(got), &info), -EAGAIN);

	simfront_stats(b.f, 0, &st);
	CHECK_EQ(st.rx_packets, 4);
	CHECK_EQ(st.rx_errors, 5);
	CHECK(simfront_broken(b.f) == NULL);
	bed_down(&b);
}

TESTS_MAIN()
