/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * event.h - the one event model (see DESIGN.md).
 *
 * Every source of bounce information (a DSN through the milter, a line
 * of the MTA log, an operator's command, an import) produces struct
 * bd_event, one per recipient.  The store, the suppression rules and the
 * CLI only ever see events.
 *
 * Strings in struct bd_event are BORROWED: they point into whatever the
 * producer owns (a parsed report, a log line) and live as long as it.
 */
#ifndef BD_EVENT_H
#define BD_EVENT_H

#include "util/bd.h"

enum ev_action {
	EV_ACT_UNKNOWN = 0,
	EV_ACT_FAILED,
	EV_ACT_DELAYED,
	EV_ACT_DELIVERED,
	EV_ACT_RELAYED,
	EV_ACT_EXPANDED,
};

enum ev_source {
	EV_SRC_DSN_INTERNAL = 0,	/* Postfix's own DSN (non_smtpd_milters) */
	EV_SRC_DSN_REMOTE,		/* a remote MTA's bounce over SMTP */
	EV_SRC_LOG,			/* a line of the MTA's delivery log */
	EV_SRC_MANUAL,			/* bouncectl suppress/unsuppress */
	EV_SRC_IMPORT,			/* bouncectl import */
	EV_SRC_CLI,			/* bouncectl classify/ingest of a file */
};

/* Who can act on the failure. */
enum ev_who {
	EV_WHO_NONE = 0,
	EV_WHO_SENDER,
	EV_WHO_RECIPIENT,
	EV_WHO_BOTH,
	EV_WHO_LOCAL,	/* our own delivery path: nobody's address */
};

/* What the operator (or the sending software) should do. */
enum ev_advice {
	EV_ADV_NONE = 0,
	EV_ADV_SUPPRESS,
	EV_ADV_RETRY,		/* retry with backoff */
	EV_ADV_SLOW_DOWN,
	EV_ADV_FIX_AUTH,
	EV_ADV_FIX_CONTENT,
	EV_ADV_INVESTIGATE,
};

#define VERDICT_STATUS_MAX	16
#define VERDICT_RULE_MAX	128
#define VERDICT_WHY_MAX		192

/* The classifier's answer for one recipient. */
struct verdict {
	const char	*reason;	/* static vocabulary word; never NULL once classified */
	bool		 hard;		/* the address itself is permanently bad */
	enum ev_who	 who;
	enum ev_advice	 advice;
	char		 status[VERDICT_STATUS_MAX];	/* as sent, or derived; "" if none */
	char		 rule[VERDICT_RULE_MAX];	/* deciding rule, "file:line" */
	bool		 conflict;	/* status code and text disagreed */
	char		 why[VERDICT_WHY_MAX];	/* short explanation, e.g. which won */
};

struct bd_event {
	int64_t		 when;		/* unix seconds: report date, log stamp, or now */
	const char	*recipient;	/* normalised: see addr_normalize() */
	const char	*original_recipient;
	enum ev_action	 action;
	const char	*status;	/* "x.y.z" as reported or derived; may be NULL */
	int		 reply_code;	/* SMTP reply code, 0 if none */
	const char	*diagnostic;	/* raw text, bounded by the producer */
	const char	*remote_mta;
	const char	*reporting_mta;
	const char	*queue_id;	/* the ORIGINAL message's queue id */
	const char	*message_id;	/* the original's Message-ID */
	const char	*envelope_id;	/* RFC 3461 ENVID */
	/*
	 * A hand-off's successor: the queue id the next hop (a content
	 * filter re-injecting into this MTA) gave the message ("queued as");
	 * NULL if none.  The same message, under another id.
	 */
	const char	*next_queue_id;
	const char	*sender;	/* the original envelope sender */
	const char	*campaign;	/* value of the configured campaign header */
	const char	*mail_kind;	/* "bulk", "transactional", or NULL (dsn.h) */
	const char	*feedback_type;	/* ARF Feedback-Type, else NULL */
	struct verdict	 verdict;
	enum ev_source	 source;
	bool		 trusted;	/* tied to mail this relay sent */
	/*
	 * How the trust policy judged it (trust_why_name(): "send:message-id",
	 * "no-matching-send", ...); NULL when its producer is trusted as such
	 * (the MTA log, an operator).  A judged event that is not trusted is
	 * held: recorded and shown, never acted on (event_held()).
	 */
	const char	*trust_why;
	const char	*client_addr;	/* the SMTP client that brought it, or NULL */
};

/* ev_action_name - "failed", "delayed", ...; "unknown" for EV_ACT_UNKNOWN */
const char *ev_action_name(enum ev_action a);
/* ev_action_parse - case-insensitive token to enum; EV_ACT_UNKNOWN if none */
enum ev_action ev_action_parse(const char *s);
/* ev_source_name - "dsn-internal", "dsn-remote", "log", "manual", "import", "cli" */
const char *ev_source_name(enum ev_source s);
/* ev_who_name - "none", "sender", "recipient", "both" */
const char *ev_who_name(enum ev_who w);
/* ev_advice_name - "none", "suppress", "retry", "slow-down", "fix-auth", "fix-content", "investigate" */
const char *ev_advice_name(enum ev_advice a);

/*
 * addr_normalize - the key of a mailbox, for storage and every lookup
 * (RCPT TO, status, suppress, import): surrounding white space, angle
 * brackets and an "rfc822;" type prefix removed, the domain lower-cased
 * and as an A-label (IDNA 2008, libidn2: "bücher.test" and
 * "xn--bcher-kva.test" are one domain), the local part lower-cased
 * (ASCII) unless addr_set_local_case(true).  Returns false when the
 * result is not a plausible address (no '@', empty part, control
 * bytes, too long).
 */
bool addr_normalize(const char *in, char *out, size_t outlen);
/*
 * addr_display - the form as received, for display: as addr_normalize()
 * strips it, but nothing else changed; false when not an address
 */
bool addr_display(const char *in, char *out, size_t outlen);
/*
 * addr_set_local_case - keep the case of local parts in keys (true) or
 * compare them without case (false, the default); set once at startup,
 * before any thread (LocalPartCaseSensitive)
 */
void addr_set_local_case(bool sensitive);
#define ADDR_MAX	320

/* event_held - ev was judged and not trusted: keep it, never act on it */
bool event_held(const struct bd_event *ev);

/* event_sender_is_null - "" or "<>" (RFC 5321 4.5.5); bare: no brackets */
bool event_sender_is_null(const char *s, bool *bare);

#endif
