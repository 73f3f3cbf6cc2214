/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * config.c - bounced.conf(5): parse "Key value" lines into an immutable,
 * reference-counted configuration snapshot, and load the rules it names.
 *
 * The key table (conftab.h) is the only definition of a key; this file
 * holds the generic machinery: line splitting, typed values with units,
 * bounds, per-key syntax checks, duplicate and unknown key detection,
 * printing (bounced -n -v) and comparison (what a reload cannot change).
 *
 * Pure apart from reading the one file it is given: no logging, no exit.
 * Every error is returned as BD_ECONFIG with "file:line: why" in the
 * caller's buffer; advisory warnings are collected in c->warnings for the
 * daemon to log.  The input is treated as hostile: lines and the file are
 * bounded, NUL bytes are refused, numbers are checked for overflow.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "conftab.h"

#define CONF_FILE_MAX		(1024 * 1024)	/* bytes of a config file */
#define CONF_LINE_MAX		4096		/* bytes of one line */
#define CONF_PATTERNS_MAX	64		/* BounceAddresses entries */
#define CONF_PATTERN_LEN	320		/* bytes of one pattern */

#ifndef SYSCONFDIR
#define SYSCONFDIR	"/etc"
#endif

static const struct {
	const char	*name;
	int		 code;
} facilities[] = {
	{ "auth", LOG_AUTH }, { "authpriv", LOG_AUTHPRIV },
	{ "daemon", LOG_DAEMON }, { "mail", LOG_MAIL }, { "user", LOG_USER },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

/*
 * config_default_path - where bounced looks without -c
 *
 * Returns SYSCONFDIR "/bounced.conf" (a static string).
 */
const char *
config_default_path(void)
{
	return SYSCONFDIR "/bounced.conf";
}

/*
 * config_facility - map a syslog facility name to its code
 *
 * Arguments: name, e.g. "mail" or "local3" (case-insensitive).
 *
 * Returns the LOG_* code, or -1 when the name is unknown.
 */
int
config_facility(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (strcasecmp(name, facilities[i].name) == 0)
			return facilities[i].code;
	return -1;
}

static void *
field(struct bd_config *c, const struct conf_key *k)
{
	return (char *)c + k->off;
}

static const void *
cfield(const struct bd_config *c, const struct conf_key *k)
{
	return (const char *)c + k->off;
}

/* Parse an unsigned decimal number at *p; advance *p.  false on overflow. */
static bool
parse_number(const char **p, uint64_t *out)
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
 * Parse a number with an optional unit for type t.  Returns NULL or a
 * static phrase explaining what is wrong.
 */
static const char *
parse_scaled(enum conf_type t, const char *s, int64_t *out)
{
	uint64_t	 v, mul = 1;
	const char	*u = s;

	if (!parse_number(&u, &v))
		return *u == '-' ? "negative values are not allowed" :
		    isdigit((unsigned char)*u) ? "number too large" :
		    "not a number";
	switch (t) {
	case CT_COUNT:
		if (*u != '\0')
			return "not a whole number (no unit allowed)";
		break;
	case CT_SIZE:
		if (*u == '\0')
			mul = 1;
		else if (strcmp(u, "k") == 0 || strcmp(u, "K") == 0)
			mul = 1024;
		else if (strcmp(u, "m") == 0 || strcmp(u, "M") == 0)
			mul = 1024 * 1024;
		else if (strcmp(u, "g") == 0 || strcmp(u, "G") == 0)
			mul = 1024 * 1024 * 1024;
		else
			return "bad size unit (use k, M or G)";
		break;
	case CT_SECONDS:
	case CT_MSEC:
		if (*u == '\0' || strcmp(u, "s") == 0)
			mul = 1;
		else if (strcmp(u, "m") == 0)
			mul = 60;
		else if (strcmp(u, "h") == 0)
			mul = 3600;
		else if (strcmp(u, "d") == 0)
			mul = 86400;
		else if (strcmp(u, "w") == 0)
			mul = 7 * 86400;
		else if (t == CT_MSEC && strcmp(u, "ms") == 0)
			mul = 0;	/* milliseconds as given */
		else
			return t == CT_MSEC ?
			    "bad time unit (use ms, s, m, h)" :
			    "bad time unit (use s, m, h, d or w)";
		if (t == CT_MSEC)
			mul = mul == 0 ? 1 : mul * 1000;
		break;
	default:
		return "internal: not a number type";
	}
	if (!scale(v, mul, out))
		return "number too large";
	return NULL;
}

static bool
parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t	 i;

	for (i = 0; i < 4; i++) {
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

static bool
check_socket(const char *s)
{
	const char	*p;
	uint64_t	 port;

	if (strncasecmp(s, "unix:", 5) == 0 ||
	    strncasecmp(s, "local:", 6) == 0) {
		p = strchr(s, ':') + 1;
		return p[0] == '/' && strlen(p) < 108;	/* sun_path */
	}
	if (strncasecmp(s, "inet:", 5) == 0)
		p = s + 5;
	else if (strncasecmp(s, "inet6:", 6) == 0)
		p = s + 6;
	else
		return false;
	if (!parse_number(&p, &port) || port == 0 || port > 65535)
		return false;
	return *p == '\0' || (*p == '@' && p[1] != '\0');
}

static bool
check_user(const char *s)
{
	size_t	 colons = 0;

	if (*s == '\0' || *s == ':')
		return false;
	for (; *s; s++) {
		if (*s == ':') {
			if (++colons > 1 || s[1] == '\0')
				return false;
		} else if (!isalnum((unsigned char)*s) && *s != '_' &&
		    *s != '-' && *s != '.')
			return false;
	}
	return true;
}

static bool
check_header(const char *s)
{
	size_t	 n = 0;

	for (; *s; s++, n++)	/* RFC 5322 section 3.6.8 ftext */
		if ((unsigned char)*s < 33 || (unsigned char)*s > 126 ||
		    *s == ':')
			return false;
	return n <= 64;
}

/* "550 5.1.1 text": RFC 5321 section 4.2, RFC 3463 class must agree. */
static bool
check_reply(const char *s)
{
	const char	*p;

	if ((s[0] != '4' && s[0] != '5') || !isdigit((unsigned char)s[1]) ||
	    !isdigit((unsigned char)s[2]) || s[3] != ' ')
		return false;
	p = s + 4;
	if (p[0] == s[0] && p[1] == '.') {
		uint64_t v;

		p += 2;
		if (!parse_number(&p, &v) || v > 999 || *p++ != '.' ||
		    !parse_number(&p, &v) || v > 999 || *p++ != ' ')
			return false;
	}
	if (*p == '\0')
		return false;
	for (; *p; p++)	/* '%' would be a format for libmilter */
		if ((unsigned char)*p < 32 || (unsigned char)*p > 126 ||
		    *p == '%')
			return false;
	return true;
}

static void
free_patterns(struct bd_config *c)
{
	size_t	 i;

	for (i = 0; i < c->n_bounce_patterns; i++)
		free(c->bounce_patterns[i]);
	free(c->bounce_patterns);
	c->bounce_patterns = NULL;
	c->n_bounce_patterns = 0;
}

/* Split BounceAddresses; returns NULL or why it is wrong. */
static const char *
split_patterns(struct bd_config *c, const char *s)
{
	const char	*p = s, *e, *end;
	char		*pat;
	size_t		 n, i;

	free_patterns(c);
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		for (e = p; *e != '\0' && *e != ','; e++)
			;
		for (end = e; end > p && (end[-1] == ' ' || end[-1] == '\t');
		    end--)
			;
		n = (size_t)(end - p);
		if (n > CONF_PATTERN_LEN)
			return "pattern too long";
		for (i = 0; i < n; i++)
			if ((unsigned char)p[i] <= 32 ||
			    (unsigned char)p[i] > 126)
				return "white space or a control byte "
				    "inside a pattern";
		if (c->n_bounce_patterns == CONF_PATTERNS_MAX)
			return "too many patterns";
		if (c->n_bounce_patterns == 0 &&
		    (c->bounce_patterns = calloc(CONF_PATTERNS_MAX,
		    sizeof(char *))) == NULL)
			return "out of memory";
		if ((pat = malloc(n + 1)) == NULL)
			return "out of memory";
		for (i = 0; i < n; i++)
			pat[i] = (char)tolower((unsigned char)p[i]);
		pat[n] = '\0';
		c->bounce_patterns[c->n_bounce_patterns++] = pat;
		p = e;
	}
	return NULL;
}

/* Per-key syntax beyond the type; returns NULL or why. */
static const char *
check_value(struct bd_config *c, const struct conf_key *k, const char *v)
{
	if (*v == '\0')
		return k->empty_ok ? NULL : "empty value";
	switch (k->check) {
	case CK_NONE:
		return NULL;
	case CK_SOCKET:
		return check_socket(v) ? NULL : "not a socket: use "
		    "unix:/absolute/path, inet:port@host or inet6:port@host";
	case CK_PATH:
		return v[0] == '/' ? NULL : "not an absolute path";
	case CK_USER:
		return check_user(v) ? NULL : "not a user[:group] name";
	case CK_FACILITY:
		return config_facility(v) >= 0 ? NULL :
		    "unknown syslog facility";
	case CK_HEADER:
		return check_header(v) ? NULL : "not a header field name";
	case CK_PATTERNS:
		return split_patterns(c, v);
	case CK_REPLY:
		return check_reply(v) ? NULL : "not an SMTP reply such as "
		    "\"550 5.1.1 text\" (4xx or 5xx, no '%')";
	}
	return NULL;
}

/*
 * Set key k of c from the value text v.  Returns NULL, or why the value
 * is wrong (in the caller's buffer why).
 */
static const char *
set_value(struct bd_config *c, const struct conf_key *k, const char *v,
    char *why, size_t whylen)
{
	const char	*msg;
	int64_t		 n;
	bool		 b;
	size_t		 i;

	if ((msg = check_value(c, k, v)) != NULL)
		return msg;
	switch (k->type) {
	case CT_STR: {
		char **sp = field(c, k);
		char *dup;

		if ((dup = strdup(v)) == NULL)
			return "out of memory";
		free(*sp);
		*sp = dup;
		return NULL;
	}
	case CT_BOOL:
		if (!parse_bool(v, &b))
			return "not a boolean (yes, no, true, false, on, off, "
			    "1, 0)";
		*(bool *)field(c, k) = b;
		return NULL;
	case CT_ENUM:
		for (i = 0; k->names[i] != NULL; i++)
			if (strcasecmp(v, k->names[i]) == 0)
				break;
		if (k->names[i] == NULL) {
			struct buf	 b2;

			buf_init(&b2, whylen ? whylen - 1 : 0);
			(void)buf_puts(&b2, "not one of");
			for (i = 0; k->names[i] != NULL; i++)
				(void)buf_printf(&b2, "%s %s",
				    i ? "," : "", k->names[i]);
			(void)snprintf(why, whylen, "%s",
			    b2.data ? b2.data : "bad value");
			buf_free(&b2);
			return why;
		}
		if (k->size == sizeof(bool))
			*(bool *)field(c, k) = i != 0;
		else
			*(int *)field(c, k) = (int)i;
		return NULL;
	case CT_COUNT:
	case CT_SIZE:
	case CT_SECONDS:
	case CT_MSEC:
		if ((msg = parse_scaled(k->type, v, &n)) != NULL)
			return msg;
		if (n < k->min || n > k->max) {
			(void)snprintf(why, whylen, "%s is out of range "
			    "%lld..%lld%s", v, (long long)k->min,
			    (long long)k->max,
			    k->type == CT_SIZE ? " bytes" :
			    k->type == CT_SECONDS ? " seconds" :
			    k->type == CT_MSEC ? " milliseconds" : "");
			return why;
		}
		if (k->type == CT_COUNT)
			*(unsigned *)field(c, k) = (unsigned)n;
		else if (k->type == CT_SIZE)
			*(size_t *)field(c, k) = (size_t)n;
		else
			*(int64_t *)field(c, k) = n;
		return NULL;
	}
	return "internal: unknown type";
}

/* A config with every default applied and no rules. */
static enum bd_status
config_defaults(struct bd_config **out, char *err, size_t errlen)
{
	struct bd_config	*c;
	const char		*msg;
	char			 why[256];
	size_t			 i;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return BD_ENOMEM;
	}
	c->refs = 1;
	for (i = 0; i < CONFTAB_N; i++) {
		if ((msg = set_value(c, &conftab[i], conftab[i].def, why,
		    sizeof(why))) != NULL) {
			(void)snprintf(err, errlen, "default of %s: %s",
			    conftab[i].name, msg);
			config_free(c);
			return BD_ECONFIG;	/* a bug in conftab.h */
		}
	}
	*out = c;
	return BD_OK;
}

