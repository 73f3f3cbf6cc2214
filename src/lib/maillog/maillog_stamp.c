/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors */
/*
 * maillog_stamp.c - the time stamp in front of a mail log line: a
 * classic syslog stamp ("Nov 23 18:10:58", no year and no zone: the
 * year is the one that puts the stamp at or before now, the zone the
 * caller's; journalctl -o short-precise adds ".uuuuuu") or an RFC 3339
 * stamp ("2026-11-23T18:10:58.123456+00:00", journalctl -o short-iso,
 * rsyslog's RSYSLOG_FileFormat).
 *
 * Pure: no clock (the caller passes now and the zone offset), no I/O,
 * no logging; the calendar is util/datetime.c's.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "util/bd.h"
#include "util/datetime.h"
#include "maillog/maillog.h"

/* A stamp this far ahead of now is still "now": clocks disagree. */
#define SLACK		86400

/* "hh:mm:ss" at p; false unless it is a valid clock time. */
static bool
parse_hms(const char *p, unsigned *h, unsigned *mi, unsigned *s)
{
	if (p[2] != ':' || p[5] != ':')
		return false;
	if (!bd_digits(p, 2, h) || !bd_digits(p + 3, 2, mi) || !bd_digits(p + 6, 2, s))
		return false;
	if (*h > 23 || *mi > 59 || *s > 60)
		return false;
	if (*s == 60)		/* a leap second: 59 will do */
		*s = 59;
	return true;
}

/*
 * "Mmm dd hh:mm:ss" (RFC 3164 section 4.1.2), or with the fraction that
 * journalctl -o short-precise adds ("Mmm dd hh:mm:ss.uuuuuu").  The year
 * is the one that puts the stamp at or before now (give or take SLACK):
 * a stamp in a month still to come is from last year, and a stamp of
 * 1 January read on 31 December, just ahead of our clock, from next year.
 */
static size_t
parse_classic(const char *p, size_t len, int64_t now, long gmtoff,
    int64_t *when)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	unsigned	 mon, day, h, mi, s, i;
	int64_t		 y, yy, t, local;
	size_t		 n = 15;

	if (len < 15 || p[3] != ' ' || p[6] != ' ')
		return 0;
	for (mon = 0; mon < 12; mon++)
		if (strncasecmp(p, months + 3 * mon, 3) == 0)
			break;
	if (mon == 12)
		return 0;
	mon++;
	if (p[4] == ' ') {
		if (!bd_digits(p + 5, 1, &day))
			return 0;
	} else if (!bd_digits(p + 4, 2, &day))
		return 0;
	if (day < 1 || day > 31 || !parse_hms(p + 7, &h, &mi, &s))
		return 0;
	if (n < len && p[n] == '.') {
		while (++n < len && n < 15 + 13 && isdigit((unsigned char)p[n]))
			;
		if (n == 16)
			return 0;
	}
	local = now + gmtoff;
	y = datetime_year_from_days(local / 86400 - (local % 86400 < 0));
	/* Try next year, this year, then back to the last leap year. */
	for (i = 0; i < 6; i++) {
		yy = y + 1 - (int64_t)i;
		if (day > datetime_month_days(yy, mon))
			continue;
		t = datetime_days_from_civil(yy, mon, day) * 86400 +
		    (int64_t)(h * 3600 + mi * 60 + s) - gmtoff;
		if (t <= now + SLACK) {
			*when = t;
			return n;
		}
	}
	return 0;
}

/*
 * "YYYY-MM-DD[T ]hh:mm:ss[.frac][Z|+hh:mm|+hhmm]" (RFC 3339 section 5.6,
 * plus the space and no-zone forms some syslog daemons write; without a
 * zone the stamp is local time).
 */
static size_t
parse_iso(const char *p, size_t len, long gmtoff, int64_t *when,
    unsigned *defects)
{
	unsigned	 y, mon, day, h, mi, s, zh = 0, zm = 0;
	size_t		 i;
	int64_t		 t, off;

	if (len < 19 || p[4] != '-' || p[7] != '-' ||
	    (p[10] != 'T' && p[10] != 't' && p[10] != ' '))
		return 0;
	if (!bd_digits(p, 4, &y) || !bd_digits(p + 5, 2, &mon) ||
	    !bd_digits(p + 8, 2, &day))
		return 0;
	if (y < 1970 || mon < 1 || mon > 12 || day < 1 ||
	    day > datetime_month_days(y, mon) || !parse_hms(p + 11, &h, &mi, &s))
		return 0;
	i = 19;
	if (i < len && (p[i] == '.' || p[i] == ',')) {
		size_t start = ++i;
		while (i < len && i - start < 12 &&
		    isdigit((unsigned char)p[i]))
			i++;
		if (i == start)
			return 0;
	}
	t = datetime_days_from_civil(y, mon, day) * 86400 +
	    (int64_t)(h * 3600 + mi * 60 + s);
	if (i < len && (p[i] == 'Z' || p[i] == 'z')) {
		i++;
		off = 0;
	} else if (i < len && (p[i] == '+' || p[i] == '-')) {
		if (i + 6 <= len && p[i + 3] == ':' &&
		    bd_digits(p + i + 1, 2, &zh) && bd_digits(p + i + 4, 2, &zm)) {
			off = (int64_t)(zh * 3600 + zm * 60);
			off = p[i] == '-' ? -off : off;
			i += 6;
		} else if (i + 5 <= len && bd_digits(p + i + 1, 2, &zh) &&
		    bd_digits(p + i + 3, 2, &zm)) {
			off = (int64_t)(zh * 3600 + zm * 60);
			off = p[i] == '-' ? -off : off;
			i += 5;
		} else
			return 0;
		if (zh > 23 || zm > 59)
			return 0;
	} else {
		off = gmtoff;
		*defects |= ML_DEF_NO_ZONE;
	}
	*when = t - off;
	return i;
}

/*
 * maillog_parse_stamp - parse the timestamp that begins a log line
 *
 * Arguments: p/len, the line; now, the caller's clock (unix seconds);
 * gmtoff, the local zone's offset east of UTC in seconds; when and
 * defects receive the time and ML_DEF_NO_ZONE.
 * Returns the bytes of the stamp (not the space after it), 0 if the line
 * does not begin with a stamp this module knows.
 * Notes: classic stamps have no zone: gmtoff is applied to them, so a
 * line logged before a change of daylight saving time comes out an hour
 * off (XXX: the follower could pass the offset of the stamp's date).
 */
size_t
maillog_parse_stamp(const char *p, size_t len, int64_t now, long gmtoff,
    int64_t *when, unsigned *defects)
{
	if (len >= 4 && isdigit((unsigned char)p[0]))
		return parse_iso(p, len, gmtoff, when, defects);
	return parse_classic(p, len, now, gmtoff, when);
}
