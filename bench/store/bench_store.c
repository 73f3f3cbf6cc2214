/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * bench_store.c - the store on each engine (issue 13): how many events
 * it records per second with 1, 2 or 8 writers at once, and what an
 * RCPT TO lookup costs with the recipient cache cold and warm.
 *
 * Usage:
 *   bench_store record TARGET WRITERS EVENTS
 *	WRITERS threads, each with a store handle of its own (as bounced's
 *	workers have), record EVENTS events between them through
 *	store_record(), one bounce report of one recipient a call, as the
 *	milter does: hard bounces (5.1.1), deferrals (4.2.2) and soft
 *	failures (4.4.7) over 50,000 addresses, so that states change.
 *	Prints "record ENGINE WRITERS EVENTS SECONDS PER_SECOND RETRIES".
 *   bench_store lookup SQLITE_PATH PG_TARGET RECIPIENTS LOOKUPS
 *	Builds RECIPIENTS recipients (10% suppressed) in a new SQLite file
 *	through store_manual(), copies them into the empty PostgreSQL
 *	database PG_TARGET (store_copy(), as bouncectl migrate), then on
 *	each engine times LOOKUPS rcache_lookup() calls, the milter's own,
 *	on a read-only handle as bounced opens it:
 *	  cold     a fresh cache, every address asked once (all misses);
 *	  warm     2,000 addresses already cached, asked at random (hits);
 *	  unknown  addresses never seen (misses: the common case).
 *	Prints "lookup ENGINE KIND N P50_US P99_US MEAN_US".
 *
 * TARGET is a file path or a PostgreSQL conninfo, as Database.  A
 * measuring tool, not a test: exit 0, or 1 when the setup fails or an
 * answer is wrong.  bench/store/run.sh runs it all and prints a table.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/event.h"
#include "bounced/rcache.h"
#include "store/db.h"
#include "store/store.h"

#define BUSY_MS		5000	/* bounced's default DatabaseBusyTimeout */
#define LOOKUP_BUSY_MS	100	/* as main.c's LOOKUP_BUSY_MS */
#define POOL		50000	/* addresses the reports are about */
#define WSET		2000	/* the warm working set */
#define NOW		1795478400

static const struct state_policy policy = {
	.soft_limit = 5,
	.soft_window = 30 * 86400,
};

