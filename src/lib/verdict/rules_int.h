/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rules_int.h - the compiled form of a rules table, shared by rules.c
 * (parser, life cycle) and rules_match.c (evaluation).  Private to the
 * rules module.
 */
#ifndef BD_RULES_INT_H
#define BD_RULES_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <limits.h>
#include <stdatomic.h>
#include <string.h>

#include "verdict/rules.h"
#include "parse/smtpcmd.h"

#define RULES_MAX_RULES		4096	/* rules per file */
#define RULES_MAX_LINE		4096	/* bytes per line */
#define RULES_MIN_NEEDLE	3	/* shortest literal the prefilter indexes */
#define RULES_MAX_NEEDLES	8192	/* distinct literals per table (the
					   per-call bitmap of rules_match()) */
#define RULES_DFA_STATES	32767	/* states of the prefilter automaton */
#ifndef RULES_DFA_DEPTH
#define RULES_DFA_DEPTH		16	/* its depth: longer needles are
					   compared past it */
#endif
#define RULES_DFA_LONG		0x80000000u /* output: a needle longer than the
					   automaton's depth, check the rest */
#define RULES_MATCH_LIMIT	20000	/* pcre2 match() calls per subject */
#define RULES_DEPTH_LIMIT	2000	/* pcre2 backtracking depth */
#define RULES_HEAP_LIMIT	256	/* KiB of pcre2 backtracking heap */
#define RULES_MAX_ALTS		8	/* patterns of one status= option */

/* A status pattern: -1 is a wildcard part. */
struct rules_status {
	int		 c, s, d;
};

/* A reply code pattern: lo..hi inclusive. */
struct rules_code {
	int		 lo, hi;
};

/* Extra conditions any rule may carry (key=value options). */
struct rules_cond {
	char		*mtas;		/* ",a,b," or NULL */
	size_t		 nstatus;	/* status=a,b: any of them */
	struct rules_status status[RULES_MAX_ALTS];
	bool		 has_code;
	struct rules_code code;
	int		 action;	/* enum ev_action, or -1 */
	unsigned	 kinds;		/* kind=: 1 << enum dsn_kind, or 0 */
	unsigned	 cmds;		/* command=: 1 << smtpcmd_index(), or
					   RULES_CMD_NONE */
	char		*dtypes;	/* dtype=: ",a,b," or NULL */
	char		*remotes;	/* remote=: ",a,b," domain suffixes */
	size_t		 nexit;		/* exit=a,b: any of them */
	int		 exits[RULES_MAX_ALTS];
};

/*
 * A compiled expression, one per distinct pattern and flags of the table
 * (rules and branches that spell it the same way share it).  Interpreted
 * at first; after RULES_JIT_AFTER runs one thread JIT-compiles a copy and
 * publishes it, and later runs use that (the same matches, under the same
 * match limit; PCRE2 JIT compilation costs more than a few hundred runs
 * of the interpreter save, so what runs rarely is never compiled).
 */
struct rules_re {
	_Atomic(pcre2_code *) code;	/* interpreted; NULL until the first
					   run for a lazy table (pat) */
	char		*pat;		/* lazy: the pattern, flags */
	size_t		 len;
	uint32_t	 flags;
	_Atomic(pcre2_code *) jit;	/* JIT-compiled copy, or NULL */
	atomic_uint	 runs;		/* runs before jit (saturates) */
	atomic_flag	 jitting;	/* set by the thread that compiles */
};

#define RULES_JIT_AFTER		32	/* interpreted runs before JIT */
#define RULES_JIT_NEVER		UINT_MAX /* runs: JIT failed, never again */

/*
 * One top-level branch of a text regex ("a|b|c"), matched on its own:
 * a text can match the expression only through a branch one of whose
 * literals it contains, so rules_match() runs just those branches.
 */
struct rules_branch {
	struct rules_re	*re;		/* NULL: exact, finding a literal is
					   a match */
	uint32_t	*needles;	/* its literals' needle indexes */
	size_t		 nneedles;	/* 0: no literal, run on every text */
};

/* command=none: the text named no command. */
#define RULES_CMD_NONE	(1u << SMTPCMD_N)

