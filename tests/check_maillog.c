/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors */
/*
 * check_maillog.c - unit tests for maillog_parse() and maillog_event().
 *
 * Table-driven: every Postfix and Sendmail line form, every timestamp
 * form, the year rollover; then garbage, overlong and binary input, and
 * the sample logs in tests/data/maillog (their .expect files hold the
 * counts, made with grep, not with this parser).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maillog/maillog.h"
#include "testutil.h"

/* 2026-11-24T00:00:00Z: the sample logs are from 23 November 2026. */
#define NOW	INT64_C(1795478400)
/* 2026-11-23T18:35:18Z, the stamp of most lines below */
#define T1	INT64_C(1795458918)
#define NOCHECK	INT64_MIN

struct parse_case {
	const char	*name;
	const char	*line;
	int64_t		 now;
	long		 gmtoff;
	enum maillog_result res;
	enum maillog_kind kind;
	int64_t		 when;		/* NOCHECK: not checked */
	const char	*qid;		/* NULL: not checked */
	const char	*rcpt;
	const char	*orig;
	const char	*word;
	enum ev_action	 action;
	const char	*dsn;
	int		 code;		/* -1: not checked */
	const char	*dstat;
	const char	*diag;
	const char	*relay_host;
	const char	*msgid;
	const char	*sender;
	unsigned	 defects;	/* these bits must be set */
};

#define PFX	"Nov 23 18:35:18 relay "

/* A line that yields no record: res is MAILLOG_IGNORED or _EMALFORMED. */
#define NOT_READ(name, line, res)					\
	{ name, line, NOW, 0, res, ML_NONE, NOCHECK, NULL, NULL, NULL,	\
	  NULL, EV_ACT_UNKNOWN, NULL, -1, NULL, NULL, NULL, NULL, NULL, 0 }
#define IGNORED(name, line)	NOT_READ(name, line, MAILLOG_IGNORED)
#define MALFORMED(name, line)	NOT_READ(name, line, MAILLOG_EMALFORMED)
/* A qmgr "removed" record: the timestamp forms (qid NULL: not checked). */
#define REMOVED(name, line, now, gmtoff, when, qid, defects)		\
	{ name, line, now, gmtoff, MAILLOG_RECORD, ML_REMOVED, when, qid, \
	  NULL, NULL, NULL, EV_ACT_UNKNOWN, NULL, -1, NULL, NULL, NULL,	\
	  NULL, NULL, defects }

