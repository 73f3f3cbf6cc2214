/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * conf.c - bounced.conf(5): an immutable, reference-counted
 * configuration snapshot built from the key table, and the rules it
 * names.
 *
 * The key table (conf_tab.h) is the only definition of a key; this file
 * holds what is specific to bounced: defaults, typed values and bounds
 * per key, per-key syntax checks (socket, user, facility, header name,
 * SMTP reply, address patterns), duplicate and unknown key detection,
 * printing (bounced -n -v) and comparison (what a reload cannot change).
 * Reading the file, splitting lines and parsing units is conf_file.c's
 * job; the BounceAddresses globs are pattern.c's.
 *
 * Pure apart from reading the one file it is given: no logging, no exit.
 * Every error is returned as BD_ECONFIG with "file:line: why" in the
 * caller's buffer; advisory warnings are collected in c->warnings for the
 * daemon to log.  The input is treated as hostile (see conf_file.c).
 * RFC 5321 section 4.2 (RejectReply), RFC 3463 (its enhanced code),
 * RFC 5322 section 3.6.8 (CampaignHeader), RFC 5965 section 7.3
 * (ComplaintSuppress: the Feedback-Type registry, state.c's list).
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

#include "util/buf.h"
#include "conf/conf_file.h"
#include "conf/conf.h"
#include "conf/conf_tab.h"
#include "util/pattern.h"
#include "verdict/state.h"

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

/* The unit a number of key type t carries. */
static enum conffile_unit
unit_of(enum conf_type t)
{
	return t == CT_SIZE ? CONFFILE_BYTES : t == CT_SECONDS ?
	    CONFFILE_SECONDS : t == CT_MSEC ? CONFFILE_MSEC : CONFFILE_COUNT;
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
	if (!conffile_number(&p, &port) || port == 0 || port > 65535)
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
		if (!conffile_number(&p, &v) || v > 999 || *p++ != '.' ||
		    !conffile_number(&p, &v) || v > 999 || *p++ != ' ')
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
	pattern_list_free(c->bounce_patterns, c->n_bounce_patterns);
	c->bounce_patterns = NULL;
	c->n_bounce_patterns = 0;
	pattern_list_free(c->hop_patterns, c->n_hop_patterns);
	c->hop_patterns = NULL;
	c->n_hop_patterns = 0;
}

/* Split HandOffRelays; returns NULL or why it is wrong. */
static const char *
split_hops(struct bd_config *c, const char *s)
{
	pattern_list_free(c->hop_patterns, c->n_hop_patterns);
	c->hop_patterns = NULL;
	c->n_hop_patterns = 0;
	return pattern_list_split(s, &c->hop_patterns, &c->n_hop_patterns);
}

/* Split BounceAddresses; returns NULL or why it is wrong. */
static const char *
split_patterns(struct bd_config *c, const char *s)
{
	pattern_list_free(c->bounce_patterns, c->n_bounce_patterns);
	c->bounce_patterns = NULL;
	c->n_bounce_patterns = 0;
	return pattern_list_split(s, &c->bounce_patterns,
	    &c->n_bounce_patterns);
}

static void
free_sign_patterns(struct bd_config *c)
{
	pattern_list_free(c->sign_patterns, c->n_sign_patterns);
	c->sign_patterns = NULL;
	c->n_sign_patterns = 0;
}

/* SignSenders; returns NULL or why it is wrong. */
static const char *
split_signers(struct bd_config *c, const char *s)
{
	free_sign_patterns(c);
	return pattern_list_split(s, &c->sign_patterns, &c->n_sign_patterns);
}

/* FeedbackSources: trust.c's grammar. */
static const char *
parse_nets(struct bd_config *c, const char *v, char *why, size_t whylen)
{
	if (!trust_nets_parse(v, c->feedback_nets, TRUST_NETS_MAX,
	    &c->n_feedback_nets, why, whylen)) {
		c->n_feedback_nets = 0;
		return why;
	}
	return NULL;
}

/* SuppressionExpiry: the store's own grammar, so bouncectl agrees. */
static const char *
parse_expiry(struct bd_config *c, const char *v, char *why, size_t whylen)
{
	if (!store_expiry_parse(v, c->expiry, STORE_EXPIRY_MAX, &c->n_expiry,
	    why, whylen)) {
		c->n_expiry = 0;
		return why;
	}
	return NULL;
}

/* Per-key syntax beyond the type; returns NULL or why (maybe in why). */
static const char *
check_value(struct bd_config *c, const struct conf_key *k, const char *v,
    char *why, size_t whylen)
{
	if (*v == '\0') {
		if (k->check == CK_EXPIRY)
			c->n_expiry = 0;
		else if (k->check == CK_FEEDBACK)
			c->complaint_types = 0;	/* off */
		else if (k->check == CK_NETS)
			c->n_feedback_nets = 0;
		else if (k->check == CK_SIGNERS)
			free_sign_patterns(c);
		else if (k->check == CK_HOPS)
			(void)split_hops(c, "");	/* none */
		return k->empty_ok ? NULL : "empty value";
	}
	switch (k->check) {
	case CK_NONE:
		return NULL;
	case CK_SOCKET:
		return check_socket(v) ? NULL : "not a socket: use "
		    "unix:/absolute/path, inet:port@host or inet6:port@host";
	case CK_PATH:
		return v[0] == '/' ? NULL : "not an absolute path";
	case CK_DATABASE:
		/* the forms db_target_kind() takes for PostgreSQL */
		return v[0] == '/' || strncmp(v, "postgresql://", 13) == 0 ||
		    strncmp(v, "postgres://", 11) == 0 ||
		    (strspn(v, "abcdefghijklmnopqrstuvwxyz_") > 0 &&
		    v[strspn(v, "abcdefghijklmnopqrstuvwxyz_ ")] == '=') ? NULL :
		    "not an absolute path (SQLite), a postgresql:// URL or a "
		    "libpq conninfo (host=... dbname=...)";
	case CK_USER:
		return check_user(v) ? NULL : "not a user[:group] name";
	case CK_FACILITY:
		return config_facility(v) >= 0 ? NULL :
		    "unknown syslog facility";
	case CK_HEADER:
		return check_header(v) ? NULL : "not a header field name";
	case CK_HOOK:
		return v[0] == '\0' || (strncmp(v, "exec:", 5) == 0 &&
		    v[5] != '\0') || strncmp(v, "http://", 7) == 0 ||
		    strncmp(v, "https://", 8) == 0 ? NULL : "not exec:COMMAND "
		    "or an http:// or https:// URL";
	case CK_PATTERNS:
		return split_patterns(c, v);
	case CK_HOPS:
		return split_hops(c, v);
	case CK_REPLY:
		return check_reply(v) ? NULL : "not an SMTP reply such as "
		    "\"550 5.1.1 text\" (4xx or 5xx, no '%')";
	case CK_EXPIRY:
		return parse_expiry(c, v, why, whylen);
	case CK_FEEDBACK:
		return state_complaint_parse(v, &c->complaint_types, why,
		    whylen) ? NULL : why;
	case CK_NETS:
		return parse_nets(c, v, why, whylen);
	case CK_SIGNERS:
		return split_signers(c, v);
	}
	return NULL;
}

/* An enumerated key: one of k->names, without regard to case. */
static const char *
set_enum(struct bd_config *c, const struct conf_key *k, const char *v,
    char *why, size_t whylen)
{
	struct buf	 b;
	size_t		 i;

	for (i = 0; k->names[i] != NULL; i++)
		if (strcasecmp(v, k->names[i]) == 0)
			break;
	if (k->names[i] == NULL) {
		buf_init(&b, whylen ? whylen - 1 : 0);
		(void)buf_puts(&b, "not one of");
		for (i = 0; k->names[i] != NULL; i++)
			(void)buf_printf(&b, "%s %s", i ? "," : "",
			    k->names[i]);
		(void)snprintf(why, whylen, "%s",
		    b.data ? b.data : "bad value");
		buf_free(&b);
		return why;
	}
	if (k->size == sizeof(bool))
		*(bool *)field(c, k) = i != 0;
	else
		*(int *)field(c, k) = (int)i;
	return NULL;
}

/* A count, size or duration within the key's bounds. */
static const char *
set_number(struct bd_config *c, const struct conf_key *k, const char *v,
    char *why, size_t whylen)
{
	const char	*msg;
	int64_t		 n;

	if ((msg = conffile_scaled(unit_of(k->type), v, &n)) != NULL)
		return msg;
	if (n < k->min || n > k->max) {
		(void)snprintf(why, whylen, "%s is out of range %lld..%lld%s",
		    v, (long long)k->min, (long long)k->max,
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

/*
 * Set key k of c from the value text v.  Returns NULL, or why the value
 * is wrong (in the caller's buffer why).
 */
static const char *
set_value(struct bd_config *c, const struct conf_key *k, const char *v,
    char *why, size_t whylen)
{
	const char	*msg;
	bool		 b;

	if ((msg = check_value(c, k, v, why, whylen)) != NULL)
		return msg;
	switch (k->type) {
	case CT_STR: {
		char **sp = field(c, k);
		char *dup, canon[STATE_FB_TEXT_MAX];

		/* ComplaintSuppress as bounced -n shows it */
		if (k->check == CK_FEEDBACK) {
			state_complaint_format(c->complaint_types, canon,
			    sizeof(canon));
			v = canon;
		}
		if ((dup = strdup(v)) == NULL)
			return "out of memory";
		free(*sp);
		*sp = dup;
		return NULL;
	}
	case CT_BOOL:
		if (!conffile_bool(v, &b))
			return "not a boolean (yes, no, true, false, on, off, "
			    "1, 0)";
		*(bool *)field(c, k) = b;
		return NULL;
	case CT_ENUM:
		return set_enum(c, k, v, why, whylen);
	case CT_COUNT:
	case CT_SIZE:
	case CT_SECONDS:
	case CT_MSEC:
		return set_number(c, k, v, why, whylen);
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
			return BD_ECONFIG;	/* a bug in conf_tab.h */
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

/* What config_parse() hands to conffile_parse() for every line. */
struct parse_ctx {
	struct bd_config	*c;
	bool			 seen[CONFTAB_N];
};

/* One "Key value" line: find the key, refuse a duplicate, set it. */
static enum bd_status
parse_line(void *arg, const struct conffile_line *l, char *err,
    size_t errlen)
{
	struct parse_ctx	*pc = arg;
	const struct conf_key	*k;
	const char		*msg;
	char			 why[256];
	size_t			 i;
	int64_t			 n;

	if ((k = find_key(l->key, l->keylen)) == NULL) {
		(void)snprintf(err, errlen, "%s:%zu: unknown key \"%.*s\"",
		    l->file, l->lineno, (int)(l->keylen > 64 ? 64 : l->keylen),
		    l->key);
		return BD_ECONFIG;
	}
	i = (size_t)(k - conftab);
	if (pc->seen[i]) {
		(void)snprintf(err, errlen, "%s:%zu: duplicate key %s",
		    l->file, l->lineno, k->name);
		return BD_ECONFIG;
	}
	pc->seen[i] = true;
	if ((msg = set_value(pc->c, k, l->value, why, sizeof(why))) != NULL) {
		(void)snprintf(err, errlen, "%s:%zu: %s: %s", l->file,
		    l->lineno, k->name, msg);
		return BD_ECONFIG;
	}
	if (k->warn_max != 0 &&
	    conffile_scaled(unit_of(k->type), l->value, &n) == NULL &&
	    (n < k->warn_min || n > k->warn_max)) {
		char adv[128];

		(void)snprintf(adv, sizeof(adv), "%s %lld is outside the "
		    "advised range %lld..%lld", k->name, (long long)n,
		    (long long)k->warn_min, (long long)k->warn_max);
		add_warning(pc->c, l->file, l->lineno, adv);
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

/* Keys that only make sense together. */
static enum bd_status
check_signing(const struct bd_config *c, const char *name, char *err,
    size_t errlen)
{
	if (c->sign_envelope && (c->sign_key_file == NULL ||
	    c->sign_key_file[0] == '\0')) {
		(void)snprintf(err, errlen, "%s: SignEnvelope yes needs "
		    "SignKeyFile", name);
		return BD_ECONFIG;
	}
	return BD_OK;
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
	struct parse_ctx	 pc;
	enum bd_status		 st;

	*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
	memset(&pc, 0, sizeof(pc));
	if ((st = config_defaults(&pc.c, err, errlen)) != BD_OK)
		return st;
	if ((pc.c->path = strdup(name)) == NULL) {
		config_free(pc.c);
		return BD_ENOMEM;
	}
	if ((st = conffile_parse(name, text, len, parse_line, &pc, err,
	    errlen)) != BD_OK ||
	    (st = check_signing(pc.c, name, err, errlen)) != BD_OK ||
	    (st = load_rules(pc.c, err, errlen)) != BD_OK) {
		config_free(pc.c);
		return st;
	}
	*out = pc.c;
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
	enum bd_status	 st;
	char		*text;
	size_t		 len;

	*out = NULL;
	if (path == NULL)
		return config_parse("(defaults)", "", 0, out, err, errlen);
	if ((st = conffile_read(path, CONFFILE_MAX, &text, &len, err,
	    errlen)) != BD_OK)
		return st;
	st = config_parse(path, text, len, out, err, errlen);
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
	free_sign_patterns(c);
	if (c->sign_key != NULL) {
		explicit_bzero(c->sign_key, c->sign_key_len);
		free(c->sign_key);
	}
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
		v = (int64_t)*(const unsigned *)f;
		break;
	case CT_SIZE:
		v = (int64_t)*(const size_t *)f;
		break;
	case CT_SECONDS:
	case CT_MSEC:
		v = *(const int64_t *)f;
		break;
	default:
		(void)snprintf(out, outlen, "?");
		return;
	}
	conffile_format(unit_of(k->type), v, out, outlen);
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
	char	 a[PATTERN_LEN + 1];
	size_t	 n;

	if (c->n_bounce_patterns == 0 || rcpt == NULL)
		return false;
	while (*rcpt == ' ' || *rcpt == '\t' || *rcpt == '<')
		rcpt++;
	n = strcspn(rcpt, ">");
	while (n > 0 && (rcpt[n - 1] == ' ' || rcpt[n - 1] == '\t'))
		n--;
	if (n == 0 || n > PATTERN_LEN)
		return false;
	memcpy(a, rcpt, n);
	a[n] = '\0';
	return pattern_list_match(c->bounce_patterns, c->n_bounce_patterns,
	    a);
}

/*
 * config_load_key - read the secret of SignEnvelope
 *
 * Arguments: c, a snapshot not yet shared; err/errlen.
 * Returns BD_OK (also when SignEnvelope is off: nothing read), BD_ECONFIG
 * with "SignKeyFile PATH: why" in err, or BD_ENOMEM.
 * Notes: the file must be a regular file that neither group nor others
 * may read or write (the key makes any bounce trusted), of at least
 * PRVS_KEY_MIN bytes once a final newline is cut; it is read with
 * O_NOFOLLOW.  Only the daemon calls this: bouncectl reads the same
 * bounced.conf as an operator who may not read the key.
 */
enum bd_status
config_load_key(struct bd_config *c, char *err, size_t errlen)
{
	struct stat	 sb;
	unsigned char	 key[PRVS_KEY_MAX + 2];
	ssize_t		 n;
	size_t		 len = 0;
	int		 fd;
	const char	*why = NULL;

	if (!c->sign_envelope || c->sign_key != NULL)
		return BD_OK;
	if ((fd = open(c->sign_key_file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) <
	    0) {
		(void)snprintf(err, errlen, "SignKeyFile %s: %s",
		    c->sign_key_file, strerror(errno));
		return BD_ECONFIG;
	}
	if (fstat(fd, &sb) != 0)
		why = strerror(errno);
	else if (!S_ISREG(sb.st_mode))
		why = "not a regular file";
	else if ((sb.st_mode & 077) != 0)
		why = "group or others may read or write it: chmod 0600";
	while (why == NULL && len < sizeof(key)) {
		if ((n = read(fd, key + len, sizeof(key) - len)) < 0) {
			why = strerror(errno);
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	(void)close(fd);
	while (len > 0 && (key[len - 1] == '\n' || key[len - 1] == '\r'))
		len--;
	if (why == NULL && len > PRVS_KEY_MAX)
		why = "longer than 256 bytes";
	else if (why == NULL && len < PRVS_KEY_MIN)
		why = "shorter than 16 bytes (e.g. head -c 32 /dev/urandom "
		    "| base64)";
	if (why == NULL && (c->sign_key = malloc(len)) == NULL) {
		explicit_bzero(key, sizeof(key));
		(void)snprintf(err, errlen, "out of memory");
		return BD_ENOMEM;
	}
	if (why != NULL) {
		explicit_bzero(key, sizeof(key));
		(void)snprintf(err, errlen, "SignKeyFile %s: %s",
		    c->sign_key_file, why);
		return BD_ECONFIG;
	}
	memcpy(c->sign_key, key, len);
	c->sign_key_len = len;
	explicit_bzero(key, sizeof(key));
	return BD_OK;
}

/*
 * config_signs_sender - whether outbound mail from sender is signed
 *
 * Arguments: c; sender, the envelope sender without angle brackets.
 * Returns true when SignEnvelope is on, the key was loaded, and sender
 * matches SignSenders (an empty list: every sender).  The null sender
 * and an address already signed are never signed.
 */
bool
config_signs_sender(const struct bd_config *c, const char *sender)
{
	if (!c->sign_envelope || c->sign_key == NULL || sender == NULL ||
	    sender[0] == '\0' || strlen(sender) > PATTERN_LEN ||
	    strncasecmp(sender, "prvs=", 5) == 0)
		return false;
	return c->n_sign_patterns == 0 || pattern_list_match(c->sign_patterns,
	    c->n_sign_patterns, sender);
}

/*
 * config_policy - the suppression policy of a configuration
 *
 * Arguments: c; pol, filled: SoftBounceLimit, SoftBounceWindow,
 * ComplaintSuppress, HandOffRelays (borrowed from c: pol lives as long
 * as c).
 */
void
config_policy(const struct bd_config *c, struct state_policy *pol)
{
	memset(pol, 0, sizeof(*pol));
	pol->soft_limit = c->soft_bounce_limit;
	pol->soft_window = c->soft_bounce_window;
	pol->complaint_types = c->complaint_types;
	pol->hops = c->hop_patterns;
	pol->nhops = c->n_hop_patterns;
	pol->hops_set = true;
}