static double
now_s(void)
{
	struct timespec	 t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static const char *
engine(const char *target)
{
	return db_target_kind(target) == DB_POSTGRES ? "postgresql" : "sqlite";
}

/* ---- record ---- */

struct writer {
	const char	*target;
	unsigned	 id, nwriters;
	size_t		 n;		/* events to record */
	pthread_barrier_t *go;
	unsigned long	 retries;	/* BD_EBUSY, tried again */
	int		 failed;
};

/*
 * Event i of writer w: one recipient of one report, as the milter
 * records it (borrowed strings into buf).
 */
struct evbuf {
	char	 rcpt[64], qid[24], msgid[64], diag[160], remote[48];
};

static void
make_event(struct bd_event *ev, struct evbuf *b, unsigned w, size_t i,
    unsigned *seed)
{
	unsigned	 u = (unsigned)rand_r(seed) % POOL, kind;

	memset(ev, 0, sizeof(*ev));
	kind = (unsigned)rand_r(seed) % 10;
	(void)snprintf(b->rcpt, sizeof(b->rcpt), "user%u@d%u.example.net",
	    u, u % 500);
	(void)snprintf(b->qid, sizeof(b->qid), "%02X%09zX", w, i);
	(void)snprintf(b->msgid, sizeof(b->msgid), "<%u.%zu.bench@example.org>",
	    w, i);
	(void)snprintf(b->remote, sizeof(b->remote), "mx.d%u.example.net",
	    u % 500);
	ev->when = NOW + (int64_t)i;
	ev->recipient = b->rcpt;
	ev->queue_id = b->qid;
	ev->message_id = b->msgid;
	ev->sender = "news@example.org";
	ev->reporting_mta = "relay.example.org";
	ev->remote_mta = b->remote;
	ev->diagnostic = b->diag;
	ev->source = EV_SRC_DSN_INTERNAL;
	ev->trusted = true;
	ev->verdict.who = EV_WHO_RECIPIENT;
	if (kind < 4) {		/* 40%: the mailbox is gone */
		ev->action = EV_ACT_FAILED;
		ev->status = "5.1.1";
		ev->reply_code = 550;
		ev->verdict.reason = "userunknown";
		ev->verdict.hard = true;
		ev->verdict.advice = EV_ADV_SUPPRESS;
		(void)snprintf(b->diag, sizeof(b->diag), "smtp; 550 5.1.1 <%s>:"
		    " Recipient address rejected: User unknown", b->rcpt);
	} else if (kind < 8) {	/* 40%: a deferral */
		ev->action = EV_ACT_DELAYED;
		ev->status = "4.2.2";
		ev->reply_code = 452;
		ev->verdict.reason = "mailboxfull";
		ev->verdict.advice = EV_ADV_RETRY;
		(void)snprintf(b->diag, sizeof(b->diag), "smtp; 452 4.2.2 <%s>:"
		    " Mailbox full", b->rcpt);
	} else {		/* 20%: given up after retries */
		ev->action = EV_ACT_FAILED;
		ev->status = "4.4.7";
		ev->verdict.reason = "expired";
		ev->verdict.advice = EV_ADV_RETRY;
		(void)snprintf(b->diag, sizeof(b->diag), "delivery temporarily"
		    " suspended: connect to %s: Connection timed out", b->remote);
	}
	(void)snprintf(ev->verdict.status, sizeof(ev->verdict.status), "%s",
	    ev->status);
	(void)snprintf(ev->verdict.rule, sizeof(ev->verdict.rule),
	    "bounced.rules:%u", 100 + kind);
}

static void *
writer_run(void *arg)
{
	struct writer	*w = arg;
	struct store	*s;
	struct bd_event	 ev;
	struct evbuf	 b;
	char		 err[256];
	unsigned	 seed = 1000 + w->id;
	enum bd_status	 r;
	size_t		 i;

	if (store_open(w->target, 0, BUSY_MS, &s, err, sizeof(err)) != BD_OK) {
		fprintf(stderr, "writer %u: %s\n", w->id, err);
		w->failed = 1;
		(void)pthread_barrier_wait(w->go);
		return NULL;
	}
	(void)pthread_barrier_wait(w->go);
	for (i = 0; i < w->n && !w->failed; i++) {
		make_event(&ev, &b, w->id, i, &seed);
		while ((r = store_record(s, &ev, 1, &policy, NOW + (int64_t)i,
		    NULL)) == BD_EBUSY)
			w->retries++;
		if (r != BD_OK) {
			fprintf(stderr, "writer %u: store_record: %s\n", w->id,
			    store_errmsg(s));
			w->failed = 1;
		}
	}
	store_close(s);
	return NULL;
}

static int
bench_record(const char *target, unsigned nw, size_t n)
{
	struct writer		 w[64];
	pthread_t		 th[64];
	pthread_barrier_t	 go;
	struct store		*s;
	unsigned long		 retries = 0;
	char			 err[256];
	double			 t0, dt;
	unsigned		 i;
	int			 failed = 0;

	if (nw == 0 || nw > 64 || n < nw)
		return 1;
	/* the schema and the policy, once, as bounced at its start */
	if (store_open(target, 0, BUSY_MS, &s, err, sizeof(err)) != BD_OK ||
	    store_policy_sync(s, &policy, NULL) != BD_OK) {
		fprintf(stderr, "bench_store: %s: %s\n", target,
		    s != NULL ? store_errmsg(s) : err);
		return 1;
	}
	store_close(s);
	(void)pthread_barrier_init(&go, NULL, nw + 1);
	for (i = 0; i < nw; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].target = target;
		w[i].id = i;
		w[i].nwriters = nw;
		w[i].n = n / nw;
		w[i].go = &go;
		if (pthread_create(&th[i], NULL, writer_run, &w[i]) != 0)
			return 1;
	}
	(void)pthread_barrier_wait(&go);
	t0 = now_s();
	for (i = 0; i < nw; i++) {
		(void)pthread_join(th[i], NULL);
		retries += w[i].retries;
		failed |= w[i].failed;
	}
	dt = now_s() - t0;
	(void)pthread_barrier_destroy(&go);
	if (failed)
		return 1;
	printf("record %s %u %zu %.2f %.0f %lu\n", engine(target), nw,
	    (n / nw) * nw, dt, (double)((n / nw) * nw) / dt, retries);
	return 0;
}

/* ---- lookup ---- */

static void
address(char *out, size_t outlen, const char *kind, size_t i)
{
	(void)snprintf(out, outlen, "%s%zu@d%zu.example.net", kind, i,
	    i % 997);
}