static const struct parse_case cases[] = {
	{ "postfix smtp bounced (real, maillog_file)",
	  PFX "postfix/smtp[10077]: AB4EAA72252: to=<bob@hard.test>, "
	  "relay=127.0.0.1[127.0.0.1]:10026, delay=0.04, "
	  "delays=0.01/0.01/0/0.01, dsn=5.1.1, status=bounced (host "
	  "127.0.0.1[127.0.0.1] said: 550 5.1.1 <x@hard.test>: Recipient "
	  "address rejected: User unknown in virtual mailbox table (in reply "
	  "to RCPT TO command))",
	  NOW, 0, MAILLOG_RECORD, ML_DELIVERY, T1, "AB4EAA72252",
	  "bob@hard.test", "", "bounced", EV_ACT_FAILED, "5.1.1", 550, "5.1.1",
	  "550 5.1.1 <x@hard.test>: Recipient address rejected: User unknown "
	  "in virtual mailbox table", "127.0.0.1", NULL, NULL, 0 },
	{ "postfix smtp deferred, brief's example",
	  PFX "postfix/smtp[123]: 3F2A1B4C5D: to=<a@B.example>, "
	  "relay=mx.b[1.2.3.4]:25, delay=1.2, delays=0.1/0/0.5/0.6, "
	  "dsn=4.2.2, status=deferred (host mx.b[1.2.3.4] said: 452 4.2.2 "
	  "Mailbox full (in reply to RCPT TO command))",
	  NOW, 0, MAILLOG_RECORD, ML_DELIVERY, T1, "3F2A1B4C5D", "a@b.example",
	  "", "deferred", EV_ACT_DELAYED, "4.2.2", 452, "4.2.2",
	  "452 4.2.2 Mailbox full", "mx.b", NULL, NULL, 0 },
	{ "postfix smtp sent",
	  PFX "postfix/smtp[10077]: AFAD2A72255: to=<dave@ok.test>, "
	  "relay=127.0.0.1[127.0.0.1]:10030, delay=0.02, "
	  "delays=0.01/0.01/0/0, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
	  NOW, 0, MAILLOG_RECORD, ML_DELIVERY, T1, "AFAD2A72255",
	  "dave@ok.test", "", "sent", EV_ACT_DELIVERED, "2.0.0", 250, "2.0.0",
	  "250 2.0.0 Ok", "127.0.0.1", NULL, NULL, 0 },
	{ "postfix long queue id, orig_to",
	  PFX "postfix/smtp[10401]: 4jYF4d3t3Mz1bXxH: to=<bob@hard.test>, "
	  "orig_to=<team@Lists.Example.TEST>, "
	  "relay=127.0.0.1[127.0.0.1]:10026, "
	  "delay=0.04, delays=0.01/0.01/0/0.02, dsn=5.1.1, status=bounced "
	  "(host 127.0.0.1[127.0.0.1] said: 550 5.1.1 no (in reply to RCPT "
	  "TO command))",
	  NOW, 0, MAILLOG_RECORD, ML_DELIVERY, T1, "4jYF4d3t3Mz1bXxH",
	  "bob@hard.test", "team@lists.example.test", "bounced", EV_ACT_FAILED,
	  "5.1.1", 550, "5.1.1", "550 5.1.1 no", NULL, NULL, NULL, 0 },
	{ "postfix error transport: no reply code",
	  PFX "postfix/error[10402]: 4jYF4d3t3Mz1bXxH: to=<gina@err.test>, "
	  "relay=none, delay=0.04, delays=0.01/0.02/0/0.02, dsn=5.1.2, "
	  "status=bounced (no such domain here)",
	  NOW, 0, MAILLOG_RECORD, ML_DELIVERY, T1, NULL, "gina@err.test", "",
	  "bounced", EV_ACT_FAILED, "5.1.2", 0, "", "no such domain here", "",
	  NULL, NULL, 0 },
	{ "postfix local unknown user",
	  PFX "postfix/local[10086]: B88EBA72252: "
	  "to=<nosuchuser@localhost.localdomain>, relay=local, delay=0.02, "
	  "delays=0.01/0.01/0/0, dsn=5.1.1, status=bounced (unknown user: "
	  "\"nosuchuser\")",
	  NOW, 0, MAILLOG_RECORD, ML_DELIVERY, T1, NULL,
	  "nosuchuser@localhost.localdomain", "", "bounced", EV_ACT_FAILED,
	  "5.1.1", 0, "", "unknown user: \"nosuchuser\"", "", NULL, NULL, 0 },
	{ "postfix discard",
	  PFX "postfix/discard[10084]: B539DA7225A: to=<hank@gone.test>, "
	  "relay=none, delay=0.03, delays=0.01/0.02/0/0, dsn=2.0.0, "
	  "status=sent (silently dropped)",
	  NOW, 0, MAILLOG_RECORD, ML_DELIVERY, T1, NULL, "hank@gone.test", "",
	  "sent", EV_ACT_DELIVERED, "2.0.0", 0, "", "silently dropped", "",
	  NULL, NULL, 0 },
	{ "postfix lmtp over a unix socket",
	  PFX "postfix/lmtp[2301]: 4jYG2q1Rb2z9sTd: to=<carol@example.com>, "
	  "relay=mail.example.com[private/dovecot-lmtp], delay=0.06, "
	  "delays=0.02/0.01/0.01/0.02, dsn=5.2.2, status=bounced (host "
	  "mail.example.com[private/dovecot-lmtp] said: 552 5.2.2 "
	  "<carol@example.com> Mailbox is full / Quota exceeded (in reply to "
	  "end of DATA command))",
	  NOW, 0, MAILLOG_RECORD, ML_DELIVERY, T1, NULL, "carol@example.com",
	  "", "bounced", EV_ACT_FAILED, "5.2.2", 552, "5.2.2",
	  "552 5.2.2 <carol@example.com> Mailbox is full / Quota exceeded",
	  "mail.example.com", NULL, NULL, 0 },
	{ "postfix pipe, local with a command in parentheses",
	  PFX "postfix/local[2304]: 4jYG2q1Rb2z9sTd: "
	  "to=<root@mx1.example.com>, "
	  "orig_to=<postmaster@example.com>, relay=local, delay=0.03, "
	  "delays=0.02/0.01/0/0, dsn=2.0.0, status=sent (delivered to "
	  "command: /usr/bin/procmail -a \"$EXTENSION\" (x))",
	  NOW, 0, MAILLOG_RECORD, ML_DELIVERY, T1, NULL, "root@mx1.example.com",
	  "postmaster@example.com", "sent", EV_ACT_DELIVERED, "2.0.0", 0, "",
	  "delivered to command: /usr/bin/procmail -a \"$EXTENSION\" (x)", "",
	  NULL, NULL, 0 },
	{ "postfix refused to talk to me",
	  PFX "postfix/smtp[2215]: 4jYG2h3Xk1z9sTa: to=<ops@example.com>, "
	  "relay=MX.Example.com[192.0.2.44]:25, delay=4, delays=0.05/0/3.9/0, "
	  "dsn=5.7.1, status=bounced (host mx.example.com[192.0.2.44] refused "
	  "to talk to me: 554 5.7.1 Service unavailable; Client host "
	  "[198.51.100.7] blocked using zen.spamhaus.org)",
	  NOW, 0, MAILLOG_RECORD, ML_DELIVERY, T1, NULL, "ops@example.com", "",
	  "bounced", EV_ACT_FAILED, "5.7.1", 554, "5.7.1",
	  "554 5.7.1 Service unavailable; Client host [198.51.100.7] blocked "
	  "using zen.spamhaus.org", "mx.example.com", NULL, NULL, 0 },
	{ "postfix multi-line reply, joined",
	  PFX "postfix/smtp[2211]: 4jYG2h3Xk1z9sTa: to=<John.Doe@Gmail.COM>, "
	  "relay=gmail-smtp-in.l.google.com[142.250.27.26]:25, delay=1.4, "
	  "delays=0.05/0.01/0.62/0.71, dsn=5.1.1, status=bounced (host "
	  "gmail-smtp-in.l.google.com[142.250.27.26] said: 550-5.1.1 The "
	  "email account that you tried to reach does not exist. 550 5.1.1 "
	  " https://support.google.com/mail/?p=NoSuchUser x - gsmtp (in reply "
	  "to RCPT TO command))",
	  NOW, 0, MAILLOG_RECORD, ML_DELIVERY, T1, NULL, "John.Doe@gmail.com",
	  "", "bounced", EV_ACT_FAILED, "5.1.1", 550, "5.1.1",
	  "550-5.1.1 The email account that you tried to reach does not "
	  "exist. 550 5.1.1  https://support.google.com/mail/?p=NoSuchUser x "
	  "- gsmtp", "gmail-smtp-in.l.google.com", NULL, NULL, 0 },
	{ "postfix connect timeout: no code",
	  PFX "postfix/smtp[2213]: 4jYG2h3Xk1z9sTa: to=<info@example.net>, "
	  "relay=none, delay=30, delays=0.05/0/30/0, dsn=4.4.1, "
	  "status=deferred (connect to mx.example.net[203.0.113.25]:25: "
	  "Connection timed out)",
	  NOW, 0, MAILLOG_RECORD, ML_DELIVERY, T1, NULL, "info@example.net", "",
	  "deferred", EV_ACT_DELAYED, "4.4.1", 0, "",
	  "connect to mx.example.net[203.0.113.25]:25: Connection timed out",
	  "", NULL, NULL, 0 },
	{ "postfix soft_bounce",
	  PFX "postfix-out/smtp[2401]: 4jYG2r5Tt7z9sTe: to=<x@example.info>, "
	  "relay=mx.example.info[198.51.100.3]:25, delay=0.4, "
	  "delays=0.01/0/0.2/0.19, dsn=5.1.1, status=SOFTBOUNCE (host "
	  "mx.example.info[198.51.100.3] said: 550 5.1.1 <x@example.info>: "
	  "User unknown (in reply to RCPT TO command))",
	  NOW, 0, MAILLOG_RECORD, ML_DELIVERY, T1, NULL, "x@example.info", "",
	  "softbounce", EV_ACT_DELAYED, "5.1.1", 550, "5.1.1",
	  "550 5.1.1 <x@example.info>: User unknown", NULL, NULL, NULL, 0 },
	{ "postfix address probe",
	  PFX "postfix/smtp[2402]: 4jYG2s0Aa1z9sTf: to=<probe@example.com>, "
	  "relay=mx.example.com[192.0.2.5]:25, delay=0.5, delays=0/0/0.3/0.2, "
	  "dsn=5.1.1, status=undeliverable (host mx.example.com[192.0.2.5] "
	  "said: 550 5.1.1 no (in reply to RCPT TO command))",
	  NOW, 0, MAILLOG_RECORD, ML_DELIVERY, T1, NULL, "probe@example.com",
	  "", "undeliverable", EV_ACT_FAILED, "5.1.1", 550, "5.1.1",
	  "550 5.1.1 no", NULL, NULL, NULL, 0 },
	{ "postfix status without text",
	  PFX "postfix/smtp[1]: ABCDEF1234: to=<a@b.example>, relay=none, "
	  "delay=1, dsn=4.0.0, status=deferred",
	  NOW, 0, MAILLOG_RECORD, ML_DELIVERY, T1, NULL, "a@b.example", "",
	  "deferred", EV_ACT_DELAYED, "4.0.0", 0, "", "", "", NULL, NULL, 0 },
	{ "postfix quoted local part with a comma and space",
	  PFX "postfix/smtp[1]: ABCDEF1234: to=<\"Doe, John\"@b.example>, "
	  "relay=none, delay=1, dsn=2.0.0, status=sent (250 ok)",
	  NOW, 0, MAILLOG_RECORD, ML_DELIVERY, T1, NULL,
	  "\"Doe, John\"@b.example", "", "sent", EV_ACT_DELIVERED, "2.0.0",
	  250, "", "250 ok", "", NULL, NULL, 0 },	/* RFC 5321 quoted-string */
	{ "qmgr expired",
	  PFX "postfix/qmgr[10031]: B2C42A72258: "
	  "from=<alice@relay.example.test>, status=expired, returned to sender",
	  NOW, 0, MAILLOG_RECORD, ML_EXPIRED, T1, "B2C42A72258", NULL, NULL,
	  "expired", EV_ACT_FAILED, "", 0, NULL, NULL, NULL, NULL,
	  "alice@relay.example.test", 0 },
	{ "cleanup message-id",
	  PFX "postfix/cleanup[10076]: AB4EAA72252: "
	  "message-id=<hard-1@relay.example.test>",
	  NOW, 0, MAILLOG_RECORD, ML_MESSAGE_ID, T1, "AB4EAA72252", NULL, NULL,
	  NULL, EV_ACT_UNKNOWN, NULL, -1, NULL, NULL, NULL,
	  "<hard-1@relay.example.test>", NULL, 0 },
	IGNORED("cleanup empty message-id",
	  PFX "postfix/cleanup[10076]: AB4EAA72252: message-id="),
	{ "qmgr from, null sender",
	  PFX "postfix/qmgr[10031]: B413CA72259: from=<>, size=2558, nrcpt=1 "
	  "(queue active)",
	  NOW, 0, MAILLOG_RECORD, ML_FROM, T1, "B413CA72259", NULL, NULL, NULL,
	  EV_ACT_UNKNOWN, NULL, -1, NULL, NULL, NULL, NULL, "", 0 },
	{ "qmgr from",
	  PFX "postfix/qmgr[10031]: AB4EAA72252: "
	  "from=<Alice@Relay.Example.TEST>, size=429, nrcpt=1 (queue active)",
	  NOW, 0, MAILLOG_RECORD, ML_FROM, T1, "AB4EAA72252", NULL, NULL, NULL,
	  EV_ACT_UNKNOWN, NULL, -1, NULL, NULL, NULL, NULL,
	  "Alice@relay.example.test", 0 },
	REMOVED("qmgr removed",
	  PFX "postfix/qmgr[10031]: AFAD2A72255: removed",
	  NOW, 0, T1, "AFAD2A72255", 0),
	{ "sendmail sent",
	  "Nov 23 18:20:03 mail sm-mta[4103]: 2ANIK1cQ004101: "
	  "to=<alice@example.com>, delay=00:00:02, xdelay=00:00:02, "
	  "mailer=esmtp, pri=150120, relay=mx.example.com. [203.0.113.9], "
	  "dsn=2.0.0, stat=Sent (OK id=1tE4xY-0003Qd-2C)",
	  NOW, 0, MAILLOG_RECORD, ML_DELIVERY, INT64_C(1795458003),
	  "2ANIK1cQ004101", "alice@example.com", "", "sent", EV_ACT_DELIVERED,
	  "2.0.0", 0, "", "OK id=1tE4xY-0003Qd-2C", "mx.example.com", NULL,
	  NULL, 0 },
	{ "sendmail user unknown",
	  "Nov 23 18:20:04 mail sm-mta[4103]: 2ANIK1cQ004101: "
	  "to=<bob@Example.NET>, delay=00:00:03, xdelay=00:00:01, "
	  "mailer=esmtp, pri=150120, relay=mx.example.net. [203.0.113.10], "
	  "dsn=5.1.1, stat=User unknown",
	  NOW, 0, MAILLOG_RECORD, ML_DELIVERY, NOCHECK, NULL, "bob@example.net",
	  "", "bounced", EV_ACT_FAILED, "5.1.1", 0, "", "User unknown",
	  "mx.example.net", NULL, NULL, 0 },
	{ "sendmail deferred with a reply",
	  "Nov 23 18:20:12 mail sm-mta[4107]: 2ANIK9cS004107: "
	  "to=<erin@example.biz>, ctladdr=<web@mail.example.org> (33/33), "
	  "delay=00:00:02, xdelay=00:00:02, mailer=esmtp, pri=30734, "
	  "relay=mx.example.biz. [198.51.100.44], dsn=4.2.2, stat=Deferred: "
	  "452 4.2.2 Mailbox full",
	  NOW, 0, MAILLOG_RECORD, ML_DELIVERY, NOCHECK, NULL,
	  "erin@example.biz",
	  "", "deferred", EV_ACT_DELAYED, "4.2.2", 452, "4.2.2",
	  "452 4.2.2 Mailbox full", "mx.example.biz", NULL, NULL, 0 },
	{ "sendmail bare recipient, local relay",
	  "Nov 23 18:20:15 mail sendmail[4109]: 2ANIKFcT004109: "
	  "to=frank@example.com, ctladdr=root (0/0), delay=00:00:00, "
	  "xdelay=00:00:00, mailer=relay, pri=30316, relay=[127.0.0.1] "
	  "[127.0.0.1], dsn=2.0.0, stat=Sent (2ANIKFcU004110 Message accepted "
	  "for delivery)",
	  NOW, 0, MAILLOG_RECORD, ML_DELIVERY, NOCHECK, NULL,
	  "frank@example.com", "", "sent", EV_ACT_DELIVERED, "2.0.0", 0, "",
	  "2ANIKFcU004110 Message accepted for delivery", "", NULL, NULL, 0 },
	IGNORED("sendmail queued: no attempt",
	  "Nov 23 18:20:18 mail sm-mta[4115]: 2ANIKIcX004115: "
	  "to=<ivy@example.com>, delay=00:00:00, mailer=esmtp, pri=30380, "
	  "dsn=4.7.0, stat=queued"),
	{ "sendmail from with msgid",
	  "Nov 23 18:20:01 mail sm-mta[4101]: 2ANIK1cQ004101: "
	  "from=<newsletter@example.org>, size=5120, class=0, nrcpts=2, "
	  "msgid=<2026.2ANIK1cQ004101@mail.example.org>, proto=ESMTP, "
	  "daemon=MTA, relay=app.example.org [192.0.2.80]",
	  NOW, 0, MAILLOG_RECORD, ML_FROM, NOCHECK, "2ANIK1cQ004101", NULL,
	  NULL, NULL, EV_ACT_UNKNOWN, NULL, -1, NULL, NULL, NULL,
	  "<2026.2ANIK1cQ004101@mail.example.org>", "newsletter@example.org",
	  0 },

	/* ---- timestamps ---- */
	REMOVED("ISO precise, +00:00 (journalctl -o short-iso-precise)",
	  "2026-11-23T18:35:18.123456+00:00 mx1 postfix/qmgr[1]: ABCDEF12: "
	  "removed",
	  NOW, 7200, T1, "ABCDEF12", 0),
	REMOVED("ISO +0100 without colon (older journalctl -o short-iso)",
	  "2026-11-23T19:35:18+0100 mx1 postfix/qmgr[1]: ABCDEF12: removed",
	  NOW, 0, T1, NULL, 0),
	REMOVED("ISO -05:30, Z-less fraction",
	  "2026-11-23T13:05:18.5-05:30 mx1 postfix/qmgr[1]: ABCDEF12: removed",
	  NOW, 0, T1, NULL, 0),
	REMOVED("ISO Z",
	  "2026-11-23T18:35:18Z mx1 postfix/qmgr[1]: ABCDEF12: removed",
	  NOW, 3600, T1, NULL, 0),
	REMOVED("ISO without zone: local time",
	  "2026-11-23 19:35:18 mx1 postfix/qmgr[1]: ABCDEF12: removed",
	  NOW, 3600, T1, NULL, ML_DEF_NO_ZONE),
	REMOVED("classic stamp in local time (gmtoff +1h)",
	  "Nov 23 19:35:18 relay postfix/qmgr[1]: ABCDEF12: removed",
	  NOW, 3600, T1, NULL, 0),
	REMOVED("classic stamp with microseconds (journalctl -o short-precise)",
	  "Nov 23 18:35:18.654321 relay postfix/qmgr[1]: ABCDEF12: removed",
	  NOW, 0, T1, "ABCDEF12", 0),
	IGNORED("classic stamp, a dot and no digits",
	  "Nov 23 18:35:18. relay postfix/qmgr[1]: ABCDEF12: removed"),
	REMOVED("classic stamp, space-padded day",
	  "Nov  3 18:35:18 relay postfix/qmgr[1]: ABCDEF12: removed",
	  NOW, 0, T1 - 20 * 86400, NULL, 0),
	REMOVED("year rollover: December read in January is last year",
	  /* now 2027-01-01T00:00:10Z; want 2026-12-31T23:59:59Z */
	  "Dec 31 23:59:59 relay postfix/qmgr[1]: ABCDEF12: removed",
	  INT64_C(1798761610), 0, INT64_C(1798761599), NULL, 0),
	REMOVED("year rollover: 1 January a little ahead of our clock",
	  /* now 2026-12-31T23:59:58Z; want 2027-01-01T00:00:05Z */
	  "Jan  1 00:00:05 relay postfix/qmgr[1]: ABCDEF12: removed",
	  INT64_C(1798761598), 0, INT64_C(1798761605), NULL, 0),
	REMOVED("a month still to come is last year",
	  /* now 2026-11-24; want 2025-12-05T00:00:00Z */
	  "Dec  5 00:00:00 relay postfix/qmgr[1]: ABCDEF12: removed",
	  NOW, 0, INT64_C(1764892800), NULL, 0),
	REMOVED("29 February goes back to the last leap year",
	  /* now 2029-01-15T00:00:00Z; want 2028-02-29T12:00:00Z */
	  "Feb 29 12:00:00 relay postfix/qmgr[1]: ABCDEF12: removed",
	  INT64_C(1863129600), 0, INT64_C(1835438400), NULL, 0),

	/* ---- not for us ---- */
	IGNORED("empty", ""),
	IGNORED("words", "hello world"),
	IGNORED("stamp only", "Nov 23 18:35:18"),
	IGNORED("stamp and host", "Nov 23 18:35:18 relay"),
	IGNORED("bad month",
	  "Foo 23 18:35:18 relay postfix/qmgr[1]: ABCDEF12: removed"),
	IGNORED("bad hour",
	  "Nov 23 25:35:18 relay postfix/qmgr[1]: ABCDEF12: removed"),
	IGNORED("bad ISO date",
	  "2026-02-30T18:35:18Z mx1 postfix/qmgr[1]: ABCDEF12: removed"),
	IGNORED("ISO 29 February of a common year",
	  "2026-02-29T18:35:18Z mx1 postfix/qmgr[1]: ABCDEF12: removed"),
	REMOVED("ISO 29 February of a leap year",
	  "2028-02-29T00:00:00Z mx1 postfix/qmgr[1]: ABCDEF12: removed",
	  NOW, 0, INT64_C(1835395200), NULL, 0),
	IGNORED("bad ISO zone",
	  "2026-11-23T18:35:18+2x:00 mx1 postfix/qmgr[1]: ABCDEF12: removed"),
	/* malformed stamps the library parsers must not be let to take */
#define QMGR_REMOVED	" mx1 postfix/qmgr[1]: ABCDEF12: removed"
	IGNORED("classic: day glued to the month", "Nov23 18:35:18" QMGR_REMOVED),
	IGNORED("classic: one-digit hour", "Nov 23 8:35:18" QMGR_REMOVED),
	IGNORED("classic: space-padded hour", "Nov 23  8:35:18" QMGR_REMOVED),
	IGNORED("classic: full month name", "November 23 18:35:18"
	    QMGR_REMOVED),
	IGNORED("classic: day 32", "Nov 32 18:35:18" QMGR_REMOVED),
	IGNORED("classic: day 0", "Nov 00 18:35:18" QMGR_REMOVED),
	IGNORED("classic: 30 February", "Feb 30 12:00:00" QMGR_REMOVED),
	IGNORED("classic: minute 60", "Nov 23 18:60:18" QMGR_REMOVED),
	IGNORED("classic: second 61", "Nov 23 18:35:61" QMGR_REMOVED),
	IGNORED("classic: a letter in the seconds", "Nov 23 18:35:1x"
	    QMGR_REMOVED),
	IGNORED("classic: a sign for the day", "Nov +3 18:35:18" QMGR_REMOVED),
	IGNORED("ISO: no seconds", "2026-11-23T18:35Z" QMGR_REMOVED),
	IGNORED("ISO: month 13", "2026-13-01T00:00:00Z" QMGR_REMOVED),
	IGNORED("ISO: hour 24", "2026-11-23T24:00:00Z" QMGR_REMOVED),
	IGNORED("ISO: before 1970", "1969-12-31T23:59:59Z" QMGR_REMOVED),
	IGNORED("ISO: a dot and no fraction", "2026-11-23T18:35:18.Z"
	    QMGR_REMOVED),
	IGNORED("ISO: a zone cut short", "2026-11-23T18:35:18+05:"
	    QMGR_REMOVED),
	IGNORED("ISO: week date (ISO 8601, not RFC 3339)",
	    "2026-W48-1T18:35:18Z" QMGR_REMOVED),
	IGNORED("ISO: basic format (ISO 8601, not RFC 3339)",
	    "20261123T183518Z" QMGR_REMOVED),
	IGNORED("ISO: one-digit hour", "2026-11-23T8:35:18Z" QMGR_REMOVED),
	IGNORED("ISO: overlong", "2026-11-23T18:35:18.123456789012345678901Z"
	    QMGR_REMOVED),
	IGNORED("ISO: garbage after the zone", "2026-11-23T18:35:18Zjunk"
	    QMGR_REMOVED),
	IGNORED("ISO: cut by a space", "2026-11-23T18:35:1 8Z" QMGR_REMOVED),
	IGNORED("ISO: a NUL in the stamp", "2026-11-23T18:3\0:18Z"
	    QMGR_REMOVED),
#undef QMGR_REMOVED
	IGNORED("smtpd connect",
	  PFX "postfix/smtpd[10073]: connect from localhost[127.0.0.1]"),
	IGNORED("smtpd NOQUEUE reject",
	  PFX "postfix/smtpd[10073]: NOQUEUE: reject: RCPT from localhost"
	  "[127.0.0.1]: 550 5.1.2 <gina@err.test>: Recipient address "
	  "rejected; from=<a@b> to=<gina@err.test> proto=ESMTP helo=<x>"),
	IGNORED("smtpd client=",
	  PFX "postfix/smtpd[10073]: AB4EAA72252: client=localhost[127.0.0.1]"),
	IGNORED("pickup uid= from=",
	  PFX "postfix/pickup[10353]: 4jYF4d4FGNz1bXxL: uid=0 "
	  "from=<root@relay.example.test>"),
	IGNORED("bounce notification",
	  PFX "postfix/bounce[10079]: AB4EAA72252: sender non-delivery "
	  "notification: B413CA72259"),
	IGNORED("warning",
	  PFX "postfix/smtp[2503]: warning: TLS library problem: error:0A0"),
	IGNORED("program without pid, sendmail STARTTLS",
	  "Nov 23 18:20:02 mail sm-mta: STARTTLS=client, relay=mx., "
	  "version=TLSv1.3"),
	IGNORED("unterminated pid", PFX "postfix/qmgr[12: ABCDEF12: removed"),

	/* ---- delivery-shaped but broken ---- */
	MALFORMED("no status (line cut short)",
	  PFX "postfix/smtp[10077]: AB4EAA72252: to=<bob@hard.test>, "
	  "relay=127.0.0.1[127.0.0.1]:10026, delay=0.04, del"),
	MALFORMED("unknown status word",
	  PFX "postfix/smtp[1]: AB4EAA72252: to=<bob@hard.test>, relay=none, "
	  "dsn=5.1.1, status=frobnicated (x)"),
	MALFORMED("empty recipient",
	  PFX "postfix/smtp[1]: AB4EAA72252: to=<>, relay=none, dsn=5.1.1, "
	  "status=bounced (x)"),
	MALFORMED("to= not followed by fields",
	  PFX "postfix/smtp[1]: AB4EAA72252: to="),
	{ "cut in the diagnostic: kept, flagged",
	  PFX "postfix/smtp[1]: AB4EAA72252: to=<a@b.example>, relay=none, "
	  "dsn=4.2.2, status=deferred (host mx[1.2.3.4] said: 452 4.2.2 Mail",
	  NOW, 0, MAILLOG_RECORD, ML_DELIVERY, T1, NULL, "a@b.example", "",
	  "deferred", EV_ACT_DELAYED, "4.2.2", 452, "4.2.2", "452 4.2.2 Mail",
	  NULL, NULL, NULL, ML_DEF_TRUNCATED },
	{ "bogus dsn= is dropped, the rest kept",
	  PFX "postfix/smtp[1]: AB4EAA72252: to=<a@b.example>, relay=none, "
	  "dsn=9.9.9999, status=bounced (550 nope)",
	  NOW, 0, MAILLOG_RECORD, ML_DELIVERY, T1, NULL, "a@b.example", "",
	  "bounced", EV_ACT_FAILED, "", 550, "", "550 nope", NULL, NULL, NULL,
	  0 },
};

