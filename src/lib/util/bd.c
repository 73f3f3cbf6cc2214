/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bd.c - status strings and the smallest shared helpers.  Pure: no I/O,
 * no logging.
 */
#include "util/bd.h"

/*
 * bd_strerror - a short English phrase for a status
 *
 * Returns a static string; never NULL.
 */
const char *
bd_strerror(enum bd_status status)
{
	switch (status) {
	case BD_OK:		return "success";
	case BD_ENOMEM:		return "out of memory";
	case BD_EPARSE:		return "malformed input";
	case BD_ELIMIT:		return "input exceeds a configured limit";
	case BD_EIO:		return "input/output error";
	case BD_ECONFIG:	return "invalid configuration";
	case BD_ENOTFOUND:	return "not found";
	case BD_EBUSY:		return "database busy";
	}
	return "unknown error";
}

/*
 * bd_digits - read exactly n decimal digits at p
 *
 * Arguments: p, n (small: the value must fit an unsigned); out.
 * Returns false, leaving *out alone, unless all n bytes are digits.
 */
bool
bd_digits(const char *p, size_t n, unsigned *out)
{
	size_t	 i;
	unsigned v = 0;

	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	*out = v;
	return true;
}
