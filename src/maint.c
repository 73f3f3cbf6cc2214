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
 *   that a receiver is refusing us.  That rule (maint_spikes()) does not
 *   log and takes "now": bouncectl follow-log --spike-rate uses it too,
 *   every MAINT_SPIKE_EVERY seconds (maint_due()).
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
	bool		 checked;	/* maint_due() said yes once */
	int64_t		 last_check;	/* when it last did */
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

/* "reason=count ..." of one domain's groups (most first), into b. */
static void
detail(struct buf *b, const struct group *g, size_t n)
{
	size_t	 i;

	for (i = 0; i < n && i < 8; i++)
		(void)buf_printf(b, "%s%s=%lld", i ? " " : "", g[i].reason,
		    (long long)g[i].count);
	if (n > 8)
		(void)buf_printf(b, " +%zu", n - 8);
}

/*
 * maint_due - is a periodic check due?
 *
 * Arguments: m; now, seconds; period, seconds between two checks.
 * Returns true on the first call, when period seconds have passed since
 * the last check it allowed, or when the clock went back; that check is
 * then remembered as made.
 * Notes: pure (no clock): bouncectl follow-log calls it with time(NULL)
 * between lines, the tests with a simulated hour.
 */
bool
maint_due(struct maint *m, int64_t now, int64_t period)
{
	if (m->checked && now >= m->last_check && now - m->last_check < period)
		return false;
	m->checked = true;
	m->last_check = now;
	return true;
}

/*
 * maint_spikes - domains over the sender-side failure rate
 *
 * Arguments: m, remembers which domain was named when; st; now, seconds;
 * rate, the threshold per hour (0 is taken as 1); cb/arg, called once
 * for each domain whose sender-side failures dated in [now - 3600, now],
 * summed over the reasons, reach rate, unless it was passed within the
 * last MAINT_ALERT_EVERY seconds; res (may be NULL): alerts is counted
 * up, cut is set when more than MAINT_ROWS_MAX groups were left unread.
 * Returns BD_OK, BD_ENOMEM, or the store's failure (store_errmsg()).
 * Notes: does not log: bounced(8) and bouncectl follow-log each word
 * the warning their way.  Not thread-safe: one caller.
 */
enum bd_status
maint_spikes(struct maint *m, struct store *st, int64_t now, unsigned rate,
    maint_spike_cb cb, void *arg, struct maint_result *res)
{
	struct maint_spike	 sp;
	struct groups		 g;
	struct buf		 b;
	enum bd_status		 s;
	size_t			 i, j;
	int64_t			 total;

	memset(&g, 0, sizeof(g));
	if ((g.v = calloc(MAINT_ROWS_MAX, sizeof(*g.v))) == NULL)
		return BD_ENOMEM;
	/* Every group (threshold 1): a domain's reasons add up. */
	s = store_sender_spikes(st, now, 1, collect, &g, NULL);
	if (s == BD_OK && g.nomem)
		s = BD_ENOMEM;
	if (s == BD_OK && res != NULL && g.cut)
		res->cut = true;
	if (s == BD_OK)
		qsort(g.v, g.n, sizeof(*g.v), by_domain);
	for (i = 0; s == BD_OK && i < g.n; i = j) {
		total = 0;
		for (j = i; j < g.n &&
		    strcmp(g.v[j].domain, g.v[i].domain) == 0; j++)
			total += g.v[j].count;
		if (total < (int64_t)(rate > 0 ? rate : 1) ||
		    !may_warn(m, g.v[i].domain, now))
			continue;
		buf_init(&b, 1024);
		detail(&b, &g.v[i], j - i);
		sp.domain = g.v[i].domain;
		sp.total = total;
		sp.detail = b.data != NULL ? b.data : "";
		sp.rate = rate;
		if (cb != NULL)
			cb(arg, &sp);
		buf_free(&b);
		if (res != NULL)
			res->alerts++;
	}
	for (i = 0; i < g.n; i++)
		free(g.v[i].domain);
	free(g.v);
	return s;
}

/* bounced's words for a domain over SenderSideAlertRate. */
static void
warn_domain(void *arg, const struct maint_spike *sp)
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
	enum bd_status	 s;

	if (c->sender_alert_rate == 0)
		return;
	s = maint_spikes(m, st, now, c->sender_alert_rate, warn_domain, NULL,
	    res);
	if (s == BD_ENOMEM)
		log_err("maintenance: out of memory");
	else if (s != BD_OK)
		store_trouble(m, st, "sender-side counts", s, res);
	else if (res->cut)
		log_debug("maintenance: more than %d (domain, reason) groups "
		    "in the last hour; the smallest are not counted",
		    MAINT_ROWS_MAX);
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
