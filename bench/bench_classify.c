/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * bench_classify.c - measure the pipeline in one process, one thread:
 * whole emails through analyze_message() (parse + classify) per second,
 * the corpus's diagnostic strings through classify() alone per second,
 * and the peak resident set size (getrusage(2) ru_maxrss).  Not a test:
 * `make bench` runs it on the shared corpus (bench/bench.sh).
 *
 * Every figure is CPU time of this process (CLOCK_PROCESS_CPUTIME_ID),
 * so other load on the host counts as little as it can: each phase loops
 * over all its inputs until at least SECONDS of CPU time have passed,
 * RUNS times, and the best run is reported.  With -n the phases instead
 * run exactly ROUNDS passes once (for callgrind: instruction counts per
 * message do not depend on the clock).
 *
 * usage: bench_classify [-ce] [-k RUNS] [-n ROUNDS] [-t SECONDS]
 *            [-r RULES] FILE...
 * -c: classify() only; -e: emails only.
 *
 * It must not: be installed, or be linked into anything installed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "verdict/analyze.h"

#ifndef BENCH_CFLAGS
#define BENCH_CFLAGS	"(unknown)"
#endif

/* The targets of issue 3 (one thread, release build). */
#define TARGET_EMAILS	20000.0		/* emails/s, parse + classify */
#define TARGET_STRINGS	1000000.0	/* classify() calls/s */
#define TARGET_RSS_MB	20.0		/* peak resident set */

struct sample {
	char	*msg;
	size_t	 len;
};

struct bench {
	const struct rules	*rules;
	struct dsn_options	 opt;
	struct sample		*smp;
	size_t			 n;
	struct classify_input	*in;
	size_t			 nin;
};

static double
now(void)
{
	struct timespec	 ts;

	/* CPU time: other load on the host does not count. */
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *
slurp(const char *path, size_t *lenp)
{
	FILE	*fp;
	char	*buf;
	long	 n;

	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) != 0 ||
	    (buf = malloc((size_t)n + 1)) == NULL) {
		fclose(fp);
		return NULL;
	}
	*lenp = fread(buf, 1, (size_t)n, fp);
	fclose(fp);
	return buf;
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

/* One pass over every email: parse and classify.  False on ENOMEM. */
static bool
pass_emails(struct bench *b)
{
	struct analysis	*a;
	size_t		 i;

	for (i = 0; i < b->n; i++) {
		if (analyze_message(b->rules, b->smp[i].msg, b->smp[i].len,
		    &b->opt, &a) != BD_OK)
			return false;
		analysis_free(a);
	}
	return true;
}

/* One pass over every diagnostic through classify() alone. */
static bool
pass_strings(struct bench *b)
{
	struct verdict	 v;
	size_t		 i;

	for (i = 0; i < b->nin; i++)
		classify(b->rules, &b->in[i], &v);
	return true;
}

/*
 * Items per second of CPU time: the best of runs runs, each looping
 * pass() over all items until secs have passed; or, with rounds > 0,
 * exactly rounds passes once.  Negative on failure.
 */
static double
measure(struct bench *b, bool (*pass)(struct bench *), size_t items,
    int runs, double secs, long rounds)
{
	double	 best = 0, t0, t, rate;
	size_t	 done;
	long	 k;
	int	 run;

	for (run = 0; run < (rounds > 0 ? 1 : runs); run++) {
		done = 0;
		k = 0;
		t0 = now();
		do {
			if (!pass(b))
				return -1;
			done += items;
			t = now() - t0;
		} while (rounds > 0 ? ++k < rounds : t < secs);
		rate = t > 0 ? (double)done / t : 0;
		if (rate > best)
			best = rate;
	}
	return best;
}

/* The classify() inputs of every recipient of the corpus, kept. */
static bool
collect_inputs(struct bench *b)
{
	struct analysis		*a;
	struct classify_input	*in;
	size_t			 i, j, cap = 0;

	for (i = 0; i < b->n; i++) {
		if (analyze_message(b->rules, b->smp[i].msg, b->smp[i].len,
		    &b->opt, &a) != BD_OK)
			return false;
		for (j = 0; j < a->report->nrcpts; j++) {
			const struct dsn_rcpt *rc = &a->report->rcpts[j];

			if (b->nin == cap) {
				cap = cap ? cap * 2 : 256;
				in = reallocarray(b->in, cap, sizeof(*in));
				if (in == NULL) {
					analysis_free(a);
					return false;
				}
				b->in = in;
			}
			in = &b->in[b->nin++];
			memset(in, 0, sizeof(*in));
			in->status = dup_or_null(rc->status);
			in->reply_code = rc->reply_code;
			in->diagnostic = dup_or_null(rc->diagnostic);
			in->action = rc->action;
			in->kind = a->report->kind;
			in->mta = dup_or_null(a->report->mta);
			in->feedback_type =
			    dup_or_null(a->report->feedback_type);
			in->smtp_command = rc->smtp_command;	/* static */
			in->diagnostic_type = dup_or_null(rc->diagnostic_type);
			in->remote_mta = dup_or_null(rc->remote_mta);
			in->status_comment = dup_or_null(rc->status_comment);
		}
		analysis_free(a);
	}
	return true;
}

