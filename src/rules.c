/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * rules.c - read a rules file (bounced.rules(5)) into an immutable,
 * reference-counted table: one rule per line, "selector pattern reason
 * [key=value ...]", first match wins, each rule remembers its line.
 * Text patterns are literals or PCRE2 expressions compiled once here;
 * the literals (and the longest literal every branch of an expression
 * must contain) feed the prefilter of rules_match.c, and the top-level
 * branches of an expression are also compiled one by one, so that only
 * those whose literals occur in a text run.
 *
 * Pure: no logging, no I/O except reading the named file in
 * rules_load().  Refuses a bad file with "name:line: why".
 * Status patterns follow RFC 3463 section 2 (class.subject.detail),
 * reply codes RFC 5321 section 4.2.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "rules_int.h"

#define RULES_FILE_MAX	(4u << 20)	/* bytes of a rules file */

struct parser {
	const char	*name;
	unsigned	 line;
	char		*err;
	size_t		 errlen;
	struct rules	*r;
	size_t		 cap;
	size_t		 needcap;
};

static bool perr(struct parser *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/* Format "name:line: why" into the caller's buffer; always false. */
static bool
perr(struct parser *p, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (p->err == NULL || p->errlen == 0)
		return false;
	n = snprintf(p->err, p->errlen, "%s:%u: ", p->name, p->line);
	if (n < 0 || (size_t)n >= p->errlen)
		return false;
	va_start(ap, fmt);
	(void)vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return false;
}

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

/* Index of needle s (adding it if new), or -1 when out of memory. */
static long
needle_add(struct parser *p, const char *s, size_t len, size_t rule)
{
	struct rules	*r = p->r;
	struct needle	*nd;
	size_t		*v, i;

	for (i = 0; i < r->nneedles; i++)
		if (r->needles[i].len == len &&
		    memcmp(r->needles[i].s, s, len) == 0)
			break;
	if (i == r->nneedles) {
		if (r->nneedles == p->needcap) {
			size_t nc = p->needcap ? p->needcap * 2 : 64;

			nd = reallocarray(r->needles, nc, sizeof(*nd));
			if (nd == NULL)
				return -1;
			r->needles = nd;
			p->needcap = nc;
		}
		nd = &r->needles[r->nneedles];
		memset(nd, 0, sizeof(*nd));
		if ((nd->s = strndup(s, len)) == NULL)
			return -1;
		nd->len = len;
		nd->head = rules_load8((const unsigned char *)s, len);
		nd->mask = len >= 8 ? ~(uint64_t)0 :
		    rules_load8((const unsigned char *)
		    "\xff\xff\xff\xff\xff\xff\xff\xff", len);
		r->nneedles++;
	}
	nd = &r->needles[i];
	if (nd->nrules > 0 && nd->rules[nd->nrules - 1] == rule)
		return (long)i;
	if ((v = reallocarray(nd->rules, nd->nrules + 1, sizeof(*v))) == NULL)
		return -1;
	nd->rules = v;
	nd->rules[nd->nrules++] = rule;
	return (long)i;
}

/* Skip a bracket class starting at pat[i] == '['; index after it. */
static size_t
skip_class(const char *pat, size_t len, size_t i)
{
	i++;
	if (i < len && pat[i] == '^')
		i++;
	if (i < len && pat[i] == ']')
		i++;
	while (i < len && pat[i] != ']') {
		if (pat[i] == '\\')
			i++;
		else if (pat[i] == '[' && i + 1 < len && pat[i + 1] == ':') {
			const char *e = strstr(pat + i + 2, ":]");

			if (e != NULL && (size_t)(e - pat) < len)
				i = (size_t)(e - pat) + 1;
		}
		i++;
	}
	return i < len ? i + 1 : len;
}

/* Skip a group starting at pat[i] == '('; index after its ')'. */
static size_t
skip_group(const char *pat, size_t len, size_t i)
{
	int	 depth = 0;

	while (i < len) {
		if (pat[i] == '\\')
			i += 2;
		else if (pat[i] == '[')
			i = skip_class(pat, len, i);
		else {
			if (pat[i] == '(')
				depth++;
			else if (pat[i] == ')' && --depth == 0)
				return i + 1;
			i++;
		}
	}
	return len;
}

/*
 * Is pat[i] the start of a quantifier?  Returns 0 when not, 1 when it
 * may repeat zero times (?, *, {0...), 2 when at least once (+, {n...}).
 * *end receives the index after it (and after a lazy/possessive mark).
 */
static int
quantifier(const char *pat, size_t len, size_t i, size_t *end)
{
	int	 kind;

	if (i >= len)
		return 0;
	if (pat[i] == '?' || pat[i] == '*')
		kind = 1;
	else if (pat[i] == '+')
		kind = 2;
	else if (pat[i] == '{' && i + 1 < len &&
	    isdigit((unsigned char)pat[i + 1])) {
		const char *e = memchr(pat + i, '}', len - i);

		if (e == NULL)
			return 0;
		kind = pat[i + 1] == '0' ? 1 : 2;
		*end = (size_t)(e - pat) + 1;
		goto lazy;
	} else
		return 0;
	*end = i + 1;
lazy:
	if (*end < len && (pat[*end] == '?' || pat[*end] == '+'))
		(*end)++;
	return kind;
}

/*
 * A set of literal alternatives: a match of the branch contains at least
 * one of them.  "mailbox (is )?full" gives {"mailbox is full",
 * "mailbox full"}.
 */
#define LIT_MAX		16	/* alternatives kept per set */
#define LIT_LEN		120	/* bytes kept per alternative */

struct litset {
	char	 s[LIT_MAX][LIT_LEN];
	size_t	 len[LIT_MAX];
	size_t	 n;
	unsigned flushes;	/* (in best) runs ended before the end */
	bool	 cut;		/* (in best) an alternative was cut */
	bool	 trimmed;	/* an edge space was dropped */
};

/* Shortest alternative once edge spaces are dropped (the score). */
static size_t
litset_score(struct litset *ls)
{
	size_t	 i, min = SIZE_MAX;

	for (i = 0; i < ls->n; i++) {
		char	*t = ls->s[i];
		size_t	 n = ls->len[i];

		/* A run that starts or ends in a space may meet a line
		 * start or end, where normalising dropped the space. */
		while (n > 0 && t[n - 1] == ' ')
			n--;
		if (n > 0 && t[0] == ' ') {
			memmove(t, t + 1, n - 1);
			n--;
		}
		if (n != ls->len[i])
			ls->trimmed = true;
		ls->len[i] = n;
		if (n < min)
			min = n;
	}
	return ls->n > 0 ? min : 0;
}

static void
lit_flush(struct litset *cur, struct litset *best, size_t *bestscore)
{
	size_t	 sc;

	best->flushes++;

	if (cur->n > 0 && cur->len[0] + 1 > 1) {
		cur->trimmed = false;
		sc = litset_score(cur);
		if (sc > *bestscore) {
			unsigned f = best->flushes;
			bool	 c = best->cut;

			*best = *cur;
			best->flushes = f;
			best->cut = c;
			*bestscore = sc;
		}
	}
	cur->n = 1;
	cur->len[0] = 0;
}

/* Append each of alts (nalts strings) to every member of cur. */
static void
lit_append(struct litset *cur, struct litset *best, size_t *bestscore,
    char alts[][LIT_LEN], const size_t *alen, size_t nalts)
{
	struct litset	 nx;
	size_t		 i, k, j;

	if (cur->n * nalts > LIT_MAX)
		lit_flush(cur, best, bestscore);
	if (cur->n * nalts > LIT_MAX)
		return;
	nx.n = 0;
	for (i = 0; i < cur->n; i++)
		for (k = 0; k < nalts; k++) {
			size_t l = cur->len[i];

			memcpy(nx.s[nx.n], cur->s[i], l);
			if (l + alen[k] >= LIT_LEN)
				best->cut = true;
			for (j = 0; j < alen[k] && l < LIT_LEN; j++) {
				if (alts[k][j] == ' ' && l > 0 &&
				    nx.s[nx.n][l - 1] == ' ')
					continue;
				nx.s[nx.n][l++] = alts[k][j];
			}
			nx.len[nx.n++] = l;
		}
	*cur = nx;
}

/*
 * Split a group body into literal alternatives; false when one of them
 * is not a plain literal.
 */
static bool
group_alts(const char *g, size_t len, char alts[][LIT_LEN], size_t *alen,
    size_t *nalts)
{
	size_t	 i, n = 0, l = 0;

	if (len >= 2 && g[0] == '?' && g[1] == ':') {
		g += 2;
		len -= 2;
	} else if (len >= 1 && g[0] == '?')
		return false;
	for (i = 0; i <= len; i++) {
		unsigned char c = i < len ? (unsigned char)g[i] : '|';

		if (c == '|') {
			if (n == LIT_MAX)
				return false;
			alen[n++] = l;
			l = 0;
			continue;
		}
		if (c == '\\') {
			if (i + 1 >= len || isalnum((unsigned char)g[i + 1]))
				return false;
			c = (unsigned char)g[++i];
		} else if (strchr(".[]()*+?{}^$", c) != NULL)
			return false;
		if (l + 1 >= LIT_LEN)
			return false;
		alts[n][l++] = (char)(isspace(c) ? ' ' : tolower(c));
	}
	*nalts = n;
	return true;
}

/*
 * The literals one of which every match of the branch pat[0..len) must
 * contain, lower-cased with single spaces, into best.  Conservative:
 * anything not plainly literal ends the run.  Returns the length of the
 * shortest of them (0 when there is none).
 */
static size_t
branch_literals(const char *pat, size_t len, struct litset *best)
{
	struct litset	 cur;
	char		 alts[LIT_MAX + 1][LIT_LEN];
	size_t		 alen[LIT_MAX + 1], nalts, bestscore = 0;
	size_t		 i = 0, e, g;
	int		 q;

	cur.n = 1;
	cur.len[0] = 0;
	best->n = 0;
	best->flushes = 0;
	best->trimmed = false;
	best->cut = false;
	while (i < len) {
		unsigned char c = (unsigned char)pat[i];
		int lit = -1;

		if (c == '\\') {
			if (i + 1 >= len)
				break;
			c = (unsigned char)pat[i + 1];
			if (!isalnum(c) && c != ' ')
				lit = tolower(c);
			i += 2;
		} else if (c == '(') {
			g = skip_group(pat, len, i);
			q = quantifier(pat, len, g, &e);
			if (q == 0 && g > i + 1 && pat[g - 1] == ')' &&
			    group_alts(pat + i + 1, g - i - 2, alts, alen,
			    &nalts)) {
				lit_append(&cur, best, &bestscore, alts, alen,
				    nalts);
				i = g;
				continue;
			}
			if (q == 1 && pat[g] == '?' && e == g + 1 &&
			    g > i + 1 && pat[g - 1] == ')' &&
			    group_alts(pat + i + 1, g - i - 2, alts, alen,
			    &nalts) && nalts < LIT_MAX) {
				alen[nalts++] = 0;	/* or nothing */
				lit_append(&cur, best, &bestscore, alts, alen,
				    nalts);
				i = e;
				continue;
			}
			lit_flush(&cur, best, &bestscore);
			i = q ? e : g;
			continue;
		} else if (c == '[') {
			lit_flush(&cur, best, &bestscore);
			i = skip_class(pat, len, i);
			if (quantifier(pat, len, i, &e))
				i = e;
			continue;
		} else if (c == '.') {
			lit_flush(&cur, best, &bestscore);
			i++;
			if (quantifier(pat, len, i, &e))
				i = e;
			continue;
		} else if (c == '^' || c == '$' || c == '|' || c == ')' ||
		    c == '*' || c == '+' || c == '?' || c == '{') {
			lit_flush(&cur, best, &bestscore);
			i++;
			continue;
		} else {
			lit = isspace(c) ? ' ' : tolower(c);
			i++;
		}
		if (lit < 0) {
			lit_flush(&cur, best, &bestscore);
			if (quantifier(pat, len, i, &e))
				i = e;
			continue;
		}
		alts[0][0] = (char)lit;
		alen[0] = 1;
		q = quantifier(pat, len, i, &e);
		if (q == 1 && pat[i] == '?' && e == i + 1) {
			alen[1] = 0;	/* "colou?r": with or without */
			lit_append(&cur, best, &bestscore, alts, alen, 2);
			i = e;
			continue;
		}
		if (q == 1) {
			lit_flush(&cur, best, &bestscore);
			i = e;
			continue;
		}
		lit_append(&cur, best, &bestscore, alts, alen, 1);
		if (q == 2) {
			lit_flush(&cur, best, &bestscore);
			i = e;
		}
	}
	lit_flush(&cur, best, &bestscore);
	/* Exact: one run covered the whole branch, so finding one of its
	 * literals is finding a match (the final flush is the only one). */
	best->flushes = best->flushes == 1 && !best->cut && !best->trimmed;
	return bestscore;
}

/*
 * May pat be matched one top-level branch at a time?  Not when a branch
 * could depend on another: an option setting "(?i)" carries into the
 * branches after it, a back reference or recursion names a group of any
 * branch, "(?|" renumbers groups, "(*VERB)" acts on the whole match.
 * Only plain groups and lookaround "(?:", "(?=", "(?!", "(?<=", "(?<!"
 * are allowed.
 */
static bool
branches_independent(const char *pat, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		if (pat[i] == '\\') {
			if (i + 1 < len &&
			    (isdigit((unsigned char)pat[i + 1]) ||
			    strchr("gkKRPQ", pat[i + 1]) != NULL))
				return false;
			i++;
		} else if (pat[i] == '[') {
			i = skip_class(pat, len, i) - 1;
		} else if (pat[i] == '(' && i + 1 < len &&
		    (pat[i + 1] == '?' || pat[i + 1] == '*')) {
			if (pat[i + 1] == '*' || i + 2 >= len)
				return false;
			if (strchr(":=!", pat[i + 2]) != NULL)
				continue;
			if (pat[i + 2] == '<' && i + 3 < len &&
			    (pat[i + 3] == '=' || pat[i + 3] == '!'))
				continue;
			return false;
		}
	}
	return true;
}

