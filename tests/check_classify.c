/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * check_classify.c - unit tests of classify() under the built-in rules
 * (etc/bounced.rules): reasons, hard or soft, who and advice, the
 * status as sent or derived, status/text conflicts, the report context
 * (ARF, auto-reply, delivered), the SMTP command a failure answered
 * (smtpcmd_find() and command-aware rules) and hostile input.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "verdict/classify.h"
#include "parse/smtpcmd.h"
#include "testutil.h"

static struct rules *rules;

static void
setup(void)
{
	char		 err[256];
	enum bd_status	 st;

	st = rules_default(&rules, err, sizeof(err));
	ck_assert_msg(st == BD_OK, "rules_default: got %d (%s)", st, err);
}

static void
teardown(void)
{
	rules_unref(rules);
	rules = NULL;
}

/*
 * Classify in under the built-in rules into v: the reason and whether
 * it is hard must be as wanted.  what names the case in a failure.
 */
static void
want_verdict(const struct classify_input *in, const char *what,
    const char *reason, bool hard, struct verdict *v)
{
	classify(rules, in, v);
	ck_assert_msg(strcmp(v->reason, reason) == 0,
	    "%s: reason: got %s, want %s (rule %s, %s)", what, v->reason,
	    reason, v->rule, v->why);
	ck_assert_msg(v->hard == hard, "%s: hard: got %d, want %d", what,
	    v->hard, hard);
}

