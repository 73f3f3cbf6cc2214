/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * pattern.c - the address patterns of BounceAddresses (bounced.conf(5)):
 * shell-like globs with '*' (any run of bytes, also none) and '?' (one
 * byte), no character classes and no escapes, compared without regard
 * to ASCII case; and the comma-separated list they come in.
 *
 * The matcher backtracks only to the last '*' seen, so a hostile pattern
 * or subject costs at most O(len(pat) x len(s)) steps, never exponential
 * time; both are bounded by PATTERN_LEN where they come from a file
 * or the wire.  Pure: no I/O, no logging.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/pattern.h"

/*
 * pattern_match - match s against a glob pattern
 *
 * Arguments: pat, with '*' (any run, also empty) and '?' (one byte);
 * s, the subject.  Both compared without regard to ASCII case.
 *
 * Returns true on a match.  Runs in O(len(pat) * len(s)) at worst: only
 * the last '*' is ever backtracked to.
 */
bool
pattern_match(const char *pat, const char *s)
{
	const char	*star = NULL, *resume = NULL;

	while (*s != '\0') {
		if (*pat == '*') {
			star = ++pat;
			resume = s;
		} else if (*pat == '?' || (*pat != '\0' &&
		    tolower((unsigned char)*pat) ==
		    tolower((unsigned char)*s))) {
			pat++;
			s++;
		} else if (star != NULL) {
			pat = star;
			s = ++resume;
		} else
			return false;
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

/*
 * pattern_list_free - free a pattern list
 *
 * Arguments: pats, from pattern_list_split() (NULL is fine); n, its length.
 */
void
pattern_list_free(char **pats, size_t n)
{
	size_t	 i;

	if (pats == NULL)
		return;
	for (i = 0; i < n; i++)
		free(pats[i]);
	free(pats);
}

/*
 * pattern_list_split - split "pat, pat, ..." into a list
 *
 * Arguments: s, the text (commas separate, white space around a pattern
 * is ignored, empty entries are skipped); pats and n, the result: an
 * array of lower-cased patterns, NULL and 0 when s holds none.
 *
 * Returns NULL on success, else a static phrase: a pattern longer than
 * PATTERN_LEN, white space or a control or 8-bit byte inside one,
 * more than PATTERN_LIST_MAX patterns, or no memory.  On failure *pats is
 * NULL and *n is 0.
 */
const char *
pattern_list_split(const char *s, char ***pats, size_t *n)
{
	const char	*p = s, *e, *end, *why = NULL;
	char		**v = NULL, *pat;
	size_t		 len, i, k = 0;

	*pats = NULL;
	*n = 0;
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		for (e = p; *e != '\0' && *e != ','; e++)
			;
		for (end = e; end > p && (end[-1] == ' ' || end[-1] == '\t');
		    end--)
			;
		len = (size_t)(end - p);
		if (len > PATTERN_LEN) {
			why = "pattern too long";
			break;
		}
		for (i = 0; i < len; i++)
			if ((unsigned char)p[i] <= 32 ||
			    (unsigned char)p[i] > 126)
				break;
		if (i < len) {
			why = "white space or a control byte inside a pattern";
			break;
		}
		if (k == PATTERN_LIST_MAX) {
			why = "too many patterns";
			break;
		}
		if (v == NULL &&
		    (v = calloc(PATTERN_LIST_MAX, sizeof(char *))) == NULL) {
			why = "out of memory";
			break;
		}
		if ((pat = malloc(len + 1)) == NULL) {
			why = "out of memory";
			break;
		}
		for (i = 0; i < len; i++)
			pat[i] = (char)tolower((unsigned char)p[i]);
		pat[len] = '\0';
		v[k++] = pat;
		p = e;
	}
	if (why != NULL) {
		pattern_list_free(v, k);
		return why;
	}
	*pats = v;
	*n = k;
	return NULL;
}

/*
 * pattern_list_match - does any pattern of a list match?
 *
 * Arguments: pats and n, the list; s, the subject.
 *
 * Returns true when one of the patterns matches s (pattern_match()).
 */
bool
pattern_list_match(char *const *pats, size_t n, const char *s)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (pattern_match(pats[i], s))
			return true;
	return false;
}
