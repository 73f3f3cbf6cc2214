/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2026 The bounced authors.
 *
 * rules_dfa.c - the prefilter's automaton (rules_dfa_build()): one
 * Aho-Corasick automaton over every needle the rules' literals gave
 * (rules_needle_add()), so that rules_match.c finds every literal of a
 * text in one pass, a table step per byte, and runs only the rules whose
 * literals occur.  Pure: no logging, no I/O; bounded by the table's size.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verdict/rules_compile.h"
#include "verdict/rules_int.h"

/* Order of needles by their bytes. */
static int
needle_cmp(const void *a, const void *b)
{
	const struct needle *x = *(const struct needle *const *)a;
	const struct needle *y = *(const struct needle *const *)b;
	int	 c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);

	return c != 0 ? c : x->len < y->len ? -1 : x->len > y->len;
}

/* Trie nodes of the needles, each cut to depth bytes (ord: sorted). */
static size_t
dfa_states(const struct rules *r, const struct needle **ord, size_t depth)
{
	size_t	 k, n = 1, l, lcp, pl = 0;
	const struct needle *prev = NULL, *nd;

	for (k = 0; k < r->nneedles; k++) {
		nd = ord[k];
		l = nd->len < depth ? nd->len : depth;
		lcp = 0;
		if (prev != NULL)
			while (lcp < l && lcp < pl && nd->s[lcp] == prev->s[lcp])
				lcp++;
		n += l - lcp;
		prev = nd;
		pl = l;
	}
	return n;
}

/* The scratch space of dfa_build(), per state (numbered as made) unless
 * said. */
struct dfa_work {
	const struct needle **ord;	/* needles, sorted */
	uint16_t	*path;		/* per depth: the last needle's states */
	uint16_t	*fail;		/* longest proper suffix */
	uint16_t	*queue;		/* states, breadth first */
	uint16_t	*kid;		/* first child, 0: none */
	uint16_t	*sib;		/* next child of the same parent */
	uint8_t		*col;		/* column of the step into it */
	uint16_t	*nid;		/* its number in the table */
	uint16_t	*oid;		/* per number in the table: the state */
	int32_t		*own;		/* the needle it spells, or -1 */
	int32_t		*lhead;		/* first long needle, or -1 */
	int32_t		*lnext;		/* per needle: next long needle */
	uint32_t	*cnt;		/* outputs */
	size_t		 lo, hi;	/* next numbers: without outputs (up),
					   with outputs (down) */
	size_t		 ns;		/* states */
	uint32_t	 base;		/* r->dfa_base */
};

/*
 * The row offset of the state numbered nid: those without outputs from
 * 0, those with outputs (numbered down from ns - 1) from base, a power of
 * two above every other row, so that "some chain is in an output state"
 * is one OR and one AND (rules_match.c, dfa_walk()).
 */
static uint32_t
row_of(const struct dfa_work *w, size_t K, size_t nid, bool out)
{
	return out ? w->base + (uint32_t)((w->ns - 1 - nid) * K) :
	    (uint32_t)(nid * K);
}

/* The state number of a row offset: row_of() backwards. */
static size_t
nid_of(const struct dfa_work *w, size_t K, uint32_t off)
{
	return off < w->base ? off / K : w->ns - 1 - (off - w->base) / K;
}

static void
dfa_work_free(struct dfa_work *w)
{
	free((void *)w->ord);
	free(w->path);
	free(w->fail);
	free(w->queue);
	free(w->kid);
	free(w->sib);
	free(w->col);
	free(w->nid);
	free(w->oid);
	free(w->own);
	free(w->lhead);
	free(w->lnext);
	free(w->cnt);
}

/*
 * The trie of the needles, cut at r->dfa_depth bytes: in sorted order a
 * needle shares its first lcp states with the one before it (w->path)
 * and makes the rest.  Returns the number of states.
 */
