/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mime_int.h - what mime.c (the MIME tree) and mime_header.c (header
 * fields) share; private to the parse room.
 */
#ifndef BD_MIME_INT_H
#define BD_MIME_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <gmime/gmime.h>

#include "parse/mime.h"

/* A decoded header value kept until mime_close (doc->strs). */
struct mime_str {
	struct mime_str	*next;
	char		 s[];
};

/* mime_parser_options - GMime options made by mime_init() */
GMimeParserOptions *mime_parser_options(void);
/* mime_ci_has - case-insensitive literal search in s[0..n) */
bool mime_ci_has(const char *s, size_t n, const char *needle);

/*
 * mime_next_field - the next field of the header block at *p (before
 * end) into f; *p moves past it.  false at the end of the block.
 */
bool mime_next_field(const char **p, const char *end, struct mime_field *f);

#endif