static const struct case_ {
	const char	*status;
	int		 code;
	const char	*text;
	enum ev_action	 action;
	const char	*reason;
	bool		 hard;
	enum ev_who	 who;
	const char	*want_status;
} cases[] = {
	{ "5.1.1", 550, "550 5.1.1 <a@example.org>: Recipient address "
	    "rejected: User unknown in local recipient table", EV_ACT_FAILED,
	    "userunknown", true, EV_WHO_RECIPIENT, "5.1.1" },
	/* a bare 5.1.1 decides by the status table */
	{ "5.1.1", 0, NULL, EV_ACT_FAILED, "userunknown", true,
	    EV_WHO_RECIPIENT, "5.1.1" },
	/* blocked is about the sender: never hard, even with 5xx */
	{ NULL, 0, "550 5.7.1 blocked by spamhaus", EV_ACT_FAILED, "blocked",
	    false, EV_WHO_SENDER, "5.7.1" },
	{ "4.2.2", 452, "452 4.2.2 Mailbox full", EV_ACT_DELAYED,
	    "mailboxfull", false, EV_WHO_RECIPIENT, "4.2.2" },
	{ "5.2.2", 552, "552 5.2.2 Quota exceeded (mailbox for user is full)",
	    EV_ACT_FAILED, "mailboxfull", false, EV_WHO_RECIPIENT, "5.2.2" },
	{ "5.1.2", 0, "Host or domain name not found. Name service error",
	    EV_ACT_FAILED, "hostunknown", true, EV_WHO_RECIPIENT, "5.1.2" },
	{ "5.7.26", 550, "550-5.7.26 The MAIL FROM domain has an SPF record "
	    "with a 550-5.7.26 hard fail policy", EV_ACT_FAILED,
	    "authfailure", false, EV_WHO_SENDER, "5.7.26" },
	{ "5.7.1", 550, "550 5.7.1 Our system has detected that this message "
	    "is likely suspicious due to the very low reputation of the "
	    "sending IP address", EV_ACT_FAILED, "badreputation", false,
	    EV_WHO_SENDER, "5.7.1" },
	{ "5.7.25", 550, "550 5.7.25 The IP address sending this message "
	    "does not have a PTR record setup", EV_ACT_FAILED, "requireptr",
	    false, EV_WHO_SENDER, "5.7.25" },
	{ "4.3.2", 452, "452 4.3.2 Connection rate limit exceeded.",
	    EV_ACT_FAILED, "toomanyconn", false, EV_WHO_SENDER, "4.3.2" },
	{ "5.6.0", 0, NULL, EV_ACT_FAILED, "contenterror", false,
	    EV_WHO_SENDER, "5.6.0" },
	{ "5.1.6", 550, "550 5.1.6 recipient no longer on server",
	    EV_ACT_FAILED, "hasmoved", true, EV_WHO_RECIPIENT, "5.1.6" },
	{ "5.0.0", 554, "554 5.7.1 <a@b>: Relay access denied", EV_ACT_FAILED,
	    "norelaying", false, EV_WHO_SENDER, "5.0.0" },
	{ "5.0.0", 550, "550 Virus Detected; Content Rejected", EV_ACT_FAILED,
	    "virusdetected", false, EV_WHO_SENDER, "5.0.0" },
	/* 5.1.10: Microsoft's "recipient not found" (RFC 7505's null MX
	 * is "Recipient address has null MX", decided by its words) */
	{ "5.1.10", 0, NULL, EV_ACT_FAILED, "userunknown", true,
	    EV_WHO_RECIPIENT, "5.1.10" },
	{ "5.1.10", 556, "556 5.1.10 Recipient address has null MX",
	    EV_ACT_FAILED, "notaccept", true, EV_WHO_RECIPIENT, "5.1.10" },
	/* null MX: soft on a temporary code */
	{ "4.0.0", 0, "DNS Error: The domain example.org doesn't receive "
	    "email according to the administrator: returned Null MX",
	    EV_ACT_FAILED, "notaccept", false, EV_WHO_RECIPIENT, "4.0.0" },
	/* no status at all: derived from the text, else from the reason */
	{ NULL, 0, "550 5.1.1 <a@b>... User Unknown", EV_ACT_FAILED,
	    "userunknown", true, EV_WHO_RECIPIENT, "5.1.1" },
	{ NULL, 550, "Sorry, no mailbox here by that name (#5.1.1)",
	    EV_ACT_FAILED, "userunknown", true, EV_WHO_RECIPIENT, "5.1.1" },
	/* the words of an SMTP reply say so without a status */
	{ NULL, 550, "Sorry, no mailbox here by that name", EV_ACT_FAILED,
	    "userunknown", true, EV_WHO_RECIPIENT, "5.1.1" },
	/* a time-out while the MTA still retries is the network's ... */
	{ NULL, 0, "connect to example.org[192.0.2.1]:25: Connection timed "
	    "out", EV_ACT_DELAYED, "networkerror", false, EV_WHO_BOTH,
	    "4.4.0" },
	/* ... once it gave up, the message expired */
	{ NULL, 0, "connect to example.org[192.0.2.1]:25: Connection timed "
	    "out", EV_ACT_FAILED, "expired", false, EV_WHO_BOTH, "5.4.7" },
	/* a refused TCP connection: the host is down, not a block */
	{ NULL, 0, "Deferred: Connection refused by mx.example.org.",
	    EV_ACT_DELAYED, "networkerror", false, EV_WHO_BOTH, "4.4.0" },
	/* qmail's give-up after a directory (DNS) server failure */
	{ "4.4.3", 0, "4.4.3)I'm not going to try again; this message has "
	    "been in the queue too long.", EV_ACT_FAILED, "systemerror",
	    false, EV_WHO_RECIPIENT, "4.4.3" },
	{ "4.4.1", 0, "4.4.1) I'm not going to try again; this message has "
	    "been in the queue too long.", EV_ACT_FAILED, "expired", false,
	    EV_WHO_BOTH, "4.4.1" },
	/* a policy refusal before any content, with a security status */
	{ "5.7.0", 550, "550 5.7.0 <a@example.org>: Recipient address "
	    "rejected: Policy violation", EV_ACT_FAILED, "securityerror",
	    false, EV_WHO_SENDER, "5.7.0" },
	{ "5.0.0", 550, "550 Denied by policy", EV_ACT_FAILED,
	    "policyviolation", false, EV_WHO_SENDER, "5.0.0" },
	/* Sendmail's mail.local found no such user */
	{ "5.5.0", 554, "mail.local: unknown user: neko 554 "
	    "<neko@example.org>... Service unavailable", EV_ACT_FAILED,
	    "userunknown", true, EV_WHO_RECIPIENT, "5.5.0" },
	/* "Recipient address rejected" alone says nothing of the address */
	{ "5.7.1", 554, "554 5.7.1 <a@example.org>: Recipient address "
	    "rejected: Try later", EV_ACT_FAILED, "systemerror", false,
	    EV_WHO_RECIPIENT, "5.7.1" },
	/* greylisting (RFC 6647): not decided yet, retry */
	{ "4.7.1", 450, "450 4.7.1 <a@example.org>: Recipient address "
	    "rejected: Greylisted", EV_ACT_DELAYED, "onhold", false,
	    EV_WHO_NONE, "4.7.1" },
	{ "5.1.0", 550, "550 #5.1.0 Address rejected.", EV_ACT_FAILED,
	    "userunknown", true, EV_WHO_RECIPIENT, "5.1.0" },
	/* a delivery is never a failure, whatever else is said */
	{ "2.0.0", 250, "250 2.0.0 Ok: queued", EV_ACT_DELIVERED, "delivered",
	    false, EV_WHO_NONE, "2.0.0" },
};

START_TEST(test_classify_table)
{
	const struct case_	*c = &cases[_i];
	const struct classify_input in = { .status = c->status,
	    .reply_code = c->code, .diagnostic = c->text,
	    .action = c->action, .kind = DSN_KIND_REPORT };
	struct verdict		 v;
	char			 what[32];

	snprintf(what, sizeof(what), "case %d", _i);
	want_verdict(&in, what, c->reason, c->hard, &v);
	ck_assert_msg(v.who == c->who, "%s: who: got %s, want %s", what,
	    ev_who_name(v.who), ev_who_name(c->who));
	ck_assert_msg(strcmp(v.status, c->want_status) == 0,
	    "%s: status: got \"%s\", want \"%s\"", what, v.status,
	    c->want_status);
	ck_assert_msg(strncmp(v.rule, RULES_DEFAULT_NAME ":",
	    strlen(RULES_DEFAULT_NAME) + 1) == 0,
	    "%s: rule: got \"%s\", want \"%s:N\"", what, v.rule,
	    RULES_DEFAULT_NAME);
}
END_TEST

