/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * check_event.c - addr_normalize(): what is taken for a mailbox and in
 * which form (RFC 5321 section 4.1.2, RFC 6531); garbage and invalid
 * UTF-8 never are (issue 11).
 */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/event.h"
#include "testutil.h"

static const struct addr_case {
	const char	*in;
	const char	*want;		/* NULL: not an address */
} addr_cases[] = {
	{ "bob@Remote.TEST", "bob@remote.test" },
	/* the key: local part without case, domain an A-label (issue 9) */
	{ "rfc822; Bob@Example.COM", "bob@example.com" },
	{ " <bob@example.com> ", "bob@example.com" },
	{ "bob@example.com.", "bob@example.com" },
	{ "first.last+tag@sub.example.com", "first.last+tag@sub.example.com" },
	{ "-x=y@example.com", "-x=y@example.com" },
	{ "\"john doe\"@example.com", "\"john doe\"@example.com" },
	{ "\"a@b\"@example.com", "\"a@b\"@example.com" },
	{ "user@[192.0.2.1]", "user@[192.0.2.1]" },
	{ "j\xc3\xb6rg@b\xc3\xbc" "cher.example",
	    "j\xc3\xb6rg@xn--bcher-kva.example" },
	{ "host_name@mx_1.example.com", "host_name@mx_1.example.com" },
	{ "", NULL },
	{ "no-at-sign", NULL },
	{ "@example.com", NULL },
	{ "bob@", NULL },
	{ "bob@exa mple.com", NULL },
	{ "bo(b)@example.com", NULL },
	{ "bob@example..com", NULL },
	{ "bob@.example.com", NULL },
	{ "bob@exa,mple.com", NULL },
	{ "b\xff\xfe@example.com", NULL },		/* invalid UTF-8 */
	{ "bob@ex\xc3" "ample.com", NULL },		/* cut sequence */
	{ "\xc0\xaf@example.com", NULL },		/* overlong */
	{ "\xed\xa0\x80@example.com", NULL },		/* surrogate */
	{ "\"unterminated@example.com", NULL },
	{ "a\x01" "b@example.com", NULL },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "@example.com", NULL },			/* 65-byte local part */
	{ "x@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  ".com", NULL },				/* 64-byte label */
	{ "\x8f\x1b\x93@\x01\xa7z", NULL },		/* random bytes */
};

START_TEST(test_event_addr_normalize)
{
	const struct addr_case	*c = &addr_cases[_i];
	char			 out[ADDR_MAX + 1];
	bool			 ok;

	ok = addr_normalize(c->in, out, sizeof(out));
	if (c->want == NULL) {
		ck_assert_msg(!ok, "case %d: got address \"%s\", want none",
		    _i, out);
		ck_assert_msg(out[0] == '\0', "case %d: got out \"%s\", want "
		    "\"\"", _i, out);
	} else {
		ck_assert_msg(ok, "case %d: got no address, want \"%s\"", _i,
		    c->want);
		ck_assert_msg(strcmp(out, c->want) == 0, "case %d: got \"%s\", "
		    "want \"%s\"", _i, out, c->want);
	}
}
END_TEST

static Suite *
event_suite(void)
{
	Suite	*s = suite_create("event");
	TCase	*tc = tcase_create("addr");

	TESTUTIL_LOOP(tc, test_event_addr_normalize, addr_cases);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(event_suite());
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
