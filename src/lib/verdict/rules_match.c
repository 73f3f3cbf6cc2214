/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * rules_match.c - evaluate a compiled rules table against the facts of
 * one recipient: the first rule in file order that matches wins.
 *
 * Speed: the diagnostic is normalised once (rules_normalize.c), then
 * one pass of an Aho-Corasick automaton over it finds every literal the
 * text rules need (the prefilter, rules_dfa.c builds it), so only the
 * few text rules whose literal occurs are looked at (a bit per rule:
 * they come out in file order, once each, however many of their
 * literals occur), and a regular expression runs only when its literal
 * is present: of an expression "a|b|c" only the branches whose literals
 * occur (rules_compile.c compiles them one by one).  Every
 * pcre2_match() runs under a match, depth and heap limit on at most
 * RULES_TEXT_MAX bytes, so hostile text cannot make it backtrack
 * without bound.
 *
 * Pure: no I/O, no logging, no clock; thread-safe (the table is
 * immutable, all scratch space is on the stack or per call).  PCRE2's
 * match data and backtracking frames come from a 24 KiB arena on the
 * stack, so a call does not allocate (larger needs fall back to
 * malloc()).
 * RFC 3463 section 2 (status codes), RFC 5321 section 4.2 (replies).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "verdict/rules_int.h"

#define CAND_WORDS	(RULES_MAX_RULES / 64)	/* rule bitmap words */

/* Parse "c.s.d" (each part 1-3 digits) into st; false if not one. */
static bool
status_parse(const char *s, struct rules_status *st)
{
	int	 v[3] = { 0, 0, 0 }, k, nd;

	if (s == NULL)
		return false;
	for (k = 0; k < 3; k++) {
		for (nd = 0; isdigit((unsigned char)*s) && nd < 4; nd++)
			v[k] = v[k] * 10 + (*s++ - '0');
		if (nd == 0 || nd > 3)
			return false;
		if (k < 2 && *s++ != '.')
			return false;
	}
	st->c = v[0];
	st->s = v[1];
	st->d = v[2];
	return true;
}

static bool
status_match(const struct rules_status *pat, const struct rules_status *st)
{
	return (pat->c < 0 || pat->c == st->c) &&
	    (pat->s < 0 || pat->s == st->s) &&
	    (pat->d < 0 || pat->d == st->d);
}

/* Is mta (lower-case) in the ",a,b," list? */
static bool
mta_in(const char *list, const char *mta)
{
	const char	*p;
	size_t		 n;

	if (mta == NULL || *mta == '\0')
		return false;
	n = strlen(mta);
	for (p = list; (p = strchr(p, ',')) != NULL && p[1] != '\0'; p++)
		if (tolower((unsigned char)p[1]) ==
		    tolower((unsigned char)mta[0]) &&
		    strncasecmp(p + 1, mta, n) == 0 && p[1 + n] == ',')
			return true;
	return false;
}

/*
 * Is host (lower-case) one of the ",a,b," domains or below one of them?
 * "mx1.docomo.ne.jp" is below "docomo.ne.jp"; "xdocomo.ne.jp" is not.
 */
static bool
domain_in(const char *list, const char *host)
{
	const char	*p, *e;
	size_t		 n, hl;

	if (host == NULL || *host == '\0')
		return false;
	hl = strlen(host);
	for (p = list; *p == ',' && p[1] != '\0'; p = e) {
		p++;
		if ((e = strchr(p, ',')) == NULL)
			break;
		n = (size_t)(e - p);
		if (n == 0 || n > hl)
			continue;
		if (strncmp(host + hl - n, p, n) == 0 &&
		    (n == hl || host[hl - n - 1] == '.'))
			return true;
	}
	return false;
}

/* Inlined: called for most rules a query meets, where a call's saving
 * and restoring of registers cost as much as its tests. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline bool
cond_ok(const struct rule *ru, const struct rules_query *q, bool have_st,
    const struct rules_status *st)
{
	const struct rules_cond *c = &ru->cond;

	/* A conjunction: the cheap integer tests first. */
	if (c->action >= 0 && (int)q->action != c->action)
		return false;
	if (c->kinds != 0 && ((unsigned)q->kind >= 32 ||
	    !(c->kinds & (1u << q->kind))))
		return false;
	if (c->has_code && (q->reply_code < c->code.lo ||
	    q->reply_code > c->code.hi))
		return false;
	if (c->nexit != 0) {
		size_t k;

		for (k = 0; k < c->nexit; k++)
			if (c->exits[k] == q->exit_status)
				break;
		if (k == c->nexit)
			return false;
	}
	if (c->nstatus != 0) {
		size_t k;

		if (!have_st)
			return false;
		for (k = 0; k < c->nstatus; k++)
			if (status_match(&c->status[k], st))
				break;
		if (k == c->nstatus)
			return false;
	}
	if (c->mtas != NULL && !mta_in(c->mtas, q->mta))
		return false;
	if (c->dtypes != NULL && !mta_in(c->dtypes, q->dtype))
		return false;
	if (c->remotes != NULL && !domain_in(c->remotes, q->remote))
		return false;
	if (c->cmds != 0) {
		int k = smtpcmd_index(q->command);

		if (!(c->cmds & (k < 0 ? RULES_CMD_NONE : 1u << k)))
			return false;
	}
	return true;
}