struct rule {
	enum rules_sel	 sel;
	const char	*reason;	/* static vocabulary word */
	unsigned	 line;
	char		*src;		/* the line as written, trimmed */
	char		*cite;		/* cite=: what justifies it, or NULL */
	struct rules_cond cond;
	/* selector argument */
	int		 action;	/* RULES_SEL_ACTION */
	int		 kind;		/* RULES_SEL_KIND */
	struct rules_status status;	/* RULES_SEL_STATUS */
	struct rules_code code;		/* RULES_SEL_CODE */
	char		*literal;	/* RULES_SEL_TEXT "..." (normalised) */
	size_t		 litlen;
	struct rules_re	*re;		/* RULES_SEL_TEXT /.../ */
	struct rules_branch *br;	/* re split at its top-level '|', */
	size_t		 nbr;		/* or NULL and 0: run re whole */
	bool		 always;	/* regex without a usable prefilter */
	bool		 exact;		/* regex equivalent to its literals */
	bool		 generic;
	int		 advice;	/* advice=: enum ev_advice, or -1 */
};

/* A literal the prefilter looks for, and the text rules that need it. */
struct needle {
	char		*s;
	size_t		 len;
	size_t		*rules;		/* rule indexes, ascending */
	size_t		 nrules;
};

struct rules {
	atomic_uint	 refs;
	bool		 builtin;	/* rules_builtin_table: static data,
					   never freed, refs not counted */
	char		*name;
	struct rule	*v;
	size_t		 n;
	size_t		*plain;		/* indexes of non-text rules, ascending */
	size_t		 nplain;
	size_t		*other;		/* non-text, non-status rules */
	size_t		 nother;
	uint32_t	*skey;		/* RULES_SKEYS + 1 offsets into sids */
	size_t		*sids;		/* status rules that match a key */
	size_t		*always;	/* text rules run on every text */
	size_t		 nalways;
	struct needle	*needles;
	size_t		 nneedles;
	/*
	 * The prefilter: an Aho-Corasick automaton of every needle, one
	 * table step per byte of text.  States are trie nodes up to
	 * dfa_depth bytes deep (all of a needle's bytes unless the table
	 * would pass RULES_DFA_STATES).
	 */
	uint8_t		 dfa_cls[256];	/* byte -> column; 0: in no needle */
	size_t		 dfa_ncls;	/* columns of a row */
	size_t		 dfa_depth;	/* deepest state, in bytes */
	uint32_t	*dfa;		/* row offset + column -> the next
					   state's row offset (a multiple of
					   dfa_ncls; the start state is 0) */
	uint32_t	 dfa_base;	/* a power of two: the rows of the
					   states where needles end start
					   here, all others are below it, and
					   every row is below 2 * dfa_base */
	uint32_t	*dfa_out;	/* per such state (its row's rank
					   from dfa_base) + 1: offsets into
					   dfa_outs */
	uint32_t	*dfa_outs;	/* needle ids found on entering a state
					   (| RULES_DFA_LONG: only its first
					   dfa_depth bytes are known) */
	size_t		 dfa_len, dfa_nout, dfa_nouts; /* their entries */
	struct rules_re	**res;		/* the distinct expressions */
	size_t		 nres;
	pcre2_match_context *mctx;
};

/* The built-in rules compiled at build time (src/tools/rules_gen.c
 * writes it into rules_table.c): rules_default() hands it out. */
extern struct rules rules_builtin_table;

/* Status keys indexed directly: class 2/4/5, subject < 8, detail < 32. */
#define RULES_SKEYS	(3 * 8 * 32)

/* rules_skey - index of a status in the key table, or -1 if outside */
static inline int
rules_skey(int c, int s, int d)
{
	int ci = c == 2 ? 0 : c == 4 ? 1 : c == 5 ? 2 : -1;

	if (ci < 0 || s < 0 || s >= 8 || d < 0 || d >= 32)
		return -1;
	return (ci * 8 + s) * 32 + d;
}

/* rules_normalize_how - rules_normalize() with (simd true) or without its
 * sixteen-byte path (rules_normalize.c); for the tests, which compare */
size_t rules_normalize_how(const char *in, char *out, size_t outlen,
    bool simd);

#endif
