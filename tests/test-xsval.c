/* SPDX-License-Identifier: GPL-2.0-only */
/* The parsers of xenstore values (backend/base/xsval.c). */
#include <errno.h>
#include <stdint.h>

#include "sw.h"
#include "tests.h"
#include "xsval.h"

TEST(uint_whole_string_in_range)
{
	unsigned v = 7;

	CHECK_EQ(nb_xsval_uint("0", 10, &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(nb_xsval_uint("65535", 0xffff, &v), 0);
	CHECK_EQ(v, 65535);
	CHECK_EQ(nb_xsval_uint("65536", 0xffff, &v), -ERANGE);
	CHECK_EQ(nb_xsval_uint("4294967295", ~0u, &v), 0);
	CHECK_EQ(v, 4294967295u);
	CHECK_EQ(nb_xsval_uint("4294967296", ~0u, &v), -ERANGE);
	CHECK_EQ(nb_xsval_uint("99999999999999999999999", ~0u, &v), -ERANGE);
	/* What strtoul would take but a xenstore number must not hold. */
	CHECK_EQ(nb_xsval_uint("-1", ~0u, &v), -EINVAL);
	CHECK_EQ(nb_xsval_uint("+1", ~0u, &v), -EINVAL);
	CHECK_EQ(nb_xsval_uint(" 1", ~0u, &v), -EINVAL);
	CHECK_EQ(nb_xsval_uint("1 ", ~0u, &v), -EINVAL);
	CHECK_EQ(nb_xsval_uint("0x10", ~0u, &v), -EINVAL);
	CHECK_EQ(nb_xsval_uint("", ~0u, &v), -EINVAL);
	CHECK_EQ(nb_xsval_uint(NULL, ~0u, &v), -EINVAL);
	CHECK_EQ(v, 4294967295u); /* refusals leave it alone */
}

TEST(mac)
{
	uint8_t m[6] = { 0 };

	CHECK_EQ(nb_xsval_mac("00:16:3e:0A:bc:ff", m), 0);
	CHECK(m[0] == 0 && m[1] == 0x16 && m[2] == 0x3e && m[3] == 0x0a &&
	      m[4] == 0xbc && m[5] == 0xff);
	CHECK_EQ(nb_xsval_mac("0:1:2:3:4:5", m), 0);
	CHECK(m[0] == 0 && m[5] == 5);
	CHECK_EQ(nb_xsval_mac("00:16:3e:12:34:567", m), -EINVAL);
	CHECK_EQ(nb_xsval_mac("00:16:3e:12:34", m), -EINVAL);
	CHECK_EQ(nb_xsval_mac("00:16:3e:12:34:56:", m), -EINVAL);
	CHECK_EQ(nb_xsval_mac("00-16-3e-12-34-56", m), -EINVAL);
	CHECK_EQ(nb_xsval_mac(" 0:1:2:3:4:5", m), -EINVAL);
	CHECK_EQ(nb_xsval_mac("+0:1:2:3:4:5", m), -EINVAL);
	CHECK_EQ(nb_xsval_mac("0x1:1:2:3:4:5", m), -EINVAL);
	CHECK_EQ(nb_xsval_mac("100:1:2:3:4:5", m), -EINVAL);
	CHECK(m[0] == 0 && m[5] == 5);
}

TEST(rate)
{
	uint64_t b = 9, u = 9;

	CHECK_EQ(nb_xsval_rate("", &b, &u), 0);
	CHECK(b == 0 && u == 0);
	CHECK_EQ(nb_xsval_rate("125000,20000", &b, &u), 0);
	CHECK(b == 125000 && u == 20000);
	CHECK_EQ(nb_xsval_rate("1,1000000000", &b, &u), 0);
	CHECK_EQ(nb_xsval_rate("1,1000000001", &b, &u), -EINVAL);
	CHECK_EQ(nb_xsval_rate("0,100", &b, &u), -EINVAL);
	CHECK_EQ(nb_xsval_rate("100,0", &b, &u), -EINVAL);
	/* sscanf("%llu") took these: a negative byte count wrapped. */
	CHECK_EQ(nb_xsval_rate("-1,100", &b, &u), -EINVAL);
	CHECK_EQ(nb_xsval_rate(" 1,100", &b, &u), -EINVAL);
	CHECK_EQ(nb_xsval_rate("1, 100", &b, &u), -EINVAL);
	CHECK_EQ(nb_xsval_rate("1,100x", &b, &u), -EINVAL);
	CHECK_EQ(nb_xsval_rate("100", &b, &u), -EINVAL);
	CHECK_EQ(nb_xsval_rate("99999999999999999999,1", &b, &u), -EINVAL);
	CHECK(b == 1 && u == 1000000000);
}

TEST(ips)
{
	struct sw_port_conf pc;
	char many[512] = "";

	sw_port_conf_init(&pc, 0, false);
	CHECK_EQ(nb_xsval_ips("10.0.0.1 fe80::1,192.168.1.1,, ", &pc), 0);
	CHECK_EQ(pc.nip4, 2);
	CHECK_EQ(pc.nip6, 1);
	CHECK(pc.ip4[1][0] == 192 && pc.ip4[1][3] == 1);
	sw_port_conf_init(&pc, 0, false);
	CHECK_EQ(nb_xsval_ips("10.0.0.1 1.2.3.4.5", &pc), -EINVAL);
	sw_port_conf_init(&pc, 0, false);
	CHECK_EQ(nb_xsval_ips("fe80::1::2", &pc), -EINVAL);
	sw_port_conf_init(&pc, 0, false);
	CHECK_EQ(nb_xsval_ips("", &pc), 0);
	CHECK_EQ(pc.nip4 + pc.nip6, 0);
	/* One more address than an anti-spoofing list holds. */
	for (int i = 0; i <= SW_MAX_IPS; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many),
			 "10.0.0.%d ", i + 1);
	sw_port_conf_init(&pc, 0, false);
	CHECK_EQ(nb_xsval_ips(many, &pc), -EINVAL);
	CHECK_EQ(pc.nip4, SW_MAX_IPS);
	sw_port_conf_init(&pc, 0, false);
	CHECK_EQ(nb_xsval_ips("1111:2222:3333:4444:5555:6666:7777:8888:9999",
			      &pc), -EINVAL);
}

TEST(vifpath)
{
	unsigned dom = 1, dev = 1;

	CHECK_EQ(nb_xsval_vifpath("", &dom, &dev), 0);
	CHECK_EQ(nb_xsval_vifpath("/5", &dom, &dev), 1);
	CHECK_EQ(nb_xsval_vifpath("/5/0", &dom, &dev), 2);
	CHECK(dom == 5 && dev == 0);
	CHECK_EQ(nb_xsval_vifpath("/32751/65535/queue-0/tx-ring-ref", &dom,
				  &dev), 2);
	CHECK(dom == 32751 && dev == 65535);
	CHECK_EQ(nb_xsval_vifpath("/32752/0", &dom, &dev), -EINVAL);
	CHECK_EQ(nb_xsval_vifpath("/5/65536", &dom, &dev), -EINVAL);
	CHECK_EQ(nb_xsval_vifpath("/5/0x", &dom, &dev), -EINVAL);
	CHECK_EQ(nb_xsval_vifpath("/x/0", &dom, &dev), -EINVAL);
	CHECK_EQ(nb_xsval_vifpath("5/0", &dom, &dev), -EINVAL);
	CHECK(dom == 32751 && dev == 65535);
}

TESTS_MAIN()
