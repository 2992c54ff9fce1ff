/* SPDX-License-Identifier: GPL-2.0-only */
/* netbackd.conf parsing: good files, and every bad one named by line. */
#include <errno.h>
#include <string.h>

#include "conf.h"
#include "tests.h"

static int
parse(struct nb_conf *c, const char *text, char *err)
{
	nb_conf_defaults(c);
	return nb_conf_parse(c, "t.conf", text, err, 256);
}

TEST(good_file)
{
	struct nb_conf c;
	char err[256] = "";

	CHECK_EQ(parse(&c,
		       "# comment\n"
		       "[netbackd]\n"
		       "  workers = 2   # two\n"
		       "eal = --no-huge -m 256\n"
		       "poll = always\n"
		       "max-queues = 4\n"
		       "\n"
		       "[network xenbr0]\n"
		       "pif = net_tap0,iface=dtap0\n"
		       "aging = 60\n"
		       "mtu = 9000\n"
		       "learn-limit = 100\n"
		       "vif-learn-limit = 0\n"
		       "[network internal]\n",
		       err), 0);
	CHECK_EQ(c.workers, 2);
	CHECK_EQ(c.max_queues, 4);
	CHECK(c.poll_always);
	CHECK_STREQ(c.eal, "--no-huge -m 256");
	CHECK_EQ(c.nnets, 2);
	CHECK_STREQ(c.nets[0].name, "xenbr0");
	CHECK_STREQ(c.nets[0].pif, "net_tap0,iface=dtap0");
	CHECK_EQ(c.nets[0].aging_s, 60);
	CHECK_EQ(c.nets[0].mtu, 9000);
	CHECK_EQ(c.nets[1].mtu, 1500);
	CHECK_STREQ(c.nets[1].name, "internal");
	CHECK_STREQ(c.nets[1].pif, "");
	CHECK_EQ(c.nets[1].aging_s, 300);
	CHECK_EQ(c.nets[0].learn_limit, 100u);
	CHECK_EQ(c.nets[0].vif_learn_limit, 0u);
	CHECK_EQ(c.nets[1].learn_limit, NB_MAC_TABLE);
	CHECK_EQ(c.nets[1].vif_learn_limit, NB_VIF_LEARN_LIMIT);
}

static void
bad(const char *text, const char *expect)
{
	struct nb_conf c;
	char err[256] = "";

	CHECK_EQ(parse(&c, text, err), -EINVAL);
	if (!strstr(err, expect))
		FAIL("error '%s' does not contain '%s'", err, expect);
}

TEST(bad_files_name_the_line)
{
	bad("[network a]\n[network a]\n", "t.conf:2: duplicate network 'a'");
	bad("[network a]\npif = net_tap0,,x\n", "t.conf:2: network 'a': bad devargs");
	bad("[network a]\npif = net tap\n", "t.conf:2: network 'a': bad devargs");
	bad("[network a]\npif = net_tap0,=x\n", "t.conf:2: network 'a': bad devargs");
	bad("[netbackd]\nworkers = 0\n", "t.conf:2: workers must be");
	bad("[netbackd]\nworkers = 2x\n", "t.conf:2: workers must be");
	bad("[netbackd]\nbogus = 1\n", "t.conf:2: unknown key 'bogus'");
	bad("\n\n[nope]\n", "t.conf:3: unknown section [nope]");
	bad("workers = 1\n", "t.conf:1: 'workers' outside any section");
	bad("[netbackd\n", "t.conf:1: bad section header");
	bad("[netbackd]\nworkers\n", "t.conf:2: expected key = value");
	bad("[network bad/name]\n", "t.conf:1: bad network name");
	bad("[network a]\naging = 0\n", "t.conf:2: aging must be");
	bad("[netbackd]\npoll = sometimes\n", "t.conf:2: poll must be");
	bad("[network a]\nmtu = 20000\n", "t.conf:2: mtu must be");
	bad("[network a]\nlearn-limit = 0\n", "t.conf:2: learn-limit must be");
	bad("[network a]\nlearn-limit = 8193\n", "t.conf:2: learn-limit must be");
	bad("[network a]\nvif-learn-limit = x\n",
	    "t.conf:2: vif-learn-limit must be");
	/* More ports: each device once across all networks. */
	bad("[network a]\npif = net_tap0\npif = net_tap1\n",
	    "t.conf:3: network 'a': a second pif");
	bad("[network a]\npif = net_tap0\nport = net_tap0,iface=x\n",
	    "t.conf:3: device 'net_tap0' is already a port of network 'a'");
	bad("[network a]\nport = net_null0\n[network b]\npif = net_null0\n",
	    "t.conf:4: device 'net_null0' is already a port of network 'a'");
	bad("[network a]\nport = net_tap0,\n",
	    "t.conf:2: network 'a': bad devargs");
	bad("[network a]\nport = n0\nport = n1\nport = n2\nport = n3\n"
	    "port = n4\nport = n5\nport = n6\nport = n7\nport = n8\n",
	    "t.conf:10: network 'a': more than 8 ports");
}