static void
branches_free(struct rule *ru)
{
	size_t	 k;

	for (k = 0; k < ru->nbr; k++) {
		pcre2_code_free(ru->br[k].re);
		free(ru->br[k].needles);
	}
	free(ru->br);
	ru->br = NULL;
	ru->nbr = 0;
}

/*
 * Split the expression into its nb branches (bstart/blen) and compile
 * each that is not exact.  Returns 1 on success, 0 when a branch does not
 * compile on its own (then nothing is kept), -1 when out of memory.
 */
static int
branches_compile(struct rule *ru, const char *pat, uint32_t flags,
    const size_t *bstart, const size_t *blen, const struct litset *sets,
    const bool *lit, size_t nb)
{
	PCRE2_SIZE	 off;
	size_t		 k;
	int		 ec;

	if ((ru->br = calloc(nb, sizeof(*ru->br))) == NULL)
		return -1;
	ru->nbr = nb;
	for (k = 0; k < nb; k++) {
		if (lit[k] && sets[k].flushes)
			continue;	/* exact: a literal found is a match */
		ru->br[k].re = pcre2_compile((PCRE2_SPTR)pat + bstart[k],
		    blen[k], flags, &ec, &off, NULL);
		if (ru->br[k].re == NULL) {
			branches_free(ru);
			return 0;
		}
	}
	return 1;
}