/* The same words mean different things after different commands. */
static const struct cmd_case {
	const char	*command;	/* smtpcmd word or NULL */
	const char	*status;
	const char	*mta;
	const char	*text;
	const char	*reason;
	bool		 hard;
} cmd_cases[] = {
	{ "rcpt", NULL, NULL, "550 5.1.1 <a@example.org>: Recipient address "
	    "rejected: User unknown", "userunknown", true },
	{ "rcpt", NULL, NULL, "550 No such user here", "userunknown", true },
	/* no command and no status: the words of a 5xx reply say so */
	{ NULL, NULL, NULL, "550 No such user here", "userunknown", true },
	/* Yahoo's words without Yahoo's "dd": nothing known */
	{ NULL, NULL, NULL, "This user doesn't have a example.net account",
	    "undefined", false },
	/* an address status, or the undetailed x.0.0 of a report, does */
	{ NULL, "5.0.0", NULL, "550 a@example.org... No such user",
	    "userunknown", true },
	{ NULL, "5.1.0", NULL, "550 a@example.org... Unknown user",
	    "userunknown", true },
	/* "Unknown user <address>": the DATA-phase refusal of docomo's and
	 * au's reception settings, quoted without its command */
	{ NULL, "5.1.0", NULL, "550 Unknown user a@example.org", "filtered",
	    false },
	/* a system status without RCPT TO points elsewhere */
	{ NULL, "5.3.0", NULL, "550 Unknown user a@example.org", "filtered",
	    false },
	/* after DATA: a filter, not a missing mailbox ... */
	{ "data", "5.0.0", NULL, "550 Unknown user a@example.org", "filtered",
	    false },
	/* ... unless an x.1.1 says so (LMTP replies per recipient) */
	{ "data", "5.1.1", NULL, "550 5.1.1 <a@example.org> User doesn't "
	    "exist", "userunknown", true },
	/* in reply to MAIL FROM: the sender's address */
	{ "mail", NULL, NULL, "550 User unknown", "rejected", false },
	{ "mail", "5.1.0", NULL, "553 5.1.0 sender.example.net does not "
	    "exist", "rejected", false },
	{ "mail", "5.7.1", NULL, "550 5.7.1 Access denied", "rejected",
	    false },
	{ "mail", "5.1.7", NULL, "553 5.1.7 bad syntax", "rejected", false },
	/* the greeting or HELO refused: the sending host */
	{ "connect", NULL, NULL, "550 Rejected", "blocked", false },
	{ "helo", "5.0.0", NULL, "501 5.0.0 Invalid domain name", "blocked",
	    false },
	{ "connect", NULL, NULL, "554 Access denied", "blocked", false },
	/* more specific sender-side words still win at the greeting */
	{ "connect", NULL, NULL, "554 Service unavailable; client host "
	    "blocked using zen.spamhaus.org", "blocked", false },
	{ "connect", NULL, NULL, "421 Too many concurrent SMTP connections",
	    "toomanyconn", false },
	/* a policy or undefined-mailbox status disagreeing with the words */
	{ NULL, "5.7.1", NULL, "550 5.7.1 <a@example.org>: Recipient address "
	    "rejected: User unknown", "filtered", false },
	{ NULL, "5.2.0", NULL, "550 Unknown user", "filtered", false },
	{ NULL, "5.2.1", NULL, "550 5.2.1 <a@example.org>... User Unknown",
	    "filtered", false },
	/* ... unless it answered RCPT TO */
	{ "rcpt", "5.2.1", NULL, "550 5.2.1 <a@example.org>... User Unknown",
	    "userunknown", true },
	/* an MTA quoting an empty-address refusal after DATA */
	{ NULL, "5.1.351", NULL, "550 5.1.351 Remote server returned unknown "
	    "recipient -> 550 : User unknown", "filtered", false },
	/* provider and product wording */
	{ NULL, NULL, NULL, "User mailbox exceeds allowed size: a@example.org",
	    "mailboxfull", false },
	{ NULL, NULL, NULL, "554 delivery error: dd This user doesn't have a "
	    "example.net account (a@example.net) [0]", "userunknown", true },
	{ NULL, NULL, NULL, "550 <a@example.ne.jp>: User unknown",
	    "userunknown", true },
	{ NULL, NULL, NULL, "The recipient name is not recognized",
	    "userunknown", true },
	{ NULL, "5.1.0", "amazonses", "5.1.0 - Unknown address error "
	    "550-'5.7.1 <b@example.com>... Access denied'", "securityerror",
	    false },
	{ NULL, "5.7.1", "amazonses", "554 5.7.1 <a@example.com>: Relay access "
	    "denied", "norelaying", false },
	{ NULL, NULL, "verizon", "550 - Requested action not taken: no such "
	    "user here", "userunknown", true },
	{ NULL, NULL, NULL, "550 - Requested action not taken: no such user "
	    "here", "userunknown", true },
	{ NULL, NULL, NULL, "Your message was not delivered within 2 days. "
	    "Remote host is not responding.", "expired", false },
	{ NULL, NULL, "googlegroups", "Bonjour, le groupe n'existe pas ou vous "
	    "n'avez pas le droit de publier", "rejected", false },
};

