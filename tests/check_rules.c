/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * check_rules.c - unit tests of the rules module: the parser's errors
 * (with file:line), first match wins, conditions, the prefilter of
 * regular expressions, normalising text, bounded matching, reference
 * counting, and the citations of the built-in rules: every rule names
 * the documented replies (tests/data/replies) or corpus bounces that
 * justify it, and its pattern matches each reply it cites.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "verdict/classify.h"
#include "verdict/rules.h"
#include "verdict/rules_int.h"
#include "testutil.h"

static struct rules *
parse_ok(const char *text)
{
	struct rules	*r = NULL;
	char		 err[256];
	enum bd_status	 st;

	st = rules_parse("t", text, strlen(text), &r, err, sizeof(err));
	ck_assert_msg(st == BD_OK, "rules_parse: got %d (%s), want BD_OK",
	    st, err);
	return r;
}

/*
 * Match text, normalised here, under r with the facts of q (its text,
 * action and kind are set here: a failed delivery in a report).
 */
static struct rules_result
match(const struct rules *r, const char *text, struct rules_query q)
{
	static char		 norm[RULES_TEXT_MAX + 1];
	struct rules_result	 res;

	q.textlen = rules_normalize(text, norm, sizeof(norm));
	q.text = norm;
	q.action = EV_ACT_FAILED;
	q.kind = DSN_KIND_REPORT;
	rules_match(r, &q, &res);
	return res;
}

/* A query of the given facts: Q(.status = "5.1.1", .reply_code = 550) */
#define Q(...)	((struct rules_query){ __VA_ARGS__ })
/* No facts but the text. */
static const struct rules_query none;

/* The winning reason, "(none)" if no rule matched. */
static const char *
won(const struct rules_result *res)
{
	return res->win.reason != NULL ? res->win.reason : "(none)";
}

static const struct bad_case {
	const char	*text;
	const char	*err;	/* expected prefix of the message */
} bad_cases[] = {
	{ "status 5.1.1 nosuchreason\n", "t:1: unknown reason" },
	{ "# c\n\nstatus 5.1 userunknown\n", "t:3: bad status pattern" },
	{ "status 6.1.1 userunknown\n", "t:1: bad status pattern" },
	{ "code 5x0 userunknown\n", "t:1: bad reply code pattern" },
	{ "code 650 userunknown\n", "t:1: bad reply code pattern" },
	{ "frob 5.1.1 userunknown\n", "t:1: unknown selector" },
	{ "text \"ab\" userunknown\n", "t:1: literal \"ab\" is shorter" },
	{ "text /(unclosed/ userunknown\n", "t:1: bad regular expression" },
	{ "text \"open userunknown\n", "t:1: unterminated pattern" },
	{ "text userunknown\n", "t:1: missing reason" },
	{ "status\n", "t:1: missing pattern" },
	{ "text word userunknown\n", "t:1: text pattern must be" },
	{ "status 5.1.1 userunknown mta\n", "t:1: option \"mta\" is not" },
	{ "status 5.1.1 userunknown color=red\n", "t:1: unknown option" },
	{ "status 5.1.1 userunknown action=lost\n", "t:1: unknown action" },
	{ "kind bogus feedback\n", "t:1: unknown report kind" },
	{ "any x onhold\n", "t:1: selector any takes" },
	{ "status 5.1.1 userunknown\nstatus 5.1.2 hostunknown\n"
	    "text /a[/ filtered\n", "t:3: bad regular expression" },
	{ "text /x/y userunknown\n", "t:1: text after the closing" },
	{ "any * blocked command=greet\n", "t:1: bad command list" },
	{ "any * blocked command=rcpt,\n", "t:1: bad command list" },
	{ "any * blocked command=rcpt command=data\n",
	    "t:1: duplicate option command" },
	{ "any * mailererror exit=0\n", "t:1: bad exit status list" },
	{ "any * mailererror exit=256\n", "t:1: bad exit status list" },
	{ "any * mailererror exit=71,\n", "t:1: bad exit status list" },
	{ "any * mailererror exit=1,2,3,4,5,6,7,8,9\n",
	    "t:1: bad exit status list" },
	{ "any * mailererror dtype=x-unix dtype=smtp\n",
	    "t:1: duplicate option dtype" },
	{ "any * blocked remote=a.example remote=b.example\n",
	    "t:1: duplicate option remote" },
	{ "any * blocked advice=later\n", "t:1: unknown advice" },
	{ "any * blocked advice=retry advice=none\n",
	    "t:1: duplicate option advice" },
	{ "any * blocked status=5.1.1,5.1\n", "t:1: bad status pattern list" },
	{ "any * blocked status=5.1.1,,5.1.2\n",
	    "t:1: bad status pattern list" },
	{ "any * blocked kind=bounce\n", "t:1: bad kind list" },
	{ "any * blocked kind=text,\n", "t:1: bad kind list" },
	{ "any * blocked kind=text kind=report\n",
	    "t:1: duplicate option kind" },
	{ "any * blocked cite=mta:2 cite=mta:3\n",
	    "t:1: duplicate option cite" },
};

START_TEST(test_rules_rejects_bad_file_with_line)
{
	const struct bad_case	*c = &bad_cases[_i];
	struct rules		*r = NULL;
	char			 err[256];
	enum bd_status		 st;

	st = rules_parse("t", c->text, strlen(c->text), &r, err, sizeof(err));
	ck_assert_msg(st == BD_ECONFIG, "case %d: got status %d, want "
	    "BD_ECONFIG", _i, st);
	ck_assert_msg(r == NULL, "case %d: got a table on error", _i);
	ck_assert_msg(strncmp(err, c->err, strlen(c->err)) == 0,
	    "case %d: got \"%s\", want \"%s...\"", _i, err, c->err);
}
END_TEST