/* Add the literals of sets[0..nb) (those with lit[k]) to the prefilter;
 * with split branches, remember each branch's needles. */
static bool
needles_register(struct parser *p, struct rule *ru, size_t rule,
    const struct litset *sets, const bool *lit, size_t nb)
{
	struct rules_branch	*b;
	size_t			 k, j;
	long			 id;

	for (k = 0; k < nb; k++) {
		if (!lit[k])
			continue;
		b = ru->br != NULL ? &ru->br[k] : NULL;
		if (b != NULL && (b->needles = calloc(sets[k].n,
		    sizeof(*b->needles))) == NULL)
			return perr(p, "out of memory");
		for (j = 0; j < sets[k].n; j++) {
			if ((id = needle_add(p, sets[k].s[j], sets[k].len[j],
			    rule)) < 0)
				return perr(p, "out of memory");
			if (b != NULL)
				b->needles[b->nneedles++] = (uint32_t)id;
		}
	}
	return true;
}

/*
 * Register the prefilter literals of a regular expression: those of each
 * top-level branch.  A branch without a usable literal makes the rule
 * run on every text.  When the branches are independent
 * (branches_independent()), each is also compiled on its own so that
 * only the branches whose literals occur run (ru->br): the same matches,
 * without running fifteen alternatives where one literal was found.
 */
