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
 * - SenderSideAlertRate: store_sender_spikes() gives the sender-side
 *   failures of the last hour per (destination domain, reason); they are
 *   summed per domain, and a domain at or over the rate is named in one
 *   WARNING, at most once per MAINT_ALERT_EVERY.  Sender-side reasons
 *   never move an address, so this warning is how an operator learns
 *   that a receiver is refusing us.
 *
 * Memory is bounded: at most MAINT_ROWS_MAX groups are read per round
 * (the largest first, as the store orders them) and MAINT_DOMAINS_MAX
 * domains are remembered for the once-an-hour rule.  A failing store is
 * logged once per incident and never stops the daemon.  Domains come
 * from bounces, i.e. from the network: they are sanitized before they
 * are logged.  Uses only the store.h API.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "maint.h"

struct warned {
	char		 domain[256];
	int64_t		 at;		/* 0: free */
};

struct maint {
	struct warned	 warned[MAINT_DOMAINS_MAX];
	bool		 failing;	/* a store incident is open */
};

/* A (domain, reason) group copied out of the store's callback. */
struct group {
	char		*domain;
	char		 reason[48];
	int64_t		 count;
};

struct groups {
	struct group	*v;
	size_t		 n;
	bool		 cut;		/* more than MAINT_ROWS_MAX */
	bool		 nomem;
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
	*out = calloc(1, sizeof(**out));
	return *out != NULL ? BD_OK : BD_ENOMEM;
}

/*
 * maint_free - release it
 *
 * Arguments: m, or NULL.
 */
void
maint_free(struct maint *m)
{
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

static int
collect(void *arg, const struct store_rate_row *r)
{
	struct groups	*g = arg;
	struct group	*e;

	if (g->n == MAINT_ROWS_MAX) {
		g->cut = true;
		return 1;	/* the rest are the smallest groups */
	}
	e = &g->v[g->n];
	if ((e->domain = strdup(r->domain != NULL ? r->domain : "")) ==
	    NULL) {
		g->nomem = true;
		return 1;
	}
	(void)snprintf(e->reason, sizeof(e->reason), "%s",
	    r->reason != NULL && r->reason[0] != '\0' ? r->reason : "other");
	e->count = r->count;
	g->n++;
	return 0;
}

static int
by_domain(const void *a, const void *b)
{
	const struct group	*x = a, *y = b;
	int			 d = strcmp(x->domain, y->domain);

	if (d != 0)
		return d;
	return x->count > y->count ? -1 : x->count < y->count;
}

/* Whether domain may be named now; if so, remember that it was. */
static bool
may_warn(struct maint *m, const char *domain, int64_t now)
{
	struct warned	*w, *free_slot = NULL, *oldest = NULL;
	size_t		 i;

	for (i = 0; i < MAINT_DOMAINS_MAX; i++) {
		w = &m->warned[i];
		if (w->at != 0 && strcmp(w->domain, domain) == 0) {
			if (now - w->at < MAINT_ALERT_EVERY)
				return false;
			w->at = now;
			return true;
		}
		if (free_slot == NULL &&
		    (w->at == 0 || now - w->at >= MAINT_ALERT_EVERY))
			free_slot = w;
		if (oldest == NULL || w->at < oldest->at)
			oldest = w;
	}
	/* Full of recent names: the oldest may be named again early. */
	w = free_slot != NULL ? free_slot : oldest;
	(void)snprintf(w->domain, sizeof(w->domain), "%s", domain);
	w->at = now;
	return true;
}

static void
warn_domain(const struct group *g, size_t n, int64_t total,
    const struct bd_config *c)
{
	struct buf	 b;
	char		 san[LOG_SANITIZE_BUF];
	size_t		 i;

	buf_init(&b, 1024);
	for (i = 0; i < n && i < 8; i++)
		(void)buf_printf(&b, "%s%s=%lld", i ? " " : "",
		    log_sanitize(g[i].reason, san, sizeof(san)),
		    (long long)g[i].count);
	if (n > 8)
		(void)buf_printf(&b, " +%zu", n - 8);
	log_warn("sender-side failures to %s: %lld in the last hour, "
	    "SenderSideAlertRate %u: %s", log_sanitize(g[0].domain, san,
	    sizeof(san)), (long long)total, c->sender_alert_rate,
	    b.data != NULL ? b.data : "");
	buf_free(&b);
}

static void
spikes(struct maint *m, struct store *st, const struct bd_config *c,
    int64_t now, struct maint_result *res)
{
	struct groups	 g;
	enum bd_status	 s;
	size_t		 i, j;
	int64_t		 total;

	if (c->sender_alert_rate == 0)
		return;
	memset(&g, 0, sizeof(g));
	if ((g.v = calloc(MAINT_ROWS_MAX, sizeof(*g.v))) == NULL) {
		log_err("maintenance: out of memory");
		return;
	}
	/* Every group (threshold 1): a domain's reasons add up. */
	s = store_sender_spikes(st, now, 1, collect, &g, NULL);
	if (s != BD_OK)
		store_trouble(m, st, "sender-side counts", s, res);
	else if (g.nomem)
		log_err("maintenance: out of memory");
	else {
		if (g.cut)
			log_debug("maintenance: more than %d (domain, reason) "
			    "groups in the last hour; the smallest are not "
			    "counted", MAINT_ROWS_MAX);
		qsort(g.v, g.n, sizeof(*g.v), by_domain);
		for (i = 0; i < g.n; i = j) {
			total = 0;
			for (j = i; j < g.n &&
			    strcmp(g.v[j].domain, g.v[i].domain) == 0; j++)
				total += g.v[j].count;
			if (total < (int64_t)c->sender_alert_rate ||
			    !may_warn(m, g.v[i].domain, now))
				continue;
			warn_domain(&g.v[i], j - i, total, c);
			res->alerts++;
		}
	}
	for (i = 0; i < g.n; i++)
		free(g.v[i].domain);
	free(g.v);
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
