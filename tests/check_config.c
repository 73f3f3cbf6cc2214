/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * check_config.c - unit tests of bounced.conf(5) parsing (src/config.c):
 * every key, units, bounds, strict booleans, unknown and duplicate keys
 * with "file:line" errors, defaults, printing, the generic reader
 * (conf_file.c) and the address patterns (pattern.c).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "conf/conf.h"
#include "util/buf.h"
#include "conf/conf_file.h"
#include "util/pattern.h"
#include "verdict/state.h"
#include "testutil.h"

#define FB_DEFAULT	(STATE_FB_BIT(STATE_FB_ABUSE) | \
			STATE_FB_BIT(STATE_FB_OPT_OUT))


START_TEST(test_config_defaults)
{
	struct bd_config *c = testutil_config("");

	ck_assert_str_eq(c->socket,
	    "unix:" BD_RUNDIR "/bounced.sock");
	ck_assert_str_eq(c->user, "bounced");
	ck_assert_str_eq(c->pid_file, "");
	ck_assert_str_eq(c->database, BD_STATEDIR "/bounced.db");
	ck_assert_ptr_null(c->rules_file);
	ck_assert_ptr_nonnull(c->rules);
	ck_assert(c->syslog);
	ck_assert_str_eq(c->syslog_facility, "mail");
	ck_assert(!c->log_debug);
	ck_assert_str_eq(c->bounce_addresses, "");
	ck_assert_uint_eq(c->n_bounce_patterns, 0);
	ck_assert_int_eq(c->bounce_action, BOUNCE_CONTINUE);
	ck_assert_int_eq(c->on_error, ON_ERROR_TEMPFAIL);
	ck_assert_uint_eq(c->max_message_bytes, 1024 * 1024);
	ck_assert_uint_eq(c->soft_bounce_limit, 3);
	ck_assert_int_eq(c->soft_bounce_window, 30 * 86400);
	ck_assert_int_eq(c->busy_timeout, 5000);
	ck_assert_str_eq(c->campaign_header, "");
	ck_assert_int_eq(c->suppressed_rcpt, RCPT_OFF);
	ck_assert_str_eq(c->reject_reply,
	    "550 5.1.1 recipient address suppressed");
	ck_assert_str_eq(c->suppression_expiry, "");
	ck_assert_uint_eq(c->n_expiry, 0);
	ck_assert_uint_eq(c->sender_alert_rate, 50);
	ck_assert_str_eq(c->complaint_suppress, "abuse,opt-out");
	ck_assert_uint_eq(c->complaint_types, FB_DEFAULT);
	ck_assert_ptr_null(c->warnings);
	config_free(c);
}
END_TEST