static bool
regex_needles(struct parser *p, const char *pat, size_t len, size_t rule,
    uint32_t flags)
{
	struct rule	*ru = &p->r->v[rule];
	struct litset	*sets;
	size_t		 i = 0, start = 0, nb = 0, k;
	size_t		 bstart[64], blen[64];
	bool		 ok = true, lit[64];
	int		 rc;

	if ((sets = calloc(64, sizeof(*sets))) == NULL)
		return perr(p, "out of memory");
	for (;;) {
		if (i >= len || pat[i] == '|') {
			if (nb == 64) {
				ru->always = true;
				goto done;
			}
			lit[nb] = branch_literals(pat + start, i - start,
			    &sets[nb]) >= RULES_MIN_NEEDLE;
			if (!lit[nb])
				ru->always = true;
			bstart[nb] = start;
			blen[nb++] = i - start;
			if (i >= len)
				break;
			start = ++i;
			continue;
		}
		if (pat[i] == '\\')
			i += 2;
		else if (pat[i] == '[')
			i = skip_class(pat, len, i);
		else if (pat[i] == '(')
			i = skip_group(pat, len, i);
		else
			i++;
	}
	ru->exact = !ru->always;
	for (k = 0; k < nb; k++)
		if (!sets[k].flushes)
			ru->exact = false;
	if (!ru->exact && nb > 1 && branches_independent(pat, len)) {
		if ((rc = branches_compile(ru, pat, flags, bstart, blen, sets,
		    lit, nb)) < 0) {
			ok = perr(p, "out of memory");
			goto done;
		}
	}
	/* Unsplit, a rule that runs on every text needs no literal. */
	if (ru->br != NULL || !ru->always)
		ok = needles_register(p, ru, rule, sets, lit, nb);
done:
	free(sets);
	return ok;
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
		return perr(p, "option \"%s\" is not key=value", opt);
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
			return perr(p, "duplicate option %.*s", (int)klen,
			    opt);
		if ((*list = word_list(v)) == NULL)
			return perr(p, "out of memory");
	} else if (klen == 4 && strncasecmp(opt, "exit", 4) == 0) {
		if (ru->cond.nexit != 0)
			return perr(p, "duplicate option exit");
		if (!parse_exit_list(v, &ru->cond))
			return perr(p, "bad exit status list \"%s\" (want "
			    "up to %d numbers 1-255 joined by commas)", v,
			    RULES_MAX_ALTS);
	} else if (klen == 6 && strncasecmp(opt, "advice", 6) == 0) {
		if (ru->advice >= 0)
			return perr(p, "duplicate option advice");
		if ((ru->advice = parse_advice(v)) < 0)
			return perr(p, "unknown advice \"%s\"", v);
	} else if (klen == 6 && strncasecmp(opt, "status", 6) == 0) {
		if (ru->cond.nstatus != 0)
			return perr(p, "duplicate option status");
		if (!parse_status_list(v, &ru->cond))
			return perr(p, "bad status pattern list \"%s\"", v);
	} else if (klen == 4 && strncasecmp(opt, "code", 4) == 0) {
		if (!parse_code_pat(v, &ru->cond.code))
			return perr(p, "bad reply code pattern \"%s\"", v);
		ru->cond.has_code = true;
	} else if (klen == 8 && strncasecmp(opt, "conflict", 8) == 0) {
		if (strcasecmp(v, "no") == 0)
			ru->generic = true;
		else if (strcasecmp(v, "yes") == 0)
			ru->generic = false;
		else
			return perr(p, "conflict= takes yes or no");
	} else if (klen == 6 && strncasecmp(opt, "action", 6) == 0) {
		if ((ru->cond.action = parse_action(v)) < 0)
			return perr(p, "unknown action \"%s\"", v);
	} else if (klen == 7 && strncasecmp(opt, "command", 7) == 0) {
		if (ru->cond.cmds != 0)
			return perr(p, "duplicate option command");
		if (!parse_commands(v, &ru->cond.cmds))
			return perr(p, "bad command list \"%s\" (want words "
			    "of connect, helo, starttls, auth, mail, rcpt, "
			    "data, none, joined by commas)", v);
	} else
		return perr(p, "unknown option \"%.*s\"", (int)klen, opt);
	return true;
}

