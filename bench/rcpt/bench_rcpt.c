/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * bench_rcpt.c - what the SuppressedRecipients check costs at RCPT TO.
 *
 * Usage: bench_rcpt [-n lookups] [-r recipients] [-p percent] [-w set]
 *
 * Builds a database of r recipients (default 100,000) of which p percent
 * (default 10) are suppressed, through store_manual(), then times n
 * lookups (default 100,000) through rcache_lookup(), the very function
 * the milter calls, on a read-only handle opened as bounced opens it:
 *   cold     a fresh cache, every address asked once (all misses);
 *   unknown  addresses the database has never seen (misses);
 *   warm     a working set of w addresses (default 2,000), already
 *            cached, asked at random (all hits);
 *   store    store_lookup() alone, for comparison.
 * Prints microseconds per lookup (p50, p99, max, mean).  A measuring
 * tool, not a test: it prints figures and exits 0, or 1 when the answers
 * are wrong or the setup fails.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/event.h"
#include "bounced/rcache.h"
#include "store/store.h"

#define BUSY_MS		100	/* as main.c's LOOKUP_BUSY_MS */
#define NOW		1795478400

static double
usec_since(const struct timespec *t0)
{
	struct timespec	 t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e6 +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e3;
}

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
report(const char *name, double *t, size_t n, size_t suppressed)
{
	double	 sum = 0;
	size_t	 i;

	for (i = 0; i < n; i++)
		sum += t[i];
	qsort(t, n, sizeof(*t), cmp_double);
	printf("%-8s %8zu lookups  p50 %7.2f us  p99 %7.2f us  max %8.2f us"
	    "  mean %7.2f us  suppressed %zu\n", name, n, t[n / 2],
	    t[(n * 99) / 100], t[n - 1], sum / (double)n, suppressed);
}

static void
address(char *out, size_t outlen, const char *kind, size_t i)
{
	(void)snprintf(out, outlen, "%s%zu@d%zu.example.net", kind, i,
	    i % 997);
}

/* Fisher-Yates with a fixed seed: the same order on every run. */
static void
shuffle(size_t *v, size_t n, unsigned *seed)
{
	size_t	 i, j, t;

	for (i = n - 1; i > 0; i--) {
		j = (size_t)rand_r(seed) % (i + 1);
		t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
}

static int
populate(struct store *st, size_t nrcpt, unsigned pct)
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
		/* every (100 / pct)-th is suppressed; the rest active */
		ops[i].suppress = pct > 0 && i % (100 / pct) == 0;
		ops[i].reason = ops[i].suppress ? "hard" : NULL;
		ops[i].by = "bench";
		ops[i].when = NOW - 86400;
		ops[i].source = EV_SRC_IMPORT;
	}
	s = store_manual(st, ops, nrcpt, &bad);
	if (s != BD_OK)
		fprintf(stderr, "store_manual (%zu): %s: %s\n", bad,
		    bd_strerror(s), store_errmsg(st));
	free(ops);
	free(addrs);
	return s == BD_OK ? 0 : -1;
}

static bool
expect_suppressed(size_t i, unsigned pct)
{
	return pct > 0 && i % (100 / pct) == 0;
}

