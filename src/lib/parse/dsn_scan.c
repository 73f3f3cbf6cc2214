/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2026 The bounced authors.
 *
 * dsn_scan.c - finding codes in text: an RFC 3463 enhanced status code
 * (section 2: class.subject.detail) and an RFC 5321 reply code (section
 * 4.2) inside a diagnostic, and a bounded case-insensitive search.
 * Shared by the structured reader and the text reader.
 *
 * It must not: log, allocate, or scan more than the length it is given.
 */
#define _GNU_SOURCE		/* memmem(3) */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "parse/dsn_int.h"

bool
dsn_status_at(const char *s, const char *end, size_t *len)
{
	const char	*p = s;
	int		 d;

	if (p >= end || (*p != '2' && *p != '4' && *p != '5'))
		return false;
	p++;
	if (p >= end || *p != '.')
		return false;
	p++;
	for (d = 0; p < end && isdigit((unsigned char)*p) && d < 4; p++)
		d++;
	if (d == 0 || d > 3 || p >= end || *p != '.')
		return false;
	p++;
	for (d = 0; p < end && isdigit((unsigned char)*p) && d < 4; p++)
		d++;
	if (d == 0 || d > 3)
		return false;
	/* Not part of a longer dotted number (an IP address, a version). */
	if (p < end && (*p == '.' && p + 1 < end &&
	    isdigit((unsigned char)p[1])))
		return false;
	if (p < end && isalnum((unsigned char)*p))
		return false;
	*len = p - s;
	return true;
}

/*
 * dsn_find_status - find the first RFC 3463 status code in a text
 *
 * Arguments: s, n: the text; out, outlen: receives "x.y.z".
 * Returns: true if one was found.
 * Notes: class must be 2, 4 or 5; subject and detail 1-3 digits; codes
 * inside dotted numbers (IP addresses) are skipped.  Linear.
 */
bool
dsn_find_status(const char *s, size_t n, char *out, size_t outlen)
{
	return dsn_find_status2(s, n, out, outlen, false);
}

/*
 * dsn_find_status2 - dsn_find_status, optionally skipping class 2 codes
 * (a failure's transcript also shows the commands that succeeded).
 */
bool
dsn_find_status2(const char *s, size_t n, char *out, size_t outlen,
    bool skip2)
{
	const char	*p, *end = s + n;
	size_t		 len;

	for (p = s; p < end; p++) {
		if (*p != '2' && *p != '4' && *p != '5')
			continue;
		if (p > s && (isalnum((unsigned char)p[-1]) || p[-1] == '.' ||
		    p[-1] == '_' || p[-1] == '/' || (p[-1] == '-' &&
		    p > s + 1 && isalnum((unsigned char)p[-2]))))
			continue;
		if (skip2 && *p == '2')
			continue;
		if (dsn_status_at(p, end, &len)) {
			if (len >= outlen)
				return false;
			memcpy(out, p, len);
			out[len] = '\0';
			return true;
		}
	}
	return false;
}

static int
code_at(const char *p, const char *end)
{
	if (end - p < 3)
		return 0;
	if (p[0] < '2' || p[0] > '5' || !isdigit((unsigned char)p[1]) ||
	    !isdigit((unsigned char)p[2]))
		return 0;
	if (p + 3 < end && p[3] != ' ' && p[3] != '-' && p[3] != '\t' &&
	    p[3] != '\r' && p[3] != '\n' && p[3] != ',' && p[3] != ':' &&
	    p[3] != ']' && p[3] != ')' && p[3] != '"')
		return 0;
	return (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
}

/*
 * dsn_reply_code - the RFC 5321 section 4.2 reply code starting a text
 *
 * Returns: 200-599, or 0 if the text does not start with one.
 */
int
dsn_reply_code(const char *s)
{
	if (s == NULL)
		return 0;
	while (*s == ' ' || *s == '\t' || *s == '"' || *s == '(' || *s == '[')
		s++;
	return code_at(s, s + strnlen(s, 4));
}

/*
 * dsn_find_reply_code - the first reply code standing alone in a text
 *
 * Returns: 200-599, or 0.  Notes: a code must follow a space, '(', ':',
 * '#' or the start and not be part of a longer number or status code.
 */
int
dsn_find_reply_code(const char *s, size_t n)
{
	return dsn_find_reply_code2(s, n, 200);
}

/*
 * dsn_find_reply_code2 - the first reply code >= min in a text, or 0
 */
int
dsn_find_reply_code2(const char *s, size_t n, int min)
{
	const char	*p, *end = s + n;
	int		 code;

	for (p = s; p + 3 <= end; p++) {
		if (*p < '2' || *p > '5')
			continue;
		if (p > s && p[-1] != ' ' && p[-1] != '(' && p[-1] != ':' &&
		    p[-1] != '\t' && p[-1] != '\n' && p[-1] != '"' &&
		    p[-1] != '[' && p[-1] != '#' && p[-1] != '<')
			continue;
		if ((code = code_at(p, end)) == 0)
			continue;
		if (p > s && p[-1] == ':' && p + 3 < end && p[3] == ':')
			continue;	/* inside an IPv6 address */
		if (code % 100 >= 60 || code < min)
			continue;	/* 2xx..5xx with tens 0-5 only */
		return code;
	}
	return 0;
}

/*
 * dsn_dsn_status_from_text - take the status code a diagnostic text gives
 * when the Status field is missing or only says x.0.0 (RFC 3463 section
 * 3.1: "other undefined status"), or names another code: the remote
 * server's own code is the more specific one.
 */
void
dsn_status_from_text(struct dsn_rcpt *rc, const char *text)
{
	char	 st[16];
	bool	 skip2 = rc->action == EV_ACT_FAILED ||
	    rc->action == EV_ACT_DELAYED;
	char	*n;

	if (text == NULL || !dsn_find_status2(text, strlen(text), st,
	    sizeof(st), skip2))
		return;
	if (rc->status != NULL && strcmp(rc->status, st) == 0)
		return;
	if ((n = strdup(st)) == NULL)
		return;
	free(rc->status);
	rc->status = n;
}