static size_t
dfa_trie(struct rules *r, struct dfa_work *w)
{
	const struct needle *nd, *prev = NULL;
	size_t		 k, j, l, lcp, pl = 0, ns = 1;
	unsigned	 s, u;

	w->path[0] = 0;
	for (k = 0; k < r->nneedles; k++) {
		nd = w->ord[k];
		l = nd->len < r->dfa_depth ? nd->len : r->dfa_depth;
		lcp = 0;
		if (prev != NULL)
			while (lcp < l && lcp < pl && nd->s[lcp] == prev->s[lcp])
				lcp++;
		for (j = lcp; j < l; j++) {
			s = w->path[j];
			u = (unsigned)ns++;
			w->col[u] = r->dfa_cls[(unsigned char)nd->s[j]];
			w->sib[u] = w->kid[s];
			w->kid[s] = (uint16_t)u;
			w->path[j + 1] = (uint16_t)u;
		}
		s = w->path[l];
		if (nd->len <= r->dfa_depth)
			w->own[s] = (int32_t)(nd - r->needles);
		else {
			w->lnext[nd - r->needles] = w->lhead[s];
			w->lhead[s] = (int32_t)(nd - r->needles);
		}
		prev = nd;
		pl = l;
	}
	return ns;
}

/* A state found (its failure link set): count its outputs, number it
 * (those with outputs last), queue it; returns its row's offset. */
static uint32_t
dfa_enter(struct rules *r, struct dfa_work *w, unsigned u, size_t *tail)
{
	int32_t	 x;

	w->cnt[u] = w->cnt[w->fail[u]] + (w->own[u] >= 0);
	for (x = w->lhead[u]; x >= 0; x = w->lnext[x])
		w->cnt[u]++;
	w->nid[u] = (uint16_t)(w->cnt[u] != 0 ? w->hi-- : w->lo++);
	w->oid[w->nid[u]] = (uint16_t)u;
	w->queue[(*tail)++] = (uint16_t)u;
	return row_of(w, r->dfa_ncls, w->nid[u], w->cnt[u] != 0);
}

/*
 * Breadth first: the failure link of each state and its row (that of
 * its failure state, then the steps into its children); then the
 * outputs of each state: its own needle, its long needles and those of
 * its failure state.
 */
static bool
dfa_links(struct parser *p, struct dfa_work *w, size_t ns)
{
	struct rules	*r = p->r;
	size_t		 head = 0, tail = 0, K = r->dfa_ncls, k, total = 0;
	uint32_t	*row, *frow, o;
	unsigned	 s, u, f;
	int32_t		 x;

	w->nid[0] = 0;
	w->oid[0] = 0;
	w->lo = 1;
	w->hi = ns - 1;
	for (u = w->kid[0]; u != 0; u = w->sib[u]) {
		w->fail[u] = 0;
		r->dfa[w->col[u]] = dfa_enter(r, w, u, &tail);
	}
	while (head < tail) {
		s = w->queue[head++];
		f = w->fail[s];
		row = &r->dfa[row_of(w, K, w->nid[s], w->cnt[s] != 0)];
		frow = &r->dfa[row_of(w, K, w->nid[f], w->cnt[f] != 0)];
		memcpy(row, frow, K * sizeof(*row));
		for (u = w->kid[s]; u != 0; u = w->sib[u]) {
			w->fail[u] = w->oid[nid_of(w, K, frow[w->col[u]])];
			row[w->col[u]] = dfa_enter(r, w, u, &tail);
		}
	}
	/* The states with outputs, numbered ns - 1 down to w->lo, have
	 * dfa_out[ns - 1 - number] (their row's rank from base). */
	r->dfa_base = w->base;
	for (k = 0; k < ns; k++)
		total += w->cnt[k];
	r->dfa_nout = ns - w->lo + 1;
	r->dfa_nouts = total + 1;
	if ((r->dfa_out = calloc(r->dfa_nout, sizeof(*r->dfa_out))) ==
	    NULL ||
	    (r->dfa_outs = calloc(r->dfa_nouts, sizeof(*r->dfa_outs))) == NULL)
		return rules_perr(p, "out of memory");
	for (k = 0, o = 0; k < ns - w->lo; k++) {
		r->dfa_out[k] = o;
		o += w->cnt[w->oid[ns - 1 - k]];
	}
	r->dfa_out[ns - w->lo] = o;
	/* A state's failure state comes before it in the queue. */
	for (k = 0; k < tail; k++) {
		s = w->queue[k];
		if (w->cnt[s] == 0)
			continue;
		o = r->dfa_out[ns - 1 - w->nid[s]];
		if (w->own[s] >= 0)
			r->dfa_outs[o++] = (uint32_t)w->own[s];
		for (x = w->lhead[s]; x >= 0; x = w->lnext[x])
			r->dfa_outs[o++] = (uint32_t)x | RULES_DFA_LONG;
		f = w->fail[s];
		if (w->cnt[f] != 0)
			memcpy(&r->dfa_outs[o],
			    &r->dfa_outs[r->dfa_out[ns - 1 - w->nid[f]]],
			    w->cnt[f] * sizeof(*r->dfa_outs));
	}
	return true;
}