START_TEST(test_classify_command_aware)
{
	const struct cmd_case	*c = &cmd_cases[_i];
	const struct classify_input in = { .status = c->status,
	    .diagnostic = c->text, .action = EV_ACT_FAILED,
	    .kind = DSN_KIND_REPORT, .mta = c->mta,
	    .smtp_command = c->command };
	struct verdict		 v;
	char			 what[32];

	snprintf(what, sizeof(what), "case %d (%s)", _i,
	    c->command != NULL ? c->command : "-");
	want_verdict(&in, what, c->reason, c->hard, &v);
}
END_TEST

/* Which command a failure answered, read from the bounce's words. */
static const struct find_case {
	const char	*text;
	const char	*rcpt;
	const char	*want;		/* NULL: none */
} find_cases[] = {
	{ "<a@example.org>: host mx.example.org[192.0.2.1] said: 550 5.1.1 "
	    "User unknown (in reply to RCPT TO command)", NULL, "rcpt" },
	/* folded over two lines */
	{ "host mx said: 550 Unknown user (in reply to end of DATA\n"
	    "    command)", NULL, "data" },
	{ "(in reply to MAIL FROM command)", NULL, "mail" },
	{ "host mx refused to talk to me (in reply to initial greeting)",
	    NULL, "connect" },
	/* Exim */
	{ "  a@example.org\n    SMTP error from remote mail server after "
	    "RCPT TO:<a@example.org>:\n    550 5.1.1 unknown", NULL, "rcpt" },
	{ "SMTP error from remote mail server after end of data:\n550 spam",
	    NULL, "data" },
	{ "SMTP error from remote mail server after initial connection:\n"
	    "554 go away", NULL, "connect" },
	{ "SMTP error from remote mail server after pipelined MAIL FROM:<> "
	    "SIZE=100: 550 no", NULL, "mail" },
	/* Sendmail transcript */
	{ "... while talking to mx.example.org.:\n>>> MAIL From:<s@x.org>\n"
	    "<<< 553 5.1.8 Domain of sender address does not exist\n", NULL,
	    "mail" },
	{ ">>> DATA\n<<< 354 go ahead\n>>> .\n<<< 554 5.7.1 rejected\n",
	    NULL, "data" },
	/* PIPELINING: only DATA is logged, the first reply answered RCPT */
	{ ">>> DATA\n<<< 550 5.1.1 <a@example.org>... User unknown\n"
	    "<<< 503 5.0.0 Need RCPT (recipient)\n", "a@example.org",
	    "rcpt" },
	{ "<a@example.org>... User unknown\n>>> DATA\n<<< 550 unknown user\n"
	    "<<< 503-All RCPT commands were rejected\n<<< 503-unknown user\n"
	    "<<< 503 Valid RCPT command must precede DATA\n", "a@example.org",
	    "rcpt" },
	/* the same without the recipient: two answers, no guess */
	{ ">>> DATA\n<<< 550 unknown user\n<<< 503-All RCPT commands were "
	    "rejected\n<<< 503 Valid RCPT command must precede DATA\n", NULL,
	    NULL },
	/* qmail */
	{ "Connected to 192.0.2.1 but sender was rejected.\nRemote host "
	    "said: 553 sorry", NULL, "mail" },
	{ "Connected to 192.0.2.1 but greeting failed.", NULL, "connect" },
	{ "Failed after I sent the message.\nRemote host said: 554 spam",
	    NULL, "data" },
	/* qmail: the recipient refused */
	{ "<a@example.org>:\n192.0.2.1 does not like recipient.\nRemote host "
	    "said: 550 5.2.1 <a@example.org>... User Unknown\n", NULL,
	    "rcpt" },
	/* GMX, and "SMTP:RCPT host" of other gateways */
	{ "SMTP error from remote server after RCPT command:\nhost: "
	    "mx.example.org\n5.2.1 <a@example.org>... User Unknown\n", NULL,
	    "rcpt" },
	{ "Technical details:\nSMTP:RCPT host 192.0.2.8: 553 5.3.0 "
	    "<a@example.org>... No such user here\n", NULL, "rcpt" },
	/* m-FILTER */
	{ "-------server message\n550 unknown user <a@b.example>\n\n"
	    "-------SMTP command\nDATA\n", NULL, "data" },
	/* several recipients, several commands: the recipient decides */
	{ "<a@example.org>: host mx said: 550 no (in reply to RCPT TO "
	    "command)\n\n<b@example.org>: host mx said: 550 spam (in reply "
	    "to end of DATA command)\n", "b@example.org", "data" },
	{ "<a@example.org>: host mx said: 550 no (in reply to RCPT TO "
	    "command)\n\n<b@example.org>: host mx said: 550 spam (in reply "
	    "to end of DATA command)\n", "a@example.org", "rcpt" },
	{ "<a@example.org>: (in reply to RCPT TO command)\n"
	    "<b@example.org>: (in reply to end of DATA command)\n", NULL,
	    NULL },
	/* prose that only looks like a command */
	{ "Your mail was rejected after data was examined by our filter",
	    NULL, NULL },
	{ "Please send mail from another address after you fix it", NULL,
	    NULL },
	{ "our smtp: data was lost", NULL, NULL },
	{ "", NULL, NULL },
};

