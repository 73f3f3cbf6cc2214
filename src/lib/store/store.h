/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * store.h - persistence of events and recipient state in SQLite.
 *
 * The store owns its locking: one handle may be shared by threads.
 * It never logs; failures come back as a status plus store_errmsg().
 */
#ifndef BD_STORE_H
#define BD_STORE_H

#include <stdio.h>

#include "util/bd.h"
#include "util/event.h"
#include "verdict/state.h"
#include "verdict/trust.h"

struct store;

#define STORE_RDONLY	0x01	/* bouncectl read-only commands */
#define STORE_NOCREATE	0x02	/* read-write, but the file must exist */

/*
 * store_open - open (and create/migrate unless STORE_RDONLY) the database
 * at path; WAL mode, busy timeout busy_ms.  On failure *out is NULL and
 * err holds why.  BD_ENOTFOUND when there is no file at path and flags
 * forbid creating it (STORE_RDONLY, STORE_NOCREATE).
 */
enum bd_status store_open(const char *path, unsigned flags, int busy_ms,
    struct store **out, char *err, size_t errlen);
/* store_close - NULL is fine */
void store_close(struct store *s);
/* store_set_cache - the handle's page cache, in KiB */
enum bd_status store_set_cache(struct store *s, int kib);
/* store_errmsg - text of the last failure on this handle (thread-local copy not kept) */
const char *store_errmsg(struct store *s);
/*
 * store_record - record n events (the recipients of one message) in one
 * transaction and apply the suppression rules; idempotent: an event
 * already recorded changes nothing.  *n_new (may be NULL) counts the events
 * that were new.  now is the time used for state changes.  A log event
 * (EV_SRC_LOG) with a queue id is also a send (schema v2), unless its
 * sender is the null sender ("" or "<>": a DSN); any event
 * about a known send updates its outcome.  A feedback report (an event
 * with a feedback_type) is never a bounce; it suppresses with reason
 * complaint when its type is in pol->complaint_types.
 */
enum bd_status store_record(struct store *s, const struct bd_event *evs,
    size_t n, const struct state_policy *pol, int64_t now, size_t *n_new);

/* ---- additions for bouncectl (lookup, list, manual actions, stats) ---- */

#define STORE_SCHEMA_VERSION	7	/* PRAGMA user_version, migrated */
#define STORE_DIAG_MAX		2048	/* bytes of a diagnostic kept */
#define STORE_TEXT_MAX		998	/* bytes of any other text field kept */
#define STORE_EVENTS_MAX	32	/* event ids kept for a suppression */
#define STORE_EVENTS_TEXT_MAX	(STORE_EVENTS_MAX * 21)

/* A recipient's state row.  Text fields are "" when unknown. */
struct store_recipient {
	char		 address[ADDR_MAX + 1];	/* the key (addr_normalize()) */
	char		 display[ADDR_MAX + 1];	/* the form last received */
	char		 domain[256];
	char		 state[16];		/* active, soft, suppressed */
	char		 reason[16];		/* hard, soft-limit, complaint, manual, imported */
	unsigned	 soft_count;
	unsigned	 pending_count;		/* messages deferred, outcome unknown */
	int64_t		 suppressed_since;	/* 0 if not suppressed */
	int64_t		 first_bounce;		/* 0 if never */
	int64_t		 last_bounce;
	int64_t		 last_seen;		/* date of the newest event */
	char		 last_status[VERDICT_STATUS_MAX];
	char		 last_reason[48];	/* the classifier's word */
	char		 last_diagnostic[STORE_DIAG_MAX + 1];
	char		 manual_by[128];
	char		 manual_why[256];
	int64_t		 manual_at;		/* 0 if never */
	/*
	 * The ids of the events that led to the suppression, comma-separated:
	 * the soft-bounced sends of the streak for soft-limit, else the one
	 * suppressing event ("" when not suppressed or unknown).
	 */
	char		 suppress_events[STORE_EVENTS_TEXT_MAX];
};

/*
 * A stored event, as handed to a callback.  Strings are borrowed for the
 * duration of the callback and are NULL when absent.  action is the
 * RFC 3464 action, or "suppress"/"unsuppress" for an operator's action;
 * class is what the rule made of it (see state_input_name()).
 */