/*
 * dfa_build - the prefilter's automaton: an Aho-Corasick automaton of the
 * needles, as a full table (one step per byte, no failure chain to follow
 * at match time), over the columns of the bytes the needles use.  A cell
 * holds the offset of the next state's row, and the states where needles
 * end come last (from r->dfa_base), so that a step is one load and the
 * test for outputs one comparison.  A needle longer than the automaton's
 * depth (only when the table would pass RULES_DFA_STATES states) is an
 * output of the state of its first dfa_depth bytes, and rules_match()
 * compares the rest.  The needles found are those a search of each in
 * the text finds.
 */
bool
rules_dfa_build(struct parser *p)
{
	struct rules	*r = p->r;
	struct dfa_work	 w;
	size_t		 k, j, ns, maxlen = 0;
	bool		 ok = false;

	memset(&w, 0, sizeof(w));
	r->dfa_ncls = 1;
	for (k = 0; k < r->nneedles; k++) {
		for (j = 0; j < r->needles[k].len; j++) {
			unsigned char b = (unsigned char)r->needles[k].s[j];

			if (r->dfa_cls[b] == 0)
				r->dfa_cls[b] = (uint8_t)r->dfa_ncls++;
		}
		if (r->needles[k].len > maxlen)
			maxlen = r->needles[k].len;
	}
	if ((w.ord = calloc(r->nneedles + 1, sizeof(*w.ord))) == NULL)
		return rules_perr(p, "out of memory");
	for (k = 0; k < r->nneedles; k++)
		w.ord[k] = &r->needles[k];
	qsort(w.ord, r->nneedles, sizeof(*w.ord), needle_cmp);
	/* At depth RULES_MIN_NEEDLE there are at most 3 * RULES_MAX_NEEDLES
	 * + 1 states, fewer than RULES_DFA_STATES. */
	r->dfa_depth = maxlen < RULES_DFA_DEPTH ? maxlen : RULES_DFA_DEPTH;
	if (r->dfa_depth < RULES_MIN_NEEDLE)
		r->dfa_depth = RULES_MIN_NEEDLE;
	while ((ns = dfa_states(r, w.ord, r->dfa_depth)) > RULES_DFA_STATES &&
	    r->dfa_depth > RULES_MIN_NEEDLE)
		r->dfa_depth--;
	/* Rows without outputs below base, a power of two above all of
	 * them; those with outputs from it (row_of()).  The rows between
	 * the last of the first kind and base are never touched. */
	for (w.base = 1; w.base < ns * r->dfa_ncls; w.base <<= 1)
		;
	w.ns = ns;
	r->dfa_len = w.base + ns * r->dfa_ncls;
	r->dfa = calloc(r->dfa_len, sizeof(*r->dfa));
	w.path = calloc(r->dfa_depth + 1, sizeof(*w.path));
	w.fail = calloc(ns, sizeof(*w.fail));
	w.queue = calloc(ns, sizeof(*w.queue));
	w.kid = calloc(ns, sizeof(*w.kid));
	w.sib = calloc(ns, sizeof(*w.sib));
	w.col = calloc(ns, sizeof(*w.col));
	w.nid = calloc(ns, sizeof(*w.nid));
	w.oid = calloc(ns, sizeof(*w.oid));
	w.own = malloc(ns * sizeof(*w.own));
	w.lhead = malloc(ns * sizeof(*w.lhead));
	w.lnext = malloc((r->nneedles + 1) * sizeof(*w.lnext));
	w.cnt = calloc(ns, sizeof(*w.cnt));
	if (r->dfa == NULL || w.path == NULL || w.fail == NULL ||
	    w.queue == NULL || w.kid == NULL || w.sib == NULL ||
	    w.col == NULL || w.nid == NULL || w.oid == NULL ||
	    w.own == NULL || w.lhead == NULL || w.lnext == NULL ||
	    w.cnt == NULL) {
		rules_perr(p, "out of memory");
		goto done;
	}
	memset(w.own, 0xff, ns * sizeof(*w.own));
	memset(w.lhead, 0xff, ns * sizeof(*w.lhead));
	if (dfa_trie(r, &w) != ns) {
		rules_perr(p, "prefilter automaton miscounted");
		goto done;
	}
	ok = dfa_links(p, &w, ns);
done:
	dfa_work_free(&w);
	return ok;
}