/*
 * Facts of the report besides the text: the Diagnostic-Code type and a
 * local agent's sysexits(3) status, the host that answered, the comment
 * of the Status field, a mail log line (no report at all).
 */
static const struct fact_case {
	const char	*status;
	const char	*dtype;
	const char	*remote;
	const char	*comment;
	const char	*command;
	enum dsn_kind	 kind;
	enum ev_action	 action;
	const char	*text;
	const char	*reason;
	bool		 hard;
	enum ev_advice	 advice;
} fact_cases[] = {
	/* X-Unix: sysexits(3) numbers */
	{ "4.5.0", "x-unix", NULL, NULL, NULL, DSN_KIND_REPORT,
	    EV_ACT_DELAYED, "71", "mailererror", false, EV_ADV_INVESTIGATE },
	{ "5.3.0", "X-Unix", NULL, NULL, NULL, DSN_KIND_REPORT,
	    EV_ACT_FAILED, "77", "systemerror", false, EV_ADV_RETRY },
	{ "4.3.0", "x-unix", NULL, NULL, NULL, DSN_KIND_REPORT,
	    EV_ACT_DELAYED, "75", "systemerror", false, EV_ADV_RETRY },
	{ "5.0.0", "x-unix", NULL, NULL, NULL, DSN_KIND_REPORT,
	    EV_ACT_FAILED, "67", "userunknown", true, EV_ADV_SUPPRESS },
	/* X-Unix words no rule names: the agent failed */
	{ "4.3.0", "x-unix", NULL, NULL, NULL, DSN_KIND_REPORT,
	    EV_ACT_DELAYED, "temporary failure", "mailererror", false,
	    EV_ADV_INVESTIGATE },
	/* ... but words that name the failure still decide */
	{ "4.3.0", "x-unix", NULL, NULL, NULL, DSN_KIND_REPORT,
	    EV_ACT_DELAYED, "/var/mail/neko: Disk quota exceeded",
	    "mailboxfull", false, EV_ADV_RETRY },
	/* the same bare number from SMTP is no exit status */
	{ "5.3.0", "smtp", NULL, NULL, NULL, DSN_KIND_REPORT,
	    EV_ACT_FAILED, "77", "systemerror", false, EV_ADV_RETRY },
	/* "Unknown user" after DATA: the recipient's settings refused */
	{ "5.0.0", "smtp", "mfsmax.docomo.ne.jp", NULL, "data",
	    DSN_KIND_REPORT, EV_ACT_FAILED, "550 Unknown user a@example.jp",
	    "filtered", false, EV_ADV_INVESTIGATE },
	/* plain words without a code, a status or a command: in a report's
	 * Diagnostic-Code they are the remote host's own reply (RFC 3464
	 * section 2.3.6) ... */
	{ NULL, "smtp", NULL, NULL, NULL, DSN_KIND_REPORT, EV_ACT_FAILED,
	    "No such user", "userunknown", true, EV_ADV_SUPPRESS },
	/* ... in a bounce's free text, anyone's summary: not proof */
	{ NULL, NULL, NULL, NULL, NULL, DSN_KIND_TEXT, EV_ACT_FAILED,
	    "[User unknown]", "filtered", false, EV_ADV_INVESTIGATE },
	{ NULL, NULL, NULL, NULL, NULL, DSN_KIND_TEXT, EV_ACT_FAILED,
	    "550 [User unknown]", "userunknown", true, EV_ADV_SUPPRESS },
	/* the Status comment is read as text */
	{ "5.2.1", "smtp", NULL, "mailbox disabled, not accepting messages",
	    NULL, DSN_KIND_REPORT, EV_ACT_FAILED, "550 5.2.1 <a@example.jp>"
	    "... User Unknown", "suspend", false, EV_ADV_RETRY },
	{ "5.2.1", "smtp", NULL, NULL, NULL, DSN_KIND_REPORT,
	    EV_ACT_FAILED, "550 5.2.1 <a@example.jp>... User Unknown",
	    "filtered", false, EV_ADV_INVESTIGATE },
	{ "4.2.2", NULL, NULL, "Over quota", NULL, DSN_KIND_REPORT,
	    EV_ACT_DELAYED, NULL, "mailboxfull", false, EV_ADV_RETRY },
	/* mail log lines: the command is read from the text */
	{ NULL, NULL, NULL, NULL, NULL, DSN_KIND_NONE, EV_ACT_DELAYED,
	    "host mx.example.org[192.0.2.1] said: 450 4.7.1 <a@example.org>: "
	    "Recipient address rejected: Greylisted, see "
	    "http://postgrey.schweikert.ch/help/example.org.html (in reply "
	    "to RCPT TO command)", "onhold", false, EV_ADV_RETRY },
	{ NULL, NULL, NULL, NULL, NULL, DSN_KIND_NONE, EV_ACT_FAILED,
	    "host mx.example.org[192.0.2.1] said: 550 5.1.1 <a@example.org>: "
	    "Recipient address rejected: User unknown in virtual mailbox "
	    "table (in reply to RCPT TO command)", "userunknown", true,
	    EV_ADV_SUPPRESS },
	{ NULL, NULL, NULL, NULL, NULL, DSN_KIND_NONE, EV_ACT_FAILED,
	    "host mx.example.org[192.0.2.1] said: 550 No such user here "
	    "(in reply to end of DATA command)", "filtered", false,
	    EV_ADV_INVESTIGATE },
	{ NULL, NULL, NULL, NULL, NULL, DSN_KIND_NONE, EV_ACT_DELAYED,
	    "451 4.7.1 Greylisting in action, please come back later",
	    "onhold", false, EV_ADV_RETRY },
	{ "4.4.1", NULL, NULL, NULL, NULL, DSN_KIND_NONE, EV_ACT_DELAYED,
	    "connect to mx.example.org[192.0.2.1]:25: Connection timed out",
	    "networkerror", false, EV_ADV_RETRY },
	{ "4.4.2", NULL, NULL, NULL, NULL, DSN_KIND_NONE, EV_ACT_DELAYED,
	    "conversation with mx.example.org[192.0.2.1] timed out while "
	    "receiving the initial server greeting", "networkerror", false,
	    EV_ADV_RETRY },
	{ NULL, NULL, NULL, NULL, NULL, DSN_KIND_NONE, EV_ACT_DELAYED,
	    "Deferred: Connection refused by mx.example.org.",
	    "networkerror", false, EV_ADV_RETRY },
	/* the greeting refused with 5.7.1: a block, whatever it adds */
	{ "5.7.1", NULL, NULL, NULL, "connect", DSN_KIND_REPORT,
	    EV_ACT_FAILED, "554 5.7.1 Missing reverse DNS for 192.0.2.1",
	    "blocked", false, EV_ADV_INVESTIGATE },
	{ NULL, NULL, NULL, NULL, "connect", DSN_KIND_REPORT,
	    EV_ACT_FAILED, "554 Example requires that all mail servers have "
	    "a PTR record with a valid reverse DNS entry", "requireptr",
	    false, EV_ADV_FIX_AUTH },
};