START_TEST(test_config_every_key)
{
	static const char text[] =
	    "# a comment\n"
	    "\n"
	    "socket   inet:8895@127.0.0.1\n"
	    "UserID\tmilter:postfix\n"
	    "PidFile /run/bounced/bounced.pid  # trailing comment\n"
	    "Database /srv/b.db\r\n"
	    "RulesFile\n"
	    "Syslog off\n"
	    "SyslogFacility local3\n"
	    "LOGLEVEL Debug\n"
	    "BounceAddresses bounces+*@Example.com , *-bounce@x.org\n"
	    "BounceAction headers\n"
	    "OnError accept\n"
	    "MaxMessageBytes 64k\n"
	    "SoftBounceLimit 5\n"
	    "SoftBounceWindow 2w\n"
	    "DatabaseBusyTimeout 250ms\n"
	    "CampaignHeader X-Campaign-ID\n"
	    "SuppressedRecipients reject\n"
	    "RejectReply \"550 5.7.1 no thanks\"\n"
	    "SuppressionExpiry soft-limit:180d, complaint:1y\n"
	    "SenderSideAlertRate 0\n"
	    "ComplaintSuppress Virus , opt-out,fraud\n";
	struct bd_config *c = testutil_config(text);

	ck_assert_str_eq(c->socket, "inet:8895@127.0.0.1");
	ck_assert_str_eq(c->user, "milter:postfix");
	ck_assert_str_eq(c->pid_file, "/run/bounced/bounced.pid");
	ck_assert_str_eq(c->database, "/srv/b.db");
	ck_assert_ptr_null(c->rules_file);
	ck_assert(!c->syslog);
	ck_assert_str_eq(c->syslog_facility, "local3");
	ck_assert(c->log_debug);
	ck_assert_uint_eq(c->n_bounce_patterns, 2);
	ck_assert_str_eq(c->bounce_patterns[0], "bounces+*@example.com");
	ck_assert_str_eq(c->bounce_patterns[1], "*-bounce@x.org");
	ck_assert_int_eq(c->bounce_action, BOUNCE_HEADERS);
	ck_assert_int_eq(c->on_error, ON_ERROR_ACCEPT);
	ck_assert_uint_eq(c->max_message_bytes, 65536);
	ck_assert_uint_eq(c->soft_bounce_limit, 5);
	ck_assert_int_eq(c->soft_bounce_window, 14 * 86400);
	ck_assert_int_eq(c->busy_timeout, 250);
	ck_assert_str_eq(c->campaign_header, "X-Campaign-ID");
	ck_assert_int_eq(c->suppressed_rcpt, RCPT_REJECT);
	ck_assert_str_eq(c->reject_reply, "550 5.7.1 no thanks");
	ck_assert_str_eq(c->suppression_expiry,
	    "soft-limit:180d, complaint:1y");
	ck_assert_uint_eq(c->n_expiry, 2);
	ck_assert_str_eq(c->expiry[0].reason, "soft-limit");
	ck_assert_int_eq(c->expiry[0].after, 180 * 86400);
	ck_assert_str_eq(c->expiry[1].reason, "complaint");
	ck_assert_int_eq(c->expiry[1].after, 365 * 86400);
	ck_assert_uint_eq(c->sender_alert_rate, 0);
	/* kept in the registry's order, as bounced -n prints it */
	ck_assert_str_eq(c->complaint_suppress, "fraud,opt-out,virus");
	ck_assert_uint_eq(c->complaint_types, STATE_FB_BIT(STATE_FB_FRAUD) |
	    STATE_FB_BIT(STATE_FB_OPT_OUT) | STATE_FB_BIT(STATE_FB_VIRUS));
	config_free(c);
}
END_TEST

/* ComplaintSuppress: empty is off; the same set is the default. */
START_TEST(test_config_complaint_suppress)
{
	struct bd_config	*c, *d;
	char			*out = NULL, fixed[256];
	size_t			 len = 0;
	FILE			*fp;

	c = testutil_config("ComplaintSuppress\n");
	ck_assert_str_eq(c->complaint_suppress, "");
	ck_assert_msg(c->complaint_types == 0, "empty: got 0x%x, want 0 "
	    "(off)", c->complaint_types);
	config_free(c);
	c = testutil_config("ComplaintSuppress   \n");
	ck_assert_uint_eq(c->complaint_types, 0);
	config_free(c);
	c = testutil_config("complaintsuppress OPT-OUT,abuse\n");
	ck_assert_uint_eq(c->complaint_types, FB_DEFAULT);
	ck_assert_ptr_nonnull(fp = open_memstream(&out, &len));
	config_print(c, fp, false);
	fclose(fp);
	ck_assert_msg(strcmp(out, "") == 0, "non-default: got \"%s\", want "
	    "\"\" (the default set)", out);
	free(out);
	/* reloadable: not among the keys a reload cannot change */
	d = testutil_config("ComplaintSuppress abuse,virus\n");
	config_fixed_changed(c, d, fixed, sizeof(fixed));
	ck_assert_str_eq(fixed, "");
	config_free(c);
	config_free(d);
}
END_TEST

static const struct unit_case {
	const char	*line;
	int64_t		 want;
	int		 field;		/* 0 size, 1 window, 2 busy ms */
} unit_cases[] = {
	{ "MaxMessageBytes 4096", 4096, 0 },
	{ "MaxMessageBytes 4k", 4096, 0 },
	{ "MaxMessageBytes 2M", 2 << 20, 0 },
	{ "MaxMessageBytes 2m", 2 << 20, 0 },
	{ "SoftBounceWindow 3600s", 3600, 1 },
	{ "SoftBounceWindow 90m", 5400, 1 },
	{ "SoftBounceWindow 1h", 3600, 1 },
	{ "SoftBounceWindow 7d", 7 * 86400, 1 },
	{ "SoftBounceWindow 1w", 7 * 86400, 1 },
	{ "DatabaseBusyTimeout 30s", 30000, 2 },
	{ "DatabaseBusyTimeout 2s", 2000, 2 },
	{ "DatabaseBusyTimeout 1m", 60000, 2 },
	{ "DatabaseBusyTimeout 0", 0, 2 },
};

