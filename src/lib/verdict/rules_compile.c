/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * rules_compile.c - turn the rules read by rules.c into the indexed table
 * rules_match.c evaluates: PCRE2 compilation of text expressions, the
 * literals each top-level branch must contain (they feed the prefilter;
 * independent branches are also compiled one by one, so that only those
 * whose literals occur in a text run) and the per-status-key lists of
 * status rules; the prefilter's automaton is rules_dfa.c's.
 *
 * Pure: no logging, no I/O.  Every loop is bounded by the pattern's
 * length (at most RULES_MAX_LINE bytes) or the table's size; errors go
 * back through rules_perr() as "name:line: why".  Status keys follow
 * RFC 3463 section 2 (class.subject.detail).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "verdict/rules_compile.h"
#include "verdict/rules_int.h"

/*
 * rules_perr - an error of the line being read
 *
 * Arguments: p, the reader (its name and line number); fmt and the rest,
 * printf-style, the reason.
 *
 * Returns false, so that callers can "return rules_perr(...)".
 * Notes: writes "name:line: why" into p->err (truncated to p->errlen);
 * nothing when there is no buffer.
 */
bool
rules_perr(struct parser *p, const char *fmt, ...)
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

/*
 * rules_needle_add - register a prefilter literal of a rule
 *
 * Arguments: p, the reader; s and len, the literal (normalised text,
 * at least RULES_MIN_NEEDLE bytes); rule, the index of the rule in p->r.
 *
 * Returns the needle's index (added if new), -1 when out of memory, -2
 * when the table already holds RULES_MAX_NEEDLES distinct literals.
 * Notes: a rule is listed once per needle however often it registers it.
 */