static bool
suppressed(size_t i)
{
	return i % 10 == 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
report(const char *eng, const char *kind, double *t, size_t n)
{
	double	 sum = 0;
	size_t	 i;

	for (i = 0; i < n; i++)
		sum += t[i];
	qsort(t, n, sizeof(*t), cmp_double);
	printf("lookup %s %s %zu %.1f %.1f %.1f\n", eng, kind, n, t[n / 2],
	    t[(n * 99) / 100], sum / (double)n);
}

static int
populate(struct store *st, size_t nrcpt)
{
	struct store_manual	*ops;
	char			(*addrs)[64];
	size_t			 i, bad = 0;
	enum bd_status		 s;

	ops = calloc(nrcpt, sizeof(*ops));
	addrs = calloc(nrcpt, sizeof(*addrs));
	if (ops == NULL || addrs == NULL)
		return -1;
	for (i = 0; i < nrcpt; i++) {
		address(addrs[i], sizeof(addrs[i]), "user", i);
		ops[i].address = addrs[i];
		ops[i].suppress = suppressed(i);
		ops[i].reason = ops[i].suppress ? "hard" : NULL;
		ops[i].by = "bench";
		ops[i].when = NOW - 86400;
		ops[i].source = EV_SRC_IMPORT;
	}
	s = store_manual(st, ops, nrcpt, &bad);
	if (s != BD_OK)
		fprintf(stderr, "store_manual: %s\n", store_errmsg(st));
	free(ops);
	free(addrs);
	return s == BD_OK ? 0 : -1;
}

/* Cold, warm and unknown lookups on target; the wrong answers. */
static size_t
lookups(const char *target, size_t nrcpt, size_t n, double *t)
{
	struct store		*ro;
	struct rcache		*rc;
	struct timespec		 a, b;
	enum rcache_answer	 ans;
	char			 addr[64], err[256];
	unsigned		 seed = 42;
	size_t			 i, k, wrong = 0;

	if (store_open(target, STORE_RDONLY, LOOKUP_BUSY_MS, &ro, err,
	    sizeof(err)) != BD_OK || rcache_new(0, 0, &rc) != BD_OK) {
		fprintf(stderr, "bench_store: %s: %s\n", target, err);
		return n;
	}
#define TIMED(expr) (clock_gettime(CLOCK_MONOTONIC, &a), ans = (expr), \
	clock_gettime(CLOCK_MONOTONIC, &b), \
	(double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3)
	/* cold: every address once, in a scattered order */
	for (i = 0; i < n; i++) {
		k = (i * 7919) % nrcpt;
		if (i > 0 && i % nrcpt == 0)
			rcache_clear(rc);
		address(addr, sizeof(addr), "user", k);
		t[i] = TIMED(rcache_lookup(rc, ro, addr, NOW, NULL, 0, NULL,
		    NULL));
		wrong += ans == RCACHE_FAILED ||
		    (ans == RCACHE_SUPPRESSED) != suppressed(k);
	}
	report(engine(target), "cold", t, n);
	/* warm: a working set that fits, primed, then at random */
	rcache_clear(rc);
	for (i = 0; i < WSET; i++) {
		address(addr, sizeof(addr), "user", i * 13 % nrcpt);
		(void)rcache_lookup(rc, ro, addr, NOW, NULL, 0, NULL, NULL);
	}
	for (i = 0; i < n; i++) {
		k = (size_t)rand_r(&seed) % WSET * 13 % nrcpt;
		address(addr, sizeof(addr), "user", k);
		t[i] = TIMED(rcache_lookup(rc, ro, addr, NOW + 1, NULL, 0,
		    NULL, NULL));
		wrong += (ans == RCACHE_SUPPRESSED) != suppressed(k);
	}
	report(engine(target), "warm", t, n);
	/* unknown: never seen */
	for (i = 0; i < n; i++) {
		address(addr, sizeof(addr), "nobody", i);
		t[i] = TIMED(rcache_lookup(rc, ro, addr, NOW + 2, NULL, 0,
		    NULL, NULL));
		wrong += ans != RCACHE_ACTIVE;
	}
	report(engine(target), "unknown", t, n);
#undef TIMED
	rcache_free(rc);
	store_close(ro);
	return wrong;
}

static int
bench_lookup(const char *lite, const char *pg, size_t nrcpt, size_t n)
{
	struct store	*src, *dst;
	char		 err[1024];
	double		*t, t0;
	size_t		 wrong;

	if (nrcpt == 0 || n == 0 || (t = calloc(n, sizeof(*t))) == NULL)
		return 1;
	if (store_open(lite, 0, BUSY_MS, &src, err, sizeof(err)) != BD_OK) {
		fprintf(stderr, "bench_store: %s: %s\n", lite, err);
		return 1;
	}
	t0 = now_s();
	if (populate(src, nrcpt) != 0)
		return 1;
	printf("setup sqlite %zu recipients in %.1f s\n", nrcpt, now_s() - t0);
	if (store_open(pg, 0, BUSY_MS, &dst, err, sizeof(err)) != BD_OK) {
		fprintf(stderr, "bench_store: %s: %s\n", pg, err);
		return 1;
	}
	t0 = now_s();
	if (store_copy(src, dst, NULL, NULL, err, sizeof(err)) != BD_OK) {
		fprintf(stderr, "bench_store: copy: %s\n", err);
		return 1;
	}
	printf("setup postgresql copied in %.1f s\n", now_s() - t0);
	store_close(dst);
	store_close(src);
	wrong = lookups(lite, nrcpt, n, t) + lookups(pg, nrcpt, n, t);
	free(t);
	if (wrong != 0) {
		printf("WRONG answers: %zu\n", wrong);
		return 1;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	if (argc == 5 && strcmp(argv[1], "record") == 0)
		return bench_record(argv[2], (unsigned)atoi(argv[3]),
		    strtoul(argv[4], NULL, 10));
	if (argc == 6 && strcmp(argv[1], "lookup") == 0)
		return bench_lookup(argv[2], argv[3],
		    strtoul(argv[4], NULL, 10), strtoul(argv[5], NULL, 10));
	fprintf(stderr, "usage: bench_store record TARGET WRITERS EVENTS\n"
	    "       bench_store lookup SQLITE_PATH PG_TARGET RECIPIENTS "
	    "LOOKUPS\n");
	return 2;
}