static void
check_str(const char *what, const char *got, const char *want, const char *name)
{
	if (want == NULL)
		return;
	ck_assert_msg(got != NULL && strcmp(got, want) == 0,
	    "%s: %s: got \"%s\", want \"%s\"", name, what,
	    got ? got : "(null)", want);
}

START_TEST(test_maillog_parses_table)
{
	const struct parse_case *c = &cases[_i];
	struct maillog_rec	*r;
	enum maillog_result	 res;

	r = malloc(sizeof(*r));
	ck_assert_ptr_nonnull(r);
	memset(r, 0xa5, sizeof(*r));	/* no field may be left unset */
	res = maillog_parse(c->line, strlen(c->line), c->now, c->gmtoff, r);
	ck_assert_msg(res == c->res, "%s: result: got %d, want %d", c->name,
	    res, c->res);
	if (res != MAILLOG_RECORD) {
		free(r);
		return;
	}
	ck_assert_msg(r->kind == c->kind, "%s: kind: got %s, want %s",
	    c->name, maillog_kind_name(r->kind), maillog_kind_name(c->kind));
	if (c->when != NOCHECK)
		ck_assert_msg(r->when == c->when,
		    "%s: when: got %lld, want %lld",
		    c->name, (long long)r->when, (long long)c->when);
	check_str("queue_id", r->queue_id, c->qid, c->name);
	if (c->rcpt != NULL) {
		ck_assert_msg(r->nrcpt == 1, "%s: nrcpt: got %zu, want 1",
		    c->name, r->nrcpt);
		check_str("recipient", maillog_recipient(r, 0), c->rcpt,
		    c->name);
	}
	check_str("orig_recipient", r->orig_recipient, c->orig, c->name);
	check_str("status_word", r->status_word, c->word, c->name);
	if (c->kind == ML_DELIVERY || c->kind == ML_EXPIRED)
		ck_assert_msg(r->action == c->action,
		    "%s: action: got %s, want %s", c->name,
		    ev_action_name(r->action), ev_action_name(c->action));
	check_str("dsn", r->dsn, c->dsn, c->name);
	if (c->code >= 0)
		ck_assert_msg(r->reply_code == c->code,
		    "%s: reply_code: got %d, want %d", c->name, r->reply_code,
		    c->code);
	check_str("diag_status", r->diag_status, c->dstat, c->name);
	check_str("diagnostic", r->diagnostic, c->diag, c->name);
	check_str("relay_host", r->relay_host, c->relay_host, c->name);
	check_str("message_id", r->message_id, c->msgid, c->name);
	check_str("sender", r->sender, c->sender, c->name);
	ck_assert_msg((r->defects & c->defects) == c->defects,
	    "%s: defects: got 0x%x, want bits 0x%x", c->name, r->defects,
	    c->defects);
	free(r);
}
END_TEST

