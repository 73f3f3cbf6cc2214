/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * conf_file.c - the generic reader behind bounced.conf(5): read a bounded
 * file, split it into "Key value" lines (a '#' at the start of a line or
 * after white space begins a comment; the value is the rest of the line,
 * trimmed, with one pair of surrounding double quotes removed), and parse
 * the typed values every key table needs: numbers with units (k, M, G;
 * ms, s, m, h, d, w), checked for overflow, and strict booleans.
 *
 * It knows no key and keeps no state: what a key means, its bounds and
 * duplicates are conf.c's business (through conf_tab.h).  Pure apart
 * from reading the one file it is given: no logging, no exit.  The input
 * is hostile: the file and its lines are bounded, NUL bytes are refused.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "util/duration.h"
#include "conf/conf_file.h"

/*
 * conffile_number - parse an unsigned decimal number
 *
 * Arguments: p, where it starts (advanced past the digits on success);
 * out, the value.
 *
 * Returns false when there is no digit at *p or the value overflows
 * 64 bits; *p is then unchanged.
 */
bool
conffile_number(const char **p, uint64_t *out)
{
	const char	*s = *p;
	uint64_t	 v = 0;

	if (!isdigit((unsigned char)*s))
		return false;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*p = s;
	*out = v;
	return true;
}

/* Multiply with an overflow check against INT64_MAX. */
static bool
scale(uint64_t v, uint64_t mul, int64_t *out)
{
	if (mul != 0 && v > (uint64_t)INT64_MAX / mul)
		return false;
	*out = (int64_t)(v * mul);
	return true;
}

/*
 * conffile_scaled - parse a number with an optional unit
 *
 * Arguments: u, which units are allowed; s, the whole value; out, the
 * value in bytes (CONFFILE_BYTES), seconds (CONFFILE_SECONDS),
 * milliseconds (CONFFILE_MSEC) or as given (CONFFILE_COUNT).
 *
 * Returns NULL, or a static phrase saying what is wrong (negative, not a
 * number, too large, a bad unit).  Units are case-sensitive except k, M
 * and G, which accept either case.
 */
const char *
conffile_scaled(enum conffile_unit u, const char *s, int64_t *out)
{
	uint64_t	 v, mul = 1;
	const char	*p = s;

	if (!conffile_number(&p, &v))
		return *p == '-' ? "negative values are not allowed" :
		    isdigit((unsigned char)*p) ? "number too large" :
		    "not a number";
	switch (u) {
	case CONFFILE_COUNT:
		if (*p != '\0')
			return "not a whole number (no unit allowed)";
		break;
	case CONFFILE_BYTES:
		if (*p == '\0')
			mul = 1;
		else if (strcmp(p, "k") == 0 || strcmp(p, "K") == 0)
			mul = 1024;
		else if (strcmp(p, "m") == 0 || strcmp(p, "M") == 0)
			mul = 1024 * 1024;
		else if (strcmp(p, "g") == 0 || strcmp(p, "G") == 0)
			mul = 1024 * 1024 * 1024;
		else
			return "bad size unit (use k, M or G)";
		break;
	case CONFFILE_SECONDS:
	case CONFFILE_MSEC:
		/* One grammar for every duration (util/duration.c). */
		return duration_parse(s, strlen(s), u == CONFFILE_MSEC ?
		    DURATION_MSEC : DURATION_SECONDS, out);
	default:
		return "internal: not a number type";
	}
	if (!scale(v, mul, out))
		return "number too large";
	return NULL;
}

/*
 * conffile_format - write a number the way a config file would
 *
 * Arguments: u, its kind; v, in bytes, seconds, milliseconds or a plain
 * count; out and outlen, the text.
 *
 * Notes: the largest unit that divides v exactly is used (G, M, k; d, h,
 * m, s; ms when not whole seconds), so conffile_scaled() reads it back
 * to the same value.
 */
void
conffile_format(enum conffile_unit u, int64_t v, char *out, size_t outlen)
{
	switch (u) {
	case CONFFILE_COUNT:
		(void)snprintf(out, outlen, "%lld", (long long)v);
		return;
	case CONFFILE_BYTES:
		if (v != 0 && v % (1024 * 1024 * 1024) == 0)
			(void)snprintf(out, outlen, "%lldG",
			    (long long)(v >> 30));
		else if (v != 0 && v % (1024 * 1024) == 0)
			(void)snprintf(out, outlen, "%lldM",
			    (long long)(v >> 20));
		else if (v != 0 && v % 1024 == 0)
			(void)snprintf(out, outlen, "%lldk",
			    (long long)(v >> 10));
		else
			(void)snprintf(out, outlen, "%lld", (long long)v);
		return;
	case CONFFILE_MSEC:
		if (v % 1000 != 0) {
			(void)snprintf(out, outlen, "%lldms", (long long)v);
			return;
		}
		v /= 1000;
		/* FALLTHROUGH */
	case CONFFILE_SECONDS:
		if (v != 0 && v % 86400 == 0)
			(void)snprintf(out, outlen, "%lldd",
			    (long long)(v / 86400));
		else if (v != 0 && v % 3600 == 0)
			(void)snprintf(out, outlen, "%lldh",
			    (long long)(v / 3600));
		else if (v != 0 && v % 60 == 0)
			(void)snprintf(out, outlen, "%lldm",
			    (long long)(v / 60));
		else
			(void)snprintf(out, outlen, "%llds", (long long)v);
		return;
	}
	(void)snprintf(out, outlen, "?");
}

