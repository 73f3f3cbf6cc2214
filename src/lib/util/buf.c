/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * buf.c - bounded growable byte buffer.
 *
 * Every byte that bounced takes from the network goes through one of
 * these, so that no input can make it allocate without bound.  Pure: no
 * I/O, no logging.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

void
buf_init(struct buf *b, size_t limit)
{
	memset(b, 0, sizeof(*b));
	b->limit = limit;
}

static enum bd_status
reserve(struct buf *b, size_t need)
{
	size_t	 ncap;
	char	*p;

	if (need + 1 <= b->cap)
		return BD_OK;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need + 1) {
		if (ncap > SIZE_MAX / 2)
			return BD_ENOMEM;
		ncap *= 2;
	}
	if ((p = realloc(b->data, ncap)) == NULL)
		return BD_ENOMEM;
	b->data = p;
	b->cap = ncap;
	return BD_OK;
}

/*
 * buf_append - append n bytes
 *
 * Returns BD_OK, BD_ENOMEM, or BD_ELIMIT when the bound cut the input
 * (what fits is kept and b->truncated is set).
 */
enum bd_status
buf_append(struct buf *b, const void *p, size_t n)
{
	enum bd_status	 st = BD_OK;

	if (b->limit && b->len + n > b->limit) {
		n = b->limit - b->len;
		b->truncated = true;
		st = BD_ELIMIT;
	}
	if (reserve(b, b->len + n) != BD_OK)
		return BD_ENOMEM;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return st;
}

enum bd_status
buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

enum bd_status
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;
	char	 small[256], *big;
	enum bd_status st;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return BD_EPARSE;
	if ((size_t)n < sizeof(small))
		return buf_append(b, small, (size_t)n);
	if ((big = malloc((size_t)n + 1)) == NULL)
		return BD_ENOMEM;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	st = buf_append(b, big, (size_t)n);
	free(big);
	return st;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->truncated = false;
	if (b->data)
		b->data[0] = '\0';
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->truncated = false;
}

char *
buf_steal(struct buf *b)
{
	char	*p = b->data;

	if (p == NULL)
		p = strdup("");
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}