START_TEST(test_rules_first_match_wins)
{
	struct rules		*r;
	struct rules_result	 res;

	r = parse_ok("# order matters\n"
	    "text \"mailbox full\" mailboxfull\n"
	    "status 5.1.1 userunknown\n"
	    "text \"user unknown\" filtered\n"
	    "text /mail(box)? full/ systemfull\n"
	    "code 5xx rejected\n");
	ck_assert_uint_eq(rules_count(r), 5);
	/* text before a status: the text rule wins */
	res = match(r, "550 5.1.1 Mailbox FULL",
	    Q(.status = "5.1.1", .reply_code = 550));
	ck_assert_msg(res.win.line == 2, "got line %u, want 2", res.win.line);
	ck_assert_str_eq(res.win.reason, "mailboxfull");
	ck_assert_str_eq(res.status.reason, "userunknown");
	/* a status before a text: the status wins, the text is reported */
	res = match(r, "user unknown",
	    Q(.status = "5.1.1", .reply_code = 550));
	ck_assert_msg(res.win.line == 3, "got line %u, want 3", res.win.line);
	ck_assert_msg(res.text.line == 4, "got text line %u, want 4",
	    res.text.line);
	/* a later regex only when nothing before matched */
	res = match(r, "the mail   full now",
	    Q(.status = "5.0.0", .reply_code = 550));
	ck_assert_msg(res.win.line == 5, "got line %u, want 5", res.win.line);
	/* reply code last */
	res = match(r, "go away", Q(.reply_code = 554));
	ck_assert_msg(res.win.line == 6, "got line %u, want 6", res.win.line);
	/* nothing at all */
	res = match(r, "go away", Q(.reply_code = 250));
	ck_assert_msg(res.win.reason == NULL, "got %s, want no match",
	    res.win.reason);
	rules_unref(r);
}
END_TEST

/* Conditions on the report's facts: mta=, status=, code=, conflict=. */
#define COND_RULES							\
	"text \"access denied\" userunknown mta=outlook,office365\n"	\
	"text \"access denied\" blocked status=5.7.*\n"			\
	"text \"access denied\" rejected code=55x\n"			\
	"text \"access denied\" securityerror\n"			\
	"status 4.*.* onhold conflict=no\n"
/* Lists of SMTP commands (none: the text named none) and statuses. */
#define CMD_RULES							\
	"text \"user unknown\" rejected command=mail\n"			\
	"text \"user unknown\" filtered command=data,none "		\
	"status=*.2.0,*.7.*\n"						\
	"text \"user unknown\" userunknown\n"				\
	"any * blocked command=connect,helo\n"
/* Diagnostic-Code type, exit status, remote host (and its subdomains). */
#define FACT_RULES							\
	"any * systemerror dtype=x-unix exit=75,77,78\n"		\
	"any * mailererror dtype=x-unix\n"				\
	"text \"unknown user\" rejected remote=docomo.ne.jp,au.com\n"	\
	"text \"greylist\" blocked advice=retry\n"
/* What the message is (kind=); cite= is no condition. */
#define KIND_RULES							\
	"text \"no such user\" filtered kind=text,autoreply cite=mta:2\n"	\
	"text \"no such user\" userunknown cite=corpus:x\n"

static const struct cond_case {
	const char		*rules;
	const char		*text;
	struct rules_query	 q;
	const char		*want;		/* "(none)": no rule */
	int			 advice;	/* the winner's, -1: none */
} cond_cases[] = {
	{ COND_RULES, "Access denied", { .status = "5.7.1", .reply_code = 554,
	    .mta = "office365" }, "userunknown", -1 },
	{ COND_RULES, "Access denied", { .status = "5.7.1", .reply_code = 554,
	    .mta = "gmail" }, "blocked", -1 },
	{ COND_RULES, "Access denied", { .status = "5.0.0",
	    .reply_code = 553 }, "rejected", -1 },
	{ COND_RULES, "Access denied", { .status = NULL }, "securityerror",
	    -1 },
	{ COND_RULES, "nothing", { .status = "4.4.1" }, "onhold", -1 },
	{ CMD_RULES, "User unknown", { .command = "mail" }, "rejected", -1 },
	{ CMD_RULES, "User unknown", { .status = "5.7.1", .command = "data" },
	    "filtered", -1 },
	/* command=none: the text named no command */
	{ CMD_RULES, "User unknown", { .status = "5.2.0" }, "filtered", -1 },
	/* the status list must hold too */
	{ CMD_RULES, "User unknown", { .status = "5.1.1", .command = "data" },
	    "userunknown", -1 },
	{ CMD_RULES, "User unknown", { .status = "5.7.1", .command = "rcpt" },
	    "userunknown", -1 },
	{ CMD_RULES, "whatever", { .command = "connect" }, "blocked", -1 },
	{ CMD_RULES, "whatever", { .command = "HELO" }, "blocked", -1 },
	{ CMD_RULES, "whatever", { .command = "rcpt" }, "(none)", -1 },
	{ CMD_RULES, "whatever", { .command = NULL }, "(none)", -1 },
	{ FACT_RULES, "75", { .dtype = "x-unix", .exit_status = 75 },
	    "systemerror", -1 },
	{ FACT_RULES, "75", { .dtype = "X-UNIX", .exit_status = 75 },
	    "systemerror", -1 },
	{ FACT_RULES, "71", { .dtype = "x-unix", .exit_status = 71 },
	    "mailererror", -1 },
	{ FACT_RULES, "75", { .dtype = "smtp" }, "(none)", -1 },
	{ FACT_RULES, "unknown user", { .dtype = "smtp",
	    .remote = "mx1.docomo.ne.jp" }, "rejected", -1 },
	{ FACT_RULES, "unknown user", { .dtype = "smtp",
	    .remote = "docomo.ne.jp" }, "rejected", -1 },
	{ FACT_RULES, "unknown user", { .dtype = "smtp",
	    .remote = "xdocomo.ne.jp" }, "(none)", -1 },
	{ FACT_RULES, "unknown user", { .dtype = "smtp",
	    .remote = "docomo.ne.jp.example" }, "(none)", -1 },
	{ FACT_RULES, "unknown user", { .dtype = "smtp" }, "(none)", -1 },
	{ FACT_RULES, "greylisted", { .dtype = NULL }, "blocked",
	    EV_ADV_RETRY },
	/* match() sets kind report */
	{ KIND_RULES, "No such user", { .dtype = NULL }, "userunknown", -1 },
};