static bool
compile_regex(struct parser *p, struct rule *ru, const char *pat, size_t idx)
{
	uint32_t	 flags = PCRE2_CASELESS | PCRE2_DOLLAR_ENDONLY;
	PCRE2_UCHAR	 msg[160];
	PCRE2_SIZE	 off;
	int		 ec;
	size_t		 i, len = strlen(pat);

	if (len == 0)
		return perr(p, "empty regular expression");
	for (i = 0; i < len; i++)
		if ((unsigned char)pat[i] >= 0x80) {
			/* Non-ASCII pattern: match as UTF-8, tolerating
			 * invalid bytes in the subject (PCRE2 10.34). */
			flags |= PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
			break;
		}
	ru->re = pcre2_compile((PCRE2_SPTR)pat, len, flags, &ec, &off, NULL);
	if (ru->re == NULL) {
		pcre2_get_error_message(ec, msg, sizeof(msg));
		return perr(p, "bad regular expression at offset %zu: %s",
		    (size_t)off, (char *)msg);
	}
	return regex_needles(p, pat, len, idx, flags);
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
			return compile_regex(p, ru, pat, idx);
		if (delim != '"')
			return perr(p, "text pattern must be \"literal\" "
			    "or /regex/");
		n = rules_normalize(pat, norm, sizeof(norm));
		if (n < RULES_MIN_NEEDLE)
			return perr(p, "literal \"%s\" is shorter than %d "
			    "bytes", pat, RULES_MIN_NEEDLE);
		if ((ru->literal = strndup(norm, n)) == NULL)
			return perr(p, "out of memory");
		ru->litlen = n;
		if (needle_add(p, norm, n, idx) < 0)
			return perr(p, "out of memory");
		return true;
	}
	if (delim != 0)
		return perr(p, "only text patterns are quoted");
	if (strcasecmp(sel, "status") == 0) {
		ru->sel = RULES_SEL_STATUS;
		if (!parse_status_pat(pat, &ru->status))
			return perr(p, "bad status pattern \"%s\" (want "
			    "class.subject.detail, parts may be *)", pat);
		ru->generic = ru->status.s <= 0 || ru->status.d <= 0;
	} else if (strcasecmp(sel, "code") == 0) {
		ru->sel = RULES_SEL_CODE;
		if (!parse_code_pat(pat, &ru->code))
			return perr(p, "bad reply code pattern \"%s\" "
			    "(want 550, 55x or 5xx)", pat);
		ru->generic = true;
	} else if (strcasecmp(sel, "action") == 0) {
		ru->sel = RULES_SEL_ACTION;
		if ((ru->action = parse_action(pat)) < 0)
			return perr(p, "unknown action \"%s\"", pat);
	} else if (strcasecmp(sel, "kind") == 0) {
		ru->sel = RULES_SEL_KIND;
		if ((ru->kind = parse_kind(pat)) < 0)
			return perr(p, "unknown report kind \"%s\"", pat);
	} else if (strcasecmp(sel, "any") == 0) {
		ru->sel = RULES_SEL_ANY;
		if (strcmp(pat, "*") != 0)
			return perr(p, "selector any takes the pattern *");
	} else
		return perr(p, "unknown selector \"%s\"", sel);
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
		return perr(p, "a rule starts with a selector word");
	if ((pat = next_token(&s, &delim)) == NULL)
		return perr(p, "missing pattern after \"%s\"", sel);
	if (delim == '!')
		return perr(p, "unterminated pattern");
	if (delim == '?')
		return perr(p, "text after the closing %c of the pattern",
		    *(pat - 1));
	if ((reason = next_token(&s, &d2)) == NULL)
		return perr(p, "missing reason");
	if (d2 != 0 || (rr = rules_reason_lookup(reason)) == NULL)
		return perr(p, "unknown reason \"%s\"", reason);
	if (r->n == RULES_MAX_RULES)
		return perr(p, "more than %d rules", RULES_MAX_RULES);
	if (r->n == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 128;

		if ((ru = reallocarray(r->v, nc, sizeof(*ru))) == NULL)
			return perr(p, "out of memory");
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
		return perr(p, "out of memory");
	if (!parse_pattern(p, ru, sel, pat, delim, idx))
		return false;
	while ((opt = next_token(&s, &d2)) != NULL) {
		if (d2 != 0)
			return perr(p, "options are key=value words");
		if (!parse_option(p, ru, opt))
			return false;
	}
	return true;
}

