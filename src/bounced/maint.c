/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * maint.c - the periodic duties of bounced(8), run every MAINT_PERIOD
 * seconds by the signal thread (daemon.c) between reloads:
 *
 * - SuppressionExpiry: store_expire() ends the suppressions that are
 *   older than their reason's rule (DESIGN.md "Recipient state": an
 *   address becomes active again only by unsuppress or a configured
 *   expiry); the count is logged at INFO.
 * - SenderSideAlertRate: the spike rule (verdict/spike.c) names each
 *   destination domain whose sender-side failures in the last hour
 *   reach the rate, in one WARNING at most once per SPIKE_ALERT_EVERY.
 *
 * A failing store is logged once per incident and never stops the
 * daemon.  Domains come from bounces, i.e. from the network: they are
 * sanitized before they are logged.  Uses only the store.h API.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "verdict/spike.h"
#include "bounced/maint.h"

struct maint {
	struct spike_watch *spikes;	/* which domain was named when */
	bool		 failing;	/* a store incident is open */
};

/*
 * maint_new - the state kept between rounds
 *
 * Arguments: out.
 * Returns BD_OK or BD_ENOMEM.
 */
enum bd_status
maint_new(struct maint **out)
{
	if ((*out = calloc(1, sizeof(**out))) == NULL)
		return BD_ENOMEM;
	if (spike_watch_new(&(*out)->spikes) != BD_OK) {
		free(*out);
		*out = NULL;
		return BD_ENOMEM;
	}
	return BD_OK;
}

/*
 * maint_free - release it
 *
 * Arguments: m, or NULL.
 */
void
maint_free(struct maint *m)
{
	if (m == NULL)
		return;
	spike_watch_free(m->spikes);
	free(m);
}

static void
store_trouble(struct maint *m, struct store *st, const char *what,
    enum bd_status s, struct maint_result *res)
{
	char	 san[LOG_SANITIZE_BUF];

	res->failed = true;
	if (m->failing)
		return;
	m->failing = true;
	log_warn("maintenance: %s failed (%s: %s); trying again every %d s",
	    what, bd_strerror(s), log_sanitize(store_errmsg(st), san,
	    sizeof(san)), MAINT_PERIOD);
}

static void
expire(struct maint *m, struct store *st, const struct bd_config *c,
    int64_t now, struct maint_result *res)
{
	enum bd_status	 s;
	char		 san[LOG_SANITIZE_BUF];
	int64_t		 n = 0;

	if (c->n_expiry == 0)
		return;
	if ((s = store_expire(st, now, c->expiry, c->n_expiry, &n)) != BD_OK) {
		store_trouble(m, st, "suppression expiry", s, res);
		return;
	}
	res->expired = n;
	if (n > 0)
		log_info("expiry: %lld suppression%s ended "
		    "(SuppressionExpiry %s)", (long long)n, n == 1 ? "" : "s",
		    log_sanitize(c->suppression_expiry, san, sizeof(san)));
}

/* bounced's words for a domain over SenderSideAlertRate. */
static void
warn_domain(void *arg, const struct spike *sp)
{
	char	 san[LOG_SANITIZE_BUF], sand[LOG_SANITIZE_BUF];

	(void)arg;
	log_warn("sender-side failures to %s: %lld in the last hour, "
	    "SenderSideAlertRate %u: %s", log_sanitize(sp->domain, san,
	    sizeof(san)), (long long)sp->total, sp->rate,
	    log_sanitize(sp->detail, sand, sizeof(sand)));
}

static void
spikes(struct maint *m, struct store *st, const struct bd_config *c,
    int64_t now, struct maint_result *res)
{
	struct spike_result	 sr = { 0, false };
	enum bd_status		 s;

	if (c->sender_alert_rate == 0)
		return;
	s = spike_scan(m->spikes, st, now, c->sender_alert_rate, warn_domain,
	    NULL, &sr);
	res->alerts += sr.alerts;
	res->cut = res->cut || sr.cut;
	if (s == BD_ENOMEM)
		log_err("maintenance: out of memory");
	else if (s != BD_OK)
		store_trouble(m, st, "sender-side counts", s, res);
	else if (res->cut)
		log_debug("maintenance: more than %d (domain, reason) groups "
		    "in the last hour; the smallest are not counted",
		    SPIKE_ROWS_MAX);
}

/*
 * maint_run - one round of the periodic duties
 *
 * Arguments: m, the state between rounds; st, the read-write store; c,
 * the current snapshot (SuppressionExpiry, SenderSideAlertRate); now,
 * seconds; res (may be NULL) receives what was done.
 *
 * Notes: logs what it does (INFO for expiries, WARNING for a domain over
 * the rate, one WARNING per store incident and one INFO when it ends).
 * Not thread-safe: one caller.
 */
void
maint_run(struct maint *m, struct store *st, const struct bd_config *c,
    int64_t now, struct maint_result *res)
{
	struct maint_result	 dummy;

	if (res == NULL)
		res = &dummy;
	memset(res, 0, sizeof(*res));
	if (st == NULL || c == NULL)
		return;
	expire(m, st, c, now, res);
	spikes(m, st, c, now, res);
	if (!res->failed && m->failing) {
		m->failing = false;
		log_info("maintenance: the database answers again");
	}
}
