/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2026 The bounced authors.
 *
 * check_state_prop.c - live equals replay, as a property (issue 9).
 *
 * Generated histories - messages to a few recipients, each deferred a
 * few times and then delivered, given up soft or hard, failed for the
 * sender or on our own path, or left pending; hand-offs to a content
 * filter with their "queued as" successors; log-like events (queue id,
 * Message-ID with <>), DSN-like ones (Message-ID without <>, sometimes
 * no queue id), exact duplicates, complaints and operator actions - are
 * fed one event at a time through store_record() / store_manual() (the
 * live path) in random arrival orders.  For every order, every address
 * must then be what store_rebuild() makes of the same events, and what
 * every other order of the same history gave; for every tenth order,
 * also after store_prune() at a random cutoff and a rebuild.
 *
 * The generator is seeded (PROP_SEED) and the sizes are fixed: a failure
 * names the history and the order, and re-running reproduces it.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "testutil.h"

#define PROP_SEED	UINT64_C(0x5eed2026120609)
#define PROP_HISTORIES	1000	/* generated histories */
#define PROP_ORDERS	10	/* arrival orders of each */
#define PROP_EVMAX	96	/* events of one history */
#define PROP_RCPTS	3
#define PROP_MSGS	6
#define T0		INT64_C(1800000000)
#define NOW		(T0 + 4 * 86400)

static uint64_t	 rng;

static uint64_t
next(void)
{
	/* xorshift64*: small, seeded, the same on every platform */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * UINT64_C(2685821657736338717);
}

static unsigned
pick(unsigned n)
{
	return (unsigned)(next() % n);
}

enum gkind {
	G_EVENT,	/* store_record() */
	G_SUPPRESS,	/* store_manual() */
	G_UNSUPPRESS,
};

/* One generated input; strings point into the history's own arrays. */
struct gev {
	enum gkind	 kind;
	struct bd_event	 ev;
};

struct history {
	char		 rcpt[PROP_RCPTS][48];
	char		 qid[PROP_MSGS][16];
	char		 hop[PROP_MSGS][16];
	char		 mid_log[PROP_MSGS][40];	/* "<m@gen.test>" */
	char		 mid_dsn[PROP_MSGS][40];	/* "m@gen.test" */
	struct gev	 g[PROP_EVMAX];
	size_t		 n;
};

static const struct state_policy pol = {
	.soft_limit = 2, .soft_window = 86400,
	.complaint_types = STATE_FB_BIT(STATE_FB_ABUSE),
};

static struct gev *
add(struct history *h)
{
	struct gev	*g;

	if (h->n == PROP_EVMAX)
		return NULL;
	g = &h->g[h->n++];
	memset(g, 0, sizeof(*g));
	g->kind = G_EVENT;
	return g;
}

/* The ids one event names: as the log writes them, or as a DSN does. */
static void
ids(struct history *h, struct bd_event *ev, unsigned m, bool after_hop)
{
	const char	*q = after_hop ? h->hop[m] : h->qid[m];

	switch (pick(5)) {
	case 0:		/* the log, the follower saw the cleanup line */
	case 1:
		ev->queue_id = q;
		ev->message_id = h->mid_log[m];
		ev->source = EV_SRC_LOG;
		ev->trusted = true;
		break;
	case 2:		/* the log, started after the cleanup line */
		ev->queue_id = q;
		ev->source = EV_SRC_LOG;
		ev->trusted = true;
		break;
	case 3:		/* Postfix's own DSN */
		ev->queue_id = q;
		ev->message_id = h->mid_dsn[m];
		ev->source = EV_SRC_DSN_INTERNAL;
		ev->trusted = true;
		break;
	default:	/* a remote DSN: the Message-ID alone */
		ev->message_id = h->mid_dsn[m];
		ev->source = EV_SRC_DSN_REMOTE;
		ev->trusted = false;
		break;
	}
}

static void
verdict(struct bd_event *ev, const char *reason, bool hard, enum ev_who who,
    const char *status)
{
	ev->verdict.reason = reason;
	ev->verdict.hard = hard;
	ev->verdict.who = who;
	ev->status = status;
	snprintf(ev->verdict.status, sizeof(ev->verdict.status), "%s",
	    status != NULL ? status : "");
}

