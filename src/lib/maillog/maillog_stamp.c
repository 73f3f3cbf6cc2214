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
 * The fields are read by library parsers: strptime(3) for the classic
 * stamp (in the C locale: nothing here calls setlocale, so "%b" is the
 * English month), GLib's g_date_time_new_from_iso8601() for RFC 3339.
 * What is ours: finding where the stamp ends (the parsers want a string
 * and the line is bytes), the fixed separators that keep both parsers to
 * the forms logs write, the fraction strptime cannot read, and the year
 * a classic stamp does not give.
 *
 * Pure: no clock (the caller passes now and the zone offset), no I/O,
 * no logging; the calendar is GLib's GDate (on the stack: no allocation
 * per line).
 */
#define _GNU_SOURCE		/* strptime */
#include <ctype.h>
#include <string.h>
#include <time.h>

#include <glib.h>

#include "util/bd.h"
#include "maillog/maillog.h"

/* A stamp this far ahead of now is still "now": clocks disagree. */
#define SLACK		86400

/* GDate's Julian day (1 January of year 1 is day 1) of 1970-01-01. */
#define JULIAN_EPOCH	719163

/* The year of the day count from 1970-01-01 (0 if GDate cannot hold it). */
static int64_t
year_of_days(int64_t days)
{
	GDate	 d;

	if (days <= -JULIAN_EPOCH || days > (int64_t)G_MAXUINT32 - JULIAN_EPOCH)
		return 0;
	g_date_clear(&d, 1);
	g_date_set_julian(&d, (guint32)(days + JULIAN_EPOCH));
	return g_date_get_year(&d);
}

/* Seconds since the epoch of a valid date at midnight UTC, or false. */
static bool
midnight_of(int64_t y, unsigned mon, unsigned day, int64_t *t)
{
	GDate	 d;

	if (y < 1 || y > G_MAXUINT16 || !g_date_valid_dmy((GDateDay)day,
	    (GDateMonth)mon, (GDateYear)y))
		return false;
	g_date_clear(&d, 1);
	g_date_set_dmy(&d, (GDateDay)day, (GDateMonth)mon, (GDateYear)y);
	*t = ((int64_t)g_date_get_julian(&d) - JULIAN_EPOCH) * 86400;
	return true;
}

/* The longest RFC 3339 stamp read: 19, a fraction of 12 digits, +hh:mm. */
#define ISO_MAX		(19 + 13 + 6)

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
	static const unsigned char digit_at[] = { 5, 7, 8, 10, 11, 13, 14 };
	char		 buf[16];
	const char	*e;
	struct tm	 tm;
	unsigned	 mon, day, i;
	int64_t		 y, yy, t, local;
	size_t		 n = 15;

	/* fixed columns: strptime alone takes "Nov23  8: 5:1" too */
	if (len < 15 || p[3] != ' ' || p[6] != ' ' || p[9] != ':' ||
	    p[12] != ':')
		return 0;
	for (i = 0; i < sizeof(digit_at); i++)
		if (!isdigit((unsigned char)p[digit_at[i]]))
			return 0;
	memcpy(buf, p, 15);
	buf[15] = '\0';
	memset(&tm, 0, sizeof(tm));
	if ((e = strptime(buf, "%b %e %H:%M:%S", &tm)) == NULL || *e != '\0' ||
	    tm.tm_sec > 60)
		return 0;
	if (tm.tm_sec == 60)	/* a leap second: 59 will do */
		tm.tm_sec = 59;
	mon = (unsigned)tm.tm_mon + 1;
	day = (unsigned)tm.tm_mday;
	if (n < len && p[n] == '.') {
		while (++n < len && n < 15 + 13 && isdigit((unsigned char)p[n]))
			;
		if (n == 16)
			return 0;
	}
	local = now + gmtoff;
	y = year_of_days(local / 86400 - (local % 86400 < 0));
	/* Try next year, this year, then back to the last leap year. */
	for (i = 0; y > 0 && i < 6; i++) {
		yy = y + 1 - (int64_t)i;
		if (!midnight_of(yy, mon, day, &t))
			continue;	/* 29 February of a common year */
		t += (int64_t)(tm.tm_hour * 3600 + tm.tm_min * 60 +
		    tm.tm_sec) - gmtoff;
		if (t <= now + SLACK) {
			*when = t;
			return n;
		}
	}
	return 0;
}

/*
 * The RFC 3339 stamp at p (its separators checked) copied into buf as
 * GLib reads it: 'T' between date and time (a space or 't' in the log),
 * 'Z' upper case.  Returns its length in the line, 0 if none; *zone
 * tells whether it names its zone.
 */
static size_t
iso_copy(const char *p, size_t len, char *buf, bool *zone)
{
	size_t	 n;

	if (len < 19 || p[4] != '-' || p[7] != '-' || p[13] != ':' ||
	    p[16] != ':' || (p[10] != 'T' && p[10] != 't' && p[10] != ' '))
		return 0;
	for (n = 11; n < len && n <= ISO_MAX && p[n] != ' ' && p[n] != '\t';
	    n++)
		;
	if (n < 19 || n > ISO_MAX)
		return 0;
	memcpy(buf, p, n);
	buf[n] = '\0';
	buf[10] = 'T';
	if (buf[n - 1] == 'z')
		buf[n - 1] = 'Z';
	*zone = buf[n - 1] == 'Z' || strpbrk(buf + 19, "+-") != NULL;
	return n;
}

/*
 * "YYYY-MM-DD[T ]hh:mm:ss[.frac][Z|+hh:mm|+hhmm]" (RFC 3339 section 5.6,
 * plus the space and no-zone forms some syslog daemons write; without a
 * zone the stamp is local time).  GLib also takes "+hh" and a comma
 * before the fraction (ISO 8601).
 */
static size_t
parse_iso(const char *p, size_t len, long gmtoff, int64_t *when,
    unsigned *defects)
{
	char		 buf[ISO_MAX + 1];
	GTimeZone	*tz = NULL;
	GDateTime	*dt;
	size_t		 n;
	bool		 zone;

	if ((n = iso_copy(p, len, buf, &zone)) == 0)
		return 0;
	/* a zone of our own only when the stamp has none (it costs) */
	if (!zone)
		tz = g_time_zone_new_offset((gint32)gmtoff);
	dt = g_date_time_new_from_iso8601(buf, tz);
	if (tz != NULL)
		g_time_zone_unref(tz);
	if (dt == NULL)
		return 0;
	if (g_date_time_get_year(dt) < 1970) {
		g_date_time_unref(dt);
		return 0;
	}
	*when = g_date_time_to_unix(dt);
	g_date_time_unref(dt);
	if (!zone)
		*defects |= ML_DEF_NO_ZONE;
	return n;
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
