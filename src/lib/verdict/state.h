/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * state.h - the suppression rule: a recipient's state is a fold of its
 * events through state_apply(), the one function that decides it (so a
 * rule change can be replayed over history).  Pure: no I/O, no clock,
 * no logging.
 */
#ifndef BD_STATE_H
#define BD_STATE_H

#include "util/bd.h"
#include "util/event.h"

/* Suppression rules that apply when an event is recorded. */
struct state_policy {
	unsigned	 soft_limit;	/* consecutive soft-bounced sends that suppress */
	int64_t		 soft_window;	/* seconds a soft bounce counts */
	/*
	 * The ARF Feedback-Types that suppress (reason complaint): bits
	 * 1u << enum state_feedback (below); 0: none (ComplaintSuppress).
	 */
	unsigned	 complaint_types;
	/*
	 * HandOffRelays: the next hops of ours, whose failed connections
	 * are our own path's (ourside.h); NULL: loopback.
	 */
	char *const	*hops;
	size_t		 nhops;
	bool		 hops_set;	/* hops given (n may be 0: none) */
};

enum state_kind {
	STATE_ACTIVE = 0,
	STATE_SOFT,		/* soft bounces counted, not yet at the limit */
	STATE_SUPPRESSED,
};

/*
 * Suppression reasons.  Of the automatic ones a stronger reason replaces
 * a weaker one (soft-limit < hard < complaint: state_reason_rank());
 * an operator's (manual, imported) is never replaced automatically.
 */
enum state_reason {
	STATE_REASON_NONE = 0,
	STATE_REASON_HARD,	/* a hard bounce */
	STATE_REASON_SOFT_LIMIT,	/* soft_limit distinct messages in the window */
	STATE_REASON_COMPLAINT,
	STATE_REASON_MANUAL,	/* bouncectl suppress */
	STATE_REASON_IMPORTED,	/* bouncectl import */
};

/* What one event means to the rule. */
enum state_input_kind {
	STATE_IN_IGNORE = 0,	/* relayed (a hand-off), expanded, auto-reply */
	STATE_IN_SENDER,	/* sender-side failure: never moves the address */
	STATE_IN_HARD,
	STATE_IN_SOFT,		/* a final soft failure: the message is given up */
	STATE_IN_DELIVERED,
	STATE_IN_SUPPRESS,	/* manual or imported suppression */
	STATE_IN_UNSUPPRESS,	/* manual unsuppression */
	STATE_IN_FEEDBACK,	/* an ARF report (RFC 5965): never a bounce */
	STATE_IN_DEFERRED,	/* a deferral: provisional until the outcome */
	STATE_IN_LOCAL,		/* a failure of our own delivery path */
};

/*
 * ARF Feedback-Type values (RFC 5965 section 7.3, the IANA "Feedback
 * Report Type Values" registry: RFC 5965, RFC 6430 not-spam, RFC 6591
 * auth-failure), plus opt-out of the ARF drafts, still sent (and made
 * of an unsubscribe request by dsn.c).  Bits of state_policy's
 * complaint_types are 1u << these.
 */
enum state_feedback {
	STATE_FB_ABUSE = 0,
	STATE_FB_AUTH_FAILURE,
	STATE_FB_FRAUD,
	STATE_FB_NOT_SPAM,	/* never suppresses */
	STATE_FB_OPT_OUT,
	STATE_FB_OTHER,
	STATE_FB_VIRUS,
	STATE_FB_N
};

#define STATE_FB_BIT(t)		(1u << (t))
#define STATE_FB_MASK		(STATE_FB_BIT(STATE_FB_N) - 1)
#define STATE_FB_TEXT_MAX	96	/* every name, comma-separated */

#define STATE_SOFT_MARKS	32	/* most messages remembered (pending or soft) */
#define STATE_KEY_MAX		200	/* bytes of a message key, with the NUL */
#define STATE_MARKS_TEXT_MAX	(STATE_SOFT_MARKS * (STATE_KEY_MAX + 48))
#define STATE_TEXT_MAX		(STATE_MARKS_TEXT_MAX + 256)

enum state_mark_kind {
	STATE_MARK_PENDING = 0,	/* deferred, outcome not known: counts for nothing */
	STATE_MARK_SOFT,	/* failed soft: one of the streak */
};

/* One message of the current streak: given up (soft) or still deferred. */
struct state_mark {
	int64_t		 when;	/* soft: its failure; pending: its first deferral */
	int64_t		 ev;	/* the event id that made it (0: unknown) */
	enum state_mark_kind kind;
	char		 key[STATE_KEY_MAX];
};

/*
 * A recipient's state: the fold of its events, in the order of
 * state_input_order(), through state_apply().
 */