/* The events of message m to recipient r, from t on. */
static void
gen_send(struct history *h, unsigned r, unsigned m, int64_t t)
{
	struct gev	*g;
	bool		 hop = pick(4) == 0;
	unsigned	 k, nd = pick(4), fin = pick(20);

	if (hop && (g = add(h)) != NULL) {
		g->ev.when = t;
		g->ev.recipient = h->rcpt[r];
		g->ev.action = EV_ACT_RELAYED;
		g->ev.queue_id = h->qid[m];
		g->ev.message_id = pick(2) ? h->mid_log[m] : NULL;
		g->ev.next_queue_id = h->hop[m];
		g->ev.source = EV_SRC_LOG;
		g->ev.trusted = true;
		verdict(&g->ev, "undefined", false, EV_WHO_NONE, "2.0.0");
	}
	for (k = 0; k < nd && (g = add(h)) != NULL; k++) {
		g->ev.when = t + 1 + (int64_t)k * 1800;
		g->ev.recipient = h->rcpt[r];
		g->ev.action = EV_ACT_DELAYED;
		ids(h, &g->ev, m, hop);
		verdict(&g->ev, "mailboxfull", false, EV_WHO_RECIPIENT,
		    k % 2 ? "4.2.2" : "4.4.1");
	}
	if (fin >= 18 || (g = add(h)) == NULL)
		return;		/* still pending */
	g->ev.when = t + 2 + (int64_t)nd * 1800 + pick(40000);
	g->ev.recipient = h->rcpt[r];
	ids(h, &g->ev, m, hop);
	if (fin < 8) {
		g->ev.action = EV_ACT_DELIVERED;
		verdict(&g->ev, "delivered", false, EV_WHO_NONE, "2.0.0");
	} else if (fin < 12) {
		g->ev.action = EV_ACT_FAILED;
		verdict(&g->ev, "mailboxfull", false, EV_WHO_RECIPIENT,
		    "4.2.2");
	} else if (fin < 14) {
		g->ev.action = EV_ACT_FAILED;
		verdict(&g->ev, "userunknown", true, EV_WHO_RECIPIENT, "5.1.1");
	} else if (fin < 15) {
		g->ev.action = EV_ACT_FAILED;
		verdict(&g->ev, "blocked", false, EV_WHO_SENDER, "5.7.1");
	} else if (fin < 17) {
		g->ev.action = pick(2) ? EV_ACT_FAILED : EV_ACT_DELAYED;
		g->ev.diagnostic = "delivery temporarily suspended: connect "
		    "to 127.0.0.1[127.0.0.1]:10024: Connection refused";
		verdict(&g->ev, "undefined", false, EV_WHO_NONE, "4.4.1");
	} else {
		/* given up after its retries: a DSN dated later */
		g->ev.action = EV_ACT_FAILED;
		verdict(&g->ev, "mailboxfull", false, EV_WHO_RECIPIENT,
		    "4.4.7");
	}
}

