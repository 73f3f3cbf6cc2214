/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * bench_classify.c - measure the pipeline in one process, one thread:
 * whole emails through analyze_message() (parse + classify) per second,
 * diagnostic strings through classify() alone per second, and the peak
 * resident set size.  Not a test: `make bench` runs it on the corpus.
 *
 * usage: bench_classify [-c] [-t SECONDS] [-r RULES] FILE...
 * -c: time classify() only (for a profiler).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "analyze.h"

struct sample {
	char	*msg;
	size_t	 len;
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

int
main(int argc, char **argv)
{
	struct dsn_options	 opt = DSN_OPTIONS_DEFAULT;
	struct sample		*smp;
	struct classify_input	*in = NULL;
	struct analysis		*a;
	struct rules		*r = NULL;
	struct verdict		 v;
	struct rusage		 ru;
	const char		*rules_path = NULL;
	double			 secs = 2.0, t0, t;
	size_t			 n = 0, i, j, nin = 0, cap = 0, done;
	char			 err[512];
	int			 ch;
	bool			 only_classify = false;
	enum bd_status		 st;

	while ((ch = getopt(argc, argv, "ct:r:")) != -1) {
		switch (ch) {
		case 'c':
			only_classify = true;	/* for profiling */
			break;
		case 't':
			secs = strtod(optarg, NULL);
			break;
		case 'r':
			rules_path = optarg;
			break;
		default:
			fprintf(stderr, "usage: bench_classify [-t SECONDS] "
			    "[-r RULES] FILE...\n");
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0 || secs <= 0)
		return 2;
	st = rules_path != NULL ? rules_load(rules_path, &r, err,
	    sizeof(err)) : rules_default(&r, err, sizeof(err));
	if (st != BD_OK) {
		fprintf(stderr, "bench_classify: %s\n", err);
		return 2;
	}
	dsn_init();
	if ((smp = calloc((size_t)argc, sizeof(*smp))) == NULL)
		return 2;
	for (i = 0; i < (size_t)argc; i++) {
		if ((smp[n].msg = slurp(argv[i], &smp[n].len)) == NULL) {
			fprintf(stderr, "bench_classify: %s: %s\n", argv[i],
			    strerror(errno));
			continue;
		}
		n++;
	}
	if (n == 0)
		return 2;

	/* 1. Whole emails: parse and classify. */
	done = 0;
	t0 = now();
	do {
		if (only_classify)
			break;
		for (i = 0; i < n; i++) {
			if (analyze_message(r, smp[i].msg, smp[i].len, &opt,
			    &a) != BD_OK)
				return 2;
			analysis_free(a);
		}
		done += n;
	} while ((t = now() - t0) < secs);
	if (!only_classify)
		printf("emails:      %zu files, %.0f emails/s "
		    "(parse + classify)\n", n, (double)done / t);

	/* 2. The classify() inputs of every recipient, kept. */
	for (i = 0; i < n; i++) {
		if (analyze_message(r, smp[i].msg, smp[i].len, &opt, &a) !=
		    BD_OK)
			return 2;
		for (j = 0; j < a->report->nrcpts; j++) {
			const struct dsn_rcpt *rc = &a->report->rcpts[j];

			if (nin == cap) {
				cap = cap ? cap * 2 : 256;
				in = reallocarray(in, cap, sizeof(*in));
				if (in == NULL)
					return 2;
			}
			memset(&in[nin], 0, sizeof(in[nin]));
			in[nin].status = dup_or_null(rc->status);
			in[nin].reply_code = rc->reply_code;
			in[nin].diagnostic = dup_or_null(rc->diagnostic);
			in[nin].action = rc->action;
			in[nin].kind = a->report->kind;
			in[nin].mta = dup_or_null(a->report->mta);
			in[nin].feedback_type =
			    dup_or_null(a->report->feedback_type);
			in[nin].smtp_command = rc->smtp_command; /* static */
			in[nin].diagnostic_type =
			    dup_or_null(rc->diagnostic_type);
			in[nin].remote_mta = dup_or_null(rc->remote_mta);
			in[nin].status_comment =
			    dup_or_null(rc->status_comment);
			nin++;
		}
		analysis_free(a);
	}
	done = 0;
	t0 = now();
	do {
		for (i = 0; i < nin; i++)
			classify(r, &in[i], &v);
		done += nin;
	} while ((t = now() - t0) < secs);
	printf("diagnostics: %zu strings, %.0f classify()/s\n", nin,
	    (double)done / t);

	getrusage(RUSAGE_SELF, &ru);
	printf("peak RSS:    %.1f MB\n", (double)ru.ru_maxrss / 1024.0);

	for (i = 0; i < nin; i++) {
		free((char *)in[i].status);
		free((char *)in[i].diagnostic);
		free((char *)in[i].mta);
		free((char *)in[i].feedback_type);
		free((char *)in[i].diagnostic_type);
		free((char *)in[i].remote_mta);
		free((char *)in[i].status_comment);
	}
	free(in);
	for (i = 0; i < n; i++)
		free(smp[i].msg);
	free(smp);
	rules_unref(r);
	dsn_shutdown();
	return 0;
}
