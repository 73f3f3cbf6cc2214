/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * duration.c - durations as operators write them ("30d", "5m", "250ms").
 * Before this grammar there were two: a bare "30" was 30 seconds for
 * SoftBounceWindow and 30 days in SuppressionExpiry.  Now a unit is
 * required, so an old file fails loudly at "bounced -n" instead of
 * meaning something else.
 *
 * Pure: no I/O, no logging.
 */
#include <string.h>

#include "util/duration.h"

/* The largest value accepted before a unit: about 31 years in seconds. */
#define DURATION_NUM_MAX	1000000000LL

/*
 * duration_parse - parse a duration
 *
 * Arguments: s and len, the text (no surrounding white space); res,
 * seconds or milliseconds; out, the value (set only on success).
 * Returns NULL, or a static phrase: "not a number", "number too large",
 * "a unit is required (ms, s, m, h, d, w or y)", "bad time unit ...",
 * "milliseconds are not allowed here".
 */
const char *
duration_parse(const char *s, size_t len, enum duration_res res,
    int64_t *out)
{
	static const struct {
		const char	*name;
		int64_t		 ms;
	} units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60 * 1000LL },
		{ "h", 3600 * 1000LL }, { "d", 86400 * 1000LL },
		{ "w", 7 * 86400 * 1000LL }, { "y", 365 * 86400 * 1000LL },
	};
	int64_t		 v = 0;
	size_t		 i, u, ulen;

	for (i = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		v = v * 10 + (s[i] - '0');
		if (v > DURATION_NUM_MAX)
			return "number too large";
	}
	if (i == 0)
		return len > 0 && s[0] == '-' ? "negative values are not allowed"
		    : "not a number";
	ulen = len - i;
	if (ulen == 0) {
		if (v != 0)
			return "a unit is required (ms, s, m, h, d, w or y)";
		*out = 0;
		return NULL;
	}
	for (u = 0; u < sizeof(units) / sizeof(units[0]); u++)
		if (strlen(units[u].name) == ulen &&
		    memcmp(units[u].name, s + i, ulen) == 0)
			break;
	if (u == sizeof(units) / sizeof(units[0]))
		return res == DURATION_MSEC ?
		    "bad time unit (use ms, s, m, h, d, w or y)" :
		    "bad time unit (use s, m, h, d, w or y)";
	if (res == DURATION_SECONDS) {
		if (units[u].ms < 1000)
			return "milliseconds are not allowed here";
		*out = v * (units[u].ms / 1000);
	} else
		*out = v * units[u].ms;
	return NULL;
}