static inline bool
plain_match(const struct rule *ru, const struct rules_query *q, bool have_st,
    const struct rules_status *st)
{
	switch (ru->sel) {
	case RULES_SEL_ANY:
		return true;
	case RULES_SEL_ACTION:
		return (int)q->action == ru->action;
	case RULES_SEL_KIND:
		return (int)q->kind == ru->kind;
	case RULES_SEL_STATUS:
		return have_st && status_match(&ru->status, st);
	case RULES_SEL_CODE:
		return q->reply_code >= ru->code.lo &&
		    q->reply_code <= ru->code.hi;
	case RULES_SEL_TEXT:
		break;
	}
	return false;
}

static void
hit_set(struct rules_hit *h, const struct rule *ru)
{
	h->reason = ru->reason;
	h->line = ru->line;
	h->sel = ru->sel;
	h->generic = ru->generic;
	h->advice = ru->advice;
}

/* A needle found: mark it and the text rules that use it. */
static inline void
needle_hit(const struct rules *r, uint32_t id, uint64_t *hits,
    uint64_t *cand, size_t *top)
{
	const struct needle *nd = &r->needles[id];
	size_t	 k, x;

	hits[id >> 6] |= (uint64_t)1 << (id & 63);
	for (k = 0; k < nd->nrules; k++) {
		x = nd->rules[k];
		cand[x >> 6] |= (uint64_t)1 << (x & 63);
		if ((x >> 6) + 1 > *top)
			*top = (x >> 6) + 1;
	}
}

/* The needles that end at t[i], the automaton being in output state s
 * (0: the first, at r->dfa_base). */
static void
dfa_outputs(const struct rules *r, unsigned s, const unsigned char *t,
    size_t i, size_t n, uint64_t *hits, uint64_t *cand, size_t *top)
{
	uint32_t k, id, e;

	for (k = r->dfa_out[s]; k < r->dfa_out[s + 1]; k++) {
		e = r->dfa_outs[k];
		id = e & ~RULES_DFA_LONG;
		if (hits[id >> 6] & ((uint64_t)1 << (id & 63)))
			continue;
		if (e & RULES_DFA_LONG) {
			/* Only its first dfa_depth bytes end here. */
			size_t at = i + 1 - r->dfa_depth;
			const struct needle *nd = &r->needles[id];

			if (nd->len > n - at || memcmp(t + at + r->dfa_depth,
			    nd->s + r->dfa_depth, nd->len - r->dfa_depth) != 0)
				continue;
		}
		needle_hit(r, id, hits, cand, top);
	}
}

/*
 * The automaton's walk over up to four parts of a text side by side
 * (chains): from step *kp, every chain c takes one step on t[c][k] per
 * k, until a step where some chain enters a state at or above base (a
 * needle ends there) or len steps are done.  Returns that step (len when
 * none); st[] holds the states reached, *kp the next step.
 *
 * A step waits for the load of the one before, so one chain runs at the
 * speed of the cache, not of the processor: independent chains let it
 * overlap them.  The loop is kept out of line, so that the states and
 * the counter stay in registers instead of being spilled around the
 * (rare) work done when a needle is found.
 */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static size_t
