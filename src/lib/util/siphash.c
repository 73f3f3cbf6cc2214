/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2026 The bounced authors.
 *
 * siphash.c - SipHash-2-4, written from the paper (J.-P. Aumasson and
 * D. J. Bernstein, "SipHash: a fast short-input PRF", 2012): two
 * compression rounds per 8-byte block, four finalisation rounds, a
 * 128-bit key.  The hash tables of the RCPT cache (addresses) and of the
 * log source (queue ids) use it with a key drawn per table, instead of
 * FNV-1a, which anyone can make collide and so turn a lookup into a scan.
 * tests/check_siphash.c checks the paper's test vectors.
 */
#include <sys/random.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/siphash.h"

#define ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND do {							\
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);	\
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);	\
} while (0)

/* Eight bytes, little-endian, whatever the host's order. */
static uint64_t
le64(const uint8_t *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	    (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 |
	    (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
	    (uint64_t)p[7] << 56;
}

/*
 * siphash24 - SipHash-2-4
 *
 * Arguments: key, 16 bytes; data/len, the message.
 * Returns the 64-bit tag (the paper's output read little-endian).
 */
uint64_t
siphash24(const uint8_t key[SIPHASH_KEY_LEN], const void *data, size_t len)
{
	const uint8_t	*p = data, *end = p + (len & ~(size_t)7);
	uint64_t	 k0 = le64(key), k1 = le64(key + 8), m;
	uint64_t	 v0 = 0x736f6d6570736575ULL ^ k0;
	uint64_t	 v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t	 v2 = 0x6c7967656e657261ULL ^ k0;
	uint64_t	 v3 = 0x7465646279746573ULL ^ k1;
	uint64_t	 b = (uint64_t)len << 56;
	size_t		 left = len & 7;

	for (; p != end; p += 8) {
		m = le64(p);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	while (left > 0) {
		left--;
		b |= (uint64_t)p[left] << (8 * left);
	}
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/*
 * siphash_key_random - a key nobody outside the process knows
 *
 * Notes: getrandom(2); if it fails (an old kernel, a seccomp filter),
 * /dev/urandom; if that fails too, the clock and addresses, which still
 * differ from run to run (the tables stay correct, only less hardened).
 */
void
siphash_key_random(uint8_t key[SIPHASH_KEY_LEN])
{
	struct timespec	 ts;
	uint64_t	 mix[2];
	ssize_t		 n;
	int		 fd;

	if (getrandom(key, SIPHASH_KEY_LEN, 0) == SIPHASH_KEY_LEN)
		return;
	if ((fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) != -1) {
		n = read(fd, key, SIPHASH_KEY_LEN);
		close(fd);
		if (n == SIPHASH_KEY_LEN)
			return;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	mix[0] = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^
	    (uint64_t)getpid();
	mix[1] = (uint64_t)(uintptr_t)key ^ (uint64_t)(uintptr_t)&ts;
	memcpy(key, mix, SIPHASH_KEY_LEN);
}
