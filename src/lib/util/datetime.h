/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * datetime.h - calendar arithmetic shared by the date parsers (pure).
 */
#ifndef BD_DATETIME_H
#define BD_DATETIME_H

#include <stdbool.h>
#include <stdint.h>

/* datetime_days_from_civil - days from 1970-01-01 to y-m-d (m 1-12) */
int64_t datetime_days_from_civil(int64_t y, unsigned m, unsigned d);
/* datetime_year_from_days - the year of a day count since 1970-01-01 */
int64_t datetime_year_from_days(int64_t z);

/* datetime_is_leap - year y is a Gregorian leap year */
bool datetime_is_leap(int64_t y);
/* datetime_month_days - days in month m (1-12) of year y */
unsigned datetime_month_days(int64_t y, unsigned m);

#endif