START_TEST(test_rules_conditions_restrict)
{
	const struct cond_case	*c = &cond_cases[_i];
	struct rules		*r;
	struct rules_result	 res;

	r = parse_ok(c->rules);
	res = match(r, c->text, c->q);
	ck_assert_msg(strcmp(won(&res), c->want) == 0,
	    "case %d \"%s\": got %s, want %s", _i, c->text, won(&res),
	    c->want);
	if (res.win.reason != NULL)
		ck_assert_msg(res.win.advice == c->advice,
		    "case %d: advice: got %d, want %d", _i, res.win.advice,
		    c->advice);
	rules_unref(r);
}
END_TEST

START_TEST(test_rules_kind_and_cite)
{
	struct rules		*r;
	struct rules_result	 res;
	struct rules_query	 q = { 0 };
	char			 norm[64];

	r = parse_ok(KIND_RULES);
	q.textlen = rules_normalize("No such user", norm, sizeof(norm));
	q.text = norm;
	q.action = EV_ACT_FAILED;
	q.kind = DSN_KIND_TEXT;
	rules_match(r, &q, &res);
	ck_assert_msg(res.win.line == 1, "text: got line %u, want 1",
	    res.win.line);
	q.kind = DSN_KIND_NONE;
	rules_match(r, &q, &res);
	ck_assert_msg(res.win.line == 2, "none: got line %u, want 2",
	    res.win.line);
	ck_assert_str_eq(rules_line_cite(r, 1), "mta:2");
	ck_assert_str_eq(rules_line_cite(r, 2), "corpus:x");
	ck_assert_ptr_null(rules_line_cite(r, 3));
	ck_assert_uint_eq(rules_line_at(r, 1), 2);
	ck_assert_uint_eq(rules_line_at(r, 2), 0);
	rules_unref(r);
}
END_TEST

/*
 * The catalogue of documented replies: the reply column of each file, by
 * line number (1 is the header).
 */
#define CAT_MAX_ROWS	1024

struct catalogue {
	const char	*prefix;	/* as cited: prov, filt, mta */
	const char	*file;
	char		*text;		/* the file, cut into lines */
	const char	*reply[CAT_MAX_ROWS + 1];
	size_t		 nlines;
};

static void
catalogue_load(struct catalogue *c, const char *dir)
{
	char	*p, *line, *end;
	size_t	 len, col, reply_col = 0, n = 0;

	c->text = testutil_read_in(dir, c->file, &len);
	for (line = c->text; line != NULL && *line != '\0'; line = p) {
		if ((p = strchr(line, '\n')) != NULL)
			*p++ = '\0';
		n++;
		ck_assert_msg(n <= CAT_MAX_ROWS, "%s: more than %d lines",
		    c->file, CAT_MAX_ROWS);
		/* the reply column, found by name in the header */
		for (col = 0; line != NULL; col++) {
			end = strchr(line, '\t');
			if (end != NULL)
				*end = '\0';
			if (n == 1 && strcmp(line, "reply") == 0)
				reply_col = col;
			if (n > 1 && col == reply_col)
				c->reply[n] = line;
			line = end != NULL ? end + 1 : NULL;
		}
		ck_assert_msg(n == 1 ? reply_col > 0 : c->reply[n] != NULL,
		    "%s:%zu: no reply column", c->file, n);
	}
	c->nlines = n;
}

/*
 * The rule of src without its options: "selector pattern reason"
 * (options are the trailing words with '=', which no reason has).
 */
static void
rule_bare(const char *src, char *out, size_t outlen)
{
	size_t	 n = strlen(src), k;

	for (;;) {
		while (n > 0 && (src[n - 1] == ' ' || src[n - 1] == '\t'))
			n--;
		for (k = n; k > 0 && src[k - 1] != ' ' && src[k - 1] != '\t';)
			k--;
		if (memchr(src + k, '=', n - k) == NULL)
			break;
		n = k;
	}
	ck_assert_msg(n + 2 <= outlen, "rule too long: %s", src);
	memcpy(out, src, n);
	out[n] = '\n';
	out[n + 1] = '\0';
}

/* Does the rule (bare) decide the reply, classified as rules-test does? */
static bool
rule_matches(const char *bare, const char *reply)
{
	struct classify_input	 in = { 0 };
	struct verdict		 v;
	struct rules		*one = parse_ok(bare);

	in.diagnostic = reply;
	in.action = EV_ACT_FAILED;
	in.kind = DSN_KIND_REPORT;
	classify(one, &in, &v);
	rules_unref(one);
	return v.rule[0] != '\0';
}

/*
 * Every built-in rule cites what justifies it (bounced.rules(5)
 * CITATIONS): rows of the catalogue, whose reply its pattern must match,
 * corpus bounces (which must exist when ../shared/corpus is there) or
 * an RFC.
 */