dfa_walk(const uint32_t *dfa, const uint8_t *cls, uint32_t base,
    const unsigned char *const t[4], unsigned nch, size_t len,
    uint32_t st[4], size_t *kp)
{
	const unsigned char *t0 = t[0], *t1 = t[1], *t2 = t[2], *t3 = t[3];
	uint32_t	 s0 = st[0], s1 = st[1], s2 = st[2], s3 = st[3];
	size_t		 k = *kp;

	if (nch == 4) {
		for (; k < len; k++) {
			s0 = dfa[s0 + cls[t0[k]]];
			s1 = dfa[s1 + cls[t1[k]]];
			s2 = dfa[s2 + cls[t2[k]]];
			s3 = dfa[s3 + cls[t3[k]]];
			/* base is a power of two above every row without
			 * outputs, and every row is below twice it */
			if (((s0 | s1 | s2 | s3) & base) != 0)
				break;
		}
	} else if (nch == 2) {
		for (; k < len; k++) {
			s0 = dfa[s0 + cls[t0[k]]];
			s1 = dfa[s1 + cls[t1[k]]];
			if (((s0 | s1) & base) != 0)
				break;
		}
	} else {
		for (; k < len; k++) {
			s0 = dfa[s0 + cls[t0[k]]];
			if (s0 >= base)
				break;
		}
	}
	st[0] = s0;
	st[1] = s1;
	st[2] = s2;
	st[3] = s3;
	*kp = k < len ? k + 1 : k;
	return k;
}

/*
 * One pass of the prefilter: mark the needles found in t (hits) and the
 * text rules that use them (cand, a bit per rule index, so that they
 * come out in file order, each once, however many of their literals
 * occur).  One step of the automaton per byte, one load; the states
 * where needles end are those from r->dfa_base.  Returns the number of
 * bitmap words in use (the highest word with a bit set, plus one).
 *
 * A text of 4 * dfa_depth bytes or more is cut into four parts walked
 * side by side (dfa_walk()), one of 2 * dfa_depth or more into two: each
 * part but the first starts
 * d = dfa_depth - 1 bytes early, which is all the automaton remembers,
 * and reports only from its own first byte on, so that a needle is
 * reported once, where its state is reached.  The last part's chain
 * then goes on alone over the bytes left.
 */
static size_t
prefilter(const struct rules *r, const unsigned char *t, size_t n,
    uint64_t *hits, uint64_t *cand)
{
	const unsigned char *part[4];
	uint32_t	 st[4] = { 0, 0, 0, 0 };
	size_t		 k, d, len, from, step, top = 0;
	unsigned	 c, nch;

	for (k = 0; k < r->nalways; k++) {
		cand[r->always[k] >> 6] |= (uint64_t)1 << (r->always[k] & 63);
		if ((r->always[k] >> 6) + 1 > top)
			top = (r->always[k] >> 6) + 1;
	}
	if (r->dfa == NULL)
		return top;
	d = r->dfa_depth - 1;
	from = 0;
	nch = n >= 4 * (d + 1) ? 4 : n >= 2 * (d + 1) ? 2 : 1;
	if (nch > 1) {
		len = (n + (nch - 1) * d) / nch;	/* > d: every part reports */
		for (c = 0; c < 4; c++)
			part[c] = t + (c < nch ? c : 0) * (len - d);
		k = 0;
		while ((step = dfa_walk(r->dfa, r->dfa_cls, r->dfa_base, part,
		    nch, len, st, &k)) < len) {
			for (c = 0; c < nch; c++) {
				if (st[c] < r->dfa_base || (c > 0 && step < d))
					continue;
				dfa_outputs(r, (unsigned)((st[c] -
				    r->dfa_base) / r->dfa_ncls), t,
				    (size_t)(part[c] - t) + step, n, hits,
				    cand, &top);
			}
		}
		st[0] = st[nch - 1];
		from = (size_t)(part[nch - 1] - t) + len;
	}
	/* One chain over the rest (all of a short text). */
	part[0] = t + from;
	part[1] = part[2] = part[3] = part[0];
	k = 0;
	while ((step = dfa_walk(r->dfa, r->dfa_cls, r->dfa_base, part, 1,
	    n - from, st, &k)) < n - from)
		dfa_outputs(r, (unsigned)((st[0] - r->dfa_base) /
		    r->dfa_ncls), t, from + step, n, hits, cand, &top);
	return top;
}

/*
 * Scratch memory for PCRE2 on the caller's stack: the match data and
 * the backtracking frames it keeps (PCRE2 >= 10.41) come from here, so
 * a classify() call does not go to malloc() at all; a request that does
 * not fit falls back to malloc().
 */
#define ARENA_SIZE	(24u << 10)

struct arena {
	size_t		 used;
	_Alignas(max_align_t) unsigned char mem[ARENA_SIZE];
};

static void *
arena_malloc(size_t n, void *data)
{
	struct arena	*a = data;
	size_t		 al = (n + 15) & ~(size_t)15;

	if (al >= n && al <= ARENA_SIZE - a->used) {
		void *p = a->mem + a->used;

		a->used += al;
		return p;
	}
	return malloc(n);
}