static bool
spart(int pat, int v)
{
	return pat < 0 || pat == v;
}

/*
 * For each status key, the status rules that match it, in file order:
 * rules_match() then looks at a handful of rules instead of all.
 */
static bool
status_index(struct parser *p)
{
	static const int classes[] = { 2, 4, 5 };
	struct rules	*r = p->r;
	const struct rule *ru;
	size_t		 pass, i, n = 0;
	int		 c, sd, key;

	for (pass = 0; pass < 2; pass++) {
		n = 0;
		for (key = 0; key < RULES_SKEYS; key++) {
			c = classes[key / 256];
			sd = key % 256;	/* subject * 32 + detail */
			if (pass == 1)
				r->skey[key] = (uint32_t)n;
			for (i = 0; i < r->n; i++) {
				ru = &r->v[i];
				if (ru->sel != RULES_SEL_STATUS ||
				    !spart(ru->status.c, c) ||
				    !spart(ru->status.s, sd / 32) ||
				    !spart(ru->status.d, sd % 32))
					continue;
				if (pass == 1)
					r->sids[n] = i;
				n++;
			}
		}
		if (pass == 0 &&
		    (r->sids = calloc(n + 1, sizeof(*r->sids))) == NULL)
			return perr(p, "out of memory");
	}
	r->skey[RULES_SKEYS] = (uint32_t)n;
	return true;
}

