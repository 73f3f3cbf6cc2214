/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_strci.c - the one bounded case-insensitive search of the parsers
 * (util/strci.c): matches in any case, the first of several, one ending
 * exactly at the bound; never one that crosses the bound, nor past a
 * NUL, nor a byte >= 0x80 folded.  The haystacks are cut out of longer
 * buffers so that a read past the bound would find a match there.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "util/strci.h"

static const struct ci_case {
	const char	*hay;
	size_t		 n;		/* bound; (size_t)-1: strlen(hay) */
	const char	*needle;
	long		 want;		/* offset of the match, -1: none */
} cases[] = {
	{ "Delivery-Status", (size_t)-1, "delivery-status", 0 },
	{ "content-type: MESSAGE/DELIVERY-STATUS", (size_t)-1,
	  "delivery-status", 22 },
	{ "xx Mailer-Daemon mailer-daemon", (size_t)-1, "MAILER-DAEMON", 3 },
	{ "aaab", (size_t)-1, "AB", 2 },		/* after a near miss */
	{ "user unknown", 12, "unknown", 5 },		/* ends at the bound */
	{ "user unknown", 11, "unknown", -1 },		/* crosses it */
	{ "user unknown", 4, "user", 0 },
	{ "user unknown", 3, "user", -1 },
	{ "postmaster", 10, "POSTMASTER", 0 },
	{ "abc", 0, "a", -1 },
	{ "abc", (size_t)-1, "", -1 },			/* "" never matches */
	{ "ab\0cd", 5, "cd", 3 },			/* after a NUL */
	{ "ab\0cd", 5, "b\0c", 1 },		/* the needle ends at its NUL */
	{ "a\0bc", 4, "ab", -1 },			/* not across a NUL */
	{ "caf\xc3\xa9", (size_t)-1, "CAF\xc3\x89", -1 },/* ASCII only */
	{ "123", (size_t)-1, "23", 1 },			/* no case at all */
};

START_TEST(test_strci_find_cases)
{
	const struct ci_case	*c = &cases[_i];
	size_t			 n = c->n == (size_t)-1 ? strlen(c->hay) : c->n;
	const char		*got = strci_find(c->hay, n, c->needle);
	long			 off = got == NULL ? -1 : (long)(got - c->hay);

	ck_assert_msg(off == c->want, "case %d: \"%s\"[0..%zu) \"%s\": got %ld, "
	    "want %ld", _i, c->hay, n, c->needle, off, c->want);
	ck_assert(strci_has(c->hay, n, c->needle) == (c->want >= 0));
}
END_TEST

/* A bounded range of a longer buffer: the match just past it is unseen. */
START_TEST(test_strci_bound_in_a_buffer)
{
	const char	*buf = "rcpt to:<bob@EXAMPLE.com> 550 User unknown";

	ck_assert_ptr_eq(strci_find(buf, 42, "user UNKNOWN"), buf + 30);
	ck_assert_ptr_null(strci_find(buf, 41, "user unknown"));
	ck_assert_ptr_null(strci_find(buf, 30, "user"));
	ck_assert_ptr_eq(strci_find(buf + 9, 15, "bob@example.com"), buf + 9);
	ck_assert_ptr_null(strci_find(buf + 9, 14, "bob@example.com"));
	ck_assert_ptr_null(strci_find(NULL, 10, "x"));
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("strci");
	TCase	*tc = tcase_create("find");
	SRunner	*sr;
	int	 failed;

	tcase_add_loop_test(tc, test_strci_find_cases, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_strci_bound_in_a_buffer);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