START_TEST(test_rules_default_cites_its_evidence)
{
	struct catalogue cat[] = {
		{ .prefix = "prov", .file = "replies-providers.tsv" },
		{ .prefix = "filt", .file = "replies-filters-esps.tsv" },
		{ .prefix = "mta", .file = "replies-mta.tsv" },
	};
	struct rules	*r = NULL;
	char		 err[256], dir[4096], corpus[4096], path[4400];
	char		 bare[4200], item[256];
	const char	*cite, *src, *p, *e;
	unsigned	 line;
	size_t		 i, k, n, ncat = sizeof(cat) / sizeof(cat[0]);
	size_t		 nrow = 0, ncorpus = 0;
	bool		 have_corpus;
	enum bd_status	 st;

	ck_assert_msg(testutil_srcdir("tests/data/replies", dir, sizeof(dir)),
	    "no tests/data/replies in the source tree");
	for (k = 0; k < ncat; k++)
		catalogue_load(&cat[k], dir);
	have_corpus = testutil_shared("corpus/emails", corpus,
	    sizeof(corpus));
	st = rules_default(&r, err, sizeof(err));
	ck_assert_msg(st == BD_OK, "rules_default: got %d (%s)", st, err);
	for (i = 0; (line = rules_line_at(r, i)) != 0; i++) {
		src = rules_line_text(r, line);
		cite = rules_line_cite(r, line);
		ck_assert_msg(cite != NULL, "bounced.rules:%u cites nothing: %s",
		    line, src);
		rule_bare(src, bare, sizeof(bare));
		for (p = cite; *p != '\0'; p = *e != '\0' ? e + 1 : e) {
			if ((e = strchr(p, ',')) == NULL)
				e = p + strlen(p);
			n = (size_t)(e - p);
			ck_assert_msg(n > 0 && n < sizeof(item),
			    "bounced.rules:%u: empty or long cite item", line);
			memcpy(item, p, n);
			item[n] = '\0';
			if (strncmp(item, "corpus:", 7) == 0) {
				ncorpus++;
				if (!have_corpus)
					continue;
				ck_assert_msg((size_t)snprintf(path,
				    sizeof(path), "%s/%s.eml", corpus, item + 7) <
				    sizeof(path), "path too long");
				ck_assert_msg(access(path, R_OK) == 0,
				    "bounced.rules:%u: cites %s: no %s", line,
				    item, path);
				continue;
			}
			if (strncmp(item, "rfc:", 4) == 0) {
				ck_assert_msg(strspn(item + 4, "0123456789") ==
				    strlen(item + 4) && item[4] != '\0',
				    "bounced.rules:%u: bad cite %s", line, item);
				continue;
			}
			for (k = 0; k < ncat; k++) {
				size_t pl = strlen(cat[k].prefix);

				if (strncmp(item, cat[k].prefix, pl) == 0 &&
				    item[pl] == ':')
					break;
			}
			ck_assert_msg(k < ncat, "bounced.rules:%u: unknown cite "
			    "%s (want prov:N, filt:N, mta:N, corpus:NAME or "
			    "rfc:N)", line, item);
			n = strtoul(item + strlen(cat[k].prefix) + 1, NULL, 10);
			ck_assert_msg(n >= 2 && n <= cat[k].nlines,
			    "bounced.rules:%u: cites %s: no such row of %s",
			    line, item, cat[k].file);
			ck_assert_msg(rule_matches(bare, cat[k].reply[n]),
			    "bounced.rules:%u: cites %s, which it does not "
			    "match: \"%s\"", line, item, cat[k].reply[n]);
			nrow++;
		}
	}
	ck_assert_msg(i > 100, "got %zu rules, want > 100", i);
	ck_assert_msg(nrow > i, "got %zu catalogue citations for %zu rules, "
	    "want more", nrow, i);
	(void)ncorpus;
	rules_unref(r);
	for (k = 0; k < ncat; k++)
		free(cat[k].text);
}
END_TEST

/*
 * Speed: every built-in text rule has a literal the prefilter looks for
 * in each of its alternatives, so that none runs on every text (one
 * that did would cost a regular expression run per classify() call).
 */
/*
 * The built-in table compiles its expressions at their first run: each
 * must compile, which parsing the same text the eager way (as a file is)
 * shows here; and threads that race to the first run of the same
 * expressions all get the answers one thread gets.
 */
START_TEST(test_rules_default_every_regex_compiles)
{
	struct rules	*r = NULL;
	char		 err[256];

	ck_assert_msg(rules_parse("bounced.rules", rules_default_text,
	    rules_default_len, &r, err, sizeof(err)) == BD_OK,
	    "the built-in rules, compiled eagerly: %s", err);
	rules_unref(r);
}
END_TEST

/* Two strings, either NULL. */
static void
same_str(const char *a, const char *b, const char *what, size_t i)
{
	ck_assert_msg((a == NULL) == (b == NULL) && (a == NULL ||
	    strcmp(a, b) == 0), "%s of %zu: built-in \"%s\", text \"%s\"",
	    what, i, a != NULL ? a : "(null)", b != NULL ? b : "(null)");
}

/* The index of re in r's expressions, or -1 for NULL. */
static long
re_at(const struct rules *r, const struct rules_re *re)
{
	size_t	 i;

	if (re == NULL)
		return -1;
	for (i = 0; i < r->nres; i++)
		if (r->res[i] == re)
			return (long)i;
	ck_abort_msg("an expression outside its table");
	return -2;
}

#define SAME(f)	ck_assert_msg(b->f == t->f, #f ": built-in %lld, text %lld", \
	(long long)b->f, (long long)t->f)
#define SAME_ARRAY(f, n) ck_assert_msg((n) == 0 || memcmp(b->f, t->f, \
	(n) * sizeof(*b->f)) == 0, #f ": the built-in table differs")

/*
 * The table rules_default() hands out was compiled at build time
 * (src/tools/rules_gen.c): it is, field by field, the table the text
 * compiles to now; its expressions, kept as text, compile under the
 * same options to code of the same size as the text's.
 */