START_TEST(test_classify_report_facts)
{
	const struct fact_case	*c = &fact_cases[_i];
	const struct classify_input in = { .status = c->status,
	    .diagnostic_type = c->dtype, .remote_mta = c->remote,
	    .status_comment = c->comment, .smtp_command = c->command,
	    .kind = c->kind, .action = c->action, .diagnostic = c->text };
	struct verdict		 v;
	char			 what[32];

	snprintf(what, sizeof(what), "case %d", _i);
	want_verdict(&in, what, c->reason, c->hard, &v);
	ck_assert_msg(v.advice == c->advice, "%s: advice: got %s, want %s",
	    what, ev_advice_name(v.advice), ev_advice_name(c->advice));
}
END_TEST

START_TEST(test_classify_smtpcmd_find)
{
	const struct find_case	*c = &find_cases[_i];
	const char		*got;

	got = smtpcmd_find(c->text, strlen(c->text), c->rcpt);
	ck_assert_msg((got == NULL && c->want == NULL) || (got != NULL &&
	    c->want != NULL && strcmp(got, c->want) == 0),
	    "case %d: got %s, want %s", _i, got != NULL ? got : "(none)",
	    c->want != NULL ? c->want : "(none)");
	if (got != NULL)
		ck_assert_msg(smtpcmd_index(got) >= 0 &&
		    smtpcmd_word(got) == got, "case %d: %s is not a static "
		    "command word", _i, got);
}
END_TEST

START_TEST(test_classify_smtpcmd_hostile)
{
	char	*buf;
	size_t	 n = 1u << 20, i;

	/* a megabyte of near-misses: bounded and linear, no answer */
	ck_assert_ptr_nonnull(buf = malloc(n));
	for (i = 0; i < n; i++)
		buf[i] = ">>> in reply to after <<< 5"[i % 28];
	(void)smtpcmd_find(buf, n, "a@b.example");
	for (i = 0; i < n; i++)
		buf[i] = i % 64 == 63 ? '\n' : '<';
	ck_assert_ptr_null(smtpcmd_find(buf, n, NULL));
	free(buf);
	ck_assert_ptr_null(smtpcmd_find(NULL, 10, NULL));
	ck_assert_ptr_null(smtpcmd_word("quit"));
	ck_assert_int_eq(smtpcmd_index(NULL), -1);
}
END_TEST

