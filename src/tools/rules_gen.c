/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2026 The bounced authors.
 *
 * rules_gen.c - a build tool, never installed: it compiles the built-in
 * rules (etc/bounced.rules, as rules_default_text) with the same code
 * as any rules file, and writes the table it made as C data
 * (src/lib/verdict/rules_table.c), which rules_default() then hands out
 * as it is.
 *
 * Why: a process that classifies anything first compiled the whole
 * table: the rules read, their literals drawn from the expressions, the
 * prefilter's automaton built.  That was 1.5-2 ms and 10 million
 * instructions at every start of `bouncectl classify`, a tenth of
 * classifying the 613 bounces of the corpus and the held-out set.  The
 * expressions themselves stay uncompiled in the table (PCRE2 compiles
 * them at their first run, as for the text), so nothing here depends on
 * PCRE2's version.
 *
 * Every field of struct rules, struct rule, struct rules_re, struct
 * rules_branch and struct needle is written; a field added to them must
 * be added here.  check_rules compares the two tables' verdicts.
 *
 * usage: rules_gen > rules_table.c
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verdict/rules.h"
#include "verdict/rules_int.h"

/* s[0..n) as a C string literal: octal escapes for all but printable
 * ASCII, and for '?' (no trigraph can form). */
static void
cstr(const char *s, size_t n)
{
	size_t	 i;

	if (s == NULL) {
		fputs("NULL", stdout);
		return;
	}
	putchar('"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c >= 0x20 && c < 0x7f && c != '?')
			putchar(c);
		else
			printf("\\%03o", c);
	}
	putchar('"');
}

static void
cstr0(const char *s)
{
	cstr(s, s != NULL ? strlen(s) : 0);
}

/* The index of re in r->res. */
static size_t
re_index(const struct rules *r, const struct rules_re *re)
{
	size_t	 i;

	for (i = 0; i < r->nres; i++)
		if (r->res[i] == re)
			return i;
	fprintf(stderr, "rules_gen: an expression outside the table\n");
	exit(1);
}

static void
re_ref(const struct rules *r, const struct rules_re *re)
{
	if (re == NULL)
		fputs("NULL", stdout);
	else
		printf("&rt_re[%zu]", re_index(r, re));
}

/* n values of a size_t array, named name (one more, 0, so that none is
 * empty). */
static void
size_array(const char *name, const size_t *v, size_t n)
{
	size_t	 i;

	printf("static size_t %s[%zu] = {", name, n + 1);
	for (i = 0; i < n; i++)
		printf("%s%zu,", i % 12 == 0 ? "\n\t" : " ", v[i]);
	printf("%s0\n};\n", n % 12 == 0 ? "\n\t" : " ");
}

static void
u32_array(const char *name, const uint32_t *v, size_t n)
{
	size_t	 i;

	printf("static uint32_t %s[%zu] = {", name, n + 1);
	for (i = 0; i < n; i++)
		printf("%s%" PRIu32 ",", i % 10 == 0 ? "\n\t" : " ", v[i]);
	printf("%s0\n};\n", n % 10 == 0 ? "\n\t" : " ");
}

static void
expressions(const struct rules *r)
{
	const struct rules_re *re;
	size_t	 i;

	printf("static struct rules_re rt_re[%zu] = {\n", r->nres + 1);
	for (i = 0; i < r->nres; i++) {
		re = r->res[i];
		if (re->pat == NULL) {
			fprintf(stderr, "rules_gen: expression %zu compiled, "
			    "not kept as text\n", i);
			exit(1);
		}
		printf("\t{ .pat = ");
		cstr(re->pat, re->len);
		printf(", .len = %zu, .flags = %#" PRIx32 "u },\n", re->len,
		    re->flags);
	}
	printf("\t{ .pat = NULL }\n};\n");
	printf("static struct rules_re *rt_res[%zu] = {", r->nres + 1);
	for (i = 0; i < r->nres; i++)
		printf("%s&rt_re[%zu],", i % 6 == 0 ? "\n\t" : " ", i);
	printf("\n\tNULL\n};\n");
}