int
main(int argc, char *argv[])
{
	struct store		*rw, *ro;
	struct rcache		*rc;
	struct rcache_stats	 stats;
	struct store_recipient	*rec;
	struct timespec		 t0;
	enum rcache_answer	 a;
	char			 dir[] = "/tmp/bench_rcpt.XXXXXX", db[64];
	char			 err[256], addr[64], cmd[96];
	size_t			 n = 100000, nrcpt = 100000, wset = 2000;
	size_t			*order, i, sup, wrong = 0;
	unsigned		 pct = 10, seed = 42;
	double			*t;
	int			 ch;

	while ((ch = getopt(argc, argv, "n:p:r:w:")) != -1) {
		switch (ch) {
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'p':
			pct = (unsigned)atoi(optarg);
			break;
		case 'r':
			nrcpt = strtoul(optarg, NULL, 10);
			break;
		case 'w':
			wset = strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: bench_rcpt [-n lookups] "
			    "[-r recipients] [-p percent] [-w set]\n");
			return 2;
		}
	}
	if (n == 0 || nrcpt == 0 || wset == 0 || wset > nrcpt || pct > 100) {
		fprintf(stderr, "bench_rcpt: bad sizes\n");
		return 2;
	}
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	(void)snprintf(db, sizeof(db), "%s/bounced.db", dir);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (store_open(db, 0, 5000, &rw, err, sizeof(err)) != BD_OK) {
		fprintf(stderr, "store_open: %s\n", err);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (populate(rw, nrcpt, pct) != 0)
		return 1;
	printf("database %zu recipients, %u%% suppressed, built in %.1f s\n",
	    nrcpt, pct, usec_since(&t0) / 1e6);
	if (store_open(db, STORE_RDONLY, BUSY_MS, &ro, err, sizeof(err)) !=
	    BD_OK) {
		fprintf(stderr, "store_open read-only: %s\n", err);
		return 1;
	}
	if ((t = calloc(n, sizeof(*t))) == NULL ||
	    (order = calloc(nrcpt, sizeof(*order))) == NULL ||
	    (rec = malloc(sizeof(*rec))) == NULL)
		return 1;
	for (i = 0; i < nrcpt; i++)
		order[i] = i;
	shuffle(order, nrcpt, &seed);

	/* cold: a fresh cache, every address once (wraps if n > nrcpt) */
	if (rcache_new(0, 0, &rc) != BD_OK)
		return 1;
	for (i = sup = 0; i < n; i++) {
		address(addr, sizeof(addr), "user", order[i % nrcpt]);
		if (i > 0 && i % nrcpt == 0)
			rcache_clear(rc);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		a = rcache_lookup(rc, ro, addr, NOW, NULL, 0, NULL, NULL);
		t[i] = usec_since(&t0);
		sup += a == RCACHE_SUPPRESSED;
		wrong += a == RCACHE_FAILED || (a == RCACHE_SUPPRESSED) !=
		    expect_suppressed(order[i % nrcpt], pct);
	}
	report("cold", t, n, sup);

	/* unknown: never seen, the common case at a relay */
	for (i = sup = 0; i < n; i++) {
		address(addr, sizeof(addr), "nobody", i);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		a = rcache_lookup(rc, ro, addr, NOW, NULL, 0, NULL, NULL);
		t[i] = usec_since(&t0);
		sup += a == RCACHE_SUPPRESSED;
		wrong += a != RCACHE_ACTIVE;
	}
	report("unknown", t, n, sup);

	/* warm: a working set that fits, primed, then asked at random */
	rcache_clear(rc);
	rcache_get_stats(rc, &stats);
	for (i = 0; i < wset; i++) {
		address(addr, sizeof(addr), "user", order[i]);
		(void)rcache_lookup(rc, ro, addr, NOW, NULL, 0, NULL, NULL);
	}
	{
		struct rcache_stats s1;

		rcache_get_stats(rc, &s1);
		printf("warm     %zu addresses primed, %llu evicted\n", wset,
		    (unsigned long long)(s1.evictions - stats.evictions));
		stats = s1;
	}
	for (i = sup = 0; i < n; i++) {
		size_t k = order[(size_t)rand_r(&seed) % wset];

		address(addr, sizeof(addr), "user", k);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		a = rcache_lookup(rc, ro, addr, NOW + 1, NULL, 0, NULL, NULL);
		t[i] = usec_since(&t0);
		sup += a == RCACHE_SUPPRESSED;
		wrong += (a == RCACHE_SUPPRESSED) != expect_suppressed(k, pct);
	}
	report("warm", t, n, sup);
	{
		struct rcache_stats s2;

		rcache_get_stats(rc, &s2);
		printf("warm     hits %llu of %zu\n",
		    (unsigned long long)(s2.hits - stats.hits), n);
	}

	/* store: no cache at all */
	for (i = sup = 0; i < n; i++) {
		address(addr, sizeof(addr), "user", order[i % nrcpt]);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (store_lookup(ro, addr, rec) == BD_OK &&
		    strcmp(rec->state, "suppressed") == 0)
			sup++;
		t[i] = usec_since(&t0);
	}
	report("store", t, n, sup);

	rcache_free(rc);
	store_close(ro);
	store_close(rw);
	free(rec);
	free(order);
	free(t);
	(void)system(cmd);
	if (wrong != 0) {
		printf("WRONG answers: %zu\n", wrong);
		return 1;
	}
	return 0;
}
