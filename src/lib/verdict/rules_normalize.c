/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * rules_normalize.c - the form of a diagnostic that the rules read:
 * ASCII lower-cased, each run of white space one blank, no blank at
 * either end, and the "NNN-" prefixes of a multi-line SMTP reply
 * (RFC 5321 section 4.2.1) dropped inside the text, so that a rule
 * written "user unknown" matches "User\r\n  Unknown" and a reply
 * folded over three lines alike.
 *
 * Speed: it runs on every diagnostic, before anything else, so it
 * copies plain text sixteen bytes at a time (SSE2, part of every
 * x86-64 processor) or eight (any other), and decides byte by byte only
 * around white space and digits.
 *
 * Pure: no I/O, no allocation; thread-safe.
 */
#include <ctype.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "verdict/rules_int.h"

/*
 * Is in[i..] a reply-code prefix of a continued SMTP reply: "NNN-" (any
 * code, when *code is 0), or "NNN-"/"NNN " with the code of the
 * continuation seen before?  Optionally followed by "x.y.z".  Returns
 * the bytes to skip (0: not one) and remembers the code.
 */
static size_t
continuation_len(const unsigned char *in, size_t i, size_t n, int *code)
{
	size_t	 j, k, parts;
	int	 c;

	if (i + 4 > n || in[i] < '2' || in[i] > '5' ||
	    !isdigit(in[i + 1]) || !isdigit(in[i + 2]))
		return 0;
	c = (in[i] - '0') * 100 + (in[i + 1] - '0') * 10 + (in[i + 2] - '0');
	if (in[i + 3] == '-') {
		if (*code != 0 && *code != c)
			return 0;
	} else if (in[i + 3] != ' ' || *code != c)
		return 0;
	*code = c;
	j = i + 4;
	/* an optional enhanced status right after it */
	k = j;
	for (parts = 0; parts < 3; parts++) {
		size_t d = 0;

		while (k < n && isdigit(in[k]) && d < 4) {
			k++;
			d++;
		}
		if (d == 0 || d > 3)
			break;
		if (parts < 2) {
			if (k >= n || in[k] != '.')
				break;
			k++;
		}
	}
	if (parts == 3 && (k >= n || isspace(in[k])))
		j = k;
	return j - i;
}

/*
 * Copy the eight bytes at p to out lower-cased (ASCII A-Z; bytes >= 0x80
 * unchanged) and return how many of them come before the first byte
 * below 0x21 (a blank or a control byte), 8 if none.  The bytes after
 * that are written too, and overwritten by the caller.
 */
static inline size_t
word_run(const unsigned char *p, char *out)
{
	const uint64_t	 hi = UINT64_C(0x8080808080808080);
	const uint64_t	 ones = UINT64_C(0x0101010101010101);
	uint64_t	 w, x, up, low;
	size_t		 k;

	memcpy(&w, p, 8);
	/* Bit 7 of a byte: set for the bytes below 0x21 (a borrow comes
	 * only from such a byte, so the lowest one set is exact). */
	low = (w - ones * 0x21) & ~w & hi;
	/* Bit 7: set for a 7-bit byte in 'A'..'Z'. */
	x = w & ~hi;
	up = (x + ones * (0x80 - 'A')) & ~(x + ones * (0x7f - 'Z')) & ~w & hi;
	w |= up >> 2;
	memcpy(out, &w, 8);
	if (low == 0)
		return 8;
#if defined(__GNUC__) && (defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
	k = (size_t)__builtin_ctzll(low) >> 3;
#else
	for (k = 0; k < 8 && p[k] >= 0x21; k++)
		;
#endif
	return k;
}

#if defined(__SSE2__)
/*
 * Sixteen bytes at p that need none of the decisions below, copied to
 * out lower-cased: true, or false (out untouched) when one of them is
 * white space other than a single blank before a byte above 0x20 that
 * is not a digit 2-5 (a reply code that may continue the reply), or
 * when the first is a blank and nothing was written yet (a leading
 * blank is dropped).  Reads p[0..16]: the byte after the block too.
 * Those are the bytes the scalar loop below copies as they are but for
 * the case, so the result is the same, sixteen bytes for one branch.
 */
