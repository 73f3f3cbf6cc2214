/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * check_rules.c - unit tests of the rules module: the parser's errors
 * (with file:line), first match wins, conditions, the prefilter of
 * regular expressions, normalising text, bounded matching and
 * reference counting.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "verdict/rules.h"
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

	snprintf(text, sizeof(text), "text %s filtered\n", c->rule);
	r = parse_ok(text);
	res = match(r, c->text, none);
	ck_assert_msg((res.win.reason != NULL) == c->match,
	    "case %d %s on \"%s\": got %s, want %s", _i, c->rule, c->text,
	    res.win.reason != NULL ? "match" : "none",
	    c->match ? "match" : "none");
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
	for (i = 0; i < 20; i++)
		res = match(r, text, none);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_msg(res.win.reason == NULL, "got %s, want no match "
	    "(limit hit)", res.win.reason);
	ck_assert_msg(secs < 2.0, "got %.2f s for 20 matches, want < 2 s",
	    secs);
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
	suite_add_tcase(s, tc);

	tc = tcase_create("match");
	tcase_add_test(tc, test_rules_first_match_wins);
	TESTUTIL_LOOP(tc, test_rules_conditions_restrict, cond_cases);
	tcase_add_test(tc, test_rules_conflict_no_is_generic);
	TESTUTIL_LOOP(tc, test_rules_regex_prefilter_is_exact, re_cases);
	tcase_add_test(tc, test_rules_hostile_regex_is_bounded);
	suite_add_tcase(s, tc);

	tc = tcase_create("normalize");
	TESTUTIL_LOOP(tc, test_rules_normalize_folds, norm_cases);
	tcase_add_test(tc, test_rules_normalize_bounded);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_run(rules_suite()) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