static const struct conf_key *
find_key(const char *name, size_t len)
{
	size_t	 i;

	for (i = 0; i < CONFTAB_N; i++)
		if (strlen(conftab[i].name) == len &&
		    strncasecmp(conftab[i].name, name, len) == 0)
			return &conftab[i];
	return NULL;
}

static void
add_warning(struct bd_config *c, const char *name, size_t line,
    const char *msg)
{
	struct buf	 b;

	buf_init(&b, 8192);
	if (c->warnings != NULL)
		(void)buf_printf(&b, "%s\n", c->warnings);
	(void)buf_printf(&b, "%s:%zu: %s", name, line, msg);
	if (b.data != NULL) {
		free(c->warnings);
		c->warnings = buf_steal(&b);
	}
	buf_free(&b);
}

/* Parse the text of one line (NUL-terminated, no newline). */
static enum bd_status
parse_line(struct bd_config *c, const char *name, size_t lineno, char *s,
    bool *seen, char *err, size_t errlen)
{
	const struct conf_key	*k;
	const char		*msg;
	char			*key, *val, *e, why[256];
	size_t			 klen, i;
	int64_t			 n;

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
	key = s;
	for (klen = 0; key[klen] != '\0' && key[klen] != ' ' &&
	    key[klen] != '\t'; klen++)
		;
	val = key + klen;
	while (*val == ' ' || *val == '\t')
		val++;
	if ((k = find_key(key, klen)) == NULL) {
		(void)snprintf(err, errlen, "%s:%zu: unknown key \"%.*s\"",
		    name, lineno, (int)(klen > 64 ? 64 : klen), key);
		return BD_ECONFIG;
	}
	i = (size_t)(k - conftab);
	if (seen[i]) {
		(void)snprintf(err, errlen, "%s:%zu: duplicate key %s", name,
		    lineno, k->name);
		return BD_ECONFIG;
	}
	seen[i] = true;
	/* One pair of double quotes around the value is removed. */
	if (val[0] == '"' && strlen(val) >= 2 && val[strlen(val) - 1] == '"') {
		val[strlen(val) - 1] = '\0';
		val++;
	}
	if ((msg = set_value(c, k, val, why, sizeof(why))) != NULL) {
		(void)snprintf(err, errlen, "%s:%zu: %s: %s", name, lineno,
		    k->name, msg);
		return BD_ECONFIG;
	}
	if (k->warn_max != 0 && parse_scaled(k->type, val, &n) == NULL &&
	    (n < k->warn_min || n > k->warn_max)) {
		char adv[128];

		(void)snprintf(adv, sizeof(adv), "%s %lld is outside the "
		    "advised range %lld..%lld", k->name, (long long)n,
		    (long long)k->warn_min, (long long)k->warn_max);
		add_warning(c, name, lineno, adv);
	}
	return BD_OK;
}

