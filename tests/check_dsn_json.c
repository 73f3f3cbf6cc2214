/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * check_dsn_json.c - unit tests of dsn_json.c through dsn_parse(): Amazon
 * SES notifications in a mail body, direct and wrapped in an SNS message
 * (bounce, complaint, delivery, delivery delay), line folds inside JSON
 * strings, hostile nesting, and the verdicts analyze_message() gives
 * them under the built-in rules.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/dsn.h"
#include "verdict/analyze.h"
#include "testutil.h"

#define HDR	"From: no-reply@sns.amazonaws.com\r\n" \
		"To: bounces@example.org\r\n" \
		"Subject: AWS Notification Message\r\n" \
		"Content-Type: text/plain; charset=UTF-8\r\n\r\n"

/* An SNS message: the notification is the JSON string Message (line
 * folded inside the string, as a mail system may). */
static const char sns_bounce[] = HDR
    "{\r\n  \"Type\" : \"Notification\",\r\n"
    "  \"TopicArn\" : \"arn:aws:sns:us-west-2:123456789012:ses\",\r\n"
    "  \"Message\" : \"{\\\"notificationType\\\":\\\"Bounce\\\","
    "\\\"bounce\\\":{\\\"bounceType\\\":\\\"Permanent\\\","
    "\\\"bounceSubType\\\":\\\"General\\\",\\\"bouncedRecipients\\\":"
    "[{\\\"emailAddress\\\":\\\"Kim@Example.NET\\\",\\\"action\\\":"
    "\\\"failed\\\",\\\"status\\\":\\\"5.1.1\\\",\\\"diagnosticCode\\\":"
    "\\\"smtp; 550 5.1.1 user unknown\\\"}],\\\"timestamp\\\":"
    "\\\"2016-10-21T06:58:02.245Z\\\",\\\"reportingMTA\\\":\\\"dsn; "
    "a27-33.smtp-out.us-west-2.amazonses.com\\\"},\\\"mail\\\":{"
    "\\\"source\\\":\\\"sender@example.org\\\",\\\"messageId\\\":"
    "\\\"0101-abc\\\",\\\"commonHeaders\\\":{\\\"messageId\\\":"
    "\\\"<orig@example.org>\\\",\\\"subject\\\":\\\"Nya!\r\n aan\\\"}}}\",\r\n"
    "  \"Timestamp\" : \"2016-10-21T06:58:02.294Z\"\r\n}\r\n";

/* A direct notification, no status: the bounce subtype says it. */
static const char ses_noemail[] = HDR
    "{\"notificationType\":\"Bounce\",\"bounce\":{\"bounceType\":"
    "\"Permanent\",\"bounceSubType\":\"NoEmail\",\"bouncedRecipients\":"
    "[{\"emailAddress\":\"gone@example.net\"}],\"timestamp\":"
    "\"2024-02-29T23:59:59Z\"},\"mail\":{\"source\":\"s@example.org\"}}\r\n";

/* The same moment written with a zone offset, and a date that is not one. */
static const char ses_offset[] = HDR
    "{\"notificationType\":\"Bounce\",\"bounce\":{\"bounceType\":"
    "\"Permanent\",\"bounceSubType\":\"NoEmail\",\"bouncedRecipients\":"
    "[{\"emailAddress\":\"gone@example.net\"}],\"timestamp\":"
    "\"2024-03-01T08:59:59+09:00\"},\"mail\":{\"source\":\"s@example.org\"}}\r\n";
static const char ses_baddate[] = HDR
    "{\"notificationType\":\"Bounce\",\"bounce\":{\"bounceType\":"
    "\"Permanent\",\"bounceSubType\":\"NoEmail\",\"bouncedRecipients\":"
    "[{\"emailAddress\":\"gone@example.net\"}],\"timestamp\":"
    "\"2023-02-29T23:59:59Z\"},\"mail\":{\"source\":\"s@example.org\"}}\r\n";

static const char ses_full[] = HDR
    "{\"notificationType\":\"Bounce\",\"bounce\":{\"bounceType\":"
    "\"Transient\",\"bounceSubType\":\"MailboxFull\",\"bouncedRecipients\":"
    "[{\"emailAddress\":\"a@example.net\"},{\"emailAddress\":"
    "\"b@example.net\"}]}}\r\n";

static const char ses_general[] = HDR
    "{\"notificationType\":\"Bounce\",\"bounce\":{\"bounceType\":"
    "\"Permanent\",\"bounceSubType\":\"General\",\"bouncedRecipients\":"
    "[{\"emailAddress\":\"c@example.net\"}]}}\r\n";