struct store_event_row {
	int64_t		 id;
	int64_t		 when;
	int64_t		 recorded_at;
	const char	*recipient;
	const char	*original_recipient;
	const char	*action;
	const char	*status;
	int		 reply_code;
	const char	*reason;
	bool		 hard;
	const char	*who;
	const char	*advice;
	const char	*rule;
	const char	*diagnostic;
	const char	*remote_mta;
	const char	*reporting_mta;
	const char	*queue_id;
	const char	*message_id;
	const char	*envelope_id;
	const char	*sender;
	const char	*campaign;
	const char	*feedback_type;
	const char	*source;
	bool		 trusted;
	const char	*class;		/* "untrusted" for a held report */
	const char	*mail_kind;	/* "bulk", "transactional" or NULL (v5) */
	const char	*trust_why;	/* how the trust policy judged it, or NULL */
	const char	*client_addr;	/* the SMTP client that brought it, or NULL */
	const char	*msgkey;	/* the message's canonical key */
	int64_t		 reported_at;	/* the report's own date (when: the rule's) */
};

/* Filters of store_list(); NULL/0 means "any". */
struct store_filter {
	const char	*state;		/* active, soft, suppressed */
	const char	*reason;	/* suppression reason or last classifier reason */
	const char	*domain;	/* compared lower-cased */
	int64_t		 since;		/* last_seen >= since, when > 0 */
	int64_t		 limit;		/* 0: no limit */
	int64_t		 offset;
};

/* A group of store_stats(). */
struct store_stat_row {
	const char	*key;		/* domain, reason, YYYY-MM-DD, campaign, or "total" */
	int64_t		 events;	/* automatic events (not operator actions) */
	int64_t		 hard;
	int64_t		 soft;
	int64_t		 sender;	/* sender-side failures */
	int64_t		 delivered;
	int64_t		 suppressed;	/* addresses suppressed now */
	/*
	 * Sends seen in the MTA log (distinct original message x recipient)
	 * and what became of each, by its latest outcome; all 0 when the
	 * log is not read, and for "reason" (a send has no reason until it
	 * fails).
	 */
	int64_t		 sends;
	int64_t		 sends_delivered;
	int64_t		 sends_soft;
	int64_t		 sends_hard;
	int64_t		 sends_sender;
	/* failures of our own delivery path (who = local): not counted above */
	int64_t		 local;
};

/* An operator's action, for store_manual(). */
struct store_manual {
	const char	*address;	/* any form addr_normalize() accepts */
	bool		 suppress;	/* false: unsuppress */
	const char	*reason;	/* suppress only: manual (default), imported, complaint, hard, soft-limit */
	const char	*by;		/* who; may be NULL */
	const char	*why;		/* free text; may be NULL */
	int64_t		 when;
	enum ev_source	 source;	/* EV_SRC_MANUAL or EV_SRC_IMPORT */
};

/* Callbacks return 0 to go on, anything else to stop (passed back as BD_OK). */
typedef int (*store_recipient_cb)(void *arg, const struct store_recipient *r);
typedef int (*store_event_cb)(void *arg, const struct store_event_row *e);
typedef int (*store_stat_cb)(void *arg, const struct store_stat_row *row);

/* store_schema_version - the database's PRAGMA user_version */
enum bd_status store_schema_version(struct store *s, int *version);
/* store_lookup - the state of one address; BD_ENOTFOUND when never seen */
enum bd_status store_lookup(struct store *s, const char *address,
    struct store_recipient *out);
/* store_list - recipients matching f, ordered by address */
enum bd_status store_list(struct store *s, const struct store_filter *f,
    store_recipient_cb cb, void *arg);
/* store_history - every event of an address, oldest first */
enum bd_status store_history(struct store *s, const char *address,
    store_event_cb cb, void *arg);
/*
 * store_led_by - the events named in the recipient's suppress_events
 * (those that led to its suppression and are still kept), oldest first
 */
enum bd_status store_led_by(struct store *s, const char *address,
    store_event_cb cb, void *arg);
/*
 * store_manual - apply n operator actions in one transaction (all or
 * none); each is kept as an event with who/when/why.  BD_EPARSE (nothing
 * applied) if an address or reason is not acceptable; *bad (may be NULL)
 * is then its index.
 */
