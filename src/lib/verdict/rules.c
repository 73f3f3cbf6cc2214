/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * rules.c - read a rules file (bounced.rules(5)) into an immutable,
 * reference-counted table: one rule per line, "selector pattern reason
 * [key=value ...]", first match wins, each rule remembers its line.
 * This file is the reader: it splits lines into tokens, parses the
 * selectors, patterns and key=value options, reports errors with their
 * name:line, and owns the table's life cycle (references, free).  Text
 * patterns are literals or PCRE2 expressions; compiling them and building
 * the prefilter and the indexes rules_match.c uses is rules_compile.c's
 * job (the reader's state is shared through rules_compile.h).
 *
 * Pure: no logging, no I/O except reading the named file in
 * rules_load().  Refuses a bad file with "name:line: why".
 * Status patterns follow RFC 3463 section 2 (class.subject.detail),
 * reply codes RFC 5321 section 4.2.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "verdict/rules_compile.h"
#include "verdict/rules_int.h"

#define RULES_FILE_MAX	(4u << 20)	/* bytes of a rules file */


/* Parse 0-999 or a wildcard ('*', 'x') from s[0..len). */
static bool
parse_part(const char *s, size_t len, int *out)
{
	int	 v = 0;
	size_t	 i;

	if (len == 1 && (s[0] == '*' || s[0] == 'x' || s[0] == 'X')) {
		*out = -1;
		return true;
	}
	if (len == 0 || len > 3)
		return false;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* "5.1.1", "5.7.*", "*.1.1", "4.x.x". */
static bool
parse_status_pat(const char *s, struct rules_status *st)
{
	const char	*d1, *d2;

	if ((d1 = strchr(s, '.')) == NULL || (d2 = strchr(d1 + 1, '.')) == NULL)
		return false;
	if (!parse_part(s, (size_t)(d1 - s), &st->c) ||
	    !parse_part(d1 + 1, (size_t)(d2 - d1 - 1), &st->s) ||
	    !parse_part(d2 + 1, strlen(d2 + 1), &st->d))
		return false;
	if (st->c != -1 && st->c != 2 && st->c != 4 && st->c != 5)
		return false;
	return true;
}

/* "550", "55x", "5xx": wildcards only at the end. */
static bool
parse_code_pat(const char *s, struct rules_code *c)
{
	int	 lo = 0, span = 1;
	size_t	 i;
	bool	 wild = false;

	if (strlen(s) != 3 || s[0] < '2' || s[0] > '5')
		return false;
	for (i = 0; i < 3; i++) {
		if (s[i] == 'x' || s[i] == 'X' || s[i] == '*') {
			wild = true;
			lo *= 10;
			span *= 10;
		} else if (isdigit((unsigned char)s[i]) && !wild) {
			lo = lo * 10 + (s[i] - '0');
		} else
			return false;
	}
	c->lo = lo;
	c->hi = lo + span - 1;
	return true;
}

static int
parse_action(const char *s)
{
	static const char *const names[] = { "unknown", "failed", "delayed",
	    "delivered", "relayed", "expanded" };
	size_t	 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

static int
parse_kind(const char *s)
{
	static const char *const names[] = { "none", "report", "text", "arf",
	    "autoreply" };
	size_t	 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

/* Read one token: a word, "quoted" or /slashed/.  NULL at end. */
static const char *
next_token(char **sp, char *delim)
{
	char	*s = *sp, *t, *w;

	while (*s == ' ' || *s == '\t')
		s++;
	*delim = 0;
	if (*s == '\0' || *s == '#')
		return NULL;
	if (*s == '"' || *s == '/') {
		*delim = *s;
		t = w = s + 1;
		while (*t != '\0' && *t != *delim) {
			if (*t == '\\' && t[1] != '\0') {
				/* A literal's \x is x; a regex keeps it. */
				if (*delim == '"')
					t++;
				else
					*w++ = *t++;
			}
			*w++ = *t++;
		}
		if (*t != *delim) {
			*delim = '!';	/* unterminated */
			return s;
		}
		*w = '\0';
		*sp = t + 1;
		if (**sp != '\0' && **sp != ' ' && **sp != '\t')
			*delim = '?';	/* junk after the closing mark */
		else if (**sp != '\0')
			*(*sp)++ = '\0';
		return s + 1;
	}
	t = s;
	while (*t != '\0' && *t != ' ' && *t != '\t')
		t++;
	if (*t != '\0')
		*t++ = '\0';
	*sp = t;
	return s;
}

/* "5.2.*,*.7.*": up to RULES_MAX_ALTS status patterns. */
static bool
parse_status_list(const char *v, struct rules_cond *c)
{
	char		 w[16];
	const char	*e;
	size_t		 n;

	for (;;) {
		if ((e = strchr(v, ',')) == NULL)
			e = v + strlen(v);
		n = (size_t)(e - v);
		if (n == 0 || n >= sizeof(w) || c->nstatus == RULES_MAX_ALTS)
			return false;
		memcpy(w, v, n);
		w[n] = '\0';
		if (!parse_status_pat(w, &c->status[c->nstatus]))
			return false;
		c->nstatus++;
		if (*e == '\0')
			return true;
		v = e + 1;
	}
}

/* "report,text": a bit per report kind (enum dsn_kind). */
static bool
parse_kinds(const char *v, unsigned *bits)
{
	char		 w[16];
	const char	*e;
	size_t		 n;
	int		 k;

	*bits = 0;
	for (;;) {
		if ((e = strchr(v, ',')) == NULL)
			e = v + strlen(v);
		n = (size_t)(e - v);
		if (n == 0 || n >= sizeof(w))
			return false;
		memcpy(w, v, n);
		w[n] = '\0';
		if ((k = parse_kind(w)) < 0)
			return false;
		*bits |= 1u << k;
		if (*e == '\0')
			return true;
		v = e + 1;
	}
}

/* "rcpt,data", "none": a bit per command (smtpcmd_index()). */
static bool
parse_commands(const char *v, unsigned *bits)
{
	char		 w[16];
	const char	*e;
	size_t		 n;
	int		 k;

	*bits = 0;
	for (;;) {
		if ((e = strchr(v, ',')) == NULL)
			e = v + strlen(v);
		n = (size_t)(e - v);
		if (n == 0 || n >= sizeof(w))
			return false;
		memcpy(w, v, n);
		w[n] = '\0';
		if (strcasecmp(w, "none") == 0)
			*bits |= RULES_CMD_NONE;
		else if ((k = smtpcmd_index(w)) >= 0)
			*bits |= 1u << k;
		else
			return false;
		if (*e == '\0')
			return true;
		v = e + 1;
	}
}

/* "67,75,78": up to RULES_MAX_ALTS exit statuses 1-255 (0 is EX_OK). */
static bool
parse_exit_list(const char *v, struct rules_cond *c)
{
	int	 x, d;

	for (;;) {
		for (x = 0, d = 0; isdigit((unsigned char)*v) && d < 4;
		    v++, d++)
			x = x * 10 + (*v - '0');
		if (d == 0 || d > 3 || x < 1 || x > 255 ||
		    c->nexit == RULES_MAX_ALTS)
			return false;
		c->exits[c->nexit++] = x;
		if (*v == '\0')
			return true;
		if (*v++ != ',')
			return false;
	}
}

/* advice=: the word of an enum ev_advice, or -1. */
static int
parse_advice(const char *v)
{
	int	 a;

	for (a = EV_ADV_NONE; a <= EV_ADV_INVESTIGATE; a++)
		if (strcasecmp(v, ev_advice_name((enum ev_advice)a)) == 0)
			return a;
	return -1;
}

/* "a,b" made ",a,b," lower-case, for a list option; NULL if no memory. */
static char *
word_list(const char *v)
{
	size_t	 i, n = strlen(v);
	char	*m;

	if ((m = malloc(n + 3)) == NULL)
		return NULL;
	m[0] = ',';
	for (i = 0; i < n; i++)
		m[i + 1] = (char)tolower((unsigned char)v[i]);
	m[n + 1] = ',';
	m[n + 2] = '\0';
	return m;
}

static bool
parse_option(struct parser *p, struct rule *ru, const char *opt)
{
	const char	*v = strchr(opt, '=');
	size_t		 klen;
	char		**list = NULL;

	if (v == NULL || v[1] == '\0')
		return rules_perr(p, "option \"%s\" is not key=value", opt);
	klen = (size_t)(v - opt);
	v++;
	if (klen == 3 && strncasecmp(opt, "mta", 3) == 0)
		list = &ru->cond.mtas;
	else if (klen == 5 && strncasecmp(opt, "dtype", 5) == 0)
		list = &ru->cond.dtypes;
	else if (klen == 6 && strncasecmp(opt, "remote", 6) == 0)
		list = &ru->cond.remotes;
	if (list != NULL) {
		if (*list != NULL)
			return rules_perr(p, "duplicate option %.*s", (int)klen,
			    opt);
		if ((*list = word_list(v)) == NULL)
			return rules_perr(p, "out of memory");
	} else if (klen == 4 && strncasecmp(opt, "exit", 4) == 0) {
		if (ru->cond.nexit != 0)
			return rules_perr(p, "duplicate option exit");
		if (!parse_exit_list(v, &ru->cond))
			return rules_perr(p,
			    "bad exit status list \"%s\" (want "
			    "up to %d numbers 1-255 joined by commas)", v,
			    RULES_MAX_ALTS);
	} else if (klen == 4 && strncasecmp(opt, "cite", 4) == 0) {
		/* Not a condition: the documented replies or corpus files
		 * that justify the rule (bounced.rules(5) CITATIONS). */
		if (ru->cite != NULL)
			return rules_perr(p, "duplicate option cite");
		if ((ru->cite = strdup(v)) == NULL)
			return rules_perr(p, "out of memory");
	} else if (klen == 6 && strncasecmp(opt, "advice", 6) == 0) {
		if (ru->advice >= 0)
			return rules_perr(p, "duplicate option advice");
		if ((ru->advice = parse_advice(v)) < 0)
			return rules_perr(p, "unknown advice \"%s\"", v);
	} else if (klen == 6 && strncasecmp(opt, "status", 6) == 0) {
		if (ru->cond.nstatus != 0)
			return rules_perr(p, "duplicate option status");
		if (!parse_status_list(v, &ru->cond))
			return rules_perr(p, "bad status pattern list \"%s\"",
			    v);
	} else if (klen == 4 && strncasecmp(opt, "code", 4) == 0) {
		if (!parse_code_pat(v, &ru->cond.code))
			return rules_perr(p, "bad reply code pattern \"%s\"",
			    v);
		ru->cond.has_code = true;
	} else if (klen == 8 && strncasecmp(opt, "conflict", 8) == 0) {
		if (strcasecmp(v, "no") == 0)
			ru->generic = true;
		else if (strcasecmp(v, "yes") == 0)
			ru->generic = false;
		else
			return rules_perr(p, "conflict= takes yes or no");
	} else if (klen == 6 && strncasecmp(opt, "action", 6) == 0) {
		if ((ru->cond.action = parse_action(v)) < 0)
			return rules_perr(p, "unknown action \"%s\"", v);
	} else if (klen == 4 && strncasecmp(opt, "kind", 4) == 0) {
		if (ru->cond.kinds != 0)
			return rules_perr(p, "duplicate option kind");
		if (!parse_kinds(v, &ru->cond.kinds))
			return rules_perr(p, "bad kind list \"%s\" (want words "
			    "of report, text, arf, autoreply, none, joined by "
			    "commas)", v);
	} else if (klen == 7 && strncasecmp(opt, "command", 7) == 0) {
		if (ru->cond.cmds != 0)
			return rules_perr(p, "duplicate option command");
		if (!parse_commands(v, &ru->cond.cmds))
			return rules_perr(p,
			    "bad command list \"%s\" (want words "
			    "of connect, helo, starttls, auth, mail, rcpt, "
			    "data, none, joined by commas)", v);
	} else
		return rules_perr(p, "unknown option \"%.*s\"", (int)klen, opt);
	return true;
}

static bool
parse_pattern(struct parser *p, struct rule *ru, const char *sel,
    const char *pat, char delim, size_t idx)
{
	char	 norm[RULES_MAX_LINE];
	size_t	 n;

	if (strcasecmp(sel, "text") == 0) {
		ru->sel = RULES_SEL_TEXT;
		if (delim == '/')
			return rules_compile_regex(p, ru, pat, idx);
		if (delim != '"')
			return rules_perr(p, "text pattern must be \"literal\" "
			    "or /regex/");
		n = rules_normalize(pat, norm, sizeof(norm));
		if (n < RULES_MIN_NEEDLE)
			return rules_perr(p,
			    "literal \"%s\" is shorter than %d bytes", pat,
			    RULES_MIN_NEEDLE);
		if ((ru->literal = strndup(norm, n)) == NULL)
			return rules_perr(p, "out of memory");
		ru->litlen = n;
		switch (rules_needle_add(p, norm, n, idx)) {
		case -2:
			return rules_perr(p, "more than %d distinct literals",
			    RULES_MAX_NEEDLES);
		case -1:
			return rules_perr(p, "out of memory");
		}
		return true;
	}
	if (delim != 0)
		return rules_perr(p, "only text patterns are quoted");
	if (strcasecmp(sel, "status") == 0) {
		ru->sel = RULES_SEL_STATUS;
		if (!parse_status_pat(pat, &ru->status))
			return rules_perr(p, "bad status pattern \"%s\" (want "
			    "class.subject.detail, parts may be *)", pat);
		ru->generic = ru->status.s <= 0 || ru->status.d <= 0;
	} else if (strcasecmp(sel, "code") == 0) {
		ru->sel = RULES_SEL_CODE;
		if (!parse_code_pat(pat, &ru->code))
			return rules_perr(p, "bad reply code pattern \"%s\" "
			    "(want 550, 55x or 5xx)", pat);
		ru->generic = true;
	} else if (strcasecmp(sel, "action") == 0) {
		ru->sel = RULES_SEL_ACTION;
		if ((ru->action = parse_action(pat)) < 0)
			return rules_perr(p, "unknown action \"%s\"", pat);
	} else if (strcasecmp(sel, "kind") == 0) {
		ru->sel = RULES_SEL_KIND;
		if ((ru->kind = parse_kind(pat)) < 0)
			return rules_perr(p, "unknown report kind \"%s\"", pat);
	} else if (strcasecmp(sel, "any") == 0) {
		ru->sel = RULES_SEL_ANY;
		if (strcmp(pat, "*") != 0)
			return rules_perr(p,
			    "selector any takes the pattern *");
	} else
		return rules_perr(p, "unknown selector \"%s\"", sel);
	return true;
}

/* One line: selector pattern reason [options]. */
static bool
parse_line(struct parser *p, char *s)
{
	struct rules		*r = p->r;
	struct rule		*ru;
	const struct rules_reason *rr;
	const char		*sel, *pat, *reason, *opt;
	char			 delim, d2, src[RULES_MAX_LINE + 1];
	size_t			 idx, n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	memcpy(src, s, n);
	src[n] = '\0';
	if ((sel = next_token(&s, &delim)) == NULL)
		return true;			/* blank or comment */
	if (delim != 0)
		return rules_perr(p, "a rule starts with a selector word");
	if ((pat = next_token(&s, &delim)) == NULL)
		return rules_perr(p, "missing pattern after \"%s\"", sel);
	if (delim == '!')
		return rules_perr(p, "unterminated pattern");
	if (delim == '?')
		return rules_perr(p, "text after the closing %c of the pattern",
		    *(pat - 1));
	if ((reason = next_token(&s, &d2)) == NULL)
		return rules_perr(p, "missing reason");
	if (d2 != 0 || (rr = rules_reason_lookup(reason)) == NULL)
		return rules_perr(p, "unknown reason \"%s\"", reason);
	if (r->n == RULES_MAX_RULES)
		return rules_perr(p, "more than %d rules", RULES_MAX_RULES);
	if (r->n == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 128;

		if ((ru = reallocarray(r->v, nc, sizeof(*ru))) == NULL)
			return rules_perr(p, "out of memory");
		r->v = ru;
		p->cap = nc;
	}
	idx = r->n;
	ru = &r->v[idx];
	memset(ru, 0, sizeof(*ru));
	ru->reason = rr->word;
	ru->line = p->line;
	ru->cond.action = -1;
	ru->advice = -1;
	r->n++;		/* counted now so that rules_unref frees parts */
	if ((ru->src = strdup(src)) == NULL)
		return rules_perr(p, "out of memory");
	if (!parse_pattern(p, ru, sel, pat, delim, idx))
		return false;
	while ((opt = next_token(&s, &d2)) != NULL) {
		if (d2 != 0)
			return rules_perr(p, "options are key=value words");
		if (!parse_option(p, ru, opt))
			return false;
	}
	return true;
}

/*
 * parse_how - rules_parse(), with the expressions compiled now or (lazy)
 * at their first run
 */
/*
 * rules_parse - compile a rules table from text
 *
 * Arguments: name, used in "name:line" of rules and errors; text and len,
 * the file's bytes (need not be NUL-terminated, must not hold NUL);
 * *out receives the table; err/errlen receive "name:line: why".
 * Returns BD_OK, BD_ECONFIG for a bad file, BD_ENOMEM.
 * Notes: *out starts with one reference; release it with rules_unref().
 * A file without any rule is valid (everything is then "undefined").
 */
static enum bd_status
parse_how(const char *name, const char *text, size_t len, bool lazy,
    struct rules **out, char *err, size_t errlen)
{
	struct parser	 p;
	struct rules	*r;
	char		 line[RULES_MAX_LINE + 1];
	size_t		 i = 0, e, n;
	bool		 nomem = false;

	*out = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	memset(&p, 0, sizeof(p));
	p.lazy = lazy;
	p.name = name != NULL ? name : "rules";
	p.err = err;
	p.errlen = errlen;
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->name = strdup(p.name)) == NULL) {
		free(r);
		return BD_ENOMEM;
	}
	atomic_init(&r->refs, 1);
	p.r = r;
	while (i < len) {
		p.line++;
		for (e = i; e < len && text[e] != '\n'; e++)
			;
		n = e - i;
		if (n > 0 && text[i + n - 1] == '\r')
			n--;
		if (n > RULES_MAX_LINE) {
			rules_perr(&p, "line longer than %d bytes",
			    RULES_MAX_LINE);
			goto bad;
		}
		if (memchr(text + i, '\0', n) != NULL) {
			rules_perr(&p, "NUL byte in line");
			goto bad;
		}
		memcpy(line, text + i, n);
		line[n] = '\0';
		if (!parse_line(&p, line))
			goto bad;
		i = e + 1;
	}
	if (!rules_finish(&p))
		goto bad;
	rules_parser_done(&p);
	*out = r;
	return BD_OK;
bad:
	rules_parser_done(&p);
	if (err != NULL && strstr(err, "out of memory") != NULL)
		nomem = true;
	rules_unref(r);
	return nomem ? BD_ENOMEM : BD_ECONFIG;
}

enum bd_status
rules_parse(const char *name, const char *text, size_t len,
    struct rules **out, char *err, size_t errlen)
{
	return parse_how(name, text, len, false, out, err, errlen);
}

/*
 * rules_load - compile the rules file at path
 *
 * Arguments: path, also the name in "path:line"; out, err, errlen as
 * for rules_parse().
 * Returns BD_OK, BD_EIO when the file cannot be read (err says why),
 * BD_ECONFIG, BD_ENOMEM.
 */
enum bd_status
rules_load(const char *path, struct rules **out, char *err, size_t errlen)
{
	FILE		*fp;
	struct stat	 sb;
	char		*text;
	size_t		 n;
	enum bd_status	 st;

	*out = NULL;
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return BD_EIO;
	}
	if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    (uintmax_t)sb.st_size > RULES_FILE_MAX) {
		snprintf(err, errlen, "%s: not a regular file of at most "
		    "%u bytes", path, RULES_FILE_MAX);
		fclose(fp);
		return BD_EIO;
	}
	if ((text = malloc((size_t)sb.st_size + 1)) == NULL) {
		fclose(fp);
		return BD_ENOMEM;
	}
	n = fread(text, 1, (size_t)sb.st_size, fp);
	if (ferror(fp)) {
		snprintf(err, errlen, "%s: read error", path);
		free(text);
		fclose(fp);
		return BD_EIO;
	}
	fclose(fp);
	st = rules_parse(path, text, n, out, err, errlen);
	free(text);
	return st;
}