START_TEST(test_config_units)
{
	const struct unit_case	*u = &unit_cases[_i];
	struct bd_config	*c = testutil_config(u->line);
	int64_t			 got;

	got = u->field == 0 ? (int64_t)c->max_message_bytes :
	    u->field == 1 ? c->soft_bounce_window : c->busy_timeout;
	ck_assert_msg(got == u->want, "%s: got %lld, want %lld", u->line,
	    (long long)got, (long long)u->want);
	config_free(c);
}
END_TEST

static const struct bool_case {
	const char	*v;
	bool		 want;
} bool_cases[] = {
	{ "yes", true }, { "YES", true }, { "true", true }, { "on", true },
	{ "1", true }, { "no", false }, { "False", false }, { "off", false },
	{ "0", false },
};

START_TEST(test_config_booleans)
{
	char			 line[64];
	struct bd_config	*c;

	(void)snprintf(line, sizeof(line), "Syslog %s\n", bool_cases[_i].v);
	c = testutil_config(line);
	ck_assert_msg(c->syslog == bool_cases[_i].want, "%s: got %d, want %d",
	    bool_cases[_i].v, c->syslog, bool_cases[_i].want);
	config_free(c);
}
END_TEST

static const struct bad_case {
	const char	*text;
	const char	*want;	/* substring of the error */
} bad_cases[] = {
	{ "Nonsense 1\n", "t.conf:1: unknown key \"Nonsense\"" },
	{ "\n# x\nSyslog yes\nsyslog no\n", "t.conf:4: duplicate key Syslog" },
	{ "Syslog yep\n", "t.conf:1: Syslog: not a boolean" },
	{ "Syslog t\n", "t.conf:1: Syslog: not a boolean" },
	{ "Syslog\n", "t.conf:1: Syslog: empty value" },
	{ "SoftBounceLimit 0\n",
	    "t.conf:1: SoftBounceLimit: 0 is out of range" },
	{ "SoftBounceLimit 21\n", "SoftBounceLimit: 21 is out of range 1..20" },
	{ "SoftBounceLimit 3x\n", "not a whole number" },
	{ "SoftBounceLimit -1\n", "negative" },
	{ "SoftBounceLimit 99999999999999999999999\n", "too large" },
	{ "MaxMessageBytes 1k\n", "MaxMessageBytes: 1k is out of range" },
	{ "MaxMessageBytes 10q\n", "bad size unit" },
	{ "MaxMessageBytes 9999999999999999G\n", "too large" },
	{ "SoftBounceWindow 5x\n", "bad time unit" },
	{ "SoftBounceWindow 30\n", "a unit is required" },
	{ "SuppressionExpiry hard:30\n", "a unit is required" },
	{ "SoftBounceWindow 1m\n", "out of range" },
	{ "DatabaseBusyTimeout 1h\n", "out of range" },
	{ "BounceAction reject\n", "BounceAction: not one of continue, "
	    "headers, discard" },
	{ "OnError maybe\n", "OnError: not one of tempfail, accept" },
	{ "LogLevel trace\n", "LogLevel: not one of info, debug" },
	{ "SuppressedRecipients yes\n", "SuppressedRecipients: not one of" },
	{ "Socket /tmp/s\n", "Socket: not a socket" },
	{ "Socket inet:99999@localhost\n", "Socket: not a socket" },
	{ "Socket unix:relative\n", "Socket: not a socket" },
	{ "Database bounced.db\n", "Database: not an absolute path" },
	{ "RulesFile rules\n", "RulesFile: not an absolute path" },
	{ "UserID bad user\n", "UserID: not a user" },
	{ "UserID a:b:c\n", "UserID: not a user" },
	{ "SyslogFacility kern2\n", "unknown syslog facility" },
	{ "CampaignHeader X Bad\n", "not a header field name" },
	{ "SuppressionExpiry manual:30d\n", "SuppressionExpiry: \"manual\": "
	    "the reason is not" },
	{ "SuppressionExpiry hard\n", "want REASON:DURATION" },
	{ "SuppressionExpiry hard:1d hard:2d\n", "hard given twice" },
	{ "SuppressionExpiry hard:soon\n", "not a number" },
	{ "SenderSideAlertRate 1000001\n", "out of range 0..1000000" },
	{ "SenderSideAlertRate 5/h\n", "not a whole number" },
	{ "CampaignHeader X:y\n", "not a header field name" },
	{ "RejectReply 250 ok\n", "RejectReply: not an SMTP reply" },
	{ "RejectReply 550 100%\n", "RejectReply: not an SMTP reply" },
	{ "RejectReply 550\n", "RejectReply: not an SMTP reply" },
	{ "BounceAddresses a b@x\n", "white space" },
	{ "ComplaintSuppress abuse,spam\n", "t.conf:1: ComplaintSuppress: "
	    "\"spam\" is not a Feedback-Type" },
	{ "\n# no\nComplaintSuppress not-spam\n", "t.conf:3: "
	    "ComplaintSuppress: not-spam says the mail was wanted" },
	{ "ComplaintSuppress abuse,,virus\n", "t.conf:1: ComplaintSuppress: "
	    "empty item" },
	{ "ComplaintSuppress abuse opt-out\n", "is not a Feedback-Type" },
	{ "RulesFile /nonexistent/bounced.rules\n",
	    "/nonexistent/bounced.rules" },
};