enum bd_status store_manual(struct store *s, const struct store_manual *ops,
    size_t n, size_t *bad);
/* store_stats - counts grouped by by: NULL (one "total" row), "domain", "reason", "day", "campaign" */
enum bd_status store_stats(struct store *s, const char *by,
    store_stat_cb cb, void *arg);
/*
 * store_stats_since - store_stats() of the events and sends dated at or
 * after since (0: all); the suppressed counts are of now
 */
enum bd_status store_stats_since(struct store *s, const char *by,
    int64_t since, store_stat_cb cb, void *arg);
/*
 * store_prune - delete events, sends and message keys dated before
 * `before`; what the events said is kept as each address's checkpoint,
 * so a later rebuild agrees with the live states.  In transactions of
 * STORE_PRUNE_BATCH addresses or events, so that recording waits at most
 * one of them.
 */
#define STORE_PRUNE_BATCH	2000
enum bd_status store_prune(struct store *s, int64_t before, int64_t *n_deleted);
/* store_vacuum - return the space a prune freed (VACUUM) */
enum bd_status store_vacuum(struct store *s);
/*
 * store_policy_sync - make pol the policy of the database: when it
 * differs from the one the states were folded with (or the schema asks
 * for it), every state is folded again (store_rebuild()); *rebuilt (may
 * be NULL) says whether.  Call it at start and on reload: a lowered
 * SoftBounceLimit then applies to the addresses already counted.
 */
enum bd_status store_policy_sync(struct store *s,
    const struct state_policy *pol, bool *rebuilt);
/* store_policy_text - pol as "limit=3 window=2592000 complaint=abuse,opt-out" */
void store_policy_text(const struct state_policy *pol, char *out,
    size_t outlen);
/*
 * store_rebuild - recompute every recipient's state from the events kept
 * (after a rule or policy change), operator actions included
 */
enum bd_status store_rebuild(struct store *s, const struct state_policy *pol);

/* ---- schema v2: the MTA log as a source (log cursor, sends, rates) ---- */

/*
 * A log follower's position, kept per source name ("file:/var/log/mail.log",
 * "journal"), so a restart resumes where it stopped.
 */
struct store_cursor {
	uint64_t	 dev;
	uint64_t	 ino;		/* 0: no position */
	uint64_t	 off;		/* byte offset of the next unread line */
	int64_t		 updated;	/* when it was stored */
};

/* store_cursor_get - the position kept for source; BD_ENOTFOUND if none */
enum bd_status store_cursor_get(struct store *s, const char *source,
    struct store_cursor *out);
/* store_cursor_set - keep the position of source (in the batch, if one is open) */
enum bd_status store_cursor_set(struct store *s, const char *source,
    const struct store_cursor *c, int64_t now);

/*
 * store_batch_begin - open one transaction for many store_record() and
 * store_cursor_set() calls (a batch of log lines and its position: all
 * or nothing); store_batch_end commits (commit true) or rolls back.
 * While a batch is open the handle must be used by one thread only.
 */
enum bd_status store_batch_begin(struct store *s);
enum bd_status store_batch_end(struct store *s, bool commit);
/*
 * store_batch_whole - the open batch is all or nothing: its calls take no
 * savepoint, and one that fails spoils the batch (store_batch_end() then
 * rolls it back and says so); for a caller that can do it again
 */
void store_batch_whole(struct store *s);

/* A sender-side failure count of the last hour: see store_sender_spikes(). */
struct store_rate_row {
	const char	*domain;	/* destination domain */
	const char	*reason;	/* the classifier's word */
	int64_t		 count;		/* events dated in the window */
};
typedef int (*store_rate_cb)(void *arg, const struct store_rate_row *r);

/*
 * store_sender_spikes - the (domain, reason) groups of sender-side
 * failures (blocked, reputation, authentication, rate limits, content)
 * dated in [now - 3600, now] with at least rate_per_hour events, most
 * first; *crossed (may be NULL) tells whether any did.  The caller logs.
 */
enum bd_status store_sender_spikes(struct store *s, int64_t now,
    int64_t rate_per_hour, store_rate_cb cb, void *arg, bool *crossed);