START_TEST(test_maillog_keeps_raw_and_program)
{
	static const char line[] = PFX "postfix/smtp[10078]: ADC57A72253: "
	    "to=<carol@soft.test>, relay=127.0.0.1[127.0.0.1]:10029, "
	    "delay=0.06, delays=0.01/0.02/0/0.03, dsn=4.2.2, status=deferred "
	    "(host 127.0.0.1[127.0.0.1] said: 452 4.2.2 Mailbox full (in reply "
	    "to RCPT TO command))";
	static struct maillog_rec r;

	ck_assert_int_eq(maillog_parse(line, sizeof(line) - 1, NOW, 0, &r),
	    MAILLOG_RECORD);
	check_str("raw", r.raw, "host 127.0.0.1[127.0.0.1] said: 452 4.2.2 "
	    "Mailbox full (in reply to RCPT TO command)", "raw");
	check_str("program", r.program, "postfix/smtp", "program");
	check_str("host", r.host, "relay", "host");
	check_str("relay", r.relay, "127.0.0.1[127.0.0.1]:10029", "relay");
	ck_assert_msg(r.mta == ML_MTA_POSTFIX, "mta: got %d, want %d", r.mta,
	    ML_MTA_POSTFIX);
	ck_assert_msg(!r.probe, "probe: got true, want false");
}
END_TEST