static const char ses_complaint[] = HDR
    "{\"notificationType\":\"Complaint\",\"complaint\":{"
    "\"complainedRecipients\":[{\"emailAddress\":\"r@example.net\"}],"
    "\"complaintFeedbackType\":\"Abuse\",\"timestamp\":"
    "\"2024-01-02T03:04:05.000Z\"},\"mail\":{\"source\":"
    "\"s@example.org\"}}\r\n";

static const char ses_delivery[] = HDR
    "{\"notificationType\":\"Delivery\",\"delivery\":{\"recipients\":"
    "[\"d@example.net\"],\"smtpResponse\":\"250 2.6.0 Message received\","
    "\"reportingMTA\":\"a8-70.smtp-out.amazonses.com\"},\"mail\":{}}\r\n";

static const char ses_delay[] = HDR
    "{\"eventType\":\"DeliveryDelay\",\"deliveryDelay\":{\"delayType\":"
    "\"TransientCommunicationFailure\",\"delayedRecipients\":[{"
    "\"emailAddress\":\"e@example.net\",\"status\":\"4.4.1\","
    "\"diagnosticCode\":\"smtp; 421 4.4.1 Unable to connect\"}]}}\r\n";

/* The words without the notification: an ordinary text bounce. */
static const char not_json[] = HDR
    "Your message to x@example.net failed: eventType unknown.\r\n";

static struct dsn_report *
parse(const char *msg)
{
	struct dsn_report	*r = NULL;

	ck_assert_int_eq(dsn_parse(msg, strlen(msg), NULL, &r), BD_OK);
	ck_assert_ptr_nonnull(r);
	return r;
}

static void
setup(void)
{
	dsn_init();
}

START_TEST(test_dsn_json_sns_bounce)
{
	struct dsn_report	*r = parse(sns_bounce);
	struct dsn_rcpt		*rc;

	ck_assert_msg(r->kind == DSN_KIND_REPORT, "kind: got %s, want report",
	    dsn_kind_name(r->kind));
	ck_assert_uint_eq(r->nrcpts, 1);
	ck_assert_str_eq(r->mta, "amazonses");
	rc = &r->rcpts[0];
	ck_assert_str_eq(rc->final_recipient, "Kim@Example.NET");
	ck_assert_int_eq(rc->action, EV_ACT_FAILED);
	ck_assert_str_eq(rc->status, "5.1.1");
	ck_assert_str_eq(rc->diagnostic_type, "smtp");
	ck_assert_str_eq(rc->diagnostic, "550 5.1.1 user unknown");
	ck_assert_int_eq(rc->reply_code, 550);
	/* 2016-10-21T06:58:02Z */
	ck_assert_int_eq(dsn_date_get(&rc->last_attempt), 1477033082);
	ck_assert_str_eq(r->reporting_mta,
	    "a27-33.smtp-out.us-west-2.amazonses.com");
	ck_assert_str_eq(r->sender, "sender@example.org");
	ck_assert_str_eq(r->queue_id, "0101-abc");
	ck_assert_str_eq(r->orig_message_id, "orig@example.org");
	dsn_report_free(r);
}
END_TEST

START_TEST(test_dsn_json_bounce_subtypes)
{
	struct dsn_report	*r;

	r = parse(ses_noemail);
	ck_assert_uint_eq(r->nrcpts, 1);
	ck_assert_str_eq(r->rcpts[0].status, "5.1.1");
	ck_assert_ptr_null(r->rcpts[0].diagnostic);
	/* a leap day */
	ck_assert_int_eq(dsn_date_get(&r->rcpts[0].last_attempt), 1709251199);
	dsn_report_free(r);
	/* a zone offset is applied (the moment is the same) */
	r = parse(ses_offset);
	ck_assert_int_eq(dsn_date_get(&r->rcpts[0].last_attempt), 1709251199);
	dsn_report_free(r);
	/* 29 February of a common year is no date: none kept */
	r = parse(ses_baddate);
	ck_assert_uint_eq(r->nrcpts, 1);
	ck_assert_int_eq(dsn_date_get(&r->rcpts[0].last_attempt), 0);
	dsn_report_free(r);

	r = parse(ses_full);
	ck_assert_uint_eq(r->nrcpts, 2);
	ck_assert_str_eq(r->rcpts[0].final_recipient, "a@example.net");
	ck_assert_str_eq(r->rcpts[1].final_recipient, "b@example.net");
	ck_assert_str_eq(r->rcpts[0].status, "4.2.2");
	ck_assert_str_eq(r->rcpts[1].status, "4.2.2");
	dsn_report_free(r);
}
END_TEST