/*
 * rules_default - the built-in rules
 *
 * Arguments: as rules_parse().
 * Returns as rules_parse(); the rules are named "bounced.rules".
 * Notes: the text is etc/bounced.rules as it was at build time, compiled
 * then by rules_gen into rules_builtin_table (src/tools/rules_gen.c says
 * why); this only finishes it once (the reasons made the vocabulary's
 * words, the match limits), and every caller shares it.  Its regular
 * expressions are compiled at their first run: a bouncectl command
 * that classifies one file ran a few of 300, and compiling them all was
 * a sixth of its work.  The suite compiles them all (check_rules), so
 * none fails at run time, and compares the table with the text's.
 * rules_gen itself (RULES_GENERATOR) compiles the text here.
 */
#ifndef RULES_GENERATOR
static pthread_once_t	 builtin_once = PTHREAD_ONCE_INIT;
static bool		 builtin_ok;

static void
builtin_finish(void)
{
	struct rules		*r = &rules_builtin_table;
	size_t			 i;

	/* rules_gen checked every reason against the vocabulary. */
	for (i = 0; i < r->n; i++)
		r->v[i].reason = rules_reason_lookup(r->v[i].reason)->word;
	builtin_ok = rules_match_limits(r);
}

enum bd_status
rules_default(struct rules **out, char *err, size_t errlen)
{
	*out = NULL;
	if (pthread_once(&builtin_once, builtin_finish) != 0 || !builtin_ok) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: out of memory",
			    RULES_DEFAULT_NAME);
		return BD_ENOMEM;
	}
	*out = &rules_builtin_table;
	return BD_OK;
}
#else
enum bd_status
rules_default(struct rules **out, char *err, size_t errlen)
{
	return parse_how(RULES_DEFAULT_NAME, rules_default_text,
	    rules_default_len, true, out, err, errlen);
}
#endif