START_TEST(test_maillog_sendmail_recipient_list)
{
	static const char line[] = "Nov 23 18:20:09 mail sm-mta[4105]: "
	    "2ANIK6cR004105: to=<carol@example.info>,<Dave@Example.INFO>,"
	    "\"x,y\"@example.info, delay=00:00:05, xdelay=00:00:05, "
	    "mailer=esmtp, pri=120380, relay=mx.example.info. [198.51.100.3], "
	    "dsn=4.0.0, stat=Deferred: Connection refused by mx.example.info.";
	static const char *want[] = { "carol@example.info",
	    "Dave@example.info", "\"x,y\"@example.info" };
	static struct maillog_rec r;
	size_t	 i;

	ck_assert_int_eq(maillog_parse(line, sizeof(line) - 1, NOW, 0, &r),
	    MAILLOG_RECORD);
	ck_assert_msg(r.nrcpt == 3, "nrcpt: got %zu, want 3", r.nrcpt);
	for (i = 0; i < 3; i++)
		check_str("recipient", maillog_recipient(&r, i), want[i],
		    "sendmail list");
	ck_assert_ptr_null(maillog_recipient(&r, 3));
	check_str("diagnostic", r.diagnostic,
	    "Connection refused by mx.example.info.", "sendmail list");
	ck_assert_msg(r.mta == ML_MTA_SENDMAIL, "mta: got %d, want %d", r.mta,
	    ML_MTA_SENDMAIL);
}
END_TEST

