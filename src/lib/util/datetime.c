/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * datetime.c - calendar arithmetic shared by the date parsers: the day
 * count of a civil date and the year of a day count, in the proleptic
 * Gregorian calendar (H. Hinnant's algorithms), so that a stamp in a mail
 * log or a Date: field (RFC 5322 section 3.3) becomes seconds since the
 * epoch without timegm(3), which is not C99, or the process's time zone.
 *
 * It must not: log, do I/O, read the clock or keep state.  Thread-safe.
 */
#include <stdint.h>

#include "util/datetime.h"

/*
 * datetime_days_from_civil - days from 1970-01-01 to a civil date
 *
 * Arguments: y, the year (any, proleptic Gregorian); m, the month 1-12;
 * d, the day of the month 1-31.
 *
 * Returns the day count, negative before 1970.  Not range-checked: the
 * caller validates m and d first (out of range they give a day count that
 * is wrong but finite).
 */
int64_t
datetime_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t		 era;
	unsigned	 yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/*
 * datetime_year_from_days - the year of a day count
 *
 * Arguments: z, days since 1970-01-01 (negative before).
 *
 * Returns the proleptic Gregorian year that day falls in.
 */
int64_t
datetime_year_from_days(int64_t z)
{
	int64_t		 era, y;
	unsigned	 doe, yoe, doy, mp, m;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	m = mp < 10 ? mp + 3 : mp - 9;
	return y + (m <= 2);
}

/*
 * datetime_is_leap - whether year y of the proleptic Gregorian calendar
 * is a leap year
 */
bool
datetime_is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/*
 * datetime_month_days - the days of month m (1-12) of year y
 */
unsigned
datetime_month_days(int64_t y, unsigned m)
{
	static const unsigned char mdays[12] =
	    { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && datetime_is_leap(y) ? 29 : mdays[m - 1];
}
