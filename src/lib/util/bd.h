/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bd.h - the one status type shared by every module of bounced.
 */
#ifndef BD_H
#define BD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum bd_status {
	BD_OK = 0,
	BD_ENOMEM,	/* allocation failed */
	BD_EPARSE,	/* input is malformed beyond use */
	BD_ELIMIT,	/* input exceeded a configured bound */
	BD_EIO,		/* a file or the database failed */
	BD_ECONFIG,	/* configuration or rules are invalid */
	BD_ENOTFOUND,	/* the thing asked for does not exist */
	BD_EBUSY,	/* the database stayed locked past the timeout */
};

/* bd_strerror - a short English phrase for a status */
const char *bd_strerror(enum bd_status status);

/* bd_digits - exactly n decimal digits at p into *out */
bool bd_digits(const char *p, size_t n, unsigned *out);

#endif