START_TEST(test_maillog_sendmail_recipient_cap)
{
	char			 line[4096];
	static struct maillog_rec r;
	size_t			 n, i;

	n = (size_t)snprintf(line, sizeof(line), "Nov 23 18:20:09 mail "
	    "sm-mta[1]: 2ANIK6cR004105: to=");
	for (i = 0; i < 40; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n,
		    "%s<user%zu@example.com>", i ? "," : "", i);
	n += (size_t)snprintf(line + n, sizeof(line) - n,
	    ", mailer=esmtp, dsn=5.1.1, stat=User unknown");
	ck_assert_uint_lt(n, sizeof(line));
	ck_assert_int_eq(maillog_parse(line, n, NOW, 0, &r), MAILLOG_RECORD);
	ck_assert_msg(r.nrcpt == MAILLOG_RCPT_NMAX, "nrcpt: got %zu, want %d",
	    r.nrcpt, MAILLOG_RCPT_NMAX);
	ck_assert_msg(r.defects & ML_DEF_TOO_MANY_RCPTS,
	    "defects: got 0x%x, want ML_DEF_TOO_MANY_RCPTS", r.defects);
	check_str("last kept", maillog_recipient(&r, MAILLOG_RCPT_NMAX - 1),
	    "user15@example.com", "cap");
}
END_TEST