START_TEST(test_rules_builtin_is_the_text)
{
	struct rules	*b = NULL, *t = NULL;
	const struct rule *x, *y;
	char		 err[256];
	size_t		 i, k;

	ck_assert_int_eq(rules_default(&b, err, sizeof(err)), BD_OK);
	ck_assert_msg(rules_parse(RULES_DEFAULT_NAME, rules_default_text,
	    rules_default_len, &t, err, sizeof(err)) == BD_OK, "%s", err);
	ck_assert(b->builtin && !t->builtin);
	ck_assert_ptr_nonnull(b->mctx);
	SAME(n);
	SAME(nplain);
	SAME(nother);
	SAME(nalways);
	SAME(nneedles);
	SAME(nres);
	SAME(dfa_ncls);
	SAME(dfa_depth);
	SAME(dfa_base);
	SAME(dfa_len);
	SAME(dfa_nout);
	SAME(dfa_nouts);
	SAME_ARRAY(plain, b->nplain);
	SAME_ARRAY(other, b->nother);
	SAME_ARRAY(always, b->nalways);
	SAME_ARRAY(skey, RULES_SKEYS + 1);
	SAME_ARRAY(sids, b->skey[RULES_SKEYS]);
	SAME_ARRAY(dfa_cls, 256);
	SAME_ARRAY(dfa, b->dfa_len);
	SAME_ARRAY(dfa_out, b->dfa_nout);
	SAME_ARRAY(dfa_outs, b->dfa_nouts);
	same_str(b->name, t->name, "name", 0);
	for (i = 0; i < b->nneedles; i++) {
		ck_assert_uint_eq(b->needles[i].len, t->needles[i].len);
		ck_assert(memcmp(b->needles[i].s, t->needles[i].s,
		    b->needles[i].len) == 0);
		ck_assert_uint_eq(b->needles[i].nrules, t->needles[i].nrules);
		ck_assert(memcmp(b->needles[i].rules, t->needles[i].rules,
		    b->needles[i].nrules * sizeof(size_t)) == 0);
	}
	/* Each kept pattern compiles, under the text's options, to code of
	 * the size the text's compiled to. */
	for (i = 0; i < b->nres; i++) {
		uint32_t	 opts = 0;
		size_t		 tsize = 0, bsize = 0;
		pcre2_code	*tc = atomic_load(&t->res[i]->code), *bc;
		PCRE2_SIZE	 off;
		int		 ec;

		ck_assert_ptr_nonnull(tc);
		ck_assert_int_eq(pcre2_pattern_info(tc,
		    PCRE2_INFO_ARGOPTIONS, &opts), 0);
		ck_assert_uint_eq(b->res[i]->flags, opts);
		bc = pcre2_compile((PCRE2_SPTR)b->res[i]->pat, b->res[i]->len,
		    b->res[i]->flags, &ec, &off, NULL);
		ck_assert_msg(bc != NULL, "built-in expression %zu: %s", i,
		    b->res[i]->pat);
		ck_assert_int_eq(pcre2_pattern_info(tc, PCRE2_INFO_SIZE,
		    &tsize), 0);
		ck_assert_int_eq(pcre2_pattern_info(bc, PCRE2_INFO_SIZE,
		    &bsize), 0);
		ck_assert_uint_eq(bsize, tsize);
		pcre2_code_free(bc);
	}
	for (i = 0; i < b->n; i++) {
		x = &b->v[i];
		y = &t->v[i];
		ck_assert_int_eq(x->sel, y->sel);
		/* the vocabulary's own word: classify.c compares pointers */
		ck_assert_ptr_eq(x->reason, y->reason);
		ck_assert_uint_eq(x->line, y->line);
		same_str(x->src, y->src, "src", i);
		same_str(x->cite, y->cite, "cite", i);
		same_str(x->cond.mtas, y->cond.mtas, "mtas", i);
		same_str(x->cond.dtypes, y->cond.dtypes, "dtypes", i);
		same_str(x->cond.remotes, y->cond.remotes, "remotes", i);
		ck_assert_uint_eq(x->cond.nstatus, y->cond.nstatus);
		ck_assert(memcmp(x->cond.status, y->cond.status,
		    sizeof(x->cond.status)) == 0);
		ck_assert_int_eq(x->cond.has_code, y->cond.has_code);
		ck_assert(memcmp(&x->cond.code, &y->cond.code,
		    sizeof(x->cond.code)) == 0);
		ck_assert_int_eq(x->cond.action, y->cond.action);
		ck_assert_uint_eq(x->cond.kinds, y->cond.kinds);
		ck_assert_uint_eq(x->cond.cmds, y->cond.cmds);
		ck_assert_uint_eq(x->cond.nexit, y->cond.nexit);
		ck_assert(memcmp(x->cond.exits, y->cond.exits,
		    sizeof(x->cond.exits)) == 0);
		ck_assert_int_eq(x->action, y->action);
		ck_assert_int_eq(x->kind, y->kind);
		ck_assert(memcmp(&x->status, &y->status,
		    sizeof(x->status)) == 0);
		ck_assert(memcmp(&x->code, &y->code, sizeof(x->code)) == 0);
		ck_assert_uint_eq(x->litlen, y->litlen);
		ck_assert((x->literal == NULL) == (y->literal == NULL));
		ck_assert(x->literal == NULL ||
		    memcmp(x->literal, y->literal, x->litlen) == 0);
		ck_assert_int_eq(re_at(b, x->re), re_at(t, y->re));
		ck_assert_uint_eq(x->nbr, y->nbr);
		for (k = 0; k < x->nbr; k++) {
			ck_assert_int_eq(re_at(b, x->br[k].re),
			    re_at(t, y->br[k].re));
			ck_assert_uint_eq(x->br[k].nneedles,
			    y->br[k].nneedles);
			ck_assert(x->br[k].nneedles == 0 ||
			    memcmp(x->br[k].needles, y->br[k].needles,
			    x->br[k].nneedles * sizeof(uint32_t)) == 0);
		}
		ck_assert_int_eq(x->always, y->always);
		ck_assert_int_eq(x->exact, y->exact);
		ck_assert_int_eq(x->generic, y->generic);
		ck_assert_int_eq(x->advice, y->advice);
	}
	/* Shared, never freed: every caller gets the same table. */
	rules_unref(b);
	ck_assert_int_eq(rules_default(&b, err, sizeof(err)), BD_OK);
	ck_assert_ptr_eq(b, &rules_builtin_table);
	ck_assert_ptr_eq(rules_ref(b), b);
	rules_unref(b);
	rules_unref(b);
	rules_unref(t);
}
END_TEST

#undef SAME
#undef SAME_ARRAY

#define RACE_THREADS	8

static const char *const race_texts[] = {
	"550 5.1.1 <a@b.example>: Recipient address rejected: User unknown",
	"552 5.2.2 mailbox full, quota exceeded",
	"554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked "
	    "using zen.spamhaus.org",
	"421 4.7.0 Try again later, closing connection. (EHLO) too many "
	    "connections",
	"550 5.7.26 This message does not pass authentication checks "
	    "(SPF and DKIM both do not pass).",
	"Host or domain name not found. Name service error for name=x.example",
	"451 4.3.0 Temporary lookup failure",
	"550 Requested action not taken: mailbox unavailable",
};
#define NRACE	(sizeof(race_texts) / sizeof(race_texts[0]))

struct race {
	const struct rules	*r;
	pthread_barrier_t	*go;
	const char		*got[NRACE];
	int			 nre;		/* expressions run */
};