static void
arena_free(void *p, void *data)
{
	struct arena	*a = data;

	if ((unsigned char *)p >= a->mem &&
	    (unsigned char *)p < a->mem + ARENA_SIZE)
		return;		/* released with the arena */
	free(p);
}

/* The match data, made on first use from the arena; NULL on failure. */
static pcre2_match_data *
match_data(pcre2_match_data **md, struct arena *ar)
{
	pcre2_general_context	*gc;

	if (*md == NULL) {
		gc = pcre2_general_context_create(arena_malloc, arena_free, ar);
		if (gc != NULL)
			*md = pcre2_match_data_create(1, gc);
		pcre2_general_context_free(gc);
	}
	return *md;
}

/* Is one of the needles ids[0..n) in the text (hits)? */
static bool
any_hit(const uint32_t *ids, size_t n, const uint64_t *hits)
{
	size_t	 k;

	for (k = 0; k < n; k++)
		if (hits[ids[k] >> 6] & ((uint64_t)1 << (ids[k] & 63)))
			return true;
	return false;
}

/*
 * The compiled form of re: made at the first run for a lazy table (the
 * built-in one) by the first thread there, published atomically (a
 * thread that loses the race frees its own); NULL if it does not
 * compile, which the suite rules out for the built-in table.
 */
static pcre2_code *
re_code(struct rules_re *re)
{
	pcre2_code	*c, *mine;
	PCRE2_SIZE	 off;
	int		 ec;

	if ((c = atomic_load_explicit(&re->code, memory_order_acquire)) !=
	    NULL || re->pat == NULL)
		return c;
	if ((mine = pcre2_compile((PCRE2_SPTR)re->pat, re->len, re->flags,
	    &ec, &off, NULL)) == NULL)
		return NULL;
	c = NULL;
	if (!atomic_compare_exchange_strong_explicit(&re->code, &c, mine,
	    memory_order_acq_rel, memory_order_acquire)) {
		pcre2_code_free(mine);
		return c;
	}
	return mine;
}

/*
 * The JIT-compiled form of re once it has run RULES_JIT_AFTER times, made
 * by the first thread to get there (the others keep interpreting until
 * it is published); NULL until then, or when JIT is not available.
 */
static const pcre2_code *
re_jit(struct rules_re *re)
{
	pcre2_code	*j;
	unsigned	 runs;

	if ((j = atomic_load_explicit(&re->jit, memory_order_acquire)) != NULL)
		return j;
	runs = atomic_load_explicit(&re->runs, memory_order_relaxed);
	if (runs < RULES_JIT_AFTER) {
		atomic_fetch_add_explicit(&re->runs, 1, memory_order_relaxed);
		return NULL;
	}
	if (runs == RULES_JIT_NEVER)
		return NULL;
	if (atomic_flag_test_and_set_explicit(&re->jitting,
	    memory_order_relaxed))
		return NULL;	/* another thread's, or it failed */
	/* A copy: re->code may be running in other threads meanwhile. */
	if ((j = pcre2_code_copy(re_code(re))) != NULL &&
	    pcre2_jit_compile(j, PCRE2_JIT_COMPLETE) != 0) {
		pcre2_code_free(j);
		j = NULL;
	}
	if (j == NULL) {
		/* No JIT here (or no memory): interpreted for good. */
		atomic_store_explicit(&re->runs, RULES_JIT_NEVER,
		    memory_order_relaxed);
		return NULL;
	}
	atomic_store_explicit(&re->jit, j, memory_order_release);
	return j;
}

/* Run one expression on the text; counts runs in *nre. */
static bool
regex_run(const struct rules *r, struct rules_re *re,
    const struct rules_query *q, pcre2_match_data **md, struct arena *ar,
    int *nre)
{
	const pcre2_code *code;

	if (match_data(md, ar) == NULL) {
		*nre = -1;
		return false;
	}
	if (*nre >= 0)
		(*nre)++;
	if ((code = re_jit(re)) == NULL && (code = re_code(re)) == NULL)
		return false;	/* cannot be compiled: no match */
	/* A limit error (PCRE2_ERROR_MATCHLIMIT, PCRE2_ERROR_JIT_STACKLIMIT
	 * ...) counts as no match. */
	return pcre2_match(code, (PCRE2_SPTR)q->text, q->textlen, 0, 0, *md,
	    r->mctx) >= 0;
}

/*
 * Run one text rule on t; counts regex runs in *nre.  A split expression
 * runs only its branches whose literals the prefilter found (hits), and
 * those without a literal.
 */
