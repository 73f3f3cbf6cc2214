/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * maint.h - the periodic duties of bounced(8): the configured
 * suppression expiry (SuppressionExpiry) and the warning about
 * sender-side failures per destination domain (SenderSideAlertRate).
 * Called from one thread, every MAINT_PERIOD seconds; maint_run() logs.
 * The spike rule itself (maint_due(), maint_spikes()) takes "now" and
 * does not log, so that bouncectl follow-log shares it and the tests
 * run an hour in a loop.
 */
#ifndef BD_MAINT_H
#define BD_MAINT_H

#include "bd.h"
#include "config.h"
#include "store.h"

#define MAINT_PERIOD		300	/* seconds between two rounds */
#define MAINT_SPIKE_EVERY	60	/* seconds between follow-log checks */
#define MAINT_ALERT_EVERY	3600	/* seconds between two warnings */
#define MAINT_DOMAINS_MAX	256	/* domains remembered for that */
#define MAINT_ROWS_MAX		4096	/* groups read per round */

struct maint;

/* What one round did, for the tests. */
struct maint_result {
	int64_t		 expired;	/* suppressions ended */
	size_t		 alerts;	/* domains warned about */
	bool		 failed;	/* the store failed (logged once) */
	bool		 cut;		/* more than MAINT_ROWS_MAX groups */
};

/* A destination domain at or over the rate, for maint_spikes()'s callback. */
struct maint_spike {
	const char	*domain;	/* from the network: sanitize to log */
	int64_t		 total;		/* sender-side failures, last hour */
	const char	*detail;	/* "reason=count ..." most first, cut */
	unsigned	 rate;		/* the threshold it reached */
};

typedef void (*maint_spike_cb)(void *arg, const struct maint_spike *sp);

/* maint_new - an empty state (no domain warned about yet); BD_ENOMEM */
enum bd_status maint_new(struct maint **out);
/* maint_free - NULL is fine */
void maint_free(struct maint *m);
/*
 * maint_run - one round as of now with the snapshot c against st: expire,
 * then warn about domains at or over c->sender_alert_rate in the last
 * hour (each at most once per MAINT_ALERT_EVERY); res may be NULL
 */
void maint_run(struct maint *m, struct store *st, const struct bd_config *c,
    int64_t now, struct maint_result *res);
/*
 * maint_due - whether a check every period seconds is due at now (the
 * first call always is); a due check is remembered as made.  Pure.
 */
bool maint_due(struct maint *m, int64_t now, int64_t period);
/*
 * maint_spikes - the domains with at least rate (>= 1) sender-side
 * failures in the hour before now, reasons summed, each passed to cb at
 * most once per MAINT_ALERT_EVERY; res->alerts, ->cut.  No logging;
 * BD_ENOMEM or the store's failure
 */
enum bd_status maint_spikes(struct maint *m, struct store *st, int64_t now,
    unsigned rate, maint_spike_cb cb, void *arg, struct maint_result *res);

#endif