static void *
race_run(void *arg)
{
	struct race		*w = arg;
	struct rules_result	 res;
	struct rules_query	 q;
	char			 norm[RULES_TEXT_MAX + 1];	/* match()'s is
								   shared */
	size_t			 k;

	pthread_barrier_wait(w->go);
	for (k = 0; k < NRACE; k++) {
		memset(&q, 0, sizeof(q));
		q.textlen = rules_normalize(race_texts[k], norm, sizeof(norm));
		q.text = norm;
		q.action = EV_ACT_FAILED;
		q.kind = DSN_KIND_REPORT;
		w->nre += rules_match(w->r, &q, &res);
		w->got[k] = res.win.reason;
	}
	return NULL;
}

START_TEST(test_rules_default_lazy_race)
{
	struct rules		*one = NULL, *shared = NULL;
	struct race		 w[RACE_THREADS];
	pthread_t		 t[RACE_THREADS];
	pthread_barrier_t	 go;
	struct rules_result	 res;
	char			 err[256];
	size_t			 i, k;

	ck_assert_int_eq(rules_default(&one, err, sizeof(err)), BD_OK);
	ck_assert_int_eq(rules_default(&shared, err, sizeof(err)), BD_OK);
	ck_assert_int_eq(pthread_barrier_init(&go, NULL, RACE_THREADS), 0);
	for (i = 0; i < RACE_THREADS; i++) {
		w[i].r = shared;
		w[i].go = &go;
		w[i].nre = 0;
		ck_assert_int_eq(pthread_create(&t[i], NULL, race_run, &w[i]),
		    0);
	}
	for (i = 0; i < RACE_THREADS; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	pthread_barrier_destroy(&go);
	/* the race is on compiling: expressions did run */
	ck_assert_msg(w[0].nre >= 3, "expressions run: got %d, want >= 3",
	    w[0].nre);
	for (k = 0; k < NRACE; k++) {
		res = match(one, race_texts[k], none);
		for (i = 0; i < RACE_THREADS; i++)
			ck_assert_msg(res.win.reason == w[i].got[k],
			    "text %zu, thread %zu: got %s, want %s", k, i,
			    w[i].got[k] ? w[i].got[k] : "(none)",
			    res.win.reason ? res.win.reason : "(none)");
	}
	rules_unref(one);
	rules_unref(shared);
}
END_TEST

START_TEST(test_rules_default_none_runs_always)
{
	struct rules	*r = NULL;
	char		 err[256];
	size_t		 i;

	ck_assert_msg(rules_default(&r, err, sizeof(err)) == BD_OK,
	    "rules_default: %s", err);
	for (i = 0; i < r->n; i++)
		ck_assert_msg(r->v[i].sel != RULES_SEL_TEXT || !r->v[i].always,
		    "bounced.rules:%u runs on every text (an alternative "
		    "without a literal of %d bytes): %s", r->v[i].line,
		    RULES_MIN_NEEDLE, r->v[i].src);
	ck_assert_uint_eq(r->nalways, 0);
	rules_unref(r);
}
END_TEST

START_TEST(test_rules_conflict_no_is_generic)
{
	struct rules		*r;
	struct rules_result	 res;

	r = parse_ok(COND_RULES);
	res = match(r, "nothing", Q(.status = "4.4.1"));
	ck_assert_str_eq(won(&res), "onhold");
	ck_assert_msg(res.win.generic, "conflict=no: got specific, want "
	    "generic");
	rules_unref(r);
}
END_TEST

static const struct re_case {
	const char	*rule;
	const char	*text;
	bool		 match;
} re_cases[] = {
	/* alternation at the top: each branch has its own literal */
	{ "/over ?quota|mailbox (is )?full/", "Mailbox is full", true },
	{ "/over ?quota|mailbox (is )?full/", "user overquota", true },
	{ "/over ?quota|mailbox (is )?full/", "mailbox was full", false },
	/* optional characters do not become part of the literal */
	{ "/colou?r red/", "color red", true },
	{ "/colou?r red/", "colour red", true },
	/* no usable literal: the regex runs on every text */
	{ "/^\\d{3}:? : user/", "550 : user unknown", true },
	{ "/^\\d{3}:? : user/", "550 <a@b>: user unknown", false },
	{ "/a.c|x/", "abc", true },
	/* escaped punctuation is literal */
	{ "/mail\\.local/", "mail.local: failed", true },
	{ "/mail\\.local/", "mailxlocal", false },
	/* quantified groups and classes */
	{ "/(spf|dkim) (check )+fail/", "DKIM check check fail", true },
	{ "/no[ -]?reply allowed/", "noreply allowed", true },
	/* literal with spaces matches folded text */
	{ "\"user  unknown\"", "User\r\n\tUnknown", true },
};

START_TEST(test_rules_regex_prefilter_is_exact)
{
	const struct re_case	*c = &re_cases[_i];
	struct rules		*r;
	struct rules_result	 res;
	char			 text[256];
	int			 k;

	snprintf(text, sizeof(text), "text %s filtered\n", c->rule);
	r = parse_ok(text);
	/* Interpreted, then JIT-compiled once hot: the same answer. */
	for (k = 0; k < RULES_JIT_AFTER + 3; k++) {
		res = match(r, c->text, none);
		ck_assert_msg((res.win.reason != NULL) == c->match,
		    "case %d %s on \"%s\", run %d: got %s, want %s", _i,
		    c->rule, c->text, k,
		    res.win.reason != NULL ? "match" : "none",
		    c->match ? "match" : "none");
	}
	rules_unref(r);
}
END_TEST

/*
 * The prefilter's automaton on a table too big for it to hold every
 * byte of every literal (and literals longer than RULES_DFA_DEPTH): the
 * literals longer than its depth are compared beyond it.  Each literal
 * still finds its rule, and a text holding only the first bytes of a
 * long literal none.
 */
#define DEEP_RULES	2600
#define DEEP_LEN	20

START_TEST(test_rules_prefilter_deep_table)
{
	static char		 text[(DEEP_RULES + 8) * (DEEP_LEN + 40)];
	char			 lit[DEEP_RULES][DEEP_LEN + 1], pre[128], t[512];
	struct rules		*r;
	struct rules_result	 res;
	uint32_t		 x = 12345;
	size_t			 k, j, o = 0;

	for (k = 0; k < DEEP_RULES; k++) {
		for (j = 0; j < DEEP_LEN; j++) {
			x = x * 1103515245u + 12345u;
			lit[k][j] = (char)('a' + (x >> 16) % 26);
		}
		lit[k][DEEP_LEN] = '\0';
		o += (size_t)snprintf(text + o, sizeof(text) - o,
		    "text \"%s\" filtered\n", lit[k]);
	}
	/* Two literals that differ only after 110 shared bytes. */
	memset(pre, 'q', 110);
	pre[110] = '\0';
	o += (size_t)snprintf(text + o, sizeof(text) - o,
	    "text \"%s x\" userunknown\ntext \"%s y\" mailboxfull\n"
	    "text \"aab\" suspend\n", pre, pre);
	r = parse_ok(text);
	ck_assert_msg(r->dfa_depth < RULES_DFA_DEPTH, "depth %zu: the table "
	    "was not cut", r->dfa_depth);
	for (k = 0; k < DEEP_RULES; k++) {
		snprintf(t, sizeof(t), "550 %.*s here", DEEP_LEN, lit[k]);
		res = match(r, t, none);
		ck_assert_msg(res.win.reason != NULL &&
		    res.win.line == k + 1, "literal %zu: got line %u", k,
		    res.win.line);
	}
	snprintf(t, sizeof(t), "a %s y", pre);
	res = match(r, t, none);
	ck_assert_str_eq(won(&res), "mailboxfull");
	snprintf(t, sizeof(t), "a %s x", pre);
	res = match(r, t, none);
	ck_assert_str_eq(won(&res), "userunknown");
	snprintf(t, sizeof(t), "a %s z", pre);
	res = match(r, t, none);
	ck_assert_str_eq(won(&res), "(none)");
	snprintf(t, sizeof(t), "a %s", pre);
	res = match(r, t, none);
	ck_assert_str_eq(won(&res), "(none)");
	/*
	 * A needle at every offset of texts of every length the scan
	 * treats differently: one chain, two and four parts side by side,
	 * whose boundaries move with the length (and a literal longer than
	 * the automaton's depth across them).
	 */
	for (j = 3; j <= 300; j += j < 70 ? 1 : 37) {
		for (k = 0; k + 3 <= j; k++) {
			memset(t, 'x', j);
			memcpy(t + k, "aab", 3);
			t[j] = '\0';
			res = match(r, t, none);
			ck_assert_msg(res.win.reason != NULL &&
			    strcmp(res.win.reason, "suspend") == 0,
			    "\"aab\" at %zu of %zu: got %s", k, j, won(&res));
		}
	}
	for (k = 0; k + 112 <= 300; k++) {
		memset(t, 'x', 300);
		memcpy(t + k, pre, 110);
		memcpy(t + k + 110, " y", 2);
		t[300] = '\0';
		res = match(r, t, none);
		ck_assert_msg(res.win.reason != NULL &&
		    strcmp(res.win.reason, "mailboxfull") == 0,
		    "long literal at %zu of 300: got %s", k, won(&res));
	}
	/* Overlapping text: "aab" after a failed "aa" start. */
	res = match(r, "xaaab", none);
	ck_assert_str_eq(won(&res), "suspend");
	rules_unref(r);
}
END_TEST

static const struct norm_case {
	const char	*in;
	const char	*out;
} norm_cases[] = {
	{ "  Hello\r\n\tWORLD  ", "hello world" },
	{ "550-5.7.1 This is 550-5.7.1 folded 550 5.7.1 text",
	    "550-5.7.1 this is folded text" },
	{ "421-a 421-b", "421-a b" },
	{ "550 5.1.1 user 550 unknown", "550 5.1.1 user 550 unknown" },
	{ "", "" },
};

START_TEST(test_rules_normalize_folds)
{
	const struct norm_case	*c = &norm_cases[_i];
	char			 out[128];
	size_t			 n;

	n = rules_normalize(c->in, out, sizeof(out));
	ck_assert_msg(strcmp(out, c->out) == 0, "got \"%s\", want \"%s\"",
	    out, c->out);
	ck_assert_uint_eq(n, strlen(c->out));
}
END_TEST

/*
 * The sixteen-byte path of rules_normalize() gives the bytes of the
 * byte-by-byte one on hostile text: generated texts heavy in what it
 * must not decide itself (runs of white space, CR LF, tabs, "550-"
 * continuations, digits after blanks, bytes >= 0x80 and controls), of
 * every length up to 400 and with every kind of room in out.
 */
START_TEST(test_rules_normalize_simd_same)
{
	static const char alpha[] = "  \t\r\naAzZ55-2.1 x\x80\xc3\xa9\x01"
	    "Mailbox unavailable USER 4";
	static const size_t rooms[] = { 1, 2, 3, 16, 17, 18, 19, 20, 33,
	    34, 64, 200, RULES_TEXT_MAX + 1 };
	char		 in[512], a[RULES_TEXT_MAX + 64], b[RULES_TEXT_MAX + 64];
	uint32_t	 x = 2463534242u;
	size_t		 len, k, rm, na, nb, tries;

	for (tries = 0; tries < 20000; tries++) {
		len = tries % 401;
		for (k = 0; k < len; k++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			/* Mostly plain words, so that blocks do run. */
			in[k] = (x >> 8) % 4 != 0 ? (char)('a' + (x >> 12) % 26)
			    : alpha[(x >> 16) % (sizeof(alpha) - 1)];
		}
		/* Some texts are continued replies. */
		if (tries % 7 == 0 && len > 40)
			memcpy(in + len / 2, "\r\n550-5.1.1 ", 13);
		in[len] = '\0';
		for (rm = 0; rm < sizeof(rooms) / sizeof(rooms[0]); rm++) {
			memset(a, 'A', sizeof(a));
			memset(b, 'B', sizeof(b));
			na = rules_normalize_how(in, a, rooms[rm], true);
			nb = rules_normalize_how(in, b, rooms[rm], false);
			ck_assert_msg(na == nb && memcmp(a, b, na + 1) == 0,
			    "text %zu (\"%s\"), room %zu: \"%s\" (%zu) against "
			    "\"%s\" (%zu)", tries, in, rooms[rm], a, na, b, nb);
		}
	}
}
END_TEST

START_TEST(test_rules_normalize_bounded)
{
	char	*big, out[RULES_TEXT_MAX + 64];
	size_t	 n;

	big = malloc(1 << 20);
	ck_assert_ptr_nonnull(big);
	memset(big, 'A', (1 << 20) - 1);
	big[(1 << 20) - 1] = '\0';
	n = rules_normalize(big, out, sizeof(out));
	ck_assert_msg(n == RULES_TEXT_MAX, "got %zu bytes, want %d", n,
	    RULES_TEXT_MAX);
	n = rules_normalize(big, out, 10);
	ck_assert_msg(n == 9 && out[9] == '\0', "got %zu, want 9", n);
	free(big);
}
END_TEST

START_TEST(test_rules_hostile_regex_is_bounded)
{
	struct rules		*r;
	struct rules_result	 res;
	char			 text[RULES_TEXT_MAX + 1];
	struct timespec		 t0, t1;
	double			 secs;
	int			 i;

	/* Catastrophic backtracking on purpose. */
	r = parse_ok("text /(x+x+)+y/ filtered\n"
	    "text /(a|aa)+$/ filtered\n");
	memset(text, 'x', RULES_TEXT_MAX);
	text[RULES_TEXT_MAX] = '\0';
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* Interpreted, then JIT-compiled (RULES_JIT_AFTER): both bounded. */
	for (i = 0; i < RULES_JIT_AFTER + 20; i++) {
		res = match(r, text, none);
		ck_assert_msg(res.win.reason == NULL, "run %d: got %s, want "
		    "no match (limit hit)", i, res.win.reason);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_msg(secs < 2.0 * (RULES_JIT_AFTER + 20) / 20, "got %.2f s "
	    "for %d matches, want < 0.1 s each", secs, RULES_JIT_AFTER + 20);
	rules_unref(r);
}
END_TEST

START_TEST(test_rules_refcount_and_lines)
{
	struct rules	*r;
	const char	*src;

	r = parse_ok("\n# comment\n  text\t\"quota exceeded\"  mailboxfull \r\n"
	    "status *.1.1 userunknown # trailing comment\n");
	ck_assert_ptr_eq(rules_ref(r), r);
	rules_unref(r);
	ck_assert_uint_eq(rules_count(r), 2);
	src = rules_line_text(r, 3);
	ck_assert_msg(src != NULL && strcmp(src,
	    "text\t\"quota exceeded\"  mailboxfull") == 0,
	    "got \"%s\", want the rule as written", src ? src : "(null)");
	ck_assert_ptr_null(rules_line_text(r, 2));
	ck_assert_str_eq(rules_name(r), "t");
	rules_unref(r);
	rules_unref(NULL);
}
END_TEST

START_TEST(test_rules_default_and_load)
{
	static const char	 bad[] = "status 5.1.1 userunknown\n"
	    "status 5.x.y onhold\n";
	struct rules		*r = NULL;
	char			 err[256], dir[256], path[300];
	enum bd_status		 st;

	st = rules_default(&r, err, sizeof(err));
	ck_assert_msg(st == BD_OK, "rules_default: got %d (%s)", st, err);
	ck_assert_msg(rules_count(r) > 100, "got %zu rules, want > 100",
	    rules_count(r));
	ck_assert_str_eq(rules_name(r), RULES_DEFAULT_NAME);
	rules_unref(r);

	testutil_tmpdir("check_rules", dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/bounced.rules", dir);
	testutil_write_file(path, bad, sizeof(bad) - 1);
	st = rules_load(path, &r, err, sizeof(err));
	ck_assert_int_eq(st, BD_ECONFIG);
	ck_assert_msg(strstr(err, ":2: bad status pattern") != NULL &&
	    strncmp(err, path, strlen(path)) == 0,
	    "got \"%s\", want \"%s:2: bad status pattern...\"", err, path);
	testutil_rmtree(dir);
	st = rules_load(path, &r, err, sizeof(err));
	ck_assert_msg(st == BD_EIO, "missing file: got %d, want BD_EIO", st);
}
END_TEST

static Suite *
rules_suite(void)
{
	Suite	*s = suite_create("rules");
	TCase	*tc;

	tc = tcase_create("parse");
	TESTUTIL_LOOP(tc, test_rules_rejects_bad_file_with_line, bad_cases);
	tcase_add_test(tc, test_rules_refcount_and_lines);
	tcase_add_test(tc, test_rules_default_and_load);
	tcase_add_test(tc, test_rules_default_cites_its_evidence);
	suite_add_tcase(s, tc);

	tc = tcase_create("match");
	tcase_add_test(tc, test_rules_first_match_wins);
	TESTUTIL_LOOP(tc, test_rules_conditions_restrict, cond_cases);
	tcase_add_test(tc, test_rules_conflict_no_is_generic);
	tcase_add_test(tc, test_rules_kind_and_cite);
	tcase_add_test(tc, test_rules_default_none_runs_always);
	tcase_add_test(tc, test_rules_default_every_regex_compiles);
	tcase_add_test(tc, test_rules_builtin_is_the_text);
	tcase_add_test(tc, test_rules_default_lazy_race);
	TESTUTIL_LOOP(tc, test_rules_regex_prefilter_is_exact, re_cases);
	tcase_add_test(tc, test_rules_hostile_regex_is_bounded);
	tcase_add_test(tc, test_rules_prefilter_deep_table);
	suite_add_tcase(s, tc);

	tc = tcase_create("normalize");
	TESTUTIL_LOOP(tc, test_rules_normalize_folds, norm_cases);
	tcase_add_test(tc, test_rules_normalize_bounded);
	tcase_add_test(tc, test_rules_normalize_simd_same);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_run(rules_suite()) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
