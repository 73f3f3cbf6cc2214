/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_siphash.c - SipHash-2-4 against the test vectors of the paper
 * (appendix A: key 00 01 ... 0f, messages 00 01 ... of length 0 to 15),
 * and two keys giving two different hashes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "util/siphash.h"

START_TEST(test_siphash_vectors)
{
	/* the paper's outputs, as 64-bit little-endian integers */
	static const uint64_t want[] = {
		0x726fdb47dd0e0e31ULL,	/* empty */
		0x74f839c593dc67fdULL,	/* 00 */
		0x0d6c8009d9a94f5aULL,	/* 00 01 */
		0x85676696d7fb7e2dULL,
		0xcf2794e0277187b7ULL,
		0x18765564cd99a68dULL,
		0xcbc9466e58fee3ceULL,
		0xab0200f58b01d137ULL,
		0x93f5f5799a932462ULL,	/* 8 bytes: one block */
		0x9e0082df0ba9e4b0ULL,
		0x7a5dbbc594ddb9f3ULL,
		0xf4b32f46226bada7ULL,
		0x751e8fbc860ee5fbULL,
		0x14ea5627c0843d90ULL,
		0xf723ca908e7af2eeULL,
		0xa129ca6149be45e5ULL,	/* 00 ... 0e: the paper's example */
	};
	uint8_t		 key[16], msg[16];
	uint64_t	 got;
	size_t		 i;

	for (i = 0; i < 16; i++)
		key[i] = msg[i] = (uint8_t)i;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		got = siphash24(key, msg, i);
		ck_assert_msg(got == want[i], "length %zu: got %016llx, want "
		    "%016llx", i, (unsigned long long)got,
		    (unsigned long long)want[i]);
	}
}
END_TEST

START_TEST(test_siphash_keyed)
{
	uint8_t		 a[16], b[16];
	const char	*s = "bob@example.com";

	siphash_key_random(a);
	siphash_key_random(b);
	ck_assert_msg(memcmp(a, b, sizeof(a)) != 0, "got two equal random "
	    "keys");
	ck_assert_msg(siphash24(a, s, strlen(s)) != siphash24(b, s,
	    strlen(s)), "got the same hash under two keys");
	ck_assert(siphash24(a, s, strlen(s)) == siphash24(a, s, strlen(s)));
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("siphash");
	TCase	*tc = tcase_create("core");
	SRunner	*sr;
	int	 failed;

	tcase_add_test(tc, test_siphash_vectors);
	tcase_add_test(tc, test_siphash_keyed);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
