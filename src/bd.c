/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bd.c - status strings.  Pure: no I/O, no logging.
 */
#include "bd.h"

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