START_TEST(test_config_rejects_bad_input)
{
	const struct bad_case	*b = &bad_cases[_i];
	struct bd_config	*c = NULL;
	char			 err[512] = "";
	enum bd_status		 s;

	s = config_parse("t.conf", b->text, strlen(b->text), &c, err,
	    sizeof(err));
	ck_assert_msg(s != BD_OK, "\"%s\": got success, want an error",
	    b->text);
	ck_assert_ptr_null(c);
	ck_assert_msg(strstr(err, b->want) != NULL,
	    "\"%s\": got \"%s\", want it to contain \"%s\"", b->text, err,
	    b->want);
}
END_TEST

START_TEST(test_config_rejects_nul_and_long_lines)
{
	struct bd_config	*c;
	char			 err[256], *big;
	static const char	 nul[] = "Syslog yes\nSys\0log no\n";
	size_t			 n = 10000;

	ck_assert_int_eq(config_parse("t.conf", nul, sizeof(nul) - 1, &c, err,
	    sizeof(err)), BD_ECONFIG);
	ck_assert_msg(strstr(err, "t.conf:2: NUL") != NULL, "got %s", err);
	big = malloc(n + 1);
	memset(big, 'a', n);
	big[n] = '\0';
	ck_assert_int_eq(config_parse("t.conf", big, n, &c, err,
	    sizeof(err)), BD_ECONFIG);
	ck_assert_msg(strstr(err, "t.conf:1: line longer") != NULL, "got %s",
	    err);
	free(big);
}
END_TEST

START_TEST(test_config_warns_outside_advised_range)
{
	struct bd_config *c = testutil_config("\nSoftBounceLimit 10\n");

	ck_assert_ptr_nonnull(c->warnings);
	ck_assert_msg(strstr(c->warnings, "t.conf:2: SoftBounceLimit 10 is "
	    "outside the advised range 3..5") != NULL, "got %s", c->warnings);
	config_free(c);
}
END_TEST

START_TEST(test_config_load_file)
{
	static const char	 text[] = "OnError accept\nOnError tempfail\n";
	struct bd_config	*c;
	char			 dir[256], path[300], err[512];

	testutil_tmpdir("check_config", dir, sizeof(dir));
	(void)snprintf(path, sizeof(path), "%s/bounced.conf", dir);
	testutil_write_file(path, text, sizeof(text) - 1);
	ck_assert_int_eq(config_load(path, &c, err, sizeof(err)), BD_ECONFIG);
	ck_assert_msg(strncmp(err, path, strlen(path)) == 0 &&
	    strstr(err, ":2: duplicate key OnError") != NULL, "got %s", err);
	testutil_rmtree(dir);
	ck_assert_int_eq(config_load(path, &c, err, sizeof(err)), BD_EIO);
	ck_assert_int_eq(config_load(NULL, &c, err, sizeof(err)), BD_OK);
	ck_assert_str_eq(c->syslog_facility, "mail");
	config_free(c);
}
END_TEST