TEST(network_ports)
{
	struct nb_conf c;
	char err[256] = "";

	CHECK_EQ(parse(&c, "[network lan]\npif = net_pcap0,rx_pcap=a.pcap\n"
			   "port = net_tap0,iface=lan0\n"
			   "port = net_af_packet0,iface=vif5.0-emu\n"
			   "[network dmz]\nport = net_null0\n", err), 0);
	CHECK_EQ(c.nnets, 2);
	CHECK_STREQ(c.nets[0].pif, "net_pcap0,rx_pcap=a.pcap");
	CHECK_EQ(c.nets[0].nports, 2);
	CHECK_STREQ(c.nets[0].ports[0], "net_tap0,iface=lan0");
	CHECK_STREQ(c.nets[0].ports[1], "net_af_packet0,iface=vif5.0-emu");
	CHECK_STREQ(c.nets[1].pif, "");
	CHECK_EQ(c.nets[1].nports, 1);
	char name[64];
	nb_devargs_name(c.nets[0].ports[1], name, sizeof(name));
	CHECK_STREQ(name, "net_af_packet0");
}

TEST(devargs)
{
	CHECK_EQ(nb_devargs_check("net_null0"), 0);
	CHECK_EQ(nb_devargs_check("net_tap0,iface=dtap0"), 0);
	CHECK_EQ(nb_devargs_check("0000:00:03.0"), 0);
	CHECK_EQ(nb_devargs_check("net_pcap0,rx_pcap=/tmp/a.pcap,infinite_rx=1"),
		 0);
	CHECK_EQ(nb_devargs_check(""), -EINVAL);
	CHECK_EQ(nb_devargs_check("net_tap0,"), -EINVAL);
	CHECK_EQ(nb_devargs_check("net_tap0,=x"), -EINVAL);
	/* A key alone is a flag (net_tap's persist), as DPDK reads it. */
	CHECK_EQ(nb_devargs_check("net_tap0,iface=nbhost0,persist"), 0);
	CHECK_EQ(nb_devargs_check("net_tap0,persist,iface=nbhost0"), 0);
	CHECK_EQ(nb_devargs_check("net_tap0,persist,,iface=x"), -EINVAL);
}

TEST(parse_uint)
{
	unsigned v;

	CHECK_EQ(nb_parse_uint("42", 0, 100, &v), 0);
	CHECK_EQ(v, 42);
	CHECK_EQ(nb_parse_uint("101", 0, 100, &v), -ERANGE);
	CHECK_EQ(nb_parse_uint("-1", 0, 100, &v), -EINVAL);
	CHECK_EQ(nb_parse_uint("", 0, 100, &v), -EINVAL);
	CHECK_EQ(nb_parse_uint("99999999999999999999", 0, 100, &v), -EINVAL);
	CHECK_EQ(nb_parse_uint(NULL, 0, 100, &v), -EINVAL);
}

TEST(privilege_and_rx_timeouts)
{
	struct nb_conf c;
	char err[256] = "";

	nb_conf_defaults(&c);
	CHECK(c.sandbox);
	CHECK_STREQ(c.user, "");
	CHECK_EQ(c.rx_drain_ms, 10000);
	CHECK_EQ(c.rx_stall_ms, 60000);
	CHECK_EQ(c.rx_queue_mbufs, 0);
	CHECK_EQ(c.rx_queue_bytes, 524288);
	CHECK_EQ(parse(&c,
		       "[netbackd]\n"
		       "user = nobody\n"
		       "sandbox = off\n"
		       "rx-drain-timeout = 250\n"
		       "rx-stall-timeout = 2000\n"
		       "rx-queue-mbufs = 128\n"
		       "rx-queue-bytes = 65536\n",
		       err), 0);
	CHECK_STREQ(c.user, "nobody");
	CHECK(!c.sandbox);
	CHECK_EQ(c.rx_drain_ms, 250);
	CHECK_EQ(c.rx_stall_ms, 2000);
	CHECK_EQ(c.rx_queue_mbufs, 128);
	CHECK_EQ(c.rx_queue_bytes, 65536);
	/* Below one packet's worth, a queue's bound would make it deaf. */
	bad("[netbackd]\nrx-queue-mbufs = 63\n",
	    "t.conf:2: rx-queue-mbufs must be auto or 64..1048576");
	CHECK_EQ(parse(&c, "[netbackd]\nrx-queue-mbufs = auto\n", err), 0);
	CHECK_EQ(c.rx_queue_mbufs, 0);
	bad("[netbackd]\nrx-queue-bytes = 1000\n",
	    "t.conf:2: rx-queue-bytes must be 65536..1073741824");
	bad("[netbackd]\nsandbox = maybe\n", "t.conf:2: sandbox must be on or off");
	/* Driver domains without xl devd: netbackd plugs its vifs. */
	CHECK(!c.hotplug_self);
	CHECK_EQ(parse(&c, "[netbackd]\nhotplug = netbackd\n", err), 0);
	CHECK(c.hotplug_self);
	CHECK_EQ(parse(&c, "[netbackd]\nhotplug = script\n", err), 0);
	CHECK(!c.hotplug_self);
	bad("[netbackd]\nhotplug = devd\n",
	    "t.conf:2: hotplug must be script or netbackd, not 'devd'");
	bad("[netbackd]\nuser =\n", "t.conf:2: bad user");
	bad("[netbackd]\nrx-drain-timeout = 0\n", "t.conf:2: rx-drain-timeout");
	bad("[netbackd]\nrx-stall-timeout = forever\n",
	    "t.conf:2: rx-stall-timeout");
}

TESTS_MAIN()
