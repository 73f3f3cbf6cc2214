/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors */
/*
 * bench_maillog.c - how many log lines per second maillog_parse() reads,
 * and a dump of what it makes of a file (-d).
 *
 * Usage: bench_maillog [-d] [-n rounds] [-t now] file...
 * The files are read into memory once; each round parses every line.
 * A measuring tool, not a test: it prints figures and exits 0.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "maillog/maillog.h"

struct lines {
	char	**p;
	size_t	*n;
	size_t	 count, cap;
};

static int
slurp(const char *path, struct lines *l)
{
	FILE	*fp;
	char	*line = NULL;
	size_t	 sz = 0;
	ssize_t	 n;

	if ((fp = fopen(path, "r")) == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &sz, fp)) != -1) {
		if (l->count == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 1024;
			l->p = realloc(l->p, l->cap * sizeof(*l->p));
			l->n = realloc(l->n, l->cap * sizeof(*l->n));
			if (l->p == NULL || l->n == NULL)
				abort();
		}
		if (n > 0 && line[n - 1] == '\n')
			n--;
		if ((l->p[l->count] = malloc((size_t)n + 1)) == NULL)
			abort();
		memcpy(l->p[l->count], line, (size_t)n);
		l->p[l->count][n] = '\0';
		l->n[l->count++] = (size_t)n;
	}
	free(line);
	fclose(fp);
	return 0;
}

static void
dump(const struct maillog_rec *r, enum maillog_result res)
{
	size_t	 i;

	if (res == MAILLOG_IGNORED) {
		printf("ignored\n");
		return;
	}
	if (res == MAILLOG_EMALFORMED) {
		printf("MALFORMED qid=%s\n", r->queue_id);
		return;
	}
	printf("%s when=%lld qid=%s prog=%s host=%s",
	    maillog_kind_name(r->kind),
	    (long long)r->when, r->queue_id, r->program, r->host);
	for (i = 0; i < r->nrcpt; i++)
		printf(" rcpt=%s", maillog_recipient(r, i));
	if (r->orig_recipient[0])
		printf(" orig=%s", r->orig_recipient);
	if (r->kind == ML_DELIVERY || r->kind == ML_EXPIRED)
		printf(" status=%s action=%s dsn=%s code=%d dstat=%s relay=%s "
		    "relay_host=%s%s diag=[%s]", r->status_word,
		    ev_action_name(r->action), r->dsn, r->reply_code,
		    r->diag_status, r->relay, r->relay_host,
		    r->probe ? " probe" : "", r->diagnostic);
	if (r->message_id[0])
		printf(" msgid=%s", r->message_id);
	if (r->kind == ML_FROM || r->kind == ML_EXPIRED)
		printf(" sender=<%s> size=%lld", r->sender, r->size);
	if (r->defects)
		printf(" defects=0x%x", r->defects);
	printf("\n");
}

int
main(int argc, char **argv)
{
	struct lines	 l = { 0 };
	struct maillog_rec *r;
	struct timespec	 t0, t1;
	unsigned long	 rounds = 200, k;
	size_t		 i, bytes = 0, counts[3] = { 0 };
	int64_t		 now = (int64_t)time(NULL);
	double		 secs;
	int		 ch, dflag = 0;

	while ((ch = getopt(argc, argv, "dn:t:")) != -1) {
		switch (ch) {
		case 'd':
			dflag = 1;
			break;
		case 'n':
			rounds = strtoul(optarg, NULL, 10);
			break;
		case 't':
			now = strtoll(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: bench_maillog [-d] [-n rounds] "
			    "[-t now] file...\n");
			return 1;
		}
	}
	for (; optind < argc; optind++)
		if (slurp(argv[optind], &l) == -1)
			return 1;
	if (l.count == 0) {
		fprintf(stderr, "no lines\n");
		return 1;
	}
	if ((r = malloc(sizeof(*r))) == NULL)
		abort();
	if (dflag) {
		for (i = 0; i < l.count; i++)
			dump(r, maillog_parse(l.p[i], l.n[i], now, 0, r));
		return 0;
	}
	for (i = 0; i < l.count; i++)
		bytes += l.n[i] + 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (k = 0; k < rounds; k++)
		for (i = 0; i < l.count; i++)
			counts[maillog_parse(l.p[i], l.n[i], now, 0, r)]++;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("lines=%zu rounds=%lu parsed=%zu records=%zu ignored=%zu "
	    "malformed=%zu\n", l.count, rounds, l.count * rounds, counts[0],
	    counts[1], counts[2]);
	printf("seconds=%.3f lines_per_second=%.0f MB_per_second=%.1f\n", secs,
	    (double)(l.count * rounds) / secs,
	    (double)bytes * (double)rounds / secs / 1e6);
	for (i = 0; i < l.count; i++)
		free(l.p[i]);
	free(l.p);
	free(l.n);
	free(r);
	return 0;
}