static void
gen_history(struct history *h, unsigned idx)
{
	struct gev	*g;
	unsigned	 r, m, nr = 1 + pick(PROP_RCPTS), nm = 2 + pick(5);
	size_t		 i, n0;

	memset(h, 0, sizeof(*h));
	for (r = 0; r < PROP_RCPTS; r++)
		snprintf(h->rcpt[r], sizeof(h->rcpt[r]), "%s%u.%u@Gen.Test",
		    r == 1 && pick(2) ? "R" : "r", idx, r);
	for (m = 0; m < PROP_MSGS; m++) {
		snprintf(h->qid[m], sizeof(h->qid[m]), "Q%04X%02u", idx, m);
		snprintf(h->hop[m], sizeof(h->hop[m]), "H%04X%02u", idx, m);
		snprintf(h->mid_dsn[m], sizeof(h->mid_dsn[m]),
		    "m%u.%u@gen.test", idx, m);
		snprintf(h->mid_log[m], sizeof(h->mid_log[m]), "<%s>",
		    h->mid_dsn[m]);
	}
	for (m = 0; m < nm && m < PROP_MSGS; m++)
		for (r = 0; r < nr; r++)
			if (r == 0 || pick(2))
				gen_send(h, r, m, T0 + (int64_t)m * 30000 +
				    pick(20000));
	/* now and then a complaint, an operator's action */
	if (pick(8) == 0 && (g = add(h)) != NULL) {
		g->ev.when = T0 + pick(200000);
		g->ev.recipient = h->rcpt[0];
		g->ev.action = EV_ACT_FAILED;
		g->ev.feedback_type = "abuse";
		g->ev.message_id = h->mid_dsn[0];
		g->ev.source = EV_SRC_DSN_REMOTE;
		verdict(&g->ev, "feedback", false, EV_WHO_NONE, NULL);
	}
	if (pick(6) == 0 && (g = add(h)) != NULL) {
		g->kind = pick(3) == 0 ? G_SUPPRESS : G_UNSUPPRESS;
		g->ev.when = T0 + pick(200000);
		g->ev.recipient = h->rcpt[pick(nr)];
	}
	/* exact duplicates: a line read twice, a DSN offered again */
	for (i = 0, n0 = h->n; i < n0; i++)
		if (h->g[i].kind == G_EVENT && pick(7) == 0 &&
		    (g = add(h)) != NULL)
			*g = h->g[i];
}

