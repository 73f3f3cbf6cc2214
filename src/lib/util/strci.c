/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * strci.c - one case-insensitive search for the parsers, which had three
 * (mime_ci_has, dsn_ci_find, smtpcmd's ci_find).  Built on library
 * calls: memchr(3) finds the candidates (the needle's first byte, in
 * both cases), g_ascii_strncasecmp() compares the rest.  No match may
 * start past n - strlen(needle), so none reads or crosses hay + n: the comparison
 * stops at nl bytes, or sooner at a NUL of hay.  ASCII only, on
 * purpose: mail's keywords are ASCII and bytes >= 0x80 must not fold by
 * the locale.
 *
 * Pure: no I/O, no logging.
 */
#include <string.h>

#include <glib.h>

#include "util/strci.h"

/*
 * strci_find - see strci.h
 *
 * Notes: two memchr() cursors, one per case of the first byte, the
 * lower one tried first, so that matches come in order of position.
 */
const char *
strci_find(const char *hay, size_t n, const char *needle)
{
	const char	*end, *lo, *up, *p;
	size_t		 nl = strlen(needle);
	char		 c0, c1;

	if (hay == NULL || nl == 0 || nl > n)
		return NULL;
	end = hay + n - nl + 1;			/* one past the last start */
	c0 = g_ascii_tolower(needle[0]);
	c1 = g_ascii_toupper(needle[0]);
	lo = memchr(hay, c0, (size_t)(end - hay));
	up = c0 == c1 ? NULL : memchr(hay, c1, (size_t)(end - hay));
	while (lo != NULL || up != NULL) {
		p = up == NULL || (lo != NULL && lo < up) ? lo : up;
		if (g_ascii_strncasecmp(p + 1, needle + 1, nl - 1) == 0)
			return p;
		if (p == lo)
			lo = memchr(lo + 1, c0, (size_t)(end - lo - 1));
		else
			up = memchr(up + 1, c1, (size_t)(end - up - 1));
	}
	return NULL;
}

/* strci_has - see strci.h */
bool
strci_has(const char *hay, size_t n, const char *needle)
{
	return strci_find(hay, n, needle) != NULL;
}
