/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * maillog.h - one line of the MTA's mail log -> one parsed record.
 *
 * Postfix writes deferrals and successful deliveries only to its log,
 * never as a DSN (POSTFIX-NOTES.md), so bounced reads the log too.  This
 * module is the pure half: it turns one line (classic syslog, RFC 3339 /
 * journalctl short-iso(-precise), or Postfix's own maillog_file) into a
 * struct maillog_rec; maillog/maillog_follow.h is the I/O half that delivers lines.
 *
 * Records hold their strings in fixed arrays inside the struct: no
 * allocation per line, the struct may be copied, and it may be reused
 * for the next line without clearing.
 */
#ifndef BD_MAILLOG_H
#define BD_MAILLOG_H

#include "util/bd.h"
#include "util/event.h"

#define MAILLOG_LINE_MAX	8192	/* bytes of a line looked at */
#define MAILLOG_HOST_MAX	256
#define MAILLOG_PROG_MAX	64
#define MAILLOG_QID_MAX		32
#define MAILLOG_WORD_MAX	16	/* status word, "x.y.z" */
#define MAILLOG_ADDR_MAX	(ADDR_MAX + 1)
#define MAILLOG_RCPT_NMAX	16	/* recipients kept from a line */
#define MAILLOG_RCPTS_MAX	2048	/* bytes for all of them */
#define MAILLOG_MSGID_MAX	1000	/* RFC 5322 line limit */
#define MAILLOG_TEXT_MAX	MAILLOG_LINE_MAX

/* The result of maillog_parse(). */
enum maillog_result {
	MAILLOG_RECORD = 0,	/* *out holds a record */
	MAILLOG_IGNORED,	/* a line bounced has no use for: no error */
	MAILLOG_EMALFORMED,	/* delivery-shaped, but it does not parse */
};

/* What the line says. */
enum maillog_kind {
	ML_NONE = 0,
	ML_DELIVERY,		/* QID: to=<r>, ... status=... */
	ML_MESSAGE_ID,		/* cleanup: QID: message-id=<m> */
	ML_FROM,		/* qmgr: QID: from=<s>, size=... */
	ML_REMOVED,		/* qmgr: QID: removed */
	ML_EXPIRED,		/* qmgr: from=<s>, status=expired, ... */
};

enum maillog_mta {
	ML_MTA_UNKNOWN = 0,
	ML_MTA_POSTFIX,
	ML_MTA_SENDMAIL,
};

/* Defect flags in maillog_rec.defects: the record is usable, but. */
#define ML_DEF_TRUNCATED	0x01	/* a line or a field was cut */
#define ML_DEF_RCPT_RAW		0x02	/* an address kept raw */
#define ML_DEF_TOO_MANY_RCPTS	0x04	/* to= list cut at RCPT_NMAX */
#define ML_DEF_CTRL		0x08	/* control bytes made '?' */
#define ML_DEF_NO_ZONE		0x10	/* ISO stamp taken as local */

/*
 * One parsed line.  Strings are NUL-terminated, printable (control
 * bytes replaced by '?') and "" when absent.  Addresses are normalised
 * with addr_normalize() (domain lower-cased, no angle brackets); one
 * that does not normalise is kept as logged, with ML_DEF_RCPT_RAW.
 */
struct maillog_rec {
	enum maillog_kind kind;
	enum maillog_mta mta;
	int64_t		 when;		/* unix time, the stamp */
	unsigned	 defects;	/* ML_DEF_* */
	char		 host[MAILLOG_HOST_MAX];	/* logging host */
	char		 program[MAILLOG_PROG_MAX];	/* "sm-mta" */
	char		 queue_id[MAILLOG_QID_MAX];

	/* ML_DELIVERY: recipients (1 for Postfix; Sendmail logs lists) */
	size_t		 nrcpt;
	uint16_t	 rcpt_off[MAILLOG_RCPT_NMAX];	/* into rcpts */
	char		 rcpts[MAILLOG_RCPTS_MAX];	/* NUL-sep. */
	char		 orig_recipient[MAILLOG_ADDR_MAX];
	/* relay= as logged ("mx[1.2.3.4]:25"), and its host name ("mx",
	 * "" for none, local or a transport name) */
	char		 relay[MAILLOG_HOST_MAX];
	char		 relay_host[MAILLOG_HOST_MAX];
	/* its address ("1.2.3.4", "" if none) and port (0 if none) */
	char		 relay_addr[64];
	unsigned	 relay_port;
	/*
	 * status=sent: the queue id the next MTA gave the message ("250
	 * 2.0.0 Ok: queued as 4F3E2"), "" if it said none
	 */
	char		 queued_as[MAILLOG_QID_MAX];
	/* "sent", "deferred", "bounced", "expired", "undeliverable",
	 * "deliverable", "softbounce"; ev_action from it */
	char		 status_word[MAILLOG_WORD_MAX];
	enum ev_action	 action;
	bool		 probe;		/* address verification */
	char		 dsn[MAILLOG_WORD_MAX];	/* dsn= */
	int		 reply_code;	/* from the text; 0 if none */
	char		 diag_status[MAILLOG_WORD_MAX]; /* in text */
	/* the text without "host X said: " and "(in reply to ...)" */
	char		 diagnostic[MAILLOG_TEXT_MAX];
	/* the text in parentheses (Postfix) or stat= (Sendmail) */
	char		 raw[MAILLOG_TEXT_MAX];

	/* ML_MESSAGE_ID, Sendmail's from= line: "<id@host>" as logged */
	char		 message_id[MAILLOG_MSGID_MAX];
	/* ML_FROM, ML_EXPIRED: "" is the null sender */
	char		 sender[MAILLOG_ADDR_MAX];
	long long	 size;		/* ML_FROM size=; -1 if absent */
};

/*
 * maillog_parse - parse one log line (without its newline; len bytes, no
 * NUL needed).  now is the caller's clock (unix seconds) and gmtoff the
 * local zone's offset east of UTC, both used only for classic syslog
 * stamps, which carry neither year nor zone.
 */
enum maillog_result maillog_parse(const char *line, size_t len, int64_t now,
    long gmtoff, struct maillog_rec *out);
/* maillog_recipient - the i-th recipient of a record, NULL past nrcpt */
const char *maillog_recipient(const struct maillog_rec *r, size_t i);
/* maillog_event - fill ev for recipient i (borrows r's strings) */
void maillog_event(const struct maillog_rec *r, size_t i, struct bd_event *ev);
/* maillog_kind_name - "none", "delivery", "message-id", "from", ... */
const char *maillog_kind_name(enum maillog_kind k);
/* maillog_parse_stamp - the timestamp prefix alone; bytes used, 0 if none */
size_t maillog_parse_stamp(const char *p, size_t len, int64_t now,
    long gmtoff, int64_t *when, unsigned *defects);

#endif