static inline bool
simple_block(const unsigned char *p, bool first, char *out)
{
	const __m128i	 b = _mm_loadu_si128((const __m128i *)p);
	const __m128i	 nx = _mm_loadu_si128((const __m128i *)(p + 1));
	__m128i		 sp, ws, t, up, bad;

	sp = _mm_cmpeq_epi8(b, _mm_set1_epi8(' '));
	/* \t \n \v \f \r: b - 9 <= 4, unsigned */
	t = _mm_sub_epi8(b, _mm_set1_epi8(9));
	ws = _mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8(4)), t);
	/* after a blank: a byte <= 0x20, or '2'..'5' */
	t = _mm_sub_epi8(nx, _mm_set1_epi8('2'));
	bad = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(nx,
	    _mm_set1_epi8(' ')), nx),
	    _mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8(3)), t));
	bad = _mm_or_si128(ws, _mm_and_si128(sp, bad));
	if (_mm_movemask_epi8(bad) != 0 ||
	    (first && (_mm_movemask_epi8(sp) & 1)))
		return false;
	/* 'A'..'Z': b - 'A' <= 25, unsigned; + 0x20 */
	t = _mm_sub_epi8(b, _mm_set1_epi8('A'));
	up = _mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8(25)), t);
	_mm_storeu_si128((__m128i *)out,
	    _mm_add_epi8(b, _mm_and_si128(up, _mm_set1_epi8(0x20))));
	return true;
}
#endif

/*
 * rules_normalize_how - rules_normalize(), with (simd) or without the
 * sixteen-byte path where the processor has one: the two must give the
 * same bytes, which the unit tests check on hostile input.
 */
size_t
rules_normalize_how(const char *in, char *out, size_t outlen, bool simd)
{
	/* 0: copy, 1: upper case, 2: white space */
	static const unsigned char cls[256] = {
		['\t'] = 2, ['\n'] = 2, ['\v'] = 2, ['\f'] = 2, ['\r'] = 2,
		[' '] = 2,
		['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1,
		['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1,
		['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1,
		['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1,
		['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1,
		['Z'] = 1,
	};
	const unsigned char	*p = (const unsigned char *)in;
	size_t			 n, i = 0, o = 0, cap, skip;
	bool			 space = false;
	int			 code = 0;

	if (outlen == 0)
		return 0;
	if (in == NULL) {
		out[0] = '\0';
		return 0;
	}
	n = strnlen(in, RULES_TEXT_MAX);
	cap = outlen - 1 < RULES_TEXT_MAX ? outlen - 1 : RULES_TEXT_MAX;
	/* A reply that starts "550-" continues with "550-" and ends "550 ". */
	if (n >= 4 && p[0] >= '2' && p[0] <= '5' && isdigit(p[1]) &&
	    isdigit(p[2]) && p[3] == '-')
		code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	while (i < n && o < cap) {
		unsigned char c;

		while (!space) {
#if defined(__SSE2__)
			/* Plain text: sixteen bytes at a time.  Room for one
			 * byte more in out, so that no blank is the last
			 * byte that fits (the loop below decides those). */
			while (simd && i + 17 <= n && o + 17 < cap &&
			    simple_block(p + i, o == 0, out + o)) {
				i += 16;
				o += 16;
			}
#else
			(void)simd;
#endif
			/* Inside a word: eight bytes at a time up to a
			 * blank. */
			while (i + 8 <= n && o + 8 <= cap) {
				size_t k = word_run(p + i, out + o);

				i += k;
				o += k;
				if (k < 8)
					break;
			}
			/* One space before a word (not a reply code that may
			 * continue the reply): nothing to decide. */
			if (o > 0 && o + 1 < cap && i + 1 < n && p[i] == ' ' &&
			    p[i + 1] > ' ' && (p[i + 1] < '2' ||
			    p[i + 1] > '5')) {
				out[o++] = ' ';
				i++;
				continue;
			}
			break;
		}
		if (i >= n || o >= cap)
			break;
		c = p[i++];
		switch (cls[c]) {
		case 0:
			break;
		case 1:
			c += 'a' - 'A';
			break;
		default:
			space = true;
			continue;
		}
		if (space) {
			space = false;
			if (o > 0) {
				/* RFC 5321 4.2.1: "550-" starts a continued
				 * line. */
				if (c >= '2' && c <= '5' && (skip =
				    continuation_len(p, i - 1, n, &code)) > 0) {
					i += skip - 1;
					space = true;
					continue;
				}
				out[o++] = ' ';
				if (o == cap)
					break;
			}
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return o;
}

/*
 * rules_normalize - the form of a diagnostic text rules look at
 *
 * Arguments: in, NUL-terminated (NULL gives ""); out/outlen, the result.
 * Returns the length written; at most RULES_TEXT_MAX and outlen - 1.
 * Notes: only the first RULES_TEXT_MAX bytes of in are read.  Bytes
 * >= 0x80 are copied unchanged (UTF-8 stays UTF-8).  Bytes of out after
 * the terminating NUL (within outlen) may be written too.
 */
size_t
rules_normalize(const char *in, char *out, size_t outlen)
{
	return rules_normalize_how(in, out, outlen, true);
}
