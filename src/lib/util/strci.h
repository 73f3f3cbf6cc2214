/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * strci.h - case-insensitive (ASCII) search of a literal in a bounded
 * byte range: the one such search of the parsers (MIME, DSN text, SMTP
 * transcripts).  strcasestr(3) cannot bound the haystack, which is
 * mail bytes without a NUL of their own.
 */
#ifndef BD_STRCI_H
#define BD_STRCI_H

#include <stdbool.h>
#include <stddef.h>

/*
 * strci_find - the first match of the string needle in hay[0..n),
 * ignoring ASCII case, or NULL (hay NULL, needle "" or no match)
 */
const char *strci_find(const char *hay, size_t n, const char *needle);
/* strci_has - whether hay[0..n) holds the string needle, ignoring case */
bool strci_has(const char *hay, size_t n, const char *needle);

#endif