START_TEST(test_maillog_reuse_clears_fields)
{
	static const char sm[] = "Nov 23 18:20:01 mail sm-mta[4101]: "
	    "2ANIK1cQ004101: from=<n@example.org>, size=5120, class=0, "
	    "nrcpts=2, msgid=<m@example.org>, proto=ESMTP";
	static const char pf[] = PFX "postfix/smtp[1]: ABCDEF1234: "
	    "to=<a@b.example>, relay=none, delay=1, dsn=2.0.0, status=sent";
	static struct maillog_rec r;

	ck_assert_int_eq(maillog_parse(sm, sizeof(sm) - 1, NOW, 0, &r),
	    MAILLOG_RECORD);
	ck_assert_int_eq(maillog_parse(pf, sizeof(pf) - 1, NOW, 0, &r),
	    MAILLOG_RECORD);
	check_str("message_id", r.message_id, "", "reuse");
	check_str("sender", r.sender, "", "reuse");
	check_str("diagnostic", r.diagnostic, "", "reuse");
	ck_assert_msg(r.size == -1, "size: got %lld, want -1", r.size);
	ck_assert_msg(r.nrcpt == 1, "nrcpt: got %zu, want 1", r.nrcpt);
}
END_TEST

START_TEST(test_maillog_overlong_line_is_cut)
{
	static struct maillog_rec r;
	static const char head[] = PFX "postfix/smtp[1]: ABCDEF1234: "
	    "to=<a@b.example>, relay=mx[1.2.3.4]:25, dsn=5.7.1, "
	    "status=bounced (host mx[1.2.3.4] said: 550 5.7.1 ";
	size_t	 n = 3 * MAILLOG_LINE_MAX, hl = sizeof(head) - 1;
	char	*line = malloc(n);

	ck_assert_ptr_nonnull(line);
	memcpy(line, head, hl);
	memset(line + hl, 'x', n - hl - 1);
	line[n - 1] = ')';
	ck_assert_int_eq(maillog_parse(line, n, NOW, 0, &r), MAILLOG_RECORD);
	ck_assert_msg(r.defects & ML_DEF_TRUNCATED,
	    "defects: got 0x%x, want ML_DEF_TRUNCATED", r.defects);
	ck_assert_msg(strlen(r.diagnostic) < MAILLOG_TEXT_MAX,
	    "diagnostic length: got %zu, want < %d", strlen(r.diagnostic),
	    MAILLOG_TEXT_MAX);
	ck_assert_int_eq(r.reply_code, 550);

	/* the status beyond the cap: the line cannot be read */
	memcpy(line, PFX "postfix/smtp[1]: ABCDEF1234: to=<a@b.example>, "
	    "relay=", sizeof(PFX) - 1 + 50);
	memset(line + sizeof(PFX) - 1 + 50, 'y', MAILLOG_LINE_MAX);
	memcpy(line + 2 * MAILLOG_LINE_MAX, ", dsn=2.0.0, status=sent", 24);
	ck_assert_int_eq(maillog_parse(line, 2 * MAILLOG_LINE_MAX + 24, NOW, 0,
	    &r), MAILLOG_EMALFORMED);
	free(line);
}
END_TEST

START_TEST(test_maillog_binary_bytes_become_marks)
{
	static const char line[] = PFX "postfix/smtp[1]: ABCDEF1234: "
	    "to=<a@b.example>, relay=none, dsn=5.0.0, status=bounced (550 "
	    "bad\0byte\x01\x7f here \xc3\xa9)";
	static struct maillog_rec r;

	ck_assert_int_eq(maillog_parse(line, sizeof(line) - 1, NOW, 0, &r),
	    MAILLOG_RECORD);
	check_str("diagnostic", r.diagnostic, "550 bad?byte?? here \xc3\xa9",
	    "binary");
	ck_assert_msg(r.defects & ML_DEF_CTRL,
	    "defects: got 0x%x, want ML_DEF_CTRL", r.defects);
}
END_TEST

/* xorshift: deterministic noise */
static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

START_TEST(test_maillog_survives_mutations)
{
	static struct maillog_rec r;
	char		 buf[1024];
	uint32_t	 seed = 0x9e3779b9;
	size_t		 i, k, n, len;
	unsigned	 counts[3] = { 0 };

	for (i = 0; i < 20000; i++) {
		const char *src = cases[i % (sizeof(cases) / sizeof(cases[0]))]
		    .line;
		len = strlen(src);
		if (len > sizeof(buf))
			len = sizeof(buf);
		memcpy(buf, src, len);
		n = 1 + rnd(&seed) % 8;
		for (k = 0; k < n && len > 0; k++) {
			size_t at = rnd(&seed) % len;
			switch (rnd(&seed) % 4) {
			case 0:		/* any byte */
				buf[at] = (char)rnd(&seed);
				break;
			case 1:		/* a separator */
				buf[at] = ",=<>() :["[rnd(&seed) % 10];
				break;
			case 2:		/* cut */
				len = at;
				break;
			default:	/* NUL */
				buf[at] = '\0';
				break;
			}
		}
		counts[maillog_parse(buf, len, NOW, 0, &r)]++;
		if (r.kind == ML_DELIVERY)
			ck_assert_msg(r.nrcpt >= 1 &&
			    r.nrcpt <= MAILLOG_RCPT_NMAX,
			    "nrcpt: got %zu", r.nrcpt);
	}
	/* the mutations must leave some lines whole and break others */
	ck_assert_msg(counts[MAILLOG_RECORD] > 0 &&
	    counts[MAILLOG_IGNORED] > 0 && counts[MAILLOG_EMALFORMED] > 0,
	    "counts: got %u/%u/%u, want all > 0",
	    counts[0], counts[1], counts[2]);
}
END_TEST