struct state {
	enum state_kind	 kind;
	enum state_reason reason;	/* NONE unless suppressed */
	int64_t		 since;		/* when it became suppressed, else 0 */
	int64_t		 reset_at;	/* last delivery or unsuppress */
	int64_t		 manual_at;	/* last manual action: older events lose */
	int64_t		 first_bounce;	/* 0 if none */
	int64_t		 last_bounce;
	int64_t		 newest;	/* date of the newest input folded */
	size_t		 nmarks;	/* soft and pending marks */
	struct state_mark marks[STATE_SOFT_MARKS];
};

struct state_input {
	enum state_input_kind kind;
	int64_t		 when;
	int64_t		 seq;		/* the event id, kept in marks; 0 unknown */
	const char	*msgkey;	/* the original message (canonical key) */
	enum state_reason reason;	/* for SUPPRESS */
	bool		 manual;	/* SUPPRESS/UNSUPPRESS from an operator */
	const char	*feedback_type;	/* FEEDBACK: its ARF Feedback-Type */
	/*
	 * An event the trust policy held (DESIGN.md "Trust", event_held()):
	 * state_apply() changes nothing for it.
	 */
	bool		 untrusted;
};

/* state_init - an address with no history: active, count 0 */
void state_init(struct state *st);
/*
 * state_apply - fold one input into st, inputs taken in state_input_order();
 * true if kind, reason or soft count changed
 */
bool state_apply(struct state *st, const struct state_input *in,
    const struct state_policy *pol);
/* state_soft_count - the soft-bounced messages of the streak */
size_t state_soft_count(const struct state *st);
/* state_pending_count - the messages deferred and not yet given up */
size_t state_pending_count(const struct state *st);
/*
 * state_input_rank - the order of inputs dated the same second: failures,
 * then deliveries, then operator actions (state_input_order())
 */
int state_input_rank(enum state_input_kind k);
/* state_reason_rank - 0 none, 1 soft-limit, 2 hard, 3 complaint, 4 operator */
int state_reason_rank(enum state_reason r);
/* state_event_kind - what a recorded event means to the rule (pol: hops) */
enum state_input_kind state_event_kind(const struct bd_event *ev,
    const struct state_policy *pol);
/*
 * state_msgkey - "q:QUEUEID", else "m:MESSAGE-ID" (without <>), else
 * "e:ENVID", else "" (state_msgkeys() gives all three)
 */
void state_msgkey(const struct bd_event *ev, char *out, size_t outlen);
/* The keys of one message an event names, in that order; "" when absent. */
struct state_keys {
	char		 q[STATE_KEY_MAX];
	char		 m[STATE_KEY_MAX];
	char		 e[STATE_KEY_MAX];
};
void state_msgkeys(const struct bd_event *ev, struct state_keys *k);
/*
 * state_key_better - true if key a should stand for a message rather
 * than b (Message-ID, then ENVID, then queue id; then byte order)
 */
bool state_key_better(const char *a, const char *b);

/* state_kind_name - "active", "soft", "suppressed" */
const char *state_kind_name(enum state_kind k);
/* state_kind_parse - name to enum; false if unknown */
bool state_kind_parse(const char *s, enum state_kind *out);
/* state_reason_name - "", "hard", "soft-limit", "complaint", "manual", "imported" */
const char *state_reason_name(enum state_reason r);
/* state_reason_parse - name to enum ("" -> NONE); false if unknown */
bool state_reason_parse(const char *s, enum state_reason *out);
/* state_input_name - "ignore", "sender", "hard", "soft", "delivered", ... */
const char *state_input_name(enum state_input_kind k);

/* state_feedback_parse - Feedback-Type (any case) to enum; false if unknown */
bool state_feedback_parse(const char *s, size_t len, enum state_feedback *out);
/* state_feedback_name - "abuse", "auth-failure", ...; "" if out of range */
const char *state_feedback_name(enum state_feedback t);
/*
 * state_complaint_parse - a ComplaintSuppress list ("abuse, opt-out";
 * "" for none) to a mask of STATE_FB_BIT(); false with why (whylen bytes)
 * for an unregistered type, an empty item or not-spam
 */
bool state_complaint_parse(const char *list, unsigned *mask, char *why,
    size_t whylen);
/* state_complaint_format - a mask as "abuse,opt-out" (registry order) */
void state_complaint_format(unsigned mask, char *out, size_t outlen);

/* state_encode - the whole state as one line of text (a checkpoint) */
void state_encode(const struct state *st, char *out, size_t outlen);
/* state_decode - the inverse; false (st initialised) on bad text */
bool state_decode(struct state *st, const char *text);
/* state_marks_encode - the marks as text ("WHEN KIND EV KEY\n" lines) */
void state_marks_encode(const struct state *st, char *out, size_t outlen);
/* state_marks_decode - restore the marks; bad lines are skipped */
void state_marks_decode(struct state *st, const char *text);
/* state_equal - same state (marks compared with or without event ids) */
bool state_equal(const struct state *a, const struct state *b, bool ids);

#endif
