/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rules.h - classification rules as data: a compiled, immutable,
 * reference-counted table loaded from a rules file (bounced.rules(5)).
 * Pure: no logging.
 */
#ifndef BD_RULES_H
#define BD_RULES_H

#include "util/bd.h"
#include "parse/dsn.h"
#include "util/event.h"

struct rules;

/*
 * rules_parse - compile rules from text; name is used in "name:line".
 * On error returns BD_ECONFIG (or BD_ENOMEM) and writes "name:line: why"
 * into err.  *out has one reference.
 */
enum bd_status rules_parse(const char *name, const char *text, size_t len,
    struct rules **out, char *err, size_t errlen);
/* rules_load - rules_parse() of a file; path used as the name */
enum bd_status rules_load(const char *path, struct rules **out,
    char *err, size_t errlen);
/* rules_default - the rules compiled into the program (etc/bounced.rules) */
enum bd_status rules_default(struct rules **out, char *err, size_t errlen);
/* rules_ref - take a reference (thread-safe) */
struct rules *rules_ref(struct rules *r);
/* rules_unref - drop a reference, free at zero; NULL is fine */
void rules_unref(struct rules *r);
/* rules_count - number of rules, for the reload log line */
size_t rules_count(const struct rules *r);
/* rules_name - the name given to rules_parse() (file path or built-in) */
const char *rules_name(const struct rules *r);

/* rules_line_text - the source of the rule at line, or NULL */
const char *rules_line_text(const struct rules *r, unsigned line);
/* rules_line_cite - the cite= of the rule at line, or NULL */
const char *rules_line_cite(const struct rules *r, unsigned line);
/* rules_line_at - line of the i-th rule (file order), 0 past the end */
unsigned rules_line_at(const struct rules *r, size_t i);

/* The built-in rules (src/rules_default.c from etc/bounced.rules). */
extern const char rules_default_text[];
extern const size_t rules_default_len;
#define RULES_DEFAULT_NAME	"bounced.rules"

/* Bytes of diagnostic text looked at by text rules (after normalising). */
#define RULES_TEXT_MAX		2048

/* What one rule looks at (bounced.rules(5) "selector"). */
enum rules_sel {
	RULES_SEL_ANY = 0,	/* any: always (subject to its conditions) */
	RULES_SEL_ACTION,	/* action: the DSN Action */
	RULES_SEL_KIND,		/* kind: report, text, arf, autoreply */
	RULES_SEL_STATUS,	/* status: RFC 3463 code, with wildcards */
	RULES_SEL_CODE,		/* code: RFC 5321 reply code */
	RULES_SEL_TEXT,		/* text: literal or PCRE2 */
};

/*
 * The facts a rule can look at.  text must already be normalised with
 * rules_normalize() (lower-case ASCII, white space runs made one space).
 */
struct rules_query {
	const char	*status;	/* "x.y.z" or NULL */
	int		 reply_code;	/* 0 if none */
	const char	*text;		/* normalised, or NULL */
	size_t		 textlen;
	enum ev_action	 action;
	enum dsn_kind	 kind;
	const char	*mta;		/* report's MTA hint or NULL */
	const char	*command;	/* SMTP command answered, or NULL */
	const char	*dtype;		/* Diagnostic-Code type ("smtp",
					   "x-unix"), or NULL */
	const char	*remote;	/* remote MTA host name (lower-case,
					   no trailing dot), or NULL */
	int		 exit_status;	/* sysexits(3) status of a local
					   delivery agent (X-Unix), 1-255;
					   0 if none (EX_OK is no failure) */
};

/* One matching rule. reason is NULL when nothing of that kind matched. */
struct rules_hit {
	const char	*reason;	/* static vocabulary word */
	unsigned	 line;		/* line in the rules file */
	enum rules_sel	 sel;
	bool		 generic;	/* x.0.0, wildcard, conflict=no */
	int		 advice;	/* advice= (enum ev_advice), or -1 */
};

struct rules_result {
	struct rules_hit win;		/* first match in file order */
	struct rules_hit text;		/* first matching text rule */
	struct rules_hit status;	/* first matching status rule */
};

/*
 * rules_match - evaluate the rules in file order for q; fill *res.
 * Pure and thread-safe: r is immutable.  Returns the number of regular
 * expressions run (for benchmarks), or -1 when memory ran out (then
 * regular-expression rules count as not matching).
 */
int rules_match(const struct rules *r, const struct rules_query *q,
    struct rules_result *res);
/*
 * rules_normalize - copy at most RULES_TEXT_MAX bytes of in into out
 * (size outlen) lower-cased (ASCII), white space runs made one space,
 * leading and trailing space dropped and the "NNN-" continuation prefixes
 * of multi-line SMTP replies (RFC 5321 section 4.2.1) inside the text
 * removed.  Returns the length written (out is NUL-terminated).
 */
size_t rules_normalize(const char *in, char *out, size_t outlen);

/* The vocabulary of reasons and their default handling. */
enum rules_hardness {
	RULES_SOFT = 0,		/* never hard */
	RULES_HARD,		/* hard unless the report says delayed */
	RULES_HARD_PERM,	/* hard only with a permanent (5) class */
};

struct rules_reason {
	const char		*word;
	enum rules_hardness	 hardness;
	enum ev_who		 who;
	enum ev_advice		 advice;
	bool			 sender_side;	/* never moves it */
	const char		*detail;	/* "y.z" if derived */
	const char		*meaning;	/* for rules-test */
};

/* rules_reason_lookup - entry for word (case-insensitive), or NULL */
const struct rules_reason *rules_reason_lookup(const char *word);
/* rules_reason_at - i-th vocabulary entry, NULL past the end */
const struct rules_reason *rules_reason_at(size_t i);

#endif