/* One expiry rule: suppressions of reason older than after seconds end. */
struct store_expiry {
	char		 reason[16];	/* hard, soft-limit, complaint, imported */
	int64_t		 after;		/* seconds, > 0 */
};
#define STORE_EXPIRY_MAX	8	/* rules in one list */

/*
 * store_expiry_parse - "soft-limit:180d, hard:1y" (units s, m, h, d, w,
 * y; a bare number is days) into rules[max]; false with err set on a bad
 * rule, an unknown or "manual" reason (manual suppressions never expire)
 * or a reason given twice.
 */
bool store_expiry_parse(const char *text, struct store_expiry *rules,
    size_t max, size_t *n, char *err, size_t errlen);
/*
 * store_expire - make active again, as of now, every address suppressed
 * for a reason of rules[n] since longer than its rule says; each is kept
 * as an "unsuppress" event by "expiry" with the rule as its why.
 * *n_expired (may be NULL) counts them.  Meant to be run periodically.
 */
enum bd_status store_expire(struct store *s, int64_t now,
    const struct store_expiry *rules, size_t n, int64_t *n_expired);


/* ---- store_ops.c: an operator's tool (read snapshot, backup) ---- */

/*
 * store_read_begin - one read snapshot for many lookups (a deferred
 * BEGIN); store_read_end lets it go.  Keep it short: a snapshot holds
 * back WAL checkpoints.
 */
enum bd_status store_read_begin(struct store *s);
enum bd_status store_read_end(struct store *s);
/*
 * store_backup - a consistent copy of the live database at path (which
 * must not exist: BD_ECONFIG) through SQLite's online backup; *pages
 * (may be NULL) receives the pages copied
 */
enum bd_status store_backup(struct store *s, const char *path,
    int64_t *pages);

/* An address that expire or prune would touch (strings borrowed). */
struct store_addr_row {
	const char	*address;
	const char	*reason;	/* expire: the suppression's reason */
	int64_t		 since;		/* expire: suppressed_since; prune: oldest event */
	int64_t		 until;		/* prune: newest event that goes */
	int64_t		 count;		/* prune: events that go */
};
typedef int (*store_addr_cb)(void *arg, const struct store_addr_row *r);
/* store_expire_list - what store_expire() would make active; changes nothing */
enum bd_status store_expire_list(struct store *s, int64_t now,
    const struct store_expiry *rules, size_t n, store_addr_cb cb, void *arg);
/* store_prune_list - whose events store_prune() would delete; changes nothing */
enum bd_status store_prune_list(struct store *s, int64_t before,
    store_addr_cb cb, void *arg);

/* The event hook furthest behind, for a prune (store_prune_hold()). */
struct store_hold {
	char		 hook[128];	/* its cursor's name, "hook:NAME" */
	int64_t		 cursor;	/* where it is */
	int64_t		 oldest;	/* the oldest date it has not handed on */
	int64_t		 events;	/* events before `before` it has not */
};
/* store_prune_hold - may a prune before `before` delete events an event
 * hook has not handed on yet?  *held (when true) says which and what */
enum bd_status store_prune_hold(struct store *s, int64_t before,
    bool *held, struct store_hold *out);

/*
 * A row of the feed (schema v4): a recorded event, or a change of a
 * recipient's state or reason, in the order they happened.  Strings are
 * borrowed for the callback and NULL when absent.
 */
struct store_feed_row {
	int64_t				 cursor;	/* only grows */
	int64_t				 ts;		/* recorded at */
	const char			*kind;		/* "event" or "state" */
	const char			*recipient;
	int64_t				 event_id;	/* the event; for a state row its newest */
	const struct store_event_row	*event;		/* that event, or NULL */
	const char			*old_state, *new_state;	/* state rows */
	const char			*old_reason, *new_reason;
};
typedef int (*store_feed_cb)(void *arg, const struct store_feed_row *r);
/*
 * store_feed - the feed rows after cursor `after`, recorded at or after
 * since (0: any), at most limit (0: all); *last receives the cursor of
 * the last row given
 */
enum bd_status store_feed(struct store *s, int64_t after, int64_t since,
    int64_t limit, store_feed_cb cb, void *arg, int64_t *last);