/* Every rule's branches, one array; each branch's needles, another. */
static void
branches(const struct rules *r)
{
	const struct rules_branch *b;
	size_t	 i, k, j, nb = 0, nn = 0;

	printf("static uint32_t rt_brn[] = {");
	for (i = 0; i < r->n; i++)
		for (k = 0; k < r->v[i].nbr; k++) {
			b = &r->v[i].br[k];
			for (j = 0; j < b->nneedles; j++, nn++)
				printf("%s%" PRIu32 ",", nn % 10 == 0 ?
				    "\n\t" : " ", b->needles[j]);
		}
	printf("%s0\n};\n", nn % 10 == 0 ? "\n\t" : " ");
	printf("static struct rules_branch rt_br[] = {\n");
	nn = 0;
	for (i = 0; i < r->n; i++)
		for (k = 0; k < r->v[i].nbr; k++, nb++) {
			b = &r->v[i].br[k];
			printf("\t{ ");
			re_ref(r, b->re);
			if (b->nneedles > 0)
				printf(", &rt_brn[%zu], %zu },\n", nn,
				    b->nneedles);
			else
				printf(", NULL, 0 },\n");
			nn += b->nneedles;
		}
	printf("\t{ NULL, NULL, 0 }\n};\n");
}

static void
cond(const struct rules_cond *c)
{
	size_t	 k;

	printf("\t  .cond = { .mtas = ");
	cstr0(c->mtas);
	printf(", .nstatus = %zu, .status = {", c->nstatus);
	for (k = 0; k < RULES_MAX_ALTS; k++)
		printf(" { %d, %d, %d },", c->status[k].c, c->status[k].s,
		    c->status[k].d);
	printf(" },\n\t    .has_code = %d, .code = { %d, %d }, .action = %d, "
	    ".kinds = %#xu, .cmds = %#xu,\n\t    .dtypes = ", c->has_code,
	    c->code.lo, c->code.hi, c->action, c->kinds, c->cmds);
	cstr0(c->dtypes);
	printf(", .remotes = ");
	cstr0(c->remotes);
	printf(", .nexit = %zu, .exits = {", c->nexit);
	for (k = 0; k < RULES_MAX_ALTS; k++)
		printf(" %d,", c->exits[k]);
	printf(" } },\n");
}

static void
rule_list(const struct rules *r)
{
	const struct rule *ru;
	size_t	 i, nb = 0;

	printf("static struct rule rt_v[%zu] = {\n", r->n + 1);
	for (i = 0; i < r->n; i++) {
		ru = &r->v[i];
		printf("\t{ .sel = (enum rules_sel)%d, .reason = ",
		    (int)ru->sel);
		cstr0(ru->reason);
		printf(", .line = %u,\n\t  .src = ", ru->line);
		cstr0(ru->src);
		printf(",\n\t  .cite = ");
		cstr0(ru->cite);
		printf(",\n");
		cond(&ru->cond);
		printf("\t  .action = %d, .kind = %d, .status = { %d, %d, %d },"
		    " .code = { %d, %d },\n\t  .literal = ", ru->action,
		    ru->kind, ru->status.c, ru->status.s, ru->status.d,
		    ru->code.lo, ru->code.hi);
		cstr(ru->literal, ru->litlen);
		printf(", .litlen = %zu, .re = ", ru->litlen);
		re_ref(r, ru->re);
		if (ru->nbr > 0)
			printf(", .br = &rt_br[%zu]", nb);
		else
			printf(", .br = NULL");
		printf(", .nbr = %zu,\n\t  .always = %d, .exact = %d, "
		    ".generic = %d, .advice = %d },\n", ru->nbr, ru->always,
		    ru->exact, ru->generic, ru->advice);
		nb += ru->nbr;
	}
	printf("\t{ .sel = RULES_SEL_ANY }\n};\n");
}

