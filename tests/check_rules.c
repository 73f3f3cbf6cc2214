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
#include <unistd.h>

#include "rules.h"

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

/* Match text (already normalised here) with optional status/code. */
static struct rules_result
match(const struct rules *r, const char *text, const char *status,
    int code, const char *mta)
{
	struct rules_query	 q;
	struct rules_result	 res;
	char			 norm[RULES_TEXT_MAX + 1];

	memset(&q, 0, sizeof(q));
	q.textlen = rules_normalize(text, norm, sizeof(norm));
	q.text = norm;
	q.status = status;
	q.reply_code = code;
	q.action = EV_ACT_FAILED;
	q.kind = DSN_KIND_REPORT;
	q.mta = mta;
	rules_match(r, &q, &res);
	return res;
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
	res = match(r, "550 5.1.1 Mailbox FULL", "5.1.1", 550, NULL);
	ck_assert_msg(res.win.line == 2, "got line %u, want 2", res.win.line);
	ck_assert_str_eq(res.win.reason, "mailboxfull");
	ck_assert_str_eq(res.status.reason, "userunknown");
	/* a status before a text: the status wins, the text is reported */
	res = match(r, "user unknown", "5.1.1", 550, NULL);
	ck_assert_msg(res.win.line == 3, "got line %u, want 3", res.win.line);
	ck_assert_msg(res.text.line == 4, "got text line %u, want 4",
	    res.text.line);
	/* a later regex only when nothing before matched */
	res = match(r, "the mail   full now", "5.0.0", 550, NULL);
	ck_assert_msg(res.win.line == 5, "got line %u, want 5", res.win.line);
	/* reply code last */
	res = match(r, "go away", NULL, 554, NULL);
	ck_assert_msg(res.win.line == 6, "got line %u, want 6", res.win.line);
	/* nothing at all */
	res = match(r, "go away", NULL, 250, NULL);
	ck_assert_msg(res.win.reason == NULL, "got %s, want no match",
	    res.win.reason);
	rules_unref(r);
}
END_TEST

START_TEST(test_rules_conditions_restrict)
{
	struct rules		*r;
	struct rules_result	 res;

	r = parse_ok("text \"access denied\" userunknown mta=outlook,office365"
	    "\ntext \"access denied\" blocked status=5.7.*\n"
	    "text \"access denied\" rejected code=55x\n"
	    "text \"access denied\" securityerror\n"
	    "status 4.*.* onhold conflict=no\n");
	res = match(r, "Access denied", "5.7.1", 554, "office365");
	ck_assert_str_eq(res.win.reason, "userunknown");
	res = match(r, "Access denied", "5.7.1", 554, "gmail");
	ck_assert_str_eq(res.win.reason, "blocked");
	res = match(r, "Access denied", "5.0.0", 553, NULL);
	ck_assert_str_eq(res.win.reason, "rejected");
	res = match(r, "Access denied", NULL, 0, NULL);
	ck_assert_str_eq(res.win.reason, "securityerror");
	res = match(r, "nothing", "4.4.1", 0, NULL);
	ck_assert_str_eq(res.win.reason, "onhold");
	ck_assert_msg(res.win.generic, "conflict=no: got specific, want "
	    "generic");
	rules_unref(r);
}
END_TEST

/* Match with the SMTP command the failure answered. */
static const char *
match_cmd(const struct rules *r, const char *text, const char *status,
    const char *command)
{
	struct rules_query	 q;
	struct rules_result	 res;
	char			 norm[RULES_TEXT_MAX + 1];

	memset(&q, 0, sizeof(q));
	q.textlen = rules_normalize(text, norm, sizeof(norm));
	q.text = norm;
	q.status = status;
	q.action = EV_ACT_FAILED;
	q.kind = DSN_KIND_REPORT;
	q.command = command;
	rules_match(r, &q, &res);
	return res.win.reason != NULL ? res.win.reason : "(none)";
}

START_TEST(test_rules_command_and_status_lists)
{
	struct rules	*r;

	r = parse_ok("text \"user unknown\" rejected command=mail\n"
	    "text \"user unknown\" filtered command=data,none "
	    "status=*.2.0,*.7.*\n"
	    "text \"user unknown\" userunknown\n"
	    "any * blocked command=connect,helo\n");
	ck_assert_str_eq(match_cmd(r, "User unknown", NULL, "mail"),
	    "rejected");
	ck_assert_str_eq(match_cmd(r, "User unknown", "5.7.1", "data"),
	    "filtered");
	/* command=none: the text named no command */
	ck_assert_str_eq(match_cmd(r, "User unknown", "5.2.0", NULL),
	    "filtered");
	/* the status list must hold too */
	ck_assert_str_eq(match_cmd(r, "User unknown", "5.1.1", "data"),
	    "userunknown");
	ck_assert_str_eq(match_cmd(r, "User unknown", "5.7.1", "rcpt"),
	    "userunknown");
	ck_assert_str_eq(match_cmd(r, "whatever", NULL, "connect"),
	    "blocked");
	ck_assert_str_eq(match_cmd(r, "whatever", NULL, "HELO"), "blocked");
	ck_assert_str_eq(match_cmd(r, "whatever", NULL, "rcpt"), "(none)");
	ck_assert_str_eq(match_cmd(r, "whatever", NULL, NULL), "(none)");
	rules_unref(r);
}
END_TEST