static void
shuffle(size_t *v, size_t n)
{
	size_t	 i, j, t;

	for (i = 0; i < n; i++)
		v[i] = i;
	for (i = n; i > 1; i--) {
		j = pick((unsigned)i);
		t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
}

/* What is compared of an address. */
struct snap_row {
	char		 address[ADDR_MAX + 1];
	char		 state[16];
	char		 reason[16];
	unsigned	 soft, pending;
	int64_t		 since, first, last;
	char		 events[STORE_EVENTS_TEXT_MAX];
};

struct snap {
	struct snap_row	 r[PROP_RCPTS];
	size_t		 n;
};

static int
snap_cb(void *arg, const struct store_recipient *rc)
{
	struct snap	*s = arg;
	struct snap_row	*r;

	if (s->n == PROP_RCPTS)
		return 1;
	r = &s->r[s->n++];
	snprintf(r->address, sizeof(r->address), "%s", rc->address);
	snprintf(r->state, sizeof(r->state), "%s", rc->state);
	snprintf(r->reason, sizeof(r->reason), "%s", rc->reason);
	r->soft = rc->soft_count;
	r->pending = rc->pending_count;
	r->since = rc->suppressed_since;
	r->first = rc->first_bounce;
	r->last = rc->last_bounce;
	snprintf(r->events, sizeof(r->events), "%s", rc->suppress_events);
	return 0;
}

static void
snapshot(struct store *st, struct snap *s)
{
	memset(s, 0, sizeof(*s));
	ck_assert_int_eq(store_list(st, NULL, snap_cb, s), BD_OK);
}

/* Equal snapshots; ids: also the events named (same database only). */
static bool
snap_equal(const struct snap *a, const struct snap *b, bool ids,
    char *why, size_t whylen)
{
	const struct snap_row	*x, *y;
	size_t			 i;

	if (a->n != b->n) {
		snprintf(why, whylen, "%zu addresses, then %zu", a->n, b->n);
		return false;
	}
	for (i = 0; i < a->n; i++) {
		x = &a->r[i];
		y = &b->r[i];
		if (strcmp(x->address, y->address) != 0 ||
		    strcmp(x->state, y->state) != 0 ||
		    strcmp(x->reason, y->reason) != 0 || x->soft != y->soft ||
		    x->pending != y->pending || x->since != y->since ||
		    x->first != y->first || x->last != y->last ||
		    (ids && strcmp(x->events, y->events) != 0)) {
			snprintf(why, whylen, "%s: %s(%s) soft %u pending %u "
			    "since %" PRId64 " bounces %" PRId64 "..%" PRId64
			    " led by [%s]; then %s: %s(%s) soft %u pending %u "
			    "since %" PRId64 " bounces %" PRId64 "..%" PRId64
			    " led by [%s]", x->address, x->state, x->reason,
			    x->soft, x->pending, x->since, x->first, x->last,
			    x->events, y->address, y->state, y->reason,
			    y->soft, y->pending, y->since, y->first, y->last,
			    y->events);
			return false;
		}
	}
	return true;
}

/* Feed h in the order ord through the live path of a fresh store. */
static struct store *
feed(const struct history *h, const size_t *ord)
{
	struct store_manual	 m;
	struct store		*st;
	char			 err[256];
	size_t			 i;

	ck_assert_int_eq(store_open(":memory:", 0, 1000, &st, err,
	    sizeof(err)), BD_OK);
	ck_assert_int_eq(store_policy_sync(st, &pol, NULL), BD_OK);
	for (i = 0; i < h->n; i++) {
		const struct gev *g = &h->g[ord[i]];

		if (g->kind == G_EVENT) {
			ck_assert_msg(store_record(st, &g->ev, 1, &pol, NOW,
			    NULL) == BD_OK, "record: %s", store_errmsg(st));
			continue;
		}
		memset(&m, 0, sizeof(m));
		m.address = g->ev.recipient;
		m.suppress = g->kind == G_SUPPRESS;
		m.by = "prop";
		m.when = g->ev.when;
		m.source = EV_SRC_MANUAL;
		ck_assert_int_eq(store_manual(st, &m, 1, NULL), BD_OK);
	}
	return st;
}

static struct history	 hist;

START_TEST(test_prop_live_equals_replay)
{
	struct snap	 first, live, replay;
	struct store	*st;
	size_t		 ord[PROP_EVMAX];
	char		 why[1024];
	unsigned	 hi, o, orders = 0, suppressed = 0, pruned = 0;
	int64_t		 cut;

	rng = PROP_SEED;
	for (hi = 0; hi < PROP_HISTORIES; hi++) {
		gen_history(&hist, hi);
		for (o = 0; o < PROP_ORDERS; o++) {
			shuffle(ord, hist.n);
			st = feed(&hist, ord);
			snapshot(st, &live);
			ck_assert_int_eq(store_rebuild(st, &pol), BD_OK);
			snapshot(st, &replay);
			ck_assert_msg(snap_equal(&live, &replay, true, why,
			    sizeof(why)), "history %u, order %u: live %s "
			    "(live, then rebuilt)", hi, o, why);
			if (o == 0)
				first = live;
			else
				ck_assert_msg(snap_equal(&first, &live, false,
				    why, sizeof(why)), "history %u, order %u: "
				    "order 0 gave %s", hi, o, why);
			if (o % 10 == 9) {
				/* prune and rebuild agree with the live state */
				cut = T0 + pick(250000);
				ck_assert_int_eq(store_prune(st, cut, NULL),
				    BD_OK);
				ck_assert_int_eq(store_rebuild(st, &pol),
				    BD_OK);
				snapshot(st, &replay);
				ck_assert_msg(snap_equal(&live, &replay, true,
				    why, sizeof(why)), "history %u, order %u, "
				    "pruned before %" PRId64 ": %s", hi, o,
				    cut, why);
				pruned++;
			}
			store_close(st);
			orders++;
		}
		for (o = 0; o < first.n; o++)
			suppressed += strcmp(first.r[o].state,
			    "suppressed") == 0;
	}
	ck_assert_uint_ge(orders, 10000);
	/* the histories reach every outcome, not only "active" */
	ck_assert_msg(suppressed > PROP_HISTORIES / 10, "suppressed "
	    "addresses: got %u, want more than %u", suppressed,
	    PROP_HISTORIES / 10);
	printf("prop: %u histories, %u arrival orders, %u pruned, %u "
	    "addresses suppressed, seed 0x%" PRIx64 "\n", PROP_HISTORIES,
	    orders, pruned, suppressed, PROP_SEED);
}
END_TEST

static Suite *
prop_suite(void)
{
	Suite	*s = suite_create("state_prop");
	TCase	*tc = tcase_create("live_equals_replay");

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_prop_live_equals_replay);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_run(prop_suite()) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