long
rules_needle_add(struct parser *p, const char *s, size_t len, size_t rule)
{
	struct rules	*r = p->r;
	struct needle	*nd;
	size_t		*v, i;
	char		*key;
	gpointer	 found;

	if (p->needle_ix == NULL &&
	    (p->needle_ix = g_hash_table_new(g_str_hash, g_str_equal)) == NULL)
		return -1;
	if ((key = strndup(s, len)) == NULL)
		return -1;
	found = g_hash_table_lookup(p->needle_ix, key);
	free(key);
	i = found != NULL ? GPOINTER_TO_SIZE(found) - 1 : r->nneedles;
	if (i == r->nneedles && r->nneedles == RULES_MAX_NEEDLES)
		return -2;	/* rules_match() tracks no more */
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
		/* The needle's own copy is the key: it never moves. */
		g_hash_table_insert(p->needle_ix, nd->s,
		    GSIZE_TO_POINTER(r->nneedles + 1));
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

/* Append s[0..n) to cur->s[i], a run of spaces kept as one. */
static void
lit_append_one(struct litset *cur, struct litset *best, size_t i,
    const char *s, size_t n)
{
	size_t	 l = cur->len[i], j;

	if (l + n >= LIT_LEN)
		best->cut = true;
	for (j = 0; j < n && l < LIT_LEN; j++) {
		if (s[j] == ' ' && l > 0 && cur->s[i][l - 1] == ' ')
			continue;
		cur->s[i][l++] = s[j];
	}
	cur->len[i] = l;
}

/* Append each of alts (nalts strings) to every member of cur. */
static void
lit_append(struct litset *cur, struct litset *best, size_t *bestscore,
    char alts[][LIT_LEN], const size_t *alen, size_t nalts)
{
	struct litset	 nx;
	size_t		 i, k, j;

	/*
	 * One alternative (a plain character, most of a pattern): append in
	 * place.  Building the next set in nx copies two kilobytes per
	 * character, which was most of compiling the rules at start-up.
	 */
	if (nalts == 1) {
		for (i = 0; i < cur->n; i++)
			lit_append_one(cur, best, i, alts[0], alen[0]);
		return;
	}
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

/*
 * The compiled expression of pat[0..len) under flags: the table's, when
 * another rule or branch of it spells the same (compiled once), else
 * compiled now and added.  NULL when it does not compile (*ec, *off say
 * why) or out of memory (*ec is 0).
 */
static struct rules_re *
re_get(struct parser *p, const char *pat, size_t len, uint32_t flags,
    int *ec, PCRE2_SIZE *off)
{
	struct rules	*r = p->r;
	struct rules_re	*re, **grown;
	pcre2_code	*code;
	char		*key;

	*ec = 0;
	if (p->re_ix == NULL && (p->re_ix = g_hash_table_new_full(g_str_hash,
	    g_str_equal, free, NULL)) == NULL)
		return NULL;
	if ((key = malloc(len + 10)) == NULL)
		return NULL;
	snprintf(key, 10, "%08x:", (unsigned)flags);
	memcpy(key + 9, pat, len);
	key[len + 9] = '\0';
	if ((re = g_hash_table_lookup(p->re_ix, key)) != NULL) {
		free(key);
		return re;
	}
	if (r->nres == p->rescap) {
		size_t nc = p->rescap ? p->rescap * 2 : 64;

		if ((grown = reallocarray(r->res, nc, sizeof(*grown))) ==
		    NULL) {
			free(key);
			return NULL;
		}
		r->res = grown;
		p->rescap = nc;
	}
	/* The built-in table is compiled at first use (its expressions
	 * are tested by the suite); a file's now, to name a bad one. */
	code = NULL;
	if (!p->lazy && (code = pcre2_compile((PCRE2_SPTR)pat, len, flags,
	    ec, off, NULL)) == NULL) {
		free(key);
		return NULL;
	}
	if ((re = calloc(1, sizeof(*re))) == NULL ||
	    (p->lazy && (re->pat = malloc(len + 1)) == NULL)) {
		free(re);
		pcre2_code_free(code);
		free(key);
		*ec = 0;
		return NULL;
	}
	if (p->lazy) {
		memcpy(re->pat, pat, len);
		re->pat[len] = '\0';
		re->len = len;
		re->flags = flags;
	}
	atomic_init(&re->code, code);
	atomic_init(&re->jit, NULL);
	atomic_init(&re->runs, 0);
	atomic_flag_clear(&re->jitting);
	r->res[r->nres++] = re;
	g_hash_table_insert(p->re_ix, key, re);
	return re;
}

/*
 * rules_branches_free - release a rule's separately compiled branches
 *
 * Arguments: ru; its br and nbr are reset.  Nothing when it has none.
 */
void
rules_branches_free(struct rule *ru)
{
	size_t	 k;

	for (k = 0; k < ru->nbr; k++)
		free(ru->br[k].needles);	/* expressions: r->res */
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
branches_compile(struct parser *p, struct rule *ru, const char *pat,
    uint32_t flags,
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
		ru->br[k].re = re_get(p, pat + bstart[k], blen[k], flags, &ec,
		    &off);
		if (ru->br[k].re == NULL) {
			rules_branches_free(ru);
			return ec == 0 ? -1 : 0;
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
			return rules_perr(p, "out of memory");
		for (j = 0; j < sets[k].n; j++) {
			id = rules_needle_add(p, sets[k].s[j], sets[k].len[j],
			    rule);
			if (id == -2)
				return rules_perr(p, "more than %d distinct "
				    "literals", RULES_MAX_NEEDLES);
			if (id < 0)
				return rules_perr(p, "out of memory");
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
	struct litset	*sets = NULL, *grown;
	size_t		 i = 0, start = 0, nb = 0, cap = 0, k;
	size_t		 bstart[64], blen[64];
	bool		 ok = true, lit[64];
	int		 rc;

	for (;;) {
		if (i >= len || pat[i] == '|') {
			if (nb == 64) {
				ru->always = true;
				goto done;
			}
			/*
			 * A set is 2 KB: grow with the branches (most rules
			 * have a few) rather than clear 64 of them per rule,
			 * which was a quarter of bouncectl's start-up.
			 */
			if (nb == cap) {
				cap = cap == 0 ? 4 : cap * 2 > 64 ? 64 : cap * 2;
				if ((grown = realloc(sets, cap *
				    sizeof(*sets))) == NULL) {
					ok = rules_perr(p, "out of memory");
					goto done;
				}
				sets = grown;
				memset(&sets[nb], 0, (cap - nb) * sizeof(*sets));
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
		if ((rc = branches_compile(p, ru, pat, flags, bstart, blen,
		    sets, lit, nb)) < 0) {
			ok = rules_perr(p, "out of memory");
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

/*
 * rules_compile_regex - compile a /regex/ text pattern and index it
 *
 * Arguments: p, the reader; ru, the rule being read (p->r->v[idx]); pat,
 * the expression (NUL-terminated, without the slashes); idx, its index.
 *
 * Returns true, or false with "name:line: why" in p->err (a bad or empty
 * expression, out of memory).
 * Notes: caseless, $ only at the end; UTF-8 (invalid subject bytes
 * tolerated) when pat holds a non-ASCII byte.  Registers the prefilter
 * literals and, where they are independent, the split branches.
 */
bool
rules_compile_regex(struct parser *p, struct rule *ru, const char *pat,
    size_t idx)
{
	uint32_t	 flags = PCRE2_CASELESS | PCRE2_DOLLAR_ENDONLY;
	PCRE2_UCHAR	 msg[160];
	PCRE2_SIZE	 off;
	int		 ec;
	size_t		 i, len = strlen(pat);

	if (len == 0)
		return rules_perr(p, "empty regular expression");
	for (i = 0; i < len; i++)
		if ((unsigned char)pat[i] >= 0x80) {
			/* Non-ASCII pattern: match as UTF-8, tolerating
			 * invalid bytes in the subject (PCRE2 10.34). */
			flags |= PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
			break;
		}
	if ((ru->re = re_get(p, pat, len, flags, &ec, &off)) == NULL) {
		if (ec == 0)
			return rules_perr(p, "out of memory");
		pcre2_get_error_message(ec, msg, sizeof(msg));
		return rules_perr(p, "bad regular expression at offset %zu: %s",
		    (size_t)off, (char *)msg);
	}
	return regex_needles(p, pat, len, idx, flags);
}


static bool
spart(int pat, int v)
{
	return pat < 0 || pat == v;
}

/*
 * For each status key, the status rules that match it, in file order:
 * rules_match() then looks at a handful of rules instead of all.  The
 * rules are narrowed by class, then subject, then detail, so that each
 * of the 768 keys is matched against the few rules of its class and
 * subject rather than against every status rule.
 */
static bool
status_index(struct parser *p)
{
	static const int classes[] = { 2, 4, 5 };
	struct rules	*r = p->r;
	const struct rule *ru;
	size_t		 pass, i, n = 0, nst = 0, ncl, nsu, *st, *cl, *su;
	int		 ci, sj, d, key;

	for (i = 0; i < r->n; i++)
		if (r->v[i].sel == RULES_SEL_STATUS)
			nst++;
	st = calloc(3 * (nst + 1), sizeof(*st));
	if (st == NULL)
		return rules_perr(p, "out of memory");
	cl = st + nst + 1;
	su = cl + nst + 1;
	for (i = 0, nst = 0; i < r->n; i++)
		if (r->v[i].sel == RULES_SEL_STATUS)
			st[nst++] = i;
	for (pass = 0; pass < 2; pass++) {
		n = 0;
		for (ci = 0; ci < 3; ci++) {
			for (i = 0, ncl = 0; i < nst; i++)
				if (spart(r->v[st[i]].status.c, classes[ci]))
					cl[ncl++] = st[i];
			for (sj = 0; sj < 8; sj++) {
				for (i = 0, nsu = 0; i < ncl; i++)
					if (spart(r->v[cl[i]].status.s, sj))
						su[nsu++] = cl[i];
				for (d = 0; d < 32; d++) {
					key = (ci * 8 + sj) * 32 + d;
					if (pass == 1)
						r->skey[key] = (uint32_t)n;
					for (i = 0; i < nsu; i++) {
						ru = &r->v[su[i]];
						if (!spart(ru->status.d, d))
							continue;
						if (pass == 1)
							r->sids[n] = su[i];
						n++;
					}
				}
			}
		}
		if (pass == 0 &&
		    (r->sids = calloc(n + 1, sizeof(*r->sids))) == NULL) {
			free(st);
			return rules_perr(p, "out of memory");
		}
	}
	free(st);
	r->skey[RULES_SKEYS] = (uint32_t)n;
	return true;
}

/*
 * rules_finish - build a read table's indexes
 *
 * Arguments: p, the reader, after the last line.
 *
 * Returns true, or false with the error in p->err (out of memory).
 * Notes: fills the lists of plain, always-run and other rules, the status
 * index, the prefilter's automaton (dfa_build()), and the PCRE2
 * match context with its limits; p->r is then ready for rules_match().
 */
bool
rules_finish(struct parser *p)
{
	struct rules	*r = p->r;
	size_t		 i;

	r->plain = calloc(r->n + 1, sizeof(*r->plain));
	r->always = calloc(r->n + 1, sizeof(*r->always));
	r->other = calloc(r->n + 1, sizeof(*r->other));
	r->skey = calloc(RULES_SKEYS + 1, sizeof(*r->skey));
	if (r->plain == NULL || r->always == NULL || r->other == NULL ||
	    r->skey == NULL)
		return rules_perr(p, "out of memory");
	for (i = 0; i < r->n; i++) {
		if (r->v[i].sel != RULES_SEL_TEXT)
			r->plain[r->nplain++] = i;
		else if (r->v[i].always)
			r->always[r->nalways++] = i;
		if (r->v[i].sel != RULES_SEL_TEXT &&
		    r->v[i].sel != RULES_SEL_STATUS)
			r->other[r->nother++] = i;
	}
	if (!status_index(p) || !rules_dfa_build(p))
		return false;
	if (!rules_match_limits(r))
		return rules_perr(p, "out of memory");
	return true;
}

/*
 * rules_match_limits - the match context every expression of r runs
 * under: its limits bound a hostile text's backtracking
 *
 * Returns false when out of memory.
 */
bool
rules_match_limits(struct rules *r)
{
	if ((r->mctx = pcre2_match_context_create(NULL)) == NULL)
		return false;
	pcre2_set_match_limit(r->mctx, RULES_MATCH_LIMIT);
	pcre2_set_depth_limit(r->mctx, RULES_DEPTH_LIMIT);
	pcre2_set_heap_limit(r->mctx, RULES_HEAP_LIMIT);
	return true;
}

/*
 * rules_parser_done - free what the reader kept while reading
 *
 * Arguments: p; its table (p->r) is the caller's.
 */
void
rules_parser_done(struct parser *p)
{
	if (p->needle_ix != NULL)
		g_hash_table_destroy(p->needle_ix);
	p->needle_ix = NULL;
	if (p->re_ix != NULL)
		g_hash_table_destroy(p->re_ix);
	p->re_ix = NULL;
}
