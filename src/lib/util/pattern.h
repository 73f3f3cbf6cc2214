/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pattern.h - the address patterns of BounceAddresses: '*' and '?'
 * globs, compared without regard to ASCII case, never in exponential
 * time, and a list of them split from "a*@x, b?@y".  Pure: no I/O, no
 * logging.
 */
#ifndef BD_PATTERN_H
#define BD_PATTERN_H

#include <stdbool.h>
#include <stddef.h>

#define PATTERN_LIST_MAX	64	/* patterns in one list */
#define PATTERN_LEN		320	/* bytes of a pattern, subject */

/* pattern_match - s matches pat ('*' any run, '?' one byte), ignoring case */
bool pattern_match(const char *pat, const char *s);
/*
 * pattern_list_split - the comma-separated patterns of s, lower-cased, into
 * a new array *pats of *n strings (NULL and 0 for an empty list); NULL,
 * or a static phrase saying why not (nothing is then allocated)
 */
const char *pattern_list_split(const char *s, char ***pats, size_t *n);
/* pattern_list_free - free what pattern_list_split() made; NULL is fine */
void pattern_list_free(char **pats, size_t n);
/* pattern_list_match - any of the n patterns matches s */
bool pattern_list_match(char *const *pats, size_t n, const char *s);

#endif
