/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf_file.h - the generic "Key value" file reader of bounced.conf(5):
 * bounded reading, line splitting, comments, numbers with units and
 * strict booleans.  It knows no key: conf.c gives each line's key and
 * value to its key table.  Pure apart from reading the file it is given.
 */
#ifndef BD_CONFFILE_H
#define BD_CONFFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/bd.h"

#define CONFFILE_MAX		(1024 * 1024)	/* bytes of a file */
#define CONFFILE_LINE_MAX	4096		/* bytes of one line */

/* The unit a number may carry. */
enum conffile_unit {
	CONFFILE_COUNT,		/* a plain count: no unit */
	CONFFILE_BYTES,		/* 512, 64k, 1M, 1G (1024-based) */
	CONFFILE_SECONDS,	/* 30, 30s, 5m, 1h, 1d, 1w */
	CONFFILE_MSEC,		/* 250ms, 5s, 1m (bare: seconds) */
};

/* One "Key value" line, comments and surrounding white space removed. */
struct conffile_line {
	const char	*file;		/* for "file:line" messages */
	size_t		 lineno;	/* 1-based */
	const char	*key;		/* keylen bytes, no NUL */
	size_t		 keylen;
	char		*value;		/* NUL-terminated, or "" */
};

/*
 * Called once per non-empty line; returns BD_OK to go on, or a status
 * (with "file:line: why" in err) that stops the parse.
 */
typedef enum bd_status (*conffile_line_cb)(void *arg,
    const struct conffile_line *l, char *err, size_t errlen);

/*
 * conffile_read - the bytes of a regular file of at most max bytes into
 * *text (NUL-terminated, free() it) and *len.  BD_EIO "path: why",
 * BD_ECONFIG when larger than max, BD_ENOMEM.
 */
enum bd_status conffile_read(const char *path, size_t max, char **text,
    size_t *len, char *err, size_t errlen);
/*
 * conffile_parse - split text into lines and call cb for each
 * "Key value" line; refuses NUL bytes and lines longer than
 * CONFFILE_LINE_MAX (BD_ECONFIG, "name:line: why" in err)
 */
enum bd_status conffile_parse(const char *name, const char *text,
    size_t len, conffile_line_cb cb, void *arg, char *err, size_t errlen);
/* conffile_number - unsigned decimal at *p, *p advanced; false on overflow */
bool conffile_number(const char **p, uint64_t *out);
/*
 * conffile_scaled - a number with an optional unit of kind u into *out
 * (bytes, seconds or milliseconds); NULL, or a static phrase saying why not
 */
const char *conffile_scaled(enum conffile_unit u, const char *s,
    int64_t *out);
/* conffile_format - v in the largest exact unit of u ("64k", "30d", "250ms") */
void conffile_format(enum conffile_unit u, int64_t v, char *out,
    size_t outlen);
/* conffile_bool - yes|no|true|false|on|off|1|0 (any case); false if none */
bool conffile_bool(const char *s, bool *out);

#endif