START_TEST(test_dsn_json_complaint_delivery_delay)
{
	struct dsn_report	*r;

	r = parse(ses_complaint);
	ck_assert_msg(r->kind == DSN_KIND_ARF, "kind: got %s, want arf",
	    dsn_kind_name(r->kind));
	ck_assert_str_eq(r->feedback_type, "abuse");
	ck_assert_uint_eq(r->nrcpts, 1);
	ck_assert_str_eq(r->rcpts[0].final_recipient, "r@example.net");
	dsn_report_free(r);

	r = parse(ses_delivery);
	ck_assert_uint_eq(r->nrcpts, 1);
	ck_assert_int_eq(r->rcpts[0].action, EV_ACT_DELIVERED);
	ck_assert_str_eq(r->rcpts[0].status, "2.0.0");
	ck_assert_str_eq(r->rcpts[0].diagnostic, "250 2.6.0 Message received");
	ck_assert_str_eq(r->reporting_mta, "a8-70.smtp-out.amazonses.com");
	dsn_report_free(r);

	r = parse(ses_delay);
	ck_assert_uint_eq(r->nrcpts, 1);
	ck_assert_int_eq(r->rcpts[0].action, EV_ACT_DELAYED);
	ck_assert_str_eq(r->rcpts[0].status, "4.4.1");
	ck_assert_int_eq(r->rcpts[0].reply_code, 421);
	dsn_report_free(r);
}
END_TEST

START_TEST(test_dsn_json_hostile)
{
	struct dsn_report	*r;
	char			*m;
	size_t			 i, n = 200000, h = strlen(HDR);
	static const char	 tail[] = "\"notificationType\":\"Bounce\"";

	/* Nesting far past what the parser is given: not read, no crash. */
	m = malloc(h + n + sizeof(tail));
	ck_assert_ptr_nonnull(m);
	memcpy(m, HDR, h);
	for (i = 0; i < n; i++)
		m[h + i] = i % 2 ? '[' : '{';
	memcpy(m + h + n, tail, sizeof(tail));
	r = parse(m);
	ck_assert_uint_eq(r->nrcpts, 0);
	dsn_report_free(r);
	free(m);

	/* The words only: no JSON read, the text scanner decides. */
	r = parse(not_json);
	ck_assert_msg(r->mta == NULL || strcmp(r->mta, "amazonses") != 0,
	    "got mta amazonses");
	dsn_report_free(r);

	/* Broken JSON: nothing from it. */
	r = parse(HDR "{\"notificationType\":\"Bounce\",\"bounce\":{\r\n");
	ck_assert_uint_eq(r->nrcpts, 0);
	dsn_report_free(r);
}
END_TEST

/*
 * The verdicts: a delivery is delivered, a complaint feedback, a bounce
 * only as hard as its evidence (SES's "General" says nothing).
 */
static const struct verdict_case {
	const char	*msg;
	const char	*reason;
	bool		 hard;
} verdict_cases[] = {
	{ sns_bounce, "userunknown", true },
	{ ses_noemail, "userunknown", true },
	{ ses_full, "mailboxfull", false },
	{ ses_general, "undefined", false },
	{ ses_complaint, "feedback", false },
	{ ses_delivery, "delivered", false },
	{ ses_delay, "networkerror", false },
};

START_TEST(test_dsn_json_verdicts)
{
	const struct verdict_case *c = &verdict_cases[_i];
	struct rules		*rules;
	struct analysis		*a;
	char			 err[256];

	ck_assert_int_eq(rules_default(&rules, err, sizeof(err)), BD_OK);
	ck_assert_int_eq(analyze_message(rules, c->msg, strlen(c->msg), NULL,
	    &a), BD_OK);
	ck_assert_uint_ge(a->report->nrcpts, 1);
	ck_assert_msg(strcmp(a->verdicts[0].reason, c->reason) == 0,
	    "case %d: reason: got %s, want %s", _i, a->verdicts[0].reason,
	    c->reason);
	ck_assert_msg(a->verdicts[0].hard == c->hard,
	    "case %d: hard: got %d, want %d", _i, a->verdicts[0].hard,
	    c->hard);
	analysis_free(a);
	rules_unref(rules);
}
END_TEST

static Suite *
dsn_json_suite(void)
{
	Suite	*s = suite_create("dsn_json");
	TCase	*tc = tcase_create("ses");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_dsn_json_sns_bounce);
	tcase_add_test(tc, test_dsn_json_bounce_subtypes);
	tcase_add_test(tc, test_dsn_json_complaint_delivery_delay);
	tcase_add_test(tc, test_dsn_json_hostile);
	TESTUTIL_LOOP(tc, test_dsn_json_verdicts, verdict_cases);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_run(dsn_json_suite()) == 0 ? EXIT_SUCCESS :
	    EXIT_FAILURE;
}
