/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rules_compile.h - the reader's state, shared by rules.c (reading a
 * rules file: lines, options, errors with name:line) and rules_compile.c
 * (regex compilation, prefilter literals, indexes).  Private to the rules
 * module.
 */
#ifndef BD_RULES_COMPILE_H
#define BD_RULES_COMPILE_H

#include <stdbool.h>
#include <stddef.h>

#include "verdict/rules_int.h"

/* The table being read and where its errors go. */
struct parser {
	const char	*name;
	unsigned	 line;
	char		*err;
	size_t		 errlen;
	struct rules	*r;
	size_t		 cap;
	size_t		 needcap;
	/* needle text -> index + 1, while reading: no quadratic dedupe */
	struct _GHashTable *needle_ix;
	/* flags and pattern -> struct rules_re *, while reading */
	struct _GHashTable *re_ix;
	size_t		 rescap;
	bool		 lazy;		/* compile expressions at first use */
};

/* rules_perr - "name:line: why" into p->err; always false */
bool rules_perr(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* rules_dfa_build - the prefilter automaton of every needle (rules_dfa.c) */
bool rules_dfa_build(struct parser *p);
/* rules_match_limits - r->mctx with the match limits; false: no memory */
bool rules_match_limits(struct rules *r);
/* rules_needle_add - index of prefilter literal s of rule; -1: no memory */
long rules_needle_add(struct parser *p, const char *s, size_t len,
    size_t rule);
/* rules_compile_regex - compile /pat/ of rule idx and index its literals */
bool rules_compile_regex(struct parser *p, struct rule *ru, const char *pat,
    size_t idx);
/* rules_branches_free - free ru's split branches (none is fine) */
void rules_branches_free(struct rule *ru);
/* rules_parser_done - free what the reader kept while reading */
void rules_parser_done(struct parser *p);
/* rules_finish - build the indexes of the table read; false: no memory */
bool rules_finish(struct parser *p);

#endif