START_TEST(test_classify_conflict_recorded)
{
	/* 5.1.1 says "no such user", the text says "mailbox full". */
	struct classify_input	 in = { .status = "5.1.1", .reply_code = 552,
	    .diagnostic = "552 5.2.2 Over quota", .action = EV_ACT_FAILED,
	    .kind = DSN_KIND_REPORT };
	struct verdict		 v;

	want_verdict(&in, "disagreeing text", "mailboxfull", false, &v);
	ck_assert_msg(v.conflict, "conflict: got false, want true");
	ck_assert_msg(strstr(v.why, "beat status 5.1.1") != NULL,
	    "why: got \"%s\", want \"... beat status 5.1.1 ...\"", v.why);
	ck_assert_str_eq(v.status, "5.1.1");	/* as sent */

	/* The same status with agreeing text is no conflict. */
	in.diagnostic = "550 5.1.1 User unknown";
	want_verdict(&in, "agreeing text", "userunknown", true, &v);
	ck_assert_msg(!v.conflict, "conflict: got true (%s), want false",
	    v.why);
}
END_TEST

/*
 * Hard needs positive evidence (issue 8): words that say the address or
 * its domain is bad, or an address status that no words contradict.  A
 * reply code alone decides nothing; words about the sender, its IP,
 * authentication, rate or content outrank any status or code.
 */
static const struct evidence_case {
	const char	*text;
	const char	*reason;
	bool		 hard;
} evidence_cases[] = {
	/* 1. a reply code alone: undefined, soft */
	{ "550 Mail refused", "undefined", false },
	{ "553 sorry, that is not possible", "undefined", false },
	{ "554 Transaction refused (code 12)", "undefined", false },
	{ "550 Invalid email address", "undefined", false },
	/* ... sender-side words under a 5xx, whatever the status */
	{ "550 Connection frequency limited. Blocked IP 192.0.2.1",
	    "blocked", false },
	{ "550 Connection frequency limited", "speeding", false },
	{ "550 Please turn on SMTP Authentication in your mail client",
	    "securityerror", false },
	{ "550 5.7.1 Message rejected because of IP reputation",
	    "badreputation", false },
	{ "550 This route requires encryption (TLS)", "failedstarttls",
	    false },
	{ "550 Relaying disallowed", "norelaying", false },
	{ "550 Administrative prohibition", "filtered", false },
	{ "554 5.7.1 Message rejected: phishing detected", "virusdetected",
	    false },
	{ "550 Blank From: addresses are not allowed", "rejected", false },
	{ "421 Too many messages in this session", "toomanyconn", false },
	{ "550 5.7.1 <a@example.org>: Recipient address rejected: SPF "
	    "Permanent Error: Invalid mechanism", "authfailure", false },
	{ "552 5.6.0 x-dg-ref header is too long", "contenterror", false },
	/* ... in both directions: an address status does not make them
	 * hard, and words about the address beat a policy status */
	{ "550 5.1.1 Service unavailable; client [192.0.2.1] blocked using "
	    "zen.spamhaus.org", "blocked", false },
	{ "550 5.1.1 Sender address rejected: Domain not found", "rejected",
	    false },
	{ "554 5.7.1 <a@example.org>: Recipient address rejected: Access "
	    "denied", "userunknown", true },
	/* an address status: hard when permanent and uncontradicted */
	{ "550 5.1.1 Bad destination mailbox address", "userunknown", true },
	{ "450 4.1.1 <a@example.org>: Recipient address rejected: "
	    "unverified address", "onhold", false },
	{ "550 5.1.0 Other address status", "undefined", false },
	/* 2. plain user-unknown words in an SMTP reply */
	{ "550 User unknown", "userunknown", true },
	{ "No such user", "userunknown", true },
	{ "550 Recipient not found", "userunknown", true },
	{ "Account does not exist", "userunknown", true },
	{ "551 User does not exist", "userunknown", true },
	{ "550 Invalid Recipient", "userunknown", true },
	{ "Requested action not taken: mailbox unavailable", "userunknown",
	    true },
	{ "450 Requested mail action not taken: mailbox unavailable",
	    "onhold", false },
	/* 3. temporary or sender-side DNS trouble: never hostunknown */
	{ "Host or domain name not found. Name service error for "
	    "name=example.org type=MX: Malformed or unexpected name server "
	    "reply", "networkerror", false },
	{ "MX lookup failure for example.org", "networkerror", false },
	{ "450 4.7.1 <mx.example.net>: Helo command rejected: Host not found",
	    "blocked", false },
	{ "450 4.1.2 <a@example.org>: Recipient address rejected: Domain "
	    "not found", "networkerror", false },
	{ "550 5.1.2 <a@example.org>: Recipient address rejected: Domain "
	    "not found", "hostunknown", true },
	/* 4. everyday words */
	{ "Envelope expired", "expired", false },
	{ "Message will be retried for 2 more day(s)", "expired", false },
	{ "all hosts have been failing for a long time and were last tried "
	    "after this message arrived", "expired", false },
	{ "The number of messages in recipient's mailbox exceeded",
	    "mailboxfull", false },
	{ "Remote server does not support TLS", "failedstarttls", false },
	{ "553 malformed address: <a@>", "syntaxerror", false },
};