/* Build the index lists and the prefilter's hash table. */
static bool
finish(struct parser *p)
{
	struct rules	*r = p->r;
	struct needle_ref *ref;
	size_t		 i, j, k, nb = (size_t)1 << RULES_HASH_BITS;
	uint32_t	*fill;

	r->plain = calloc(r->n + 1, sizeof(*r->plain));
	r->always = calloc(r->n + 1, sizeof(*r->always));
	r->bucket = calloc(nb + 1, sizeof(*r->bucket));
	r->bucket_ids = calloc(r->nneedles + 1, sizeof(*r->bucket_ids));
	fill = calloc(nb, sizeof(*fill));
	if (r->plain == NULL || r->always == NULL || r->bucket == NULL ||
	    r->bucket_ids == NULL || fill == NULL) {
		free(fill);
		return perr(p, "out of memory");
	}
	r->other = calloc(r->n + 1, sizeof(*r->other));
	r->skey = calloc(RULES_SKEYS + 1, sizeof(*r->skey));
	if (r->other == NULL || r->skey == NULL) {
		free(fill);
		return perr(p, "out of memory");
	}
	for (i = 0; i < r->n; i++) {
		if (r->v[i].sel != RULES_SEL_TEXT)
			r->plain[r->nplain++] = i;
		else if (r->v[i].always)
			r->always[r->nalways++] = i;
		if (r->v[i].sel != RULES_SEL_TEXT &&
		    r->v[i].sel != RULES_SEL_STATUS)
			r->other[r->nother++] = i;
	}
	if (!status_index(p)) {
		free(fill);
		return false;
	}
	for (i = 0; i < r->nneedles; i++) {
		uint32_t h = rules_hash3(rules_gram((const unsigned char *)
		    r->needles[i].s));
		uint32_t g = h >> (32 - RULES_GRAM_BITS);

		r->gram3[g >> 3] |= (uint8_t)(1u << (g & 7));
		r->bucket[(h >> (32 - RULES_HASH_BITS)) + 1]++;
	}
	for (j = 0; j < nb; j++)
		r->bucket[j + 1] += r->bucket[j];
	for (i = 0; i < r->nneedles; i++) {
		k = rules_hash3(rules_gram((const unsigned char *)
		    r->needles[i].s)) >> (32 - RULES_HASH_BITS);
		ref = &r->bucket_ids[r->bucket[k] + fill[k]++];
		ref->head = r->needles[i].head;
		ref->mask = r->needles[i].mask;
		ref->id = (uint32_t)i;
		ref->len = (uint32_t)r->needles[i].len;
	}
	free(fill);
	if ((r->mctx = pcre2_match_context_create(NULL)) == NULL)
		return perr(p, "out of memory");
	pcre2_set_match_limit(r->mctx, RULES_MATCH_LIMIT);
	pcre2_set_depth_limit(r->mctx, RULES_DEPTH_LIMIT);
	pcre2_set_heap_limit(r->mctx, RULES_HEAP_LIMIT);
	return true;
}

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
enum bd_status
rules_parse(const char *name, const char *text, size_t len,
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
			perr(&p, "line longer than %d bytes", RULES_MAX_LINE);
			goto bad;
		}
		if (memchr(text + i, '\0', n) != NULL) {
			perr(&p, "NUL byte in line");
			goto bad;
		}
		memcpy(line, text + i, n);
		line[n] = '\0';
		if (!parse_line(&p, line))
			goto bad;
		i = e + 1;
	}
	if (!finish(&p))
		goto bad;
	*out = r;
	return BD_OK;
