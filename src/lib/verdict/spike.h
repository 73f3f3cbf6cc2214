/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * spike.h - the sender-side spike rule (spike.c): destination domains
 * whose sender-side failures in the last hour reach a rate.  Takes
 * "now" and does not log, so that bounced's maintenance and bouncectl
 * follow-log share it and the tests run an hour in a loop.
 */
#ifndef BD_SPIKE_H
#define BD_SPIKE_H

#include "util/bd.h"
#include "store/store.h"

#define SPIKE_CHECK_EVERY	60	/* seconds between follow-log checks */
#define SPIKE_ALERT_EVERY	3600	/* seconds between two warnings */
#define SPIKE_DOMAINS_MAX	256	/* domains remembered for that */
#define SPIKE_ROWS_MAX		4096	/* groups read per scan */

struct spike_watch;

/* What one scan found. */
struct spike_result {
	size_t		 alerts;	/* domains passed to the callback */
	bool		 cut;		/* more than SPIKE_ROWS_MAX groups */
};

/* A destination domain at or over the rate, for spike_scan()'s callback. */
struct spike {
	const char	*domain;	/* from the network: sanitize to log */
	int64_t		 total;		/* sender-side failures, last hour */
	const char	*detail;	/* "reason=count ..." most first, cut */
	unsigned	 rate;		/* the threshold it reached */
};

typedef void (*spike_cb)(void *arg, const struct spike *sp);

/* spike_watch_new - an empty state (no domain named yet); BD_ENOMEM */
enum bd_status spike_watch_new(struct spike_watch **out);
/* spike_watch_free - NULL is fine */
void spike_watch_free(struct spike_watch *w);
/*
 * spike_due - whether a check every period seconds is due at now (the
 * first call always is); a due check is remembered as made
 */
bool spike_due(struct spike_watch *w, int64_t now, int64_t period);
/*
 * spike_scan - the domains with at least rate (>= 1) sender-side
 * failures in the hour before now, reasons summed, each passed to cb at
 * most once per SPIKE_ALERT_EVERY; res (may be NULL): alerts, cut.
 * BD_ENOMEM or the store's failure
 */
enum bd_status spike_scan(struct spike_watch *w, struct store *st,
    int64_t now, unsigned rate, spike_cb cb, void *arg,
    struct spike_result *res);

#endif