static void
needles(const struct rules *r)
{
	const struct needle *nd;
	size_t	 i, j, n = 0;

	printf("static size_t rt_ndr[] = {");
	for (i = 0; i < r->nneedles; i++)
		for (j = 0; j < r->needles[i].nrules; j++, n++)
			printf("%s%zu,", n % 12 == 0 ? "\n\t" : " ",
			    r->needles[i].rules[j]);
	printf("%s0\n};\n", n % 12 == 0 ? "\n\t" : " ");
	printf("static struct needle rt_needles[%zu] = {\n",
	    r->nneedles + 1);
	for (i = 0, n = 0; i < r->nneedles; i++) {
		nd = &r->needles[i];
		printf("\t{ ");
		cstr(nd->s, nd->len);
		printf(", %zu, &rt_ndr[%zu], %zu },\n", nd->len, n,
		    nd->nrules);
		n += nd->nrules;
	}
	printf("\t{ NULL, 0, NULL, 0 }\n};\n");
}

/* The automaton: its rows below dfa_base, then those from it (the
 * entries between are never read and stay zero). */
static void
automaton(const struct rules *r)
{
	size_t	 i, low = r->dfa_base;

	while (low > 0 && r->dfa[low - 1] == 0)
		low--;
	printf("static uint32_t rt_dfa[%zu] = {", r->dfa_len);
	for (i = 0; i < low; i++)
		printf("%s%" PRIu32 ",", i % 10 == 0 ? "\n\t" : " ",
		    r->dfa[i]);
	printf("\n\t[%" PRIu32 "] =", r->dfa_base);
	for (i = r->dfa_base; i < r->dfa_len; i++)
		printf("%s%" PRIu32 ",", (i - r->dfa_base) % 10 == 0 ?
		    "\n\t" : " ", r->dfa[i]);
	printf("\n};\n");
	u32_array("rt_dfa_out", r->dfa_out, r->dfa_nout);
	u32_array("rt_dfa_outs", r->dfa_outs, r->dfa_nouts);
}

int
main(void)
{
	struct rules	*r;
	char		 err[512];
	size_t		 i;

	if (rules_default(&r, err, sizeof(err)) != BD_OK) {
		fprintf(stderr, "rules_gen: %s\n", err);
		return 1;
	}
	printf("/* Generated by rules_gen (src/tools/rules_gen.c) from "
	    "etc/bounced.rules. */\n#include \"verdict/rules_int.h\"\n\n");
	expressions(r);
	branches(r);
	rule_list(r);
	needles(r);
	size_array("rt_plain", r->plain, r->nplain);
	size_array("rt_other", r->other, r->nother);
	size_array("rt_always", r->always, r->nalways);
	u32_array("rt_skey", r->skey, RULES_SKEYS + 1);
	size_array("rt_sids", r->sids, r->skey[RULES_SKEYS]);
	automaton(r);
	printf("struct rules rules_builtin_table = {\n"
	    "\t.builtin = true, .name = ");
	cstr0(r->name);
	printf(",\n\t.v = rt_v, .n = %zu,\n"
	    "\t.plain = rt_plain, .nplain = %zu,\n"
	    "\t.other = rt_other, .nother = %zu,\n"
	    "\t.skey = rt_skey, .sids = rt_sids,\n"
	    "\t.always = rt_always, .nalways = %zu,\n"
	    "\t.needles = rt_needles, .nneedles = %zu,\n"
	    "\t.dfa_cls = {", r->n, r->nplain, r->nother, r->nalways,
	    r->nneedles);
	for (i = 0; i < 256; i++)
		printf("%s%u,", i % 16 == 0 ? "\n\t    " : " ", r->dfa_cls[i]);
	printf("\n\t},\n\t.dfa_ncls = %zu, .dfa_depth = %zu,\n"
	    "\t.dfa = rt_dfa, .dfa_base = %" PRIu32 ", .dfa_len = %zu,\n"
	    "\t.dfa_out = rt_dfa_out, .dfa_nout = %zu,\n"
	    "\t.dfa_outs = rt_dfa_outs, .dfa_nouts = %zu,\n"
	    "\t.res = rt_res, .nres = %zu,\n};\n", r->dfa_ncls, r->dfa_depth,
	    r->dfa_base, r->dfa_len, r->dfa_nout, r->dfa_nouts, r->nres);
	rules_unref(r);
	return ferror(stdout) ? 1 : 0;
}