bad:
	if (err != NULL && strstr(err, "out of memory") != NULL)
		nomem = true;
	rules_unref(r);
	return nomem ? BD_ENOMEM : BD_ECONFIG;
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
 * rules_default - compile the built-in rules
 *
 * Arguments: as rules_parse().
 * Returns as rules_parse(); the rules are named "bounced.rules".
 * Notes: the text is etc/bounced.rules as it was at build time.
 */
enum bd_status
rules_default(struct rules **out, char *err, size_t errlen)
{
	return rules_parse(RULES_DEFAULT_NAME, rules_default_text,
	    rules_default_len, out, err, errlen);
}

/*
 * rules_ref - take another reference to r
 *
 * Returns r.  Thread-safe (atomic counter).
 */
struct rules *
rules_ref(struct rules *r)
{
	if (r != NULL)
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

	if (r == NULL)
		return;
	if (atomic_fetch_sub_explicit(&r->refs, 1, memory_order_release) != 1)
		return;
	atomic_thread_fence(memory_order_acquire);
	for (i = 0; i < r->n; i++) {
		free(r->v[i].literal);
		free(r->v[i].src);
		free(r->v[i].cond.mtas);
		free(r->v[i].cond.dtypes);
		free(r->v[i].cond.remotes);
		pcre2_code_free(r->v[i].re);
		branches_free(&r->v[i]);
	}
	for (i = 0; i < r->nneedles; i++) {
		free(r->needles[i].s);
		free(r->needles[i].rules);
	}
	pcre2_match_context_free(r->mctx);
	free(r->needles);
	free(r->bucket);
	free(r->bucket_ids);
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
	return lo < r->n && r->v[lo].line == line ? r->v[lo].src : NULL;
}
