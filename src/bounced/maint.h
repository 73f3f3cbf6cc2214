/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * maint.h - the periodic duties of bounced(8): the configured
 * suppression expiry (SuppressionExpiry) and the warning about
 * sender-side failures per destination domain (SenderSideAlertRate,
 * through verdict/spike.h).  Called from one thread, every MAINT_PERIOD
 * seconds; maint_run() logs.
 */
#ifndef BD_MAINT_H
#define BD_MAINT_H

#include "util/bd.h"
#include "conf/conf.h"
#include "store/store.h"

#define MAINT_PERIOD		300	/* seconds between two rounds */

struct maint;

/* What one round did, for the tests. */
struct maint_result {
	int64_t		 expired;	/* suppressions ended */
	size_t		 alerts;	/* domains warned about */
	bool		 failed;	/* the store failed (logged once) */
	bool		 cut;		/* more than SPIKE_ROWS_MAX groups */
};

/* maint_new - an empty state (no domain warned about yet); BD_ENOMEM */
enum bd_status maint_new(struct maint **out);
/* maint_free - NULL is fine */
void maint_free(struct maint *m);
/*
 * maint_run - one round as of now with the snapshot c against st: expire,
 * then warn about domains at or over c->sender_alert_rate in the last
 * hour (each at most once per SPIKE_ALERT_EVERY); res may be NULL
 */
void maint_run(struct maint *m, struct store *st, const struct bd_config *c,
    int64_t now, struct maint_result *res);

#endif
