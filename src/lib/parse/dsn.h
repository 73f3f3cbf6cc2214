/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dsn.h - bounce parser: a whole message in, a report per recipient out.
 *
 * Handles RFC 3464 message/delivery-status, RFC 6533
 * message/global-delivery-status, RFC 5965 ARF feedback reports,
 * RFC 3834 auto-replies and the non-standard bounces of other MTAs.
 * Pure: no logging, no I/O beyond the buffer given, no clock.
 */
#ifndef BD_DSN_H
#define BD_DSN_H

#include "util/bd.h"
#include "util/event.h"

enum dsn_kind {
	DSN_KIND_NONE = 0,	/* not a bounce: no recipients reported */
	DSN_KIND_REPORT,	/* RFC 3464 / RFC 6533 delivery-status */
	DSN_KIND_TEXT,		/* non-standard bounce read from its text */
	DSN_KIND_ARF,		/* RFC 5965 feedback report */
	DSN_KIND_AUTOREPLY,	/* RFC 3834 / vacation auto-reply */
};

/* Defects found while parsing: the report is still usable. */
#define DSN_DEFECT_TRUNCATED	0x01	/* input cut at max_bytes */
#define DSN_DEFECT_MIME		0x02	/* broken MIME structure */
#define DSN_DEFECT_NO_RCPT	0x04	/* report part had no recipient */
#define DSN_DEFECT_TOO_MANY	0x08	/* recipients past max_recipients dropped */
#define DSN_DEFECT_BAD_FIELD	0x10	/* a field was malformed or oversized */
#define DSN_DEFECT_8BIT		0x20	/* raw 8-bit or NUL bytes */
#define DSN_DEFECT_PARTS	0x40	/* MIME cut at MIME_MAX_DELIMS boundary lines */

struct dsn_options {
	size_t		 max_bytes;	 /* bytes of input looked at */
	size_t		 max_recipients; /* recipients kept per report */
	size_t		 max_field;	 /* bytes kept per header/field value */
	size_t		 max_diagnostic; /* bytes kept of a diagnostic text */
	const char	*campaign_header; /* header of the returned original to report, or NULL */
};
#define DSN_OPTIONS_DEFAULT { 4u << 20, 1000, 998, 2048, NULL }

/*
 * A date field, read the first time it is asked for (dsn_date_get()): a
 * report is asked for one of its dates, if any, and reading a date with
 * GMime costs more than all its other fields (callgrind: 8,000
 * instructions a date, 7% of `bouncectl classify`).
 */
struct dsn_date {
	char		*raw;		/* the field's value, or NULL */
	int64_t		 t;		/* unix seconds, 0 if absent/invalid;
					   once read */
	bool		 read;
};

/* dsn_date_get - d's unix seconds (0 if absent or not a date), read once */
int64_t dsn_date_get(struct dsn_date *d);

/* One reported recipient.  All strings owned by the report; NULL if absent. */
struct dsn_rcpt {
	char		*final_recipient;	/* address only, type prefix removed */
	char		*original_recipient;	/* address only */
	enum ev_action	 action;
	char		*status;		/* "x.y.z" as sent (or found in text) */
	int		 reply_code;		/* SMTP reply code from the diagnostic, 0 if none */
	char		*diagnostic_type;	/* "smtp", "x-unix", ... */
	char		*diagnostic;		/* text after the type, unfolded, raw */
	char		*remote_mta;		/* name after the type */
	struct dsn_date	 last_attempt;		/* Last-Attempt-Date */
	struct dsn_date	 will_retry_until;	/* Will-Retry-Until */
	/* The SMTP command the failure answered: a static (not owned)
	 * lower-case word, "rcpt", "data", "mail", "connect", "helo",
	 * "starttls", "auth" (smtpcmd.h), read from the text; NULL if none. */
	const char	*smtp_command;
	/* The comment of the Status field, without its parentheses
	 * ("5.2.1 (mailbox disabled)": "mailbox disabled"); NULL if none. */
	char		*status_comment;
};

struct dsn_report {
	enum dsn_kind	 kind;
	char		*mta;		/* lower-case name of the producing MTA or
					   provider, when recognised ("postfix",
					   "exim", "gmail", ...); NULL otherwise */
	char		*reporting_mta;
	struct dsn_date	 arrival_date;	/* the first Arrival-Date */
	struct dsn_date	 date;		/* the bounce's own Date: */
	char		*queue_id;	/* original's queue id (X-Postfix-Queue-ID ...) */
	char		*envelope_id;	/* Original-Envelope-Id */
	char		*sender;	/* original envelope sender if reported */
	char		*orig_message_id; /* Message-ID of the returned original */
	char		*campaign;	/* options->campaign_header of the original */
	/*
	 * What kind of mail bounced, read from the returned original's
	 * headers: "bulk" (List-Unsubscribe, List-Id, or Precedence bulk,
	 * list or junk), "transactional" (an original without them), NULL
	 * when no original came back.
	 */
	char		*mail_kind;
	char		*subject;	/* the bounce's Subject, decoded (RFC 2047) */
	char		*from;		/* the bounce's From */
	char		*feedback_type;	/* ARF Feedback-Type, lower-case */
	struct dsn_rcpt	*rcpts;
	size_t		 nrcpts;
	unsigned	 defects;	/* DSN_DEFECT_* */
};

/* dsn_init - once per process before any dsn_parse (initialises GMime) */
void dsn_init(void);
/* dsn_shutdown - at exit, after the last dsn_parse */
void dsn_shutdown(void);
/*
 * dsn_parse - parse one message (headers and body, CRLF or LF, may hold NUL
 * bytes, need not be NUL-terminated).  Returns BD_OK with *out set (kind may
 * be DSN_KIND_NONE), or BD_ENOMEM.  Malformed input is never an error:
 * it shows as defects.  Thread-safe.  Free *out with dsn_report_free().
 */
enum bd_status dsn_parse(const char *msg, size_t len,
    const struct dsn_options *opt, struct dsn_report **out);
/* dsn_report_free - release a report; NULL is fine */
void dsn_report_free(struct dsn_report *r);
/* dsn_kind_name - "none", "report", "text", "arf", "autoreply" */
const char *dsn_kind_name(enum dsn_kind k);

#endif