/*
 * rules_ref - take another reference to r
 *
 * Returns r.  Thread-safe (atomic counter).
 */
struct rules *
rules_ref(struct rules *r)
{
	if (r != NULL && !r->builtin)
		atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
	return r;
}

/*
 * rules_unref - drop a reference; the last one frees the table
 *
 * Arguments: r, or NULL (nothing happens).
 * Notes: thread-safe; the release/acquire pair orders every reader's
 * last use before the free.
 */
void
rules_unref(struct rules *r)
{
	size_t	 i;

	if (r == NULL || r->builtin)
		return;		/* static data */
	if (atomic_fetch_sub_explicit(&r->refs, 1, memory_order_release) != 1)
		return;
	atomic_thread_fence(memory_order_acquire);
	for (i = 0; i < r->n; i++) {
		free(r->v[i].literal);
		free(r->v[i].src);
		free(r->v[i].cite);
		free(r->v[i].cond.mtas);
		free(r->v[i].cond.dtypes);
		free(r->v[i].cond.remotes);
		rules_branches_free(&r->v[i]);
	}
	for (i = 0; i < r->nres; i++) {
		pcre2_code_free(atomic_load_explicit(&r->res[i]->code,
		    memory_order_relaxed));
		free(r->res[i]->pat);
		pcre2_code_free(atomic_load_explicit(&r->res[i]->jit,
		    memory_order_relaxed));
		free(r->res[i]);
	}
	free(r->res);
	for (i = 0; i < r->nneedles; i++) {
		free(r->needles[i].s);
		free(r->needles[i].rules);
	}
	pcre2_match_context_free(r->mctx);
	free(r->needles);
	free(r->dfa);
	free(r->dfa_out);
	free(r->dfa_outs);
	free(r->plain);
	free(r->other);
	free(r->skey);
	free(r->sids);
	free(r->always);
	free(r->v);
	free(r->name);
	free(r);
}