START_TEST(test_classify_hard_needs_evidence)
{
	const struct evidence_case *c = &evidence_cases[_i];
	const struct classify_input in = { .diagnostic = c->text,
	    .action = EV_ACT_FAILED, .kind = DSN_KIND_REPORT };
	struct verdict		 v;
	char			 what[32];

	snprintf(what, sizeof(what), "case %d", _i);
	want_verdict(&in, what, c->reason, c->hard, &v);
	if (strcmp(c->reason, "undefined") == 0) {
		ck_assert_msg(v.rule[0] == '\0', "%s: rule: got \"%s\", want "
		    "none", what, v.rule);
		ck_assert_msg(strcmp(v.why, "no rule matched") == 0,
		    "%s: why: got \"%s\", want \"no rule matched\"", what,
		    v.why);
	}
}
END_TEST

START_TEST(test_classify_sender_side_never_hard)
{
	const struct rules_reason	*rr;
	size_t				 i, n = 0;

	for (i = 0; (rr = rules_reason_at(i)) != NULL; i++) {
		if (!rr->sender_side)
			continue;
		n++;
		ck_assert_msg(rr->hardness == RULES_SOFT,
		    "%s: got a hard reason, want soft", rr->word);
		ck_assert_msg(classify_reason_sender_side(rr->word),
		    "%s: got recipient side, want sender side", rr->word);
		ck_assert_msg(rr->who != EV_WHO_RECIPIENT,
		    "%s: got who=recipient, want sender or both", rr->word);
	}
	ck_assert_msg(n >= 15, "got %zu sender-side reasons, want >= 15", n);
	ck_assert(!classify_reason_sender_side("userunknown"));
	ck_assert(!classify_reason_sender_side("nonsense"));
	ck_assert_str_eq(classify_reason_word("UserUnknown"), "userunknown");
	ck_assert_ptr_null(classify_reason_word("nonsense"));
}
END_TEST

START_TEST(test_classify_report_context)
{
	struct classify_input	 in;
	struct verdict		 v;

	in = (struct classify_input){ .kind = DSN_KIND_ARF,
	    .feedback_type = "abuse",
	    .diagnostic = "550 5.1.1 user unknown" };	/* ignored */
	want_verdict(&in, "ARF", "feedback", false, &v);
	ck_assert_str_eq(v.status, "5.1.1");

	in = (struct classify_input){ .kind = DSN_KIND_AUTOREPLY };
	want_verdict(&in, "auto-reply", "vacation", false, &v);
	ck_assert_str_eq(v.status, "");

	in = (struct classify_input){ .kind = DSN_KIND_REPORT,
	    .action = EV_ACT_RELAYED, .status = "2.0.0" };
	want_verdict(&in, "relayed", "delivered", false, &v);

	/* NULL rules: still a verdict */
	classify(NULL, &in, &v);
	ck_assert_str_eq(v.reason, "undefined");
	ck_assert_str_eq(v.rule, "");
}
END_TEST

START_TEST(test_classify_hostile_input_fast)
{
	struct classify_input	 in;
	struct verdict		 v;
	struct timespec		 t0, t1;
	char			*big;
	size_t			 i, n = 1u << 20;
	double			 secs;
	int			 k;

	big = malloc(n + 1);
	ck_assert_ptr_nonnull(big);
	/* Every three-byte window looks like a pattern's start. */
	for (i = 0; i < n; i++)
		big[i] = "user unknown mailbox full spam 550-5.7.1 \xff\x80"
		    [i % 42];
	big[n] = '\0';
	in = (struct classify_input){ .diagnostic = big,
	    .status = "5.9.999999",	/* malformed: ignored */
	    .action = EV_ACT_FAILED, .kind = DSN_KIND_TEXT };
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (k = 0; k < 200; k++)
		classify(rules, &in, &v);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_msg(secs < 2.0, "got %.2f s for 200 x 1 MiB, want < 2 s",
	    secs);
	ck_assert_msg(v.reason != NULL && v.status[0] != '\0',
	    "got no verdict");
	free(big);
}
END_TEST

static Suite *
classify_suite(void)
{
	Suite	*s = suite_create("classify");
	TCase	*tc;

	tc = tcase_create("verdicts");
	tcase_add_checked_fixture(tc, setup, teardown);
	TESTUTIL_LOOP(tc, test_classify_table, cases);
	tcase_add_test(tc, test_classify_conflict_recorded);
	tcase_add_test(tc, test_classify_sender_side_never_hard);
	TESTUTIL_LOOP(tc, test_classify_hard_needs_evidence, evidence_cases);
	tcase_add_test(tc, test_classify_report_context);
	suite_add_tcase(s, tc);

	tc = tcase_create("command");
	tcase_add_checked_fixture(tc, setup, teardown);
	TESTUTIL_LOOP(tc, test_classify_command_aware, cmd_cases);
	TESTUTIL_LOOP(tc, test_classify_report_facts, fact_cases);
	TESTUTIL_LOOP(tc, test_classify_smtpcmd_find, find_cases);
	tcase_add_test(tc, test_classify_smtpcmd_hostile);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_classify_hostile_input_fast);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_run(classify_suite()) == 0 ? EXIT_SUCCESS :
	    EXIT_FAILURE;
}
