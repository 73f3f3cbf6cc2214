/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2026 The bounced authors.
 *
 * check_dsn.c - unit tests of the bounce parser (dsn_parse).
 *
 * Inputs: the six real Postfix DSNs under ../shared/fixtures/postfix
 * (skipped with exit 77 when ../shared is absent) and the hand-written
 * messages under tests/data/dsn; hostile inputs (truncated, binary,
 * huge fields, many recipients) are made in memory.
 */
#include <check.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/buf.h"
#include "parse/dsn.h"
#include "parse/mime.h"
#include "testutil.h"

static char	 fixdir[4096];	/* ../shared/fixtures/postfix */
static char	 datadir[4096];	/* tests/data/dsn */

static struct dsn_report *
parse_file(const char *dir, const char *name, const struct dsn_options *o)
{
	struct dsn_report	*r = NULL;
	char			*m;
	size_t			 len;

	m = testutil_read_in(dir, name, &len);
	ck_assert_int_eq(dsn_parse(m, len, o, &r), BD_OK);
	ck_assert_ptr_nonnull(r);
	free(m);
	return r;
}

#define STR_EQ(got, want) do {						\
	const char *g_ = (got), *w_ = (want);				\
	if (w_ == NULL)							\
		ck_assert_msg(g_ == NULL, "%s: got %s, want NULL",	\
		    #got, g_);						\
	else								\
		ck_assert_msg(g_ != NULL && strcmp(g_, w_) == 0,	\
		    "%s: got %s, want %s", #got, g_ ? g_ : "NULL", w_);	\
} while (0)

/* The six Postfix 3.7 DSNs captured by the end-to-end setup. */
static const struct fixture {
	const char	*file;
	size_t		 nrcpts;
	const char	*rcpt2;		/* second recipient, if any */
	enum ev_action	 action;
	const char	*status;
	int		 code;
	const char	*diag;
	const char	*queue_id;
	const char	*msgid;
	const char	*envid;
} fixtures[] = {
	{ "postfix-delayed.eml", 1, NULL, EV_ACT_DELAYED, "4.3.0", 451,
	  "451 4.3.0 Error: try again later", "C62BAA76265",
	  "e2e-delay-20733.21127@sender.test", NULL },
	{ "postfix-failed-4xx-expired.eml", 1, NULL, EV_ACT_FAILED, "4.3.0",
	  451, "451 4.3.0 Error: try again later", "F19E1A76214",
	  "e2e-soft-20733.4892@sender.test", NULL },
	{ "postfix-failed-5xx-2rcpt-envid-hdrs.eml", 2, "carol@remote.test",
	  EV_ACT_FAILED, "5.1.1", 550, "550 5.1.1 Error: no such user here",
	  "F10C6A72146", "e2e-hard-23885.12348@sender.test", "E2E-ENVID-42" },
	{ "postfix-failed-5xx.eml", 1, NULL, EV_ACT_FAILED, "5.1.1", 550,
	  "550 5.1.1 Error: no such user here", "D5FAEA761C6",
	  "e2e-hard-20733.22992@sender.test", NULL },
	{ "postfix-failed-after-delay.eml", 1, NULL, EV_ACT_FAILED, "4.3.0",
	  451, "451 4.3.0 Error: try again later", "C62BAA76265",
	  "e2e-delay-20733.21127@sender.test", NULL },
	{ "postfix-relayed-success.eml", 1, NULL, EV_ACT_RELAYED, "2.0.0",
	  250, "250 2.0.0 Ok", "B80B5A76237",
	  "e2e-accept-20733.4971@sender.test", NULL },
};

START_TEST(test_dsn_postfix_fixtures)
{
	const struct fixture	*f = &fixtures[_i];
	struct dsn_report	*r;
	size_t			 i;

	r = parse_file(fixdir, f->file, NULL);
	ck_assert_msg(r->kind == DSN_KIND_REPORT, "%s: kind got %s, want "
	    "report", f->file, dsn_kind_name(r->kind));
	ck_assert_msg(r->nrcpts == f->nrcpts, "%s: nrcpts got %zu, want %zu",
	    f->file, r->nrcpts, f->nrcpts);
	for (i = 0; i < r->nrcpts; i++) {
		struct dsn_rcpt *rc = &r->rcpts[i];

		STR_EQ(rc->final_recipient, i == 0 ? "bob@remote.test" :
		    f->rcpt2);
		STR_EQ(rc->original_recipient, i == 0 ? "bob@remote.test" :
		    f->rcpt2);
		ck_assert_msg(rc->action == f->action, "%s: action got %s, "
		    "want %s", f->file, ev_action_name(rc->action),
		    ev_action_name(f->action));
		STR_EQ(rc->status, f->status);
		ck_assert_msg(rc->reply_code == f->code, "reply_code got %d,"
		    " want %d", rc->reply_code, f->code);
		STR_EQ(rc->diagnostic_type, "smtp");
		STR_EQ(rc->diagnostic, f->diag);
		STR_EQ(rc->remote_mta, "127.0.0.1");
		ck_assert_msg(dsn_date_get(&rc->last_attempt) == 0 ||
		    dsn_date_get(&rc->last_attempt) > 1700000000,
		    "last_attempt got %lld",
		    (long long)dsn_date_get(&rc->last_attempt));
	}
	STR_EQ(r->reporting_mta, "e2e-mta.test");
	STR_EQ(r->queue_id, f->queue_id);
	STR_EQ(r->sender, "alice@sender.test");
	STR_EQ(r->orig_message_id, f->msgid);
	STR_EQ(r->envelope_id, f->envid);
	STR_EQ(r->mta, "postfix");
	ck_assert_msg(dsn_date_get(&r->arrival_date) > 1700000000,
	    "arrival_date got %lld", (long long)dsn_date_get(&r->arrival_date));
	ck_assert_msg(dsn_date_get(&r->date) > 1700000000, "date got %lld",
	    (long long)dsn_date_get(&r->date));
	dsn_report_free(r);
}
END_TEST

/*
 * One string field of a parsed sample: the report's own (rcpt -1) or a
 * recipient's.  Every sample is parsed with a campaign header so that
 * 001's X-Campaign is read; it changes no other field.
 */
static const struct field_case {
	const char	*file;
	int		 rcpt;		/* -1: a field of the report */
	size_t		 off;		/* of the char * field */
	const char	*field;
	const char	*want;
} field_cases[] = {
#define REP(f)		-1, offsetof(struct dsn_report, f), #f
#define RCPT(i, f)	i, offsetof(struct dsn_rcpt, f), "rcpts[" #i "]." #f
	{ "001-multi-folded.eml", REP(reporting_mta), "mx.example.net" },
	{ "001-multi-folded.eml", REP(queue_id), "4F1A2B3C" },
	{ "001-multi-folded.eml", REP(envelope_id), "ENV-001" },
	{ "001-multi-folded.eml", REP(orig_message_id),
	  "orig-001@example.org" },
	{ "001-multi-folded.eml", REP(campaign), "spring-sale" },
	{ "001-multi-folded.eml", RCPT(0, final_recipient),
	  "first@example.com" },
	{ "001-multi-folded.eml", RCPT(0, original_recipient),
	  "First@Example.COM" },
	{ "001-multi-folded.eml", RCPT(0, diagnostic), "550 5.1.1 "
	  "<first@example.com>: Recipient address rejected: User unknown in "
	  "virtual mailbox table" },
	/* status missing: taken from the diagnostic */
	{ "001-multi-folded.eml", RCPT(1, final_recipient),
	  "second@example.com" },
	{ "001-multi-folded.eml", RCPT(1, status), "4.2.2" },
	/* no blank line before the third group; comment after status */
	{ "001-multi-folded.eml", RCPT(2, final_recipient),
	  "third@example.com" },
	{ "001-multi-folded.eml", RCPT(2, status), "5.7.1" },
	{ "001-multi-folded.eml", RCPT(2, diagnostic_type), "x-unix" },
	{ "006-exim-text.eml", REP(mta), "exim" },
	{ "006-exim-text.eml", RCPT(0, diagnostic), "550 5.1.1 "
	  "<gone@example.com>: Recipient address rejected: User unknown" },
	{ "006-exim-text.eml", RCPT(1, final_recipient), "full@example.com" },
	{ "006-exim-text.eml", RCPT(1, status), "5.2.2" },
	{ "006-exim-text.eml", REP(orig_message_id), "orig-006@example.org" },
	{ "007-arf.eml", REP(feedback_type), "abuse" },
	{ "007-arf.eml", REP(sender), "sender@example.org" },
	{ "007-arf.eml", REP(orig_message_id), "orig-007@example.org" },
	/* a bounce forwarded whole: its report is read from inside
	 * message/rfc822, the original's Message-ID from the base64
	 * message inside that */
	{ "012-fuzz-forwarded.eml", REP(orig_message_id),
	  "inner-012@example.org" },
	{ "012-fuzz-forwarded.eml", REP(subject), "Fwd: returned mail" },
#undef REP
#undef RCPT
};

START_TEST(test_dsn_sample_fields)
{
	const struct field_case	*c = &field_cases[_i];
	struct dsn_options	 o = DSN_OPTIONS_DEFAULT;
	struct dsn_report	*r;
	const void		*base = NULL;
	const char		*got;

	o.campaign_header = "X-Campaign";
	r = parse_file(datadir, c->file, &o);
	if (c->rcpt < 0)
		base = r;
	else if ((size_t)c->rcpt < r->nrcpts)
		base = &r->rcpts[c->rcpt];
	ck_assert_msg(base != NULL, "%s: nrcpts got %zu, want > %d", c->file,
	    r->nrcpts, c->rcpt);
	got = *(char *const *)(const void *)((const char *)base + c->off);
	ck_assert_msg(got != NULL && strcmp(got, c->want) == 0,
	    "%s: %s got %s, want %s", c->file, c->field,
	    got != NULL ? got : "NULL", c->want);
	dsn_report_free(r);
}
END_TEST

/* The other fields of 001: recipients, dates, codes, actions. */
START_TEST(test_dsn_multi_recipient_folded)
{
	struct dsn_report	*r;

	r = parse_file(datadir, "001-multi-folded.eml", NULL);
	ck_assert_msg(r->nrcpts == 3, "nrcpts got %zu, want 3", r->nrcpts);
	ck_assert_int_eq(dsn_date_get(&r->rcpts[0].last_attempt), 1772532000);
	ck_assert_int_eq(r->rcpts[1].reply_code, 452);
	ck_assert(r->rcpts[1].action == EV_ACT_DELAYED);
	ck_assert_int_eq(dsn_date_get(&r->rcpts[1].will_retry_until),
	    1772791200);
	ck_assert_int_eq(r->rcpts[2].reply_code, 0);
	dsn_report_free(r);
}
END_TEST

/* Table: file, kind, recipients, first recipient, its status. */
static const struct sample {
	const char	*file;
	enum dsn_kind	 kind;
	size_t		 nrcpts;
	const char	*rcpt;
	const char	*status;
	int		 code;
} samples[] = {
	{ "002-global.eml", DSN_KIND_REPORT, 1,
	  "\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.example",
	  "5.1.1", 550 },
	{ "003-base64.eml", DSN_KIND_REPORT, 1, "b64@example.com", "5.2.2",
	  552 },
	{ "004-no-rcpt.eml", DSN_KIND_NONE, 0, NULL, NULL, 0 },
	{ "005-text-plain-ds.eml", DSN_KIND_REPORT, 1, "qp@example.com",
	  "5.1.2", 550 },
	{ "006-exim-text.eml", DSN_KIND_TEXT, 2, "gone@example.com", "5.1.1",
	  550 },
	{ "007-arf.eml", DSN_KIND_ARF, 1, "complainer@isp.example", NULL, 0 },
	{ "008-autoreply.eml", DSN_KIND_AUTOREPLY, 1, "bob@example.com", NULL,
	  0 },
	{ "009-iso2022jp.eml", DSN_KIND_TEXT, 1, "jp@example.jp", NULL, 0 },
	/* inputs the fuzzer (tests/fuzz) broke, minimised */
	{ "010-fuzz-empty.eml", DSN_KIND_NONE, 0, NULL, NULL, 0 },
	{ "011-fuzz-empty-parts.eml", DSN_KIND_REPORT, 1, "gone@example.com",
	  "5.1.1", 0 },
	{ "012-fuzz-forwarded.eml", DSN_KIND_REPORT, 1, "inner@example.com",
	  "5.2.2", 0 },
	/* X-Failed-Recipients in another order than the text */
	{ "013-fuzz-xfailed-order.eml", DSN_KIND_TEXT, 2, "second@example.jp",
	  "5.2.2", 552 },
};

START_TEST(test_dsn_samples)
{
	const struct sample	*s = &samples[_i];
	struct dsn_report	*r;

	r = parse_file(datadir, s->file, NULL);
	ck_assert_msg(r->kind == s->kind, "%s: kind got %s, want %s",
	    s->file, dsn_kind_name(r->kind), dsn_kind_name(s->kind));
	ck_assert_msg(r->nrcpts == s->nrcpts, "%s: nrcpts got %zu, want %zu",
	    s->file, r->nrcpts, s->nrcpts);
	if (s->nrcpts > 0) {
		STR_EQ(r->rcpts[0].final_recipient, s->rcpt);
		STR_EQ(r->rcpts[0].status, s->status);
		ck_assert_msg(r->rcpts[0].reply_code == s->code,
		    "%s: reply_code got %d, want %d", s->file,
		    r->rcpts[0].reply_code, s->code);
	}
	dsn_report_free(r);
}
END_TEST

START_TEST(test_dsn_iso2022jp_subject_and_text)
{
	struct dsn_report	*r;

	r = parse_file(datadir, "009-iso2022jp.eml", NULL);
	/* RFC 2047 ISO-2022-JP subject decoded to UTF-8 */
	ck_assert_ptr_nonnull(r->subject);
	ck_assert_msg(strstr(r->subject, "\xe3\x83\xa1") != NULL,
	    "subject got %s, want UTF-8 katakana", r->subject);
	ck_assert_ptr_nonnull(r->rcpts[0].diagnostic);
	ck_assert_msg(strstr(r->rcpts[0].diagnostic, "mailbox is full") !=
	    NULL, "diagnostic got %s", r->rcpts[0].diagnostic);
	dsn_report_free(r);
}
END_TEST

/* RFC 5322 dates: the canonical form (read without GMime) and others. */
static const struct datecase {
	const char	*s;
	int64_t		 t;
} dates[] = {
	{ "Thu, 1 Jan 1970 00:00:00 +0000", 0 },
	{ "Tue, 03 Mar 2026 09:59:58 +0000", 1772531998 },
	{ "3 Mar 2026 10:59:58 +0100", 1772531998 },
	{ "Tue, 03 Mar 2026 18:59:58 +0900 (JST)", 1772531998 },
	{ "Sat, 29 Feb 2020 12:00:00 -0330", 1582990200 },
	{ "Wed, 17 Apr 2019 14:38:21 +0900", 1555479501 },
	{ "Tue, 03 Mar 2026 09:59 +0000", 1772531940 },
	{ "Tue, 03 Mar 2026 09:59:58 GMT", 1772531998 },	/* GMime */
	{ "Tue, 3 Mar 26 09:59:58 +0000", 1772531998 },		/* GMime */
	{ "not a date", 0 },
	{ "", 0 },
};

START_TEST(test_dsn_dates)
{
	const struct datecase	*d = &dates[_i];
	int64_t			 t = mime_date(d->s);

	ck_assert_msg(t == d->t, "mime_date(\"%s\"): got %lld, want %lld",
	    d->s, (long long)t, (long long)d->t);
}
END_TEST

START_TEST(test_dsn_truncated_input)
{
	struct dsn_options	 o = DSN_OPTIONS_DEFAULT;
	struct dsn_report	*r;
	char			*m;
	size_t			 len, cut;

	m = testutil_read_in(datadir, "001-multi-folded.eml", &len);
	/* Every prefix must parse without crashing. */
	for (cut = 0; cut <= len; cut += 7) {
		ck_assert_int_eq(dsn_parse(m, cut, NULL, &r), BD_OK);
		dsn_report_free(r);
	}
	/* max_bytes cuts the input and says so. */
	o.max_bytes = len / 2;
	ck_assert_int_eq(dsn_parse(m, len, &o, &r), BD_OK);
	ck_assert_msg(r->defects & DSN_DEFECT_TRUNCATED, "defects got %#x",
	    r->defects);
	dsn_report_free(r);
	free(m);
}
END_TEST

START_TEST(test_dsn_garbage_input)
{
	struct dsn_report	*r;
	unsigned char		 m[8192];
	unsigned		 seed = 12345;
	size_t			 i;
	int			 round;

	for (round = 0; round < 50; round++) {
		for (i = 0; i < sizeof(m); i++) {
			seed = seed * 1103515245u + 12345u;
			m[i] = (unsigned char)(seed >> 16);
			/* sprinkle structure so GMime goes deeper */
			if (i % 97 == 0)
				m[i] = '\n';
		}
		if (round % 2)
			memcpy(m, "Content-Type: multipart/report; boundary=x"
			    "\n\n--x\nContent-Type: message/delivery-status"
			    "\n\nFinal-Recipient: a@b.c\n", 107);
		ck_assert_int_eq(dsn_parse((char *)m, sizeof(m), NULL, &r),
		    BD_OK);
		ck_assert_ptr_nonnull(r);
		dsn_report_free(r);
	}
	ck_assert_int_eq(dsn_parse(NULL, 0, NULL, &r), BD_OK);
	ck_assert_msg(r->kind == DSN_KIND_NONE, "kind got %s, want none",
	    dsn_kind_name(r->kind));
	dsn_report_free(r);
}
END_TEST

START_TEST(test_dsn_nul_and_crlf)
{
	struct dsn_report	*r;
	char			*m, *crlf;
	size_t			 len, i, j;

	m = testutil_read_in(datadir, "003-base64.eml", &len);
	crlf = malloc(2 * len + 32);
	ck_assert_ptr_nonnull(crlf);
	j = 0;
	memcpy(crlf, "From MAILER-DAEMON Tue Mar  3\r\n", 31);
	j = 31;
	for (i = 0; i < len; i++) {
		if (m[i] == '\n')
			crlf[j++] = '\r';
		crlf[j++] = m[i];
	}
	crlf[j++] = '\0';	/* a NUL byte in the body */
	ck_assert_int_eq(dsn_parse(crlf, j, NULL, &r), BD_OK);
	ck_assert_uint_eq(r->nrcpts, 1);
	STR_EQ(r->rcpts[0].final_recipient, "b64@example.com");
	ck_assert_msg(r->defects & DSN_DEFECT_8BIT, "defects got %#x",
	    r->defects);
	dsn_report_free(r);
	free(crlf);
	free(m);
}
END_TEST

static char *
make_ds(size_t nrcpts, size_t diaglen, size_t *len)
{
	struct buf	 b;
	size_t		 i;

	buf_init(&b, 0);
	buf_puts(&b, "From: MAILER-DAEMON@x.example\nSubject: failure\n"
	    "Content-Type: multipart/report; report-type=delivery-status; "
	    "boundary=Z\n\n--Z\nContent-Type: message/delivery-status\n\n"
	    "Reporting-MTA: dns; x.example\n");
	for (i = 0; i < nrcpts; i++) {
		buf_printf(&b, "\nFinal-Recipient: rfc822; u%zu@example.com\n"
		    "Action: failed\nStatus: 5.1.1\n"
		    "Diagnostic-Code: smtp; 550 ", i);
		for (size_t k = 0; k < diaglen; k++)
			buf_append(&b, k % 70 == 69 ? "\n " : "x",
			    k % 70 == 69 ? 2 : 1);
		buf_puts(&b, "\n");
	}
	buf_puts(&b, "\n--Z--\n");
	*len = b.len;
	return buf_steal(&b);
}

/*
 * Generated reports against the limits: every kept recipient is
 * u<i>@example.com with a 550 diagnostic cut to max_diagnostic, and the
 * defect says what was cut (none for a report within the limits).
 */
static const struct limit_case {
	size_t		 nrcpts;	/* recipients generated */
	size_t		 diaglen;	/* their diagnostics' length */
	size_t		 max_recipients; /* 0: the default */
	size_t		 want;		/* recipients kept */
	unsigned	 defect;	/* 0: want no defect at all */
} limit_cases[] = {
	{ 3, 10, 0, 3, 0 },
	{ 1, 200000, 0, 1, DSN_DEFECT_BAD_FIELD },	/* huge field */
	{ 25, 10, 10, 10, DSN_DEFECT_TOO_MANY },	/* too many */
};

START_TEST(test_dsn_limits)
{
	const struct limit_case	*c = &limit_cases[_i];
	struct dsn_options	 o = DSN_OPTIONS_DEFAULT;
	struct dsn_report	*r;
	char			*m, want[48];
	size_t			 len, i;

	if (c->max_recipients > 0)
		o.max_recipients = c->max_recipients;
	m = make_ds(c->nrcpts, c->diaglen, &len);
	ck_assert_int_eq(dsn_parse(m, len, &o, &r), BD_OK);
	ck_assert_msg(r->nrcpts == c->want, "nrcpts got %zu, want %zu",
	    r->nrcpts, c->want);
	for (i = 0; i < r->nrcpts; i++) {
		(void)snprintf(want, sizeof(want), "u%zu@example.com", i);
		STR_EQ(r->rcpts[i].final_recipient, want);
		ck_assert_ptr_nonnull(r->rcpts[i].diagnostic);
		ck_assert_msg(strlen(r->rcpts[i].diagnostic) <=
		    o.max_diagnostic, "diagnostic length got %zu, want <= %zu",
		    strlen(r->rcpts[i].diagnostic), o.max_diagnostic);
		ck_assert_msg(r->rcpts[i].reply_code == 550,
		    "reply_code got %d, want 550", r->rcpts[i].reply_code);
	}
	if (c->defect == 0)
		ck_assert_msg(r->defects == 0, "defects got %#x, want 0",
		    r->defects);
	else
		ck_assert_msg(r->defects & c->defect, "defects got %#x, want "
		    "%#x set", r->defects, c->defect);
	dsn_report_free(r);
	free(m);
}
END_TEST

/*
 * 100,000 tiny MIME parts after the delivery-status (issue 11: GMime made
 * an object of each, 130 MB and 3.5 s for 1 MB): the input is cut before
 * the MIME_MAX_DELIMS + 1st delimiter line, the report is still read,
 * and the cut is a defect.  A tight CPU bound stands in for memory: the
 * cost grew with the parts.
 */
START_TEST(test_dsn_many_parts_cut)
{
	static const char head[] = "From: MAILER-DAEMON@mx.example.com\n"
	    "To: alice@example.org\nMIME-Version: 1.0\nContent-Type: "
	    "multipart/report; report-type=delivery-status; boundary=b\n\n"
	    "--b\nContent-Type: text/plain\n\nfailed\n--b\n"
	    "Content-Type: message/delivery-status\n\n"
	    "Reporting-MTA: dns; mx.example.com\n\n"
	    "Final-Recipient: rfc822; bob@example.com\nAction: failed\n"
	    "Status: 5.1.1\n\n--b\nContent-Type: multipart/mixed; "
	    "boundary=c\n\n";
	static const char part[] = "--c\n\nx\n";
	const size_t		 nparts = 100000;
	struct dsn_report	*r;
	struct timespec		 t0, t1;
	char			*m, *o;
	size_t			 len, i;
	double			 secs;

	len = sizeof(head) - 1 + nparts * (sizeof(part) - 1);
	ck_assert_ptr_nonnull(m = malloc(len));
	memcpy(m, head, sizeof(head) - 1);
	for (o = m + sizeof(head) - 1, i = 0; i < nparts; i++) {
		memcpy(o, part, sizeof(part) - 1);
		o += sizeof(part) - 1;
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	ck_assert_int_eq(dsn_parse(m, len, NULL, &r), BD_OK);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_msg(r->nrcpts == 1, "nrcpts got %zu, want 1", r->nrcpts);
	STR_EQ(r->rcpts[0].final_recipient, "bob@example.com");
	ck_assert_msg(r->defects & DSN_DEFECT_PARTS, "defects got %#x, want "
	    "%#x set", r->defects, DSN_DEFECT_PARTS);
	ck_assert_msg(secs < 0.5, "CPU time got %.3f s, want < 0.5 s", secs);
	dsn_report_free(r);
	free(m);
}
END_TEST

START_TEST(test_dsn_not_a_bounce)
{
	static const char msg[] = "From: alice@example.org\n"
	    "To: bob@example.com\nSubject: lunch?\n\n"
	    "Shall we meet? Write to carol@example.net too.\n";
	struct dsn_report	*r;

	ck_assert_int_eq(dsn_parse(msg, sizeof(msg) - 1, NULL, &r), BD_OK);
	ck_assert_msg(r->kind == DSN_KIND_NONE, "kind got %s, want none",
	    dsn_kind_name(r->kind));
	ck_assert_uint_eq(r->nrcpts, 0);
	dsn_report_free(r);
}
END_TEST

static Suite *
dsn_suite(void)
{
	Suite	*s = suite_create("dsn");
	TCase	*tc;

	tc = tcase_create("fixtures");
	TESTUTIL_LOOP(tc, test_dsn_postfix_fixtures, fixtures);
	suite_add_tcase(s, tc);

	tc = tcase_create("rfc3464");
	TESTUTIL_LOOP(tc, test_dsn_sample_fields, field_cases);
	tcase_add_test(tc, test_dsn_multi_recipient_folded);
	TESTUTIL_LOOP(tc, test_dsn_samples, samples);
	tcase_add_test(tc, test_dsn_iso2022jp_subject_and_text);
	tcase_add_test(tc, test_dsn_not_a_bounce);
	TESTUTIL_LOOP(tc, test_dsn_dates, dates);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_dsn_truncated_input);
	tcase_add_test(tc, test_dsn_garbage_input);
	tcase_add_test(tc, test_dsn_nul_and_crlf);
	TESTUTIL_LOOP(tc, test_dsn_limits, limit_cases);
	tcase_add_test(tc, test_dsn_many_parts_cut);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	int	 failed;

	if (!testutil_shared("fixtures/postfix", fixdir, sizeof(fixdir))) {
		fprintf(stderr, "check_dsn: %s absent, skipping\n", fixdir);
		return 77;
	}
	(void)testutil_srcdir("tests/data/dsn", datadir, sizeof(datadir));
	dsn_init();
	failed = testutil_run(dsn_suite());
	dsn_shutdown();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