/*
 * rules_count - how many rules r holds
 */
size_t
rules_count(const struct rules *r)
{
	return r != NULL ? r->n : 0;
}

/*
 * rules_name - the name r was parsed under ("file" of "file:line")
 */
const char *
rules_name(const struct rules *r)
{
	return r != NULL ? r->name : "";
}

/* The rule written at line, or NULL. */
static const struct rule *
rule_at_line(const struct rules *r, unsigned line)
{
	size_t	 lo = 0, hi, mid;

	if (r == NULL)
		return NULL;
	hi = r->n;
	while (lo < hi) {		/* rules are in line order */
		mid = lo + (hi - lo) / 2;
		if (r->v[mid].line < line)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < r->n && r->v[lo].line == line ? &r->v[lo] : NULL;
}

/*
 * rules_line_text - the rule written at a line of the file
 *
 * Arguments: r; line, as in "file:line".
 * Returns the line with surrounding blanks removed (owned by r), or NULL
 * when no rule starts at that line.
 */
const char *
rules_line_text(const struct rules *r, unsigned line)
{
	const struct rule *ru = rule_at_line(r, line);

	return ru != NULL ? ru->src : NULL;
}

/*
 * rules_line_cite - what justifies the rule written at a line
 *
 * Arguments: r; line, as in "file:line".
 * Returns the value of its cite= option (owned by r), or NULL when the
 * rule has none or no rule starts at that line.
 */
const char *
rules_line_cite(const struct rules *r, unsigned line)
{
	const struct rule *ru = rule_at_line(r, line);

	return ru != NULL ? ru->cite : NULL;
}

/*
 * rules_line_at - the line of the i-th rule, in file order
 *
 * Arguments: r; i, 0-based.
 * Returns the line, or 0 past the last rule.
 */
unsigned
rules_line_at(const struct rules *r, size_t i)
{
	return r != NULL && i < r->n ? r->v[i].line : 0;
}