START_TEST(test_config_print_non_default)
{
	struct bd_config	*c;
	char			*out = NULL;
	size_t			 len = 0;
	FILE			*fp;

	c = testutil_config("SoftBounceWindow 7d\nBounceAction discard\n"
	    "MaxMessageBytes 1024k\n");
	ck_assert_ptr_nonnull(fp = open_memstream(&out, &len));
	config_print(c, fp, false);
	fclose(fp);
	ck_assert_str_eq(out, "BounceAction discard\nSoftBounceWindow 7d\n");
	free(out);
	config_free(c);
}
END_TEST

START_TEST(test_config_fixed_changed)
{
	struct bd_config	*a = testutil_config("Socket inet:1@x\n");
	struct bd_config	*b = testutil_config("Socket inet:2@x\n"
	    "BounceAction discard\nDatabase /x.db\n");
	char			 out[256];

	config_fixed_changed(a, b, out, sizeof(out));
	ck_assert_str_eq(out, "Database,Socket");
	config_fixed_changed(a, a, out, sizeof(out));
	ck_assert_str_eq(out, "");
	config_free(a);
	config_free(b);
}
END_TEST

START_TEST(test_config_refcount)
{
	struct bd_config *c = testutil_config("");

	ck_assert_ptr_eq(config_ref(c), c);
	config_unref(c);
	ck_assert_uint_eq(c->refs, 1);
	config_unref(c);	/* frees; valgrind/ASan would see a leak else */
}
END_TEST