/* store_feed_last - the newest cursor, 0 for an empty feed */
enum bd_status store_feed_last(struct store *s, int64_t *last);

/* ---- schema v6: sends as the trust policy sees them (store_send.c) ---- */

/* One send of an outbound message to one envelope recipient. */
struct store_send {
	const char	*queue_id;	/* the MTA's queue id; required */
	const char	*recipient;	/* any form addr_normalize() accepts */
	const char	*message_id;	/* "<id>" or "id", may be NULL */
	const char	*envelope_id;	/* RFC 3461 ENVID, may be NULL */
	const char	*sender;	/* envelope sender, may be NULL */
	const char	*campaign;	/* CampaignHeader value, may be NULL */
	int64_t		 when;		/* its date; 0: store_record_sends()'s */
};

#define STORE_SEND_QIDS	4	/* queue ids a report may name */

/* What a report says about the message it is about. */
struct store_send_key {
	const char	*recipient;		/* the reported recipient */
	const char	*original_recipient;	/* may be NULL */
	const char	*queue_ids[STORE_SEND_QIDS];	/* NULL or "": none */
	size_t		 nqueue_ids;
	const char	*message_id;		/* may be NULL */
	const char	*envelope_id;		/* may be NULL */
};

/* The send store_send_match() found. */
struct store_send_found {
	enum trust_match how;		/* TRUST_MATCH_NONE: none */
	int64_t		 when;		/* its date */
};

/*
 * store_record_sends - keep n sends, dated when unless they carry their
 * own date, in one transaction; idempotent (a send known from the log gets only the
 * Message-ID and ENVID it lacked)
 */
enum bd_status store_record_sends(struct store *s, const struct store_send *v,
    size_t n, int64_t when);
/*
 * store_send_match - the send to k's recipient (or original recipient),
 * dated at or after since, with one of k's queue ids, else its
 * Message-ID, else its ENVID; out->how is TRUST_MATCH_NONE when none
 */
enum bd_status store_send_match(struct store *s,
    const struct store_send_key *k, int64_t since,
    struct store_send_found *out);
/* A group of store_untrusted(): held reports by source and domain. */
struct store_untrusted_row {
	const char	*source;	/* client address, "local", or "" */
	const char	*domain;	/* of the reported recipients */
	int64_t		 events;	/* held reports (one per recipient) */
	int64_t		 recipients;	/* distinct addresses named */
	int64_t		 first;		/* recorded_at of the first, last */
	int64_t		 last;
	const char	*why;		/* the most frequent trust_why */
};
typedef int (*store_untrusted_cb)(void *arg,
    const struct store_untrusted_row *r);
/*
 * store_untrusted - the held reports (untrusted, never acted on)
 * recorded at or after since (0: all), per SMTP client and recipient
 * domain, most first
 */
enum bd_status store_untrusted(struct store *s, int64_t since,
    store_untrusted_cb cb, void *arg);
/* store_prune_sends - delete sends dated before `before` */
enum bd_status store_prune_sends(struct store *s, int64_t before,
    int64_t *n_deleted);

/*
 * store_metrics - the database's metrics in the Prometheus text format
 * on fp, as of now (store_metrics.c; bouncectl(8), METRICS)
 */
enum bd_status store_metrics(struct store *s, FILE *fp, int64_t now);

/* ---- store_copy.c: one database into another (bouncectl migrate) ---- */

#define STORE_COPY_NTABLES	7
/*
 * The tables store_copy() copies, in its order (meta without the
 * schema's version), NULL-terminated
 */
extern const char *const store_copy_tables[STORE_COPY_NTABLES + 1];
/* Progress: done of total rows of table copied so far. */
typedef void (*store_copy_cb)(void *arg, const char *table, int64_t done,
    int64_t total);
/*
 * store_copy - every row of from (never changed) into to, which must be
 * empty (BD_ECONFIG), ids kept, in one transaction of to; err says why
 * it failed
 */
enum bd_status store_copy(struct store *from, struct store *to,
    store_copy_cb cb, void *arg, char *err, size_t errlen);
/* store_copy_count - the rows of each of store_copy_tables[] into n */
enum bd_status store_copy_count(struct store *s,
    int64_t n[STORE_COPY_NTABLES]);

#endif
