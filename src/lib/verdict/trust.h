/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * trust.h - whether a report may change a recipient's state (DESIGN.md
 * "Trust"): the decision from the facts the milter gathered, the dates
 * a trusted report may carry, BATV-style signed return addresses
 * (prvs=TAG=local@domain) and the address lists of FeedbackSources.
 * Pure: no I/O, no clock (callers pass "now"), no logging.
 */
#ifndef BD_TRUST_H
#define BD_TRUST_H

#include "util/bd.h"

/* TrustPolicy (bounced.conf(5)). */
enum trust_policy {
	TRUST_POLICY_SENT = 0,	/* only reports tied to mail we sent */
	TRUST_POLICY_LOCAL,	/* and whatever comes by the non-SMTP path */
	TRUST_POLICY_OFF,	/* every report (before issue 10) */
};

/* How a report was tied to a recorded send (store_send_match()). */
enum trust_match {
	TRUST_MATCH_NONE = 0,
	TRUST_MATCH_QUEUE_ID,
	TRUST_MATCH_MESSAGE_ID,
	TRUST_MATCH_ENVELOPE_ID,
};

/* What the signed return address a bounce came to says. */
enum prvs_result {
	PRVS_NONE = 0,		/* not a prvs= address */
	PRVS_VALID,
	PRVS_BAD,		/* malformed, or the tag does not match */
	PRVS_EXPIRED,		/* a good tag, older than the allowed age */
	PRVS_NOKEY,		/* a prvs= address, but we hold no key */
};

/* Why a report is, or is not, acted on.  trust_why_name() words. */
enum trust_why {
	TRUST_WHY_POLICY_OFF = 0,	/* "policy-off" */
	TRUST_WHY_QUEUE_ID,		/* "send:queue-id" */
	TRUST_WHY_MESSAGE_ID,		/* "send:message-id" */
	TRUST_WHY_ENVELOPE_ID,		/* "send:envelope-id" */
	TRUST_WHY_SIGNED,		/* "signed-return-path" */
	TRUST_WHY_FEEDBACK_SOURCE,	/* "feedback-source" */
	TRUST_WHY_LOCAL,		/* "local-path" */
	/* the rest are not trusted */
	TRUST_WHY_NO_SEND,		/* "no-matching-send" */
	TRUST_WHY_BAD_SIGNATURE,	/* "bad-signature" */
	TRUST_WHY_EXPIRED_SIGNATURE,	/* "expired-signature" */
	TRUST_WHY_N
};

/* What the milter knows about one reported recipient of a report. */
struct trust_facts {
	enum trust_policy policy;
	bool		 local_path;	/* bare "" sender: Postfix's non-SMTP path */
	bool		 feedback;	/* an ARF report (RFC 5965) */
	bool		 feedback_source; /* from an address of FeedbackSources */
	enum prvs_result signature;	/* of the envelope recipient(s) */
	enum trust_match send;		/* tied to a recorded send, and how */
};

/*
 * trust_decide - whether a report about one recipient may change its
 * state; *why (may be NULL) receives the reason either way
 */
bool trust_decide(const struct trust_facts *f, enum trust_why *why);
/* trust_why_name - the word of a reason ("no-matching-send", ...) */
const char *trust_why_name(enum trust_why w);
/* trust_needs_send - whether trust_decide() would look at f->send */
bool trust_needs_send(const struct trust_facts *f);
/*
 * trust_when - the date a trusted report may carry: its own (reported),
 * but never after now and never before the send it is tied to (sent, 0
 * if none); 0 or less means "none given": now
 */
int64_t trust_when(int64_t reported, int64_t now, int64_t sent);
/* trust_policy_name - "sent", "local", "off" */
const char *trust_policy_name(enum trust_policy p);

/* ---- prvs= signed return addresses (BATV, draft-levine-smtp-batv) ---- */

#define PRVS_KEY_MIN	16	/* bytes of a key, at least */
#define PRVS_KEY_MAX	256
#define PRVS_TAG_LEN	10	/* K DDD HHHHHH */
#define PRVS_MAX_DAYS	999	/* the day number is kept modulo 1000 */

/*
 * prvs_sign - "prvs=KDDDHHHHHH=local@domain" for addr (no angle
 * brackets) on the day of now, into out; false when addr is not a plain
 * address, is already signed, or does not fit outlen
 */
bool prvs_sign(const unsigned char *key, size_t keylen, const char *addr,
    int64_t now, char *out, size_t outlen);
/*
 * prvs_check - judge addr (angle brackets allowed): PRVS_NONE when it
 * is not a prvs= address; else valid, bad or expired (older than
 * max_days days, or from the future).  orig (may be NULL) receives the
 * address without its tag.  key NULL: PRVS_NOKEY for a prvs= address.
 */
enum prvs_result prvs_check(const unsigned char *key, size_t keylen,
    const char *addr, int64_t now, unsigned max_days, char *orig,
    size_t origlen);
/* prvs_result_name - "none", "valid", "bad", "expired", "no-key" */
const char *prvs_result_name(enum prvs_result r);

/* ---- FeedbackSources: IPv4 and IPv6 addresses and networks ---- */

#define TRUST_NETS_MAX	64

struct trust_net {
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned char	 addr[16];
	unsigned	 bits;		/* prefix length */
};

/*
 * trust_nets_parse - "192.0.2.1, 198.51.100.0/24, 2001:db8::/32" into
 * nets[max]; false with why for a bad item or too many
 */
bool trust_nets_parse(const char *text, struct trust_net *nets, size_t max,
    size_t *n, char *why, size_t whylen);
/* trust_nets_match - ip (text, IPv4-mapped IPv6 too) is in one of nets */
bool trust_nets_match(const struct trust_net *nets, size_t n, const char *ip);

#endif