static void
free_inputs(struct bench *b)
{
	size_t	 i;

	for (i = 0; i < b->nin; i++) {
		free((char *)b->in[i].status);
		free((char *)b->in[i].diagnostic);
		free((char *)b->in[i].mta);
		free((char *)b->in[i].feedback_type);
		free((char *)b->in[i].diagnostic_type);
		free((char *)b->in[i].remote_mta);
		free((char *)b->in[i].status_comment);
	}
	free(b->in);
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_classify [-ce] [-k RUNS] [-n ROUNDS] "
	    "[-t SECONDS] [-r RULES] FILE...\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct bench		 b;
	struct rules		*r = NULL;
	struct rusage		 ru;
	const char		*rules_path = NULL, *how;
	double			 secs = 2.0, emails = 0, strings = 0, rss;
	size_t			 i, bytes = 0;
	long			 rounds = 0;
	char			 err[512], howbuf[96];
	int			 ch, runs = 3;
	bool			 do_emails = true, do_strings = true, met;
	enum bd_status		 st;

	while ((ch = getopt(argc, argv, "cek:n:r:t:")) != -1) {
		switch (ch) {
		case 'c':
			do_emails = false;
			break;
		case 'e':
			do_strings = false;
			break;
		case 'k':
			runs = atoi(optarg);
			break;
		case 'n':
			rounds = strtol(optarg, NULL, 10);
			break;
		case 'r':
			rules_path = optarg;
			break;
		case 't':
			secs = strtod(optarg, NULL);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0 || !(secs > 0) || runs < 1 || rounds < 0)
		usage();
	st = rules_path != NULL ? rules_load(rules_path, &r, err,
	    sizeof(err)) : rules_default(&r, err, sizeof(err));
	if (st != BD_OK) {
		fprintf(stderr, "bench_classify: %s\n", err);
		return 2;
	}
	dsn_init();
	memset(&b, 0, sizeof(b));
	b.rules = r;
	b.opt = (struct dsn_options)DSN_OPTIONS_DEFAULT;
	if ((b.smp = calloc((size_t)argc, sizeof(*b.smp))) == NULL)
		return 2;
	for (i = 0; i < (size_t)argc; i++) {
		if ((b.smp[b.n].msg = slurp(argv[i], &b.smp[b.n].len)) ==
		    NULL) {
			fprintf(stderr, "bench_classify: %s: %s\n", argv[i],
			    strerror(errno));
			continue;
		}
		bytes += b.smp[b.n].len;
		b.n++;
	}
	if (b.n == 0)
		return 2;
	if (!collect_inputs(&b)) {
		fprintf(stderr, "bench_classify: out of memory\n");
		return 2;
	}

	if (rounds > 0)
		snprintf(howbuf, sizeof(howbuf), "%ld passes", rounds);
	else
		snprintf(howbuf, sizeof(howbuf),
		    "best of %d runs of >= %.1f s CPU", runs, secs);
	how = howbuf;
	printf("corpus:      %zu emails (%.1f MB), %zu diagnostic strings; "
	    "one process, one thread\n", b.n, (double)bytes / 1e6, b.nin);
#if defined(__OPTIMIZE__) && !defined(__SANITIZE_ADDRESS__)
	printf("build:       CFLAGS=%s (release)\n", BENCH_CFLAGS);
#else
	printf("build:       CFLAGS=%s (NOT a release build: figures are "
	    "not comparable; configure with the default -O2)\n",
	    BENCH_CFLAGS);
#endif
	fflush(stdout);
	if (do_emails) {
		if ((emails = measure(&b, pass_emails, b.n, runs, secs,
		    rounds)) < 0) {
			fprintf(stderr, "bench_classify: out of memory\n");
			return 2;
		}
		printf("emails:      %.0f emails/s (parse + classify; %s)\n",
		    emails, how);
		fflush(stdout);
	}
	if (do_strings) {
		strings = measure(&b, pass_strings, b.nin, runs, secs, rounds);
		printf("diagnostics: %.0f strings/s (classify() alone; %s)\n",
		    strings, how);
	}
	getrusage(RUSAGE_SELF, &ru);
	rss = (double)ru.ru_maxrss / 1024.0;
	printf("peak RSS:    %.1f MB (whole process, corpus loaded)\n", rss);
	if (do_emails && do_strings) {
		met = emails >= TARGET_EMAILS && strings >= TARGET_STRINGS &&
		    rss < TARGET_RSS_MB;
#if !defined(__OPTIMIZE__) || defined(__SANITIZE_ADDRESS__)
		met = false;
#endif
		printf("target: >= %.0f emails/s, >= %.0f strings/s, "
		    "< %.0f MB: %s\n", TARGET_EMAILS, TARGET_STRINGS,
		    TARGET_RSS_MB, met ? "met" : "not met");
	}

	free_inputs(&b);
	for (i = 0; i < b.n; i++)
		free(b.smp[i].msg);
	free(b.smp);
	rules_unref(r);
	dsn_shutdown();
	return 0;
}