static enum bd_status
load_rules(struct bd_config *c, char *err, size_t errlen)
{
	enum bd_status	 st;

	if (c->rules_file != NULL && c->rules_file[0] == '\0') {
		free(c->rules_file);
		c->rules_file = NULL;
	}
	if (c->rules_file == NULL)
		st = rules_default(&c->rules, err, errlen);
	else
		st = rules_load(c->rules_file, &c->rules, err, errlen);
	return st;
}

/*
 * config_parse - build a configuration from text in memory
 *
 * Arguments: name, used in "name:line" messages; text and len, the file's
 * bytes (need not be NUL-terminated); out, the result; err and errlen,
 * where a failure is described.
 *
 * Returns BD_OK with *out holding one reference, BD_ECONFIG with
 * "name:line: why" in err (also for the rules file), or BD_ENOMEM.
 * Notes: the rules file named by RulesFile (or the built-in rules) is
 * loaded too.  Warnings (a value outside its advised range) are kept in
 * (*out)->warnings.
 */
enum bd_status
config_parse(const char *name, const char *text, size_t len,
    struct bd_config **out, char *err, size_t errlen)
{
	struct bd_config	*c;
	enum bd_status		 st;
	bool			 seen[CONFTAB_N];
	char			 line[CONF_LINE_MAX + 1];
	size_t			 pos = 0, lineno = 0, n;
	const char		*nl;

