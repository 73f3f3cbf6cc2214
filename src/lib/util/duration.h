/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * duration.h - the one duration grammar of bounced.conf and of every
 * option that takes a time: a whole number and a unit, ms s m h d w y
 * ("250ms", "30s", "5m", "1h", "30d", "2w", "1y" = 365 days).  A unit is
 * required: "30" alone is refused (is it seconds or days?), except 0,
 * which means the same in every unit.
 */
#ifndef BD_DURATION_H
#define BD_DURATION_H

#include <stddef.h>
#include <stdint.h>

enum duration_res {
	DURATION_SECONDS,	/* result in seconds; "ms" is refused */
	DURATION_MSEC,		/* result in milliseconds */
};

/*
 * duration_parse - s[0..len) as a duration in res units into *out;
 * NULL, or a static phrase saying what is wrong
 */
const char *duration_parse(const char *s, size_t len, enum duration_res res,
    int64_t *out);

#endif