/* Match text under r with the report facts rules can look at. */
static const struct rules_result *
match_facts(const struct rules *r, const char *text, const char *dtype,
    const char *remote, int exit_status, struct rules_result *res)
{
	static char	 norm[RULES_TEXT_MAX + 1];
	struct rules_query q;

	memset(&q, 0, sizeof(q));
	q.textlen = rules_normalize(text, norm, sizeof(norm));
	q.text = norm;
	q.action = EV_ACT_FAILED;
	q.kind = DSN_KIND_REPORT;
	q.dtype = dtype;
	q.remote = remote;
	q.exit_status = exit_status;
	rules_match(r, &q, res);
	return res;
}

START_TEST(test_rules_report_fact_conditions)
{
	struct rules		*r;
	struct rules_result	 res;
	static const struct {
		const char	*text, *dtype, *remote;
		int		 exit_status;
		const char	*want;
		int		 advice;
	} c[] = {
		{ "75", "x-unix", NULL, 75, "systemerror", -1 },
		{ "75", "X-UNIX", NULL, 75, "systemerror", -1 },
		{ "71", "x-unix", NULL, 71, "mailererror", -1 },
		{ "75", "smtp", NULL, 0, "(none)", -1 },
		{ "unknown user", "smtp", "mx1.docomo.ne.jp", 0, "rejected",
		    -1 },
		{ "unknown user", "smtp", "docomo.ne.jp", 0, "rejected", -1 },
		{ "unknown user", "smtp", "xdocomo.ne.jp", 0, "(none)", -1 },
		{ "unknown user", "smtp", "docomo.ne.jp.example", 0, "(none)",
		    -1 },
		{ "unknown user", "smtp", NULL, 0, "(none)", -1 },
		{ "greylisted", NULL, NULL, 0, "blocked", EV_ADV_RETRY },
	};
	size_t	 i;

	r = parse_ok("any * systemerror dtype=x-unix exit=75,77,78\n"
	    "any * mailererror dtype=x-unix\n"
	    "text \"unknown user\" rejected remote=docomo.ne.jp,au.com\n"
	    "text \"greylist\" blocked advice=retry\n");
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		match_facts(r, c[i].text, c[i].dtype, c[i].remote,
		    c[i].exit_status, &res);
		ck_assert_msg(strcmp(res.win.reason != NULL ? res.win.reason :
		    "(none)", c[i].want) == 0, "case %zu: got %s, want %s", i,
		    res.win.reason != NULL ? res.win.reason : "(none)",
		    c[i].want);
		if (res.win.reason != NULL)
			ck_assert_msg(res.win.advice == c[i].advice,
			    "case %zu: advice: got %d, want %d", i,
			    res.win.advice, c[i].advice);
	}
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
	res = match(r, c->text, NULL, 0, NULL);
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
		res = match(r, text, NULL, 0, NULL);
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
	struct rules	*r = NULL;
	char		 err[256], path[] = "/tmp/check_rules.XXXXXX";
	FILE		*fp;
	int		 fd;
	enum bd_status	 st;

	st = rules_default(&r, err, sizeof(err));
	ck_assert_msg(st == BD_OK, "rules_default: got %d (%s)", st, err);
	ck_assert_msg(rules_count(r) > 100, "got %zu rules, want > 100",
	    rules_count(r));
	ck_assert_str_eq(rules_name(r), RULES_DEFAULT_NAME);
	rules_unref(r);

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	fp = fdopen(fd, "w");
	fputs("status 5.1.1 userunknown\nstatus 5.x.y onhold\n", fp);
	fclose(fp);
	st = rules_load(path, &r, err, sizeof(err));
	ck_assert_int_eq(st, BD_ECONFIG);
	ck_assert_msg(strstr(err, ":2: bad status pattern") != NULL &&
	    strncmp(err, path, strlen(path)) == 0,
	    "got \"%s\", want \"%s:2: bad status pattern...\"", err, path);
	unlink(path);
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
	tcase_add_loop_test(tc, test_rules_rejects_bad_file_with_line, 0,
	    sizeof(bad_cases) / sizeof(bad_cases[0]));
	tcase_add_test(tc, test_rules_refcount_and_lines);
	tcase_add_test(tc, test_rules_default_and_load);
	suite_add_tcase(s, tc);

	tc = tcase_create("match");
	tcase_add_test(tc, test_rules_first_match_wins);
	tcase_add_test(tc, test_rules_conditions_restrict);
	tcase_add_test(tc, test_rules_command_and_status_lists);
	tcase_add_test(tc, test_rules_report_fact_conditions);
	tcase_add_loop_test(tc, test_rules_regex_prefilter_is_exact, 0,
	    sizeof(re_cases) / sizeof(re_cases[0]));
	tcase_add_test(tc, test_rules_hostile_regex_is_bounded);
	suite_add_tcase(s, tc);

	tc = tcase_create("normalize");
	tcase_add_loop_test(tc, test_rules_normalize_folds, 0,
	    sizeof(norm_cases) / sizeof(norm_cases[0]));
	tcase_add_test(tc, test_rules_normalize_bounded);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(rules_suite());
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