/*
 * conffile_bool - parse a strict boolean
 *
 * Arguments: s; out, the value.
 *
 * Returns false unless s is yes, no, true, false, on, off, 1 or 0 (any
 * case).
 */
bool
conffile_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t	 i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

/*
 * Split one line (NUL-terminated, no newline) and hand it to cb.  The
 * line is modified in place.
 */
static enum bd_status
parse_line(const char *name, size_t lineno, char *s, conffile_line_cb cb,
    void *arg, char *err, size_t errlen)
{
	struct conffile_line	 l;
	char			*e, *val;
	size_t			 klen, vlen;

	/* '#' at the start or after white space begins a comment. */
	for (e = s; *e != '\0'; e++)
		if (*e == '#' && (e == s || e[-1] == ' ' || e[-1] == '\t')) {
			*e = '\0';
			break;
		}
	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	if (*s == '\0')
		return BD_OK;
	for (klen = 0; s[klen] != '\0' && s[klen] != ' ' && s[klen] != '\t';
	    klen++)
		;
	val = s + klen;
	while (*val == ' ' || *val == '\t')
		val++;
	/* One pair of double quotes around the value is removed. */
	vlen = strlen(val);
	if (vlen >= 2 && val[0] == '"' && val[vlen - 1] == '"') {
		val[vlen - 1] = '\0';
		val++;
	}
	l.file = name;
	l.lineno = lineno;
	l.key = s;
	l.keylen = klen;
	l.value = val;
	return cb(arg, &l, err, errlen);
}

/*
 * conffile_parse - feed the "Key value" lines of a text to a callback
 *
 * Arguments: name, for "name:line" messages; text and len, the bytes
 * (need not be NUL-terminated); cb and arg, called once per line that
 * is not empty or a comment, in order; err and errlen, why it failed.
 *
 * Returns BD_OK; BD_ECONFIG for a NUL byte anywhere (checked before any
 * line is given to cb) or a line longer than CONFFILE_LINE_MAX; or the
 * first status cb returned other than BD_OK.
 */
enum bd_status
conffile_parse(const char *name, const char *text, size_t len,
    conffile_line_cb cb, void *arg, char *err, size_t errlen)
{
	char		 line[CONFFILE_LINE_MAX + 1];
	const char	*nl, *z;
	size_t		 pos = 0, lineno = 0, n;
	enum bd_status	 st;

	if ((z = memchr(text, '\0', len)) != NULL) {
		for (nl = text; nl < z; nl++)
			if (*nl == '\n')
				lineno++;
		(void)snprintf(err, errlen, "%s:%zu: NUL byte in the file",
		    name, lineno + 1);
		return BD_ECONFIG;
	}
	while (pos < len) {
		lineno++;
		nl = memchr(text + pos, '\n', len - pos);
		n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		if (n > CONFFILE_LINE_MAX) {
			(void)snprintf(err, errlen, "%s:%zu: line longer than "
			    "%d bytes", name, lineno, CONFFILE_LINE_MAX);
			return BD_ECONFIG;
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + (nl ? 1 : 0);
		if ((st = parse_line(name, lineno, line, cb, arg, err,
		    errlen)) != BD_OK)
			return st;
	}
	return BD_OK;
}

/*
 * conffile_read - read a whole configuration file
 *
 * Arguments: path; max, the largest size accepted; text, receives the
 * bytes plus a NUL (free() it); len, their number; err and errlen, why
 * not.
 *
 * Returns BD_OK; BD_EIO ("path: strerror", or "not a regular file");
 * BD_ECONFIG when the file is larger than max; BD_ENOMEM.
 */
enum bd_status
conffile_read(const char *path, size_t max, char **text, size_t *len,
    char *err, size_t errlen)
{
	struct stat	 sb;
	char		*p;
	ssize_t		 r = 0;
	size_t		 got = 0;
	int		 fd;

	*text = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		(void)snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return BD_EIO;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		(void)snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return BD_EIO;
	}
	if ((uint64_t)sb.st_size > (uint64_t)max) {
		(void)snprintf(err, errlen, "%s: larger than %zu bytes", path,
		    max);
		close(fd);
		return BD_ECONFIG;
	}
	if ((p = malloc((size_t)sb.st_size + 1)) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		close(fd);
		return BD_ENOMEM;
	}
	/* A file that grows while read is cut at its size at fstat(). */
	while (got < (size_t)sb.st_size) {
		r = read(fd, p + got, (size_t)sb.st_size - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (r == -1) {
		(void)snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		free(p);
		return BD_EIO;
	}
	close(fd);
	p[got] = '\0';
	*text = p;
	*len = got;
	return BD_OK;
}
