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

/*
 * mime_next_field - the next field of the header block at *p (before
 * end) into f; *p moves past it.  false at the end of the block.
 */
bool mime_next_field(const char **p, const char *end, struct mime_field *f);

/*
 * mime_lower_type - "type/subtype" lower-cased into dst (dstlen bytes,
 * cut to fit)
 */
void mime_lower_type(char *dst, size_t dstlen, const char *type,
    const char *subtype);

/* A leaf of the structure read by mime_fast_tree (mime_fast.c). */
struct mime_fleaf {
	char		 type[MIME_TYPE_MAX];	/* lower-case type/subtype */
	const char	*charset;	/* charset parameter, or NULL */
	int		 enc;		/* GMimeContentEncoding */
	const char	*raw;		/* the content as in the input */
	size_t		 rawlen;
	unsigned	 nest;		/* multipart nesting */
};

#define MIME_FAST_CTS	(2 * MIME_MAX_PARTS)	/* content types kept */

/* The leaves of one message or enclosed message, in walk order. */
struct mime_ftree {
	struct mime_fleaf leaves[MIME_MAX_PARTS];
	size_t		 nleaves;
	char		 top_type[MIME_TYPE_MAX];
	const char	*report_type;	/* report-type of the top, or NULL */
	GMimeContentType *cts[MIME_FAST_CTS];	/* held for the strings */
	size_t		 ncts;
	char		 pool[8192];	/* strings read without GMime */
	size_t		 pooled;
};

/* What the structure and the walk read of a Content-Type value. */
struct mime_ctype {
	const char	*type, *subtype;
	const char	*charset, *boundary, *report_type;	/* or NULL */
};

/*
 * mime_simple_ctype - read a plain Content-Type value (strings into
 * pool[*used..size)); false when GMime's parser must (mime_fast.c)
 */
bool mime_simple_ctype(const char *v, struct mime_ctype *c, char *pool,
    size_t *used, size_t size);

/*
 * mime_fast_tree - read the MIME structure of p[0..len) without GMime's
 * object tree; false when GMime must (t is then of no use).  Release t
 * with mime_fast_free() in either case.
 */
bool mime_fast_tree(const char *p, size_t len, struct mime_ftree *t);
void mime_fast_free(struct mime_ftree *t);

/*
 * mime_open_gmime - mime_open() with GMime's parser only, and
 * mime_expand() on such a doc likewise: for tests that compare the two
 */
enum bd_status mime_open_gmime(const char *p, size_t len, size_t max_text,
    struct mime_doc *doc);

#endif
