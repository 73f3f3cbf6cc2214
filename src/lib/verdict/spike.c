/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * spike.c - the sender-side spike rule: which destination domains
 * refused us (blocked, badreputation, speeding, ...) at least a given
 * number of times in the last hour, each named at most once per
 * SPIKE_ALERT_EVERY seconds.  Sender-side reasons never move an
 * address (DESIGN.md "Recipient state"), so this count per domain is
 * how an operator learns that a receiver is refusing us.
 *
 * Pure policy over the store's counts: takes "now", never reads the
 * clock and never logs.  bounced's maintenance (src/bounced/maint.c)
 * and bouncectl follow-log word the warning their own way.  Memory is
 * bounded: at most SPIKE_ROWS_MAX groups are read per scan (the largest
 * first, as the store orders them) and SPIKE_DOMAINS_MAX domains are
 * remembered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "verdict/spike.h"

struct warned {
	char		 domain[256];
	int64_t		 at;		/* 0: free */
};

struct spike_watch {
	struct warned	 warned[SPIKE_DOMAINS_MAX];
	bool		 checked;	/* spike_due() said yes once */
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
	bool		 cut;		/* more than SPIKE_ROWS_MAX */
	bool		 nomem;
};

/*
 * spike_watch_new - the state kept between scans
 *
 * Arguments: out.
 * Returns BD_OK or BD_ENOMEM.
 */
enum bd_status
spike_watch_new(struct spike_watch **out)
{
	*out = calloc(1, sizeof(**out));
	return *out != NULL ? BD_OK : BD_ENOMEM;
}

/*
 * spike_watch_free - release it
 *
 * Arguments: w, or NULL.
 */
void
spike_watch_free(struct spike_watch *w)
{
	free(w);
}

static int
collect(void *arg, const struct store_rate_row *r)
{
	struct groups	*g = arg;
	struct group	*e;

	if (g->n == SPIKE_ROWS_MAX) {
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
may_warn(struct spike_watch *m, const char *domain, int64_t now)
{
	struct warned	*w, *free_slot = NULL, *oldest = NULL;
	size_t		 i;

	for (i = 0; i < SPIKE_DOMAINS_MAX; i++) {
		w = &m->warned[i];
		if (w->at != 0 && strcmp(w->domain, domain) == 0) {
			if (now - w->at < SPIKE_ALERT_EVERY)
				return false;
			w->at = now;
			return true;
		}
		if (free_slot == NULL &&
		    (w->at == 0 || now - w->at >= SPIKE_ALERT_EVERY))
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
 * spike_due - is a periodic check due?
 *
 * Arguments: m; now, seconds; period, seconds between two checks.
 * Returns true on the first call, when period seconds have passed since
 * the last check it allowed, or when the clock went back; that check is
 * then remembered as made.
 * Notes: pure (no clock): bouncectl follow-log calls it with time(NULL)
 * between lines, the tests with a simulated hour.
 */
bool
spike_due(struct spike_watch *m, int64_t now, int64_t period)
{
	if (m->checked && now >= m->last_check && now - m->last_check < period)
		return false;
	m->checked = true;
	m->last_check = now;
	return true;
}

/*
 * spike_scan - domains over the sender-side failure rate
 *
 * Arguments: m, remembers which domain was named when; st; now, seconds;
 * rate, the threshold per hour (0 is taken as 1); cb/arg, called once
 * for each domain whose sender-side failures dated in [now - 3600, now],
 * summed over the reasons, reach rate, unless it was passed within the
 * last SPIKE_ALERT_EVERY seconds; res (may be NULL): alerts is counted
 * up, cut is set when more than SPIKE_ROWS_MAX groups were left unread.
 * Returns BD_OK, BD_ENOMEM, or the store's failure (store_errmsg()).
 * Notes: does not log: bounced(8) and bouncectl follow-log each word
 * the warning their way.  Not thread-safe: one caller.
 */
enum bd_status
spike_scan(struct spike_watch *m, struct store *st, int64_t now, unsigned rate,
    spike_cb cb, void *arg, struct spike_result *res)
{
	struct spike	 sp;
	struct groups		 g;
	struct buf		 b;
	enum bd_status		 s;
	size_t			 i, j;
	int64_t			 total;

	memset(&g, 0, sizeof(g));
	if ((g.v = calloc(SPIKE_ROWS_MAX, sizeof(*g.v))) == NULL)
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