static bool
text_verify(const struct rules *r, const struct rule *ru,
    const struct rules_query *q, const uint64_t *hits,
    pcre2_match_data **md, struct arena *ar, int *nre)
{
	const struct rules_branch *b;
	size_t			 k;

	if (ru->re == NULL || ru->exact)
		return true;	/* literal(s): the prefilter found it */
	if (ru->nbr == 0)
		return regex_run(r, ru->re, q, md, ar, nre);
	for (k = 0; k < ru->nbr; k++) {
		b = &ru->br[k];
		if (b->nneedles > 0 && !any_hit(b->needles, b->nneedles, hits))
			continue;
		if (b->re == NULL)
			return true;	/* an exact branch: its literal */
		if (regex_run(r, b->re, q, md, ar, nre))
			return true;
	}
	return false;
}

/*
 * rules_match - the first rule in file order that matches q
 *
 * Arguments: r, the table; q, the facts (q->text normalised by
 * rules_normalize()); res receives the winning rule and, for the
 * status-versus-text comparison, the first text rule and the first
 * status rule that match (each may come after the winner).
 * Returns the number of regular expressions run, or -1 when the match
 * data could not be allocated.
 * Notes: thread-safe; r is only read.
 */
int
rules_match(const struct rules *r, const struct rules_query *q,
    struct rules_result *res)
{
	struct rules_status	 st = { 0, 0, 0 };
	uint64_t		 hits[RULES_MAX_NEEDLES / 64];
	uint64_t		 cand[CAND_WORDS];
	size_t			 ncw = 0, i, k;
	size_t			 pwin = SIZE_MAX, twin = SIZE_MAX;
	pcre2_match_data	*md = NULL;
	struct arena		 ar;
	bool			 have_st;
	int			 nre = 0, key;

	memset(res, 0, sizeof(*res));
	ar.used = 0;
	if (r == NULL)
		return 0;
	have_st = status_parse(q->status, &st);
	key = have_st ? rules_skey(st.c, st.s, st.d) : -1;
	if (have_st && key < 0) {
		/* Outside the key table: all non-text rules, in order. */
		for (k = 0; k < r->nplain; k++) {
			const struct rule *ru = &r->v[r->plain[k]];

			if (!plain_match(ru, q, have_st, &st) ||
			    !cond_ok(ru, q, have_st, &st))
				continue;
			if (pwin == SIZE_MAX)
				pwin = r->plain[k];
			if (ru->sel == RULES_SEL_STATUS) {
				hit_set(&res->status, ru);
				break;
			}
		}
	} else {
		/* Other non-text rules, then the status rules of the key. */
		for (k = 0; k < r->nother; k++) {
			const struct rule *ru = &r->v[r->other[k]];

			if (plain_match(ru, q, have_st, &st) &&
			    cond_ok(ru, q, have_st, &st)) {
				pwin = r->other[k];
				break;
			}
		}
		for (k = key < 0 ? 0 : r->skey[key];
		    key >= 0 && k < r->skey[key + 1]; k++) {
			const struct rule *ru = &r->v[r->sids[k]];

			if (cond_ok(ru, q, have_st, &st)) {
				hit_set(&res->status, ru);
				if (r->sids[k] < pwin)
					pwin = r->sids[k];
				break;
			}
		}
	}
	/* Text rules: only those the prefilter leaves. */
	if (q->text != NULL && q->textlen > 0) {
		memset(hits, 0, ((r->nneedles + 63) / 64) * sizeof(hits[0]));
		memset(cand, 0, ((r->n + 63) / 64) * sizeof(cand[0]));
		ncw = prefilter(r, (const unsigned char *)q->text,
		    q->textlen, hits, cand);
	}
	/* The candidates in file order: the first that holds wins. */
	for (k = 0; k < ncw && twin == SIZE_MAX; k++) {
		uint64_t w = cand[k];

		while (w != 0 && twin == SIZE_MAX) {
			const struct rule *ru;

#if defined(__GNUC__)
			i = k * 64 + (size_t)__builtin_ctzll(w);
#else
			for (i = k * 64; !(w & ((uint64_t)1 << (i & 63))); i++)
				;
#endif
			w &= w - 1;
			ru = &r->v[i];
			if (cond_ok(ru, q, have_st, &st) &&
			    text_verify(r, ru, q, hits, &md, &ar, &nre))
				twin = i;
		}
	}
	pcre2_match_data_free(md);
	if (twin != SIZE_MAX)
		hit_set(&res->text, &r->v[twin]);
	if (twin < pwin)
		hit_set(&res->win, &r->v[twin]);
	else if (pwin != SIZE_MAX)
		hit_set(&res->win, &r->v[pwin]);
	return nre;
}
