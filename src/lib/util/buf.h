/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * buf.h - bounded growable byte buffer.
 */
#ifndef BD_BUF_H
#define BD_BUF_H

#include "util/bd.h"

struct buf {
	char	*data;		/* always NUL-terminated when non-NULL */
	size_t	 len;		/* bytes used, not counting the NUL */
	size_t	 cap;		/* bytes allocated */
	size_t	 limit;		/* hard bound on len; 0 = unbounded */
	bool	 truncated;	/* an append was cut at the limit */
};

/* buf_init - empty buffer that never grows past limit bytes (0: no bound) */
void buf_init(struct buf *b, size_t limit);
/* buf_append - append; past the limit keep what fits, set truncated, BD_ELIMIT */
enum bd_status buf_append(struct buf *b, const void *p, size_t n);
/* buf_puts - append a NUL-terminated string */
enum bd_status buf_puts(struct buf *b, const char *s);
/* buf_printf - append formatted text */
enum bd_status buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* buf_reset - forget the contents, keep the allocation */
void buf_reset(struct buf *b);
/* buf_free - release memory; the buffer may be reused after buf_init */
void buf_free(struct buf *b);
/* buf_steal - hand the NUL-terminated data to the caller (free() it) */
char *buf_steal(struct buf *b);

#endif