static const struct glob_case {
	const char	*pat, *s;
	bool		 want;
} glob_cases[] = {
	{ "bounces+*@example.com", "bounces+bob=x.test@example.com", true },
	{ "bounces+*@example.com", "BOUNCES+a@Example.COM", true },
	{ "bounces+*@example.com", "bounces@example.com", false },
	{ "bounces+*@example.com", "bounces+a@example.com.evil", false },
	{ "*-bounce@x.org", "list-bounce@x.org", true },
	{ "a?c", "abc", true },
	{ "a?c", "ac", false },
	{ "*", "", true },
	{ "**a*b*c*", "xxaxxbxxc", true },
	{ "*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false },
};

START_TEST(test_pattern_match)
{
	const struct glob_case *g = &glob_cases[_i];

	ck_assert_msg(pattern_match(g->pat, g->s) == g->want,
	    "%s ~ %s: got %d, want %d", g->pat, g->s, !g->want, g->want);
}
END_TEST

START_TEST(test_config_bounce_address)
{
	struct bd_config *c = testutil_config("BounceAddresses "
	    "bounces+*@example.com,*-bounce@x.org\n");

	ck_assert(config_is_bounce_address(c, "<bounces+u=d@example.com>"));
	ck_assert(config_is_bounce_address(c, "list-Bounce@X.org"));
	ck_assert(!config_is_bounce_address(c, "<user@example.com>"));
	ck_assert(!config_is_bounce_address(c, ""));
	config_free(c);
}
END_TEST

/* conffile_format() writes what conffile_scaled() reads back. */
static const struct fmt_case {
	enum conffile_unit	 u;
	int64_t			 v;
	const char		*want;
} fmt_cases[] = {
	{ CONFFILE_COUNT, 0, "0" }, { CONFFILE_COUNT, 50, "50" },
	{ CONFFILE_BYTES, 1000, "1000" }, { CONFFILE_BYTES, 65536, "64k" },
	{ CONFFILE_BYTES, 3 << 20, "3M" }, { CONFFILE_BYTES, 1 << 30, "1G" },
	{ CONFFILE_SECONDS, 0, "0s" }, { CONFFILE_SECONDS, 90, "90s" },
	{ CONFFILE_SECONDS, 120, "2m" }, { CONFFILE_SECONDS, 7200, "2h" },
	{ CONFFILE_SECONDS, 14 * 86400, "14d" },
	{ CONFFILE_MSEC, 250, "250ms" }, { CONFFILE_MSEC, 5000, "5s" },
	{ CONFFILE_MSEC, 60000, "1m" },
};

START_TEST(test_conffile_format_round_trip)
{
	const struct fmt_case	*f = &fmt_cases[_i];
	char			 out[32];
	const char		*why;
	int64_t			 back;

	conffile_format(f->u, f->v, out, sizeof(out));
	ck_assert_msg(strcmp(out, f->want) == 0, "format %lld: got %s, "
	    "want %s", (long long)f->v, out, f->want);
	why = conffile_scaled(f->u, out, &back);
	ck_assert_msg(why == NULL && back == f->v, "read back %s: got %lld "
	    "(%s), want %lld", out, (long long)back, why ? why : "ok",
	    (long long)f->v);
}
END_TEST

START_TEST(test_conffile_scaled_refuses)
{
	static const struct {
		enum conffile_unit	 u;
		const char		*s;
	} bad[] = {
		{ CONFFILE_COUNT, "5k" }, { CONFFILE_COUNT, "-1" },
		{ CONFFILE_COUNT, "" }, { CONFFILE_BYTES, "1T" },
		{ CONFFILE_BYTES, "99999999999999999999" },
		{ CONFFILE_BYTES, "9999999999G" }, { CONFFILE_SECONDS, "1ms" },
		{ CONFFILE_SECONDS, "5 m" }, { CONFFILE_MSEC, "5us" },
		/* one grammar: a bare number is no duration (but 0) */
		{ CONFFILE_SECONDS, "30" }, { CONFFILE_MSEC, "5" },
	};
	int64_t	 v;
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(conffile_scaled(bad[i].u, bad[i].s, &v) != NULL,
		    "\"%s\": got accepted (%lld), want an error", bad[i].s,
		    (long long)v);
}
END_TEST

START_TEST(test_pattern_list_split)
{
	char		**p, big[400];
	size_t		 n, i;
	const char	*why;
	struct buf	 many;

	why = pattern_list_split(" A*@X.org ,, b?@y ,", &p, &n);
	ck_assert_msg(why == NULL, "got \"%s\", want success", why);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(p[0], "a*@x.org");
	ck_assert_str_eq(p[1], "b?@y");
	ck_assert(pattern_list_match(p, n, "Bx@Y"));
	ck_assert(!pattern_list_match(p, n, "bxx@y"));
	pattern_list_free(p, n);

	ck_assert_ptr_null(pattern_list_split(" , ", &p, &n));
	ck_assert_ptr_null(p);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_nonnull(pattern_list_split("a b@x", &p, &n));
	ck_assert_ptr_null(p);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_ptr_nonnull(pattern_list_split(big, &p, &n));
	buf_init(&many, 0);
	for (i = 0; i <= PATTERN_LIST_MAX; i++)
		(void)buf_printf(&many, "a%zu@x,", i);
	why = pattern_list_split(many.data, &p, &n);
	ck_assert_msg(why != NULL, "%d patterns: got success, want an error",
	    PATTERN_LIST_MAX + 1);
	ck_assert_uint_eq(n, 0);
	buf_free(&many);
}
END_TEST

START_TEST(test_config_facility)
{
	ck_assert_int_eq(config_facility("mail"), LOG_MAIL);
	ck_assert_int_eq(config_facility("LOCAL7"), LOG_LOCAL7);
	ck_assert_int_eq(config_facility("kern"), -1);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite	*s = suite_create("config");
	TCase	*tc;

	tc = tcase_create("keys");
	tcase_add_test(tc, test_config_defaults);
	tcase_add_test(tc, test_config_every_key);
	tcase_add_test(tc, test_config_complaint_suppress);
	TESTUTIL_LOOP(tc, test_config_units, unit_cases);
	TESTUTIL_LOOP(tc, test_config_booleans, bool_cases);
	tcase_add_test(tc, test_config_warns_outside_advised_range);
	tcase_add_test(tc, test_config_load_file);
	TESTUTIL_LOOP(tc, test_conffile_format_round_trip, fmt_cases);
	tcase_add_test(tc, test_conffile_scaled_refuses);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	TESTUTIL_LOOP(tc, test_config_rejects_bad_input, bad_cases);
	tcase_add_test(tc, test_config_rejects_nul_and_long_lines);
	suite_add_tcase(s, tc);
	tc = tcase_create("snapshot");
	tcase_add_test(tc, test_config_print_non_default);
	tcase_add_test(tc, test_config_fixed_changed);
	tcase_add_test(tc, test_config_refcount);
	suite_add_tcase(s, tc);
	tc = tcase_create("patterns");
	TESTUTIL_LOOP(tc, test_pattern_match, glob_cases);
	tcase_add_test(tc, test_pattern_list_split);
	tcase_add_test(tc, test_config_bounce_address);
	tcase_add_test(tc, test_config_facility);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_run(config_suite()) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