START_TEST(test_maillog_event_maps_fields)
{
	static const char line[] = PFX "postfix/smtp[1]: 4jYF4d3t3Mz1bXxH: "
	    "to=<bob@hard.test>, orig_to=<team@lists.example.test>, "
	    "relay=mx.hard.test[192.0.2.1]:25, delay=0.04, dsn=5.1.1, "
	    "status=bounced (host mx.hard.test[192.0.2.1] said: 550 5.1.1 "
	    "<bob@hard.test>: unknown (in reply to RCPT TO command))";
	static struct maillog_rec r;
	struct bd_event	 ev;

	ck_assert_int_eq(maillog_parse(line, sizeof(line) - 1, NOW, 0, &r),
	    MAILLOG_RECORD);
	maillog_event(&r, 0, &ev);
	ck_assert_msg(ev.when == T1, "when: got %lld, want %lld",
	    (long long)ev.when, (long long)T1);
	check_str("recipient", ev.recipient, "bob@hard.test", "event");
	check_str("original_recipient", ev.original_recipient,
	    "team@lists.example.test", "event");
	ck_assert_msg(ev.action == EV_ACT_FAILED, "action: got %s, want failed",
	    ev_action_name(ev.action));
	check_str("status", ev.status, "5.1.1", "event");
	ck_assert_int_eq(ev.reply_code, 550);
	check_str("diagnostic", ev.diagnostic,
	    "550 5.1.1 <bob@hard.test>: unknown", "event");
	check_str("remote_mta", ev.remote_mta, "mx.hard.test", "event");
	check_str("reporting_mta", ev.reporting_mta, "relay", "event");
	check_str("queue_id", ev.queue_id, "4jYF4d3t3Mz1bXxH", "event");
	ck_assert_ptr_null(ev.message_id);
	ck_assert_ptr_null(ev.sender);
	ck_assert_msg(ev.source == EV_SRC_LOG, "source: got %s, want log",
	    ev_source_name(ev.source));
	ck_assert_msg(ev.trusted, "trusted: got false, want true");
	ck_assert_ptr_null(ev.verdict.reason);

	/* no relay host, no code: NULLs, not empty strings */
	static const char l2[] = PFX "postfix/error[1]: ABCDEF1234: "
	    "to=<g@err.test>, relay=none, dsn=5.1.2, status=bounced (gone)";
	ck_assert_int_eq(maillog_parse(l2, sizeof(l2) - 1, NOW, 0, &r),
	    MAILLOG_RECORD);
	maillog_event(&r, 0, &ev);
	ck_assert_ptr_null(ev.remote_mta);
	ck_assert_ptr_null(ev.original_recipient);
	ck_assert_int_eq(ev.reply_code, 0);
	ck_assert_ptr_null(maillog_recipient(&r, 1));
	maillog_event(&r, 1, &ev);
	ck_assert_ptr_null(ev.recipient);
}
END_TEST

/* ---- the sample logs ---- */

static const char *const samples[] = {
	"postfix-maillog_file", "postfix-journal-iso", "sendmail", "damaged",
};

static long
expect_get(const char *expect, const char *key)
{
	char		 pat[64];
	const char	*p;

	snprintf(pat, sizeof(pat), "%s=", key);
	for (p = expect; (p = strstr(p, pat)) != NULL; p++)
		if (p == expect || p[-1] == ' ')
			return strtol(p + strlen(pat), NULL, 10);
	ck_abort_msg("%s: not in the .expect file", key);
	return -1;
}

START_TEST(test_maillog_sample_logs_count)
{
	const char		*name = samples[_i];
	char			 dir[4096], file[256];
	char			*expect, *log, *p, *nl;
	size_t			 len, i;
	static struct maillog_rec r;
	long			 lines = 0, kinds[6] = { 0 }, res[3] = { 0 };
	long			 acts[6] = { 0 }, rcpts = 0, want;

	(void)testutil_srcdir("tests/data/maillog", dir, sizeof(dir));
	snprintf(file, sizeof(file), "%s.expect", name);
	expect = testutil_read_in(dir, file, &len);
	snprintf(file, sizeof(file), "%s.maillog", name);
	log = testutil_read_in(dir, file, &len);
	/* each line with its newline, as read from the file */
	for (p = log; p < log + len; p = nl) {
		enum maillog_result x;

		nl = memchr(p, '\n', (size_t)(log + len - p));
		nl = nl != NULL ? nl + 1 : log + len;
		lines++;
		x = maillog_parse(p, (size_t)(nl - p), NOW, 0, &r);
		res[x]++;
		if (x != MAILLOG_RECORD)
			continue;
		kinds[r.kind]++;
		if (r.kind == ML_DELIVERY) {
			acts[r.action]++;
			rcpts += (long)r.nrcpt;
		}
	}
	free(log);

	const struct {
		const char	*key;
		long		 got;
	} tally[] = {
		{ "lines", lines },
		{ "delivery", kinds[ML_DELIVERY] },
		{ "expired", kinds[ML_EXPIRED] },
		{ "from", kinds[ML_FROM] },
		{ "message-id", kinds[ML_MESSAGE_ID] },
		{ "removed", kinds[ML_REMOVED] },
		{ "ignored", res[MAILLOG_IGNORED] },
		{ "malformed", res[MAILLOG_EMALFORMED] },
		{ "delivered", acts[EV_ACT_DELIVERED] },
		{ "delayed", acts[EV_ACT_DELAYED] },
		{ "failed", acts[EV_ACT_FAILED] },
		{ "rcpts", rcpts },
	};
	for (i = 0; i < sizeof(tally) / sizeof(tally[0]); i++) {
		want = expect_get(expect, tally[i].key);
		ck_assert_msg(tally[i].got == want, "%s: %s: got %ld, want %ld",
		    name, tally[i].key, tally[i].got, want);
	}
	free(expect);
}
END_TEST

static Suite *
maillog_suite(void)
{
	Suite	*s = suite_create("maillog");
	TCase	*tc;

	tc = tcase_create("lines");
	TESTUTIL_LOOP(tc, test_maillog_parses_table, cases);
	tcase_add_test(tc, test_maillog_keeps_raw_and_program);
	tcase_add_test(tc, test_maillog_sendmail_recipient_list);
	tcase_add_test(tc, test_maillog_sendmail_recipient_cap);
	tcase_add_test(tc, test_maillog_reuse_clears_fields);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_add_test(tc, test_maillog_overlong_line_is_cut);
	tcase_add_test(tc, test_maillog_binary_bytes_become_marks);
	tcase_add_test(tc, test_maillog_survives_mutations);
	suite_add_tcase(s, tc);

	tc = tcase_create("event");
	tcase_add_test(tc, test_maillog_event_maps_fields);
	suite_add_tcase(s, tc);

	tc = tcase_create("samples");
	TESTUTIL_LOOP(tc, test_maillog_sample_logs_count, samples);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_run(maillog_suite()) == 0 ? EXIT_SUCCESS :
	    EXIT_FAILURE;
}