	*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
	if ((st = config_defaults(&c, err, errlen)) != BD_OK)
		return st;
	if ((c->path = strdup(name)) == NULL) {
		config_free(c);
		return BD_ENOMEM;
	}
	memset(seen, 0, sizeof(seen));
	if (memchr(text, '\0', len) != NULL) {
		const char *z = memchr(text, '\0', len);

		for (nl = text; nl < z; nl++)
			if (*nl == '\n')
				lineno++;
		(void)snprintf(err, errlen, "%s:%zu: NUL byte in the file",
		    name, lineno + 1);
		config_free(c);
		return BD_ECONFIG;
	}
	while (pos < len) {
		lineno++;
		nl = memchr(text + pos, '\n', len - pos);
		n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		if (n > CONF_LINE_MAX) {
			(void)snprintf(err, errlen, "%s:%zu: line longer than "
			    "%d bytes", name, lineno, CONF_LINE_MAX);
			config_free(c);
			return BD_ECONFIG;
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + (nl ? 1 : 0);
		if ((st = parse_line(c, name, lineno, line, seen, err,
		    errlen)) != BD_OK) {
			config_free(c);
			return st;
		}
	}
	if ((st = load_rules(c, err, errlen)) != BD_OK) {
		config_free(c);
		return st;
	}
	*out = c;
	return BD_OK;
}

/*
 * config_load - read bounced.conf
 *
 * Arguments: path, the file (NULL: the built-in defaults alone); out,
 * err, errlen as for config_parse().
 *
 * Returns as config_parse(); a file that cannot be read is BD_EIO with
 * "path: strerror" in err.  Files above 1 MiB are refused.
 */
enum bd_status
config_load(const char *path, struct bd_config **out, char *err,
    size_t errlen)
{
	struct stat	 sb;
	enum bd_status	 st;
	char		*text;
	ssize_t		 r = 0;
	size_t		 got = 0;
	int		 fd;

	*out = NULL;
	if (path == NULL)
		return config_parse("(defaults)", "", 0, out, err, errlen);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		(void)snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return BD_EIO;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		(void)snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return BD_EIO;
	}
	if (sb.st_size > CONF_FILE_MAX) {
		(void)snprintf(err, errlen, "%s: larger than %d bytes", path,
		    CONF_FILE_MAX);
		close(fd);
		return BD_ECONFIG;
	}
	if ((text = malloc((size_t)sb.st_size + 1)) == NULL) {
		close(fd);
		return BD_ENOMEM;
	}
	while (got < (size_t)sb.st_size) {
		r = read(fd, text + got, (size_t)sb.st_size - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (r == -1) {
		(void)snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		free(text);
		return BD_EIO;
	}
	close(fd);
	st = config_parse(path, text, got, out, err, errlen);
	free(text);
	return st;
}

/*
 * config_free - release a configuration and its rules
 *
 * Arguments: c, or NULL.
 * Notes: ignores the reference count; shared snapshots use config_unref().
 */
void
config_free(struct bd_config *c)
{
	size_t	 i;

	if (c == NULL)
		return;
	for (i = 0; i < CONFTAB_N; i++)
		if (conftab[i].type == CT_STR)
			free(*(char **)field(c, &conftab[i]));
	free_patterns(c);
	rules_unref(c->rules);
	free(c->warnings);
	free(c->path);
	free(c);
}

/*
 * config_ref - take a reference to a snapshot
 *
 * Returns c.  Thread-safe.
 */
struct bd_config *
config_ref(struct bd_config *c)
{
	__atomic_add_fetch(&c->refs, 1, __ATOMIC_ACQ_REL);
	return c;
}

/*
 * config_unref - drop a reference; the last one frees the snapshot
 *
 * Arguments: c, or NULL.  Thread-safe.
 */
void
config_unref(struct bd_config *c)
{
	if (c != NULL && __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) == 0)
		config_free(c);
}

/* Format the value of k in c as a config file would write it. */
static void
format_value(const struct bd_config *c, const struct conf_key *k,
    char *out, size_t outlen)
{
	const void	*f = cfield(c, k);
	int64_t		 v;
	int		 idx;

	switch (k->type) {
	case CT_STR: {
		const char *s = *(char *const *)f;

		(void)snprintf(out, outlen, "%s", s ? s : "");
		return;
	}
	case CT_BOOL:
		(void)snprintf(out, outlen, "%s", *(const bool *)f ? "yes" :
		    "no");
		return;
	case CT_ENUM:
		idx = k->size == sizeof(bool) ? *(const bool *)f :
		    *(const int *)f;
		(void)snprintf(out, outlen, "%s", k->names[idx]);
		return;
	case CT_COUNT:
		(void)snprintf(out, outlen, "%u", *(const unsigned *)f);
		return;
	case CT_SIZE:
		v = (int64_t)*(const size_t *)f;
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
	case CT_SECONDS:
	case CT_MSEC:
		v = *(const int64_t *)f;
		if (k->type == CT_MSEC) {
			if (v % 1000 != 0) {
				(void)snprintf(out, outlen, "%lldms",
				    (long long)v);
				return;
			}
			v /= 1000;
		}
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
 * config_print - write the configuration as "Key value" lines
 *
 * Arguments: c; fp; all, every key (else only those that differ from
 * the default, as postconf -n does).
 */
void
config_print(const struct bd_config *c, FILE *fp, bool all)
{
	struct bd_config	*d = NULL;
	char			 v[4096], dv[4096], err[256];
	size_t			 i;

	if (!all && config_defaults(&d, err, sizeof(err)) != BD_OK)
		all = true;
	for (i = 0; i < CONFTAB_N; i++) {
		format_value(c, &conftab[i], v, sizeof(v));
		if (!all) {
			format_value(d, &conftab[i], dv, sizeof(dv));
			if (strcmp(v, dv) == 0)
				continue;
		}
		fprintf(fp, "%s %s\n", conftab[i].name, v);
	}
	config_free(d);
}

/*
 * config_fixed_changed - which non-reloadable keys differ
 *
 * Arguments: a, the running snapshot; b, the new one; out and outlen,
 * receives the key names, comma-separated ("" when none).
 */
void
config_fixed_changed(const struct bd_config *a, const struct bd_config *b,
    char *out, size_t outlen)
{
	char	 va[4096], vb[4096];
	size_t	 i, used = 0;
	int	 n;

	if (outlen == 0)
		return;
	out[0] = '\0';
	for (i = 0; i < CONFTAB_N; i++) {
		if (conftab[i].reloadable)
			continue;
		format_value(a, &conftab[i], va, sizeof(va));
		format_value(b, &conftab[i], vb, sizeof(vb));
		if (strcmp(va, vb) == 0)
			continue;
		n = snprintf(out + used, outlen - used, "%s%s",
		    used ? "," : "", conftab[i].name);
		if (n < 0 || (size_t)n >= outlen - used)
			break;
		used += (size_t)n;
	}
}

/*
 * config_glob_match - match s against a glob pattern
 *
 * Arguments: pat, with '*' (any run, also empty) and '?' (one byte);
 * s, the subject.  Both compared without regard to ASCII case.
 *
 * Returns true on a match.  Runs in O(len(pat) * len(s)) at worst: only
 * the last '*' is ever backtracked to.
 */
bool
config_glob_match(const char *pat, const char *s)
{
	const char	*star = NULL, *resume = NULL;

	while (*s != '\0') {
		if (*pat == '*') {
			star = ++pat;
			resume = s;
		} else if (*pat == '?' || (*pat != '\0' &&
		    tolower((unsigned char)*pat) ==
		    tolower((unsigned char)*s))) {
			pat++;
			s++;
		} else if (star != NULL) {
			pat = star;
			s = ++resume;
		} else
			return false;
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

/*
 * config_is_bounce_address - is rcpt one of the BounceAddresses?
 *
 * Arguments: c; rcpt, an envelope recipient as the MTA gave it (angle
 * brackets and surrounding white space are ignored).
 *
 * Returns true when a pattern matches.  Addresses longer than 320 bytes
 * never match.
 */
bool
config_is_bounce_address(const struct bd_config *c, const char *rcpt)
{
	char	 a[CONF_PATTERN_LEN + 1];
	size_t	 n, i;

	if (c->n_bounce_patterns == 0 || rcpt == NULL)
		return false;
	while (*rcpt == ' ' || *rcpt == '\t' || *rcpt == '<')
		rcpt++;
	n = strcspn(rcpt, ">");
	while (n > 0 && (rcpt[n - 1] == ' ' || rcpt[n - 1] == '\t'))
		n--;
	if (n == 0 || n > CONF_PATTERN_LEN)
		return false;
	memcpy(a, rcpt, n);
	a[n] = '\0';
	for (i = 0; i < c->n_bounce_patterns; i++)
		if (config_glob_match(c->bounce_patterns[i], a))
			return true;
	return false;
}
