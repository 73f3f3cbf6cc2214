/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * maillog_source.h - the MTA's delivery log as a source of events: lines ->
 * maillog records -> classified events -> store_record().
 *
 * Postfix writes deferrals and successful deliveries only to its log
 * (POSTFIX-NOTES.md), so counting "consecutive soft-bounced sends" needs
 * the log.  A log failure has the same identity as the DSN of the same
 * failure (original queue id, recipient, action, status), so the store
 * keeps one event when both arrive.  No I/O of its own beyond the store
 * handle it is given, no clock, no logging: the caller reads lines
 * (maillog/maillog_follow.h), keeps the position and logs the counters.
 */
#ifndef BD_LOGSOURCE_H
#define BD_LOGSOURCE_H

#include "util/bd.h"
#include "util/event.h"
#include "maillog/maillog.h"
#include "verdict/rules.h"
#include "store/store.h"

struct logsource;

#define LOGSOURCE_QUEUE_DEFAULT	20000	/* queue ids remembered */
#define LOGSOURCE_QRCPT_MAX	8	/* deferred recipients kept per queue id */
#define LOGSOURCE_DIAG_MAX	512	/* bytes of a kept deferral diagnostic */
#define LOGSOURCE_CAMPAIGN_MAX	200	/* bytes of a campaign value */

struct logsource_opts {
	const struct rules *rules;	/* borrowed: must outlive the source */
	size_t		 max_queue;	/* queue ids remembered (0: default) */
	long		 gmtoff;	/* local zone east of UTC, for syslog stamps */
	/*
	 * The campaign header (e.g. "X-Campaign", "List-Id"), read from
	 * Postfix cleanup "warning: header NAME: VALUE" lines that a
	 * header_checks WARN action writes; NULL or "": none.
	 */
	const char	*campaign_header;
};

/* Counters, added to by every logsource_feed(); the caller logs them. */
struct logsource_result {
	uint64_t	 lines;		/* lines fed */
	uint64_t	 records;	/* lines that made a record */
	uint64_t	 ignored;	/* lines of no use (not an error) */
	uint64_t	 malformed;	/* delivery-shaped lines that did not parse: skipped */
	uint64_t	 deliveries;	/* recipients delivered (status=sent) */
	uint64_t	 handoffs;	/* "sent" to a hop of ours: relayed */
	uint64_t	 bounces;	/* recipients deferred, bounced or expired */
	uint64_t	 sender_side;	/* of the bounces: sender-side reasons */
	uint64_t	 events_new;	/* events the store did not know */
	uint64_t	 duplicates;	/* events known already (a DSN, a line read twice, a retry) */
	uint64_t	 evicted;	/* queue ids forgotten for lack of room */
};

/* logsource_new - a source with an empty queue-id memory; BD_ENOMEM */
enum bd_status logsource_new(const struct logsource_opts *o,
    struct logsource **out);
/* logsource_free - NULL is fine */
void logsource_free(struct logsource *ls);
/*
 * logsource_feed - one line (len bytes, no newline, no NUL needed): parse,
 * remember queue ids, classify and record its events through
 * store_record(st, ..., pol, now); counters are added to *res.  A
 * malformed line is counted and skipped (BD_OK).  A store failure is
 * returned as is: the caller should feed the line again later (recording
 * is idempotent).
 */
enum bd_status logsource_feed(struct logsource *ls, const char *line,
    size_t len, int64_t now, struct store *st, const struct state_policy *pol,
    struct logsource_result *res);
/*
 * logsource_events - the pure step alone: the events of one parsed
 * record, classified, at most max (strings borrowed from r and from ls,
 * valid until the next call).  Also updates the queue-id memory.
 */
size_t logsource_events(struct logsource *ls, const struct maillog_rec *r,
    struct bd_event *evs, size_t max);
/* logsource_queue_size - queue ids remembered now */
size_t logsource_queue_size(const struct logsource *ls);

#endif
