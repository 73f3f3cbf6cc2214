/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025, 2026 The bounced authors.
 *
 * mime_charset.c - text of any charset as UTF-8 (mime_to_utf8()):
 * GMime's iconv for the declared charset, ISO-2022-JP when its escapes
 * show, UTF-8 when valid, GMime's 8-bit guess over mime_init()'s
 * fallback charsets, and ASCII as the last resort.  Printable ASCII in
 * an ASCII-compatible charset is copied as it is (most bounces).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "parse/mime.h"
#include "parse/mime_int.h"

static bool
has_jis_escape(const char *s, size_t n)
{
	const char	*p, *end = s + n;

	for (p = s; p + 2 < end; p++) {
		p = memchr(p, 0x1b, end - p);
		if (p == NULL || p + 2 >= end)
			return false;
		if (p[1] == '$' && (p[2] == 'B' || p[2] == '@'))
			return true;
	}
	return false;
}

static char *
iconv_dup(const char *s, size_t n, const char *cs)
{
	iconv_t	 cd;
	char	*out;

	cd = g_mime_iconv_open("UTF-8", cs);
	if (cd == (iconv_t)-1)
		return NULL;
	out = g_mime_iconv_strndup(cd, s, n);
	g_mime_iconv_close(cd);
	if (out != NULL && !g_utf8_validate(out, -1, NULL)) {
		g_free(out);
		out = NULL;
	}
	return out;
}

static char *
gdup(char *g)
{
	char	*s;

	if (g == NULL)
		return NULL;
	s = strdup(g);
	g_free(g);
	return s;
}

/*
 * Charsets in which a byte below 0x80 is that ASCII character (not
 * UTF-7, UTF-16/32, HZ, ...): undeclared, or a known family.
 */
static bool
ascii_charset(const char *cs)
{
	static const char *const pfx[] = { "us-ascii", "ascii", "utf-8",
	    "utf8", "iso-8859-", "iso8859-", "iso_8859-", "windows-125",
	    "cp125", "iso-2022-jp", "shift_jis", "shift-jis", "sjis",
	    "euc-", "gb2312", "gbk", "gb18030", "big5", "koi8-", "latin",
	    "ks_c_5601", NULL };
	size_t	 i;

	if (cs == NULL)
		return true;
	for (i = 0; pfx[i] != NULL; i++)
		if (g_ascii_strncasecmp(cs, pfx[i], strlen(pfx[i])) == 0)
			return true;
	return false;
}

/* 7-bit without control bytes but TAB, CR, LF, FF (no ESC, SO/SI, NUL). */
static bool
plain_ascii(const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s, *end = p + n;
	uint64_t		 w;

	for (; end - p >= 8; p += 8) {
		memcpy(&w, p, 8);
		/* any byte >= 0x80 or < 0x20: look closer */
		if (((w | ((w & UINT64_C(0x6060606060606060)) +
		    UINT64_C(0x6060606060606060))) &
		    UINT64_C(0x8080808080808080)) !=
		    UINT64_C(0x8080808080808080) ||
		    (w & UINT64_C(0x8080808080808080)) != 0) {
			int k;

			for (k = 0; k < 8; k++)
				if (p[k] >= 0x80 || (p[k] < 0x20 &&
				    p[k] != '\t' && p[k] != '\n' &&
				    p[k] != '\r' && p[k] != '\f'))
					return false;
		}
	}
	for (; p < end; p++)
		if (*p >= 0x80 || (*p < 0x20 && *p != '\t' && *p != '\n' &&
		    *p != '\r' && *p != '\f'))
			return false;
	return true;
}

/*
 * mime_to_utf8 - convert n bytes to a malloc'd NUL-terminated UTF-8 string
 *
 * Arguments: s, n: the bytes; cs: declared charset or NULL.
 * Returns: the string (free() it) or NULL on allocation failure.
 * Notes: a charset GMime cannot convert, or text that is not what its
 * label says, falls back to UTF-8 if valid, ISO-2022-JP when its escapes
 * are present, else GMime's 8-bit guess over the fallback charsets.
 * NUL bytes become spaces.
 */
char *
mime_to_utf8(const char *s, size_t n, const char *cs)
{
	char	*out = NULL;
	size_t	 i;

	/* Printable ASCII in an ASCII-compatible charset is itself. */
	if (ascii_charset(cs) && plain_ascii(s, n)) {
		if ((out = malloc(n + 1)) == NULL)
			return NULL;
		memcpy(out, s, n);
		out[n] = '\0';
		return out;
	}
	if (cs != NULL && g_ascii_strcasecmp(cs, "us-ascii") != 0 &&
	    g_ascii_strcasecmp(cs, "utf-8") != 0 &&
	    g_ascii_strcasecmp(cs, "utf8") != 0)
		out = gdup(iconv_dup(s, n, cs));
	if (out == NULL && has_jis_escape(s, n))
		out = gdup(iconv_dup(s, n, "iso-2022-jp"));
	if (out == NULL && memchr(s, '\0', n) == NULL &&
	    g_utf8_validate(s, n, NULL)) {
		if ((out = malloc(n + 1)) == NULL)
			return NULL;
		memcpy(out, s, n);
		out[n] = '\0';
	}
	if (out == NULL)
		out = gdup(g_mime_utils_decode_8bit(mime_parser_options(), s, n));
	if (out == NULL) {
		/* Last resort: keep ASCII only. */
		if ((out = malloc(n + 1)) == NULL)
			return NULL;
		for (i = 0; i < n; i++)
			out[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
		out[n] = '\0';
	}
	return out;
}
