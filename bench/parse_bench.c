/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2026 The bounced authors.
 *
 * parse_bench.c - developer tool: throughput of the bounce parser.
 *
 * Loads every message named on the command line (or every *.eml file of
 * the directories named) into memory once, then runs dsn_parse() over
 * all of them N times in one thread and prints messages/s, MB/s and the
 * peak resident set size.  With -d it instead prints every field of
 * every report once (a digest to compare two builds of the parser
 * field by field).  Not installed, not a test: `make parse-bench`.
 *
 * It must not: be linked into anything installed.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "parse/dsn.h"

struct msg {
	char	*path;
	char	*data;
	size_t	 len;
};

static struct msg	*msgs;
static size_t		 nmsgs, capmsgs;

static void
add_file(const char *path)
{
	FILE		*fp;
	struct buf	 b;
	char		 chunk[65536];
	size_t		 n;

	if ((fp = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "parse_bench: %s: %s\n", path,
		    strerror(errno));
		exit(1);
	}
	buf_init(&b, 0);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (buf_append(&b, chunk, n) != BD_OK) {
			fprintf(stderr, "parse_bench: out of memory\n");
			exit(1);
		}
	fclose(fp);
	if (nmsgs == capmsgs) {
		capmsgs = capmsgs ? capmsgs * 2 : 512;
		if ((msgs = realloc(msgs, capmsgs * sizeof(*msgs))) == NULL) {
			fprintf(stderr, "parse_bench: out of memory\n");
			exit(1);
		}
	}
	msgs[nmsgs].path = strdup(path);
	msgs[nmsgs].len = b.len;
	msgs[nmsgs].data = b.data != NULL ? buf_steal(&b) : strdup("");
	nmsgs++;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
add_dir(const char *dir)
{
	DIR		*d;
	struct dirent	*e;
	char		**names = NULL, path[4096];
	size_t		 n = 0, cap = 0, i, l;

	if ((d = opendir(dir)) == NULL) {
		add_file(dir);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		l = strlen(e->d_name);
		if (l < 5 || strcmp(e->d_name + l - 4, ".eml") != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 512;
			if ((names = realloc(names, cap * sizeof(*names))) ==
			    NULL)
				exit(1);
		}
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		add_file(path);
		free(names[i]);
	}
	free(names);
}

static void
pstr(const char *k, const char *v)
{
	printf(" %s=%s", k, v != NULL ? v : "(null)");
}

/* Every field of a report on one line per recipient (plus a header). */
static void
digest(const char *path, struct dsn_report *r)
{
	struct dsn_rcpt	*rc;
	size_t			 i;

	printf("%s kind=%s defects=%#x nrcpts=%zu", path,
	    dsn_kind_name(r->kind), r->defects, r->nrcpts);
	pstr("mta", r->mta);
	pstr("reporting_mta", r->reporting_mta);
	printf(" arrival=%" PRId64 " date=%" PRId64,
	    dsn_date_get(&r->arrival_date), dsn_date_get(&r->date));
	pstr("queue_id", r->queue_id);
	pstr("envid", r->envelope_id);
	pstr("sender", r->sender);
	pstr("orig_msgid", r->orig_message_id);
	pstr("campaign", r->campaign);
	pstr("subject", r->subject);
	pstr("from", r->from);
	pstr("feedback", r->feedback_type);
	putchar('\n');
	for (i = 0; i < r->nrcpts; i++) {
		rc = &r->rcpts[i];
		printf("  [%zu]", i);
		pstr("final", rc->final_recipient);
		pstr("orig", rc->original_recipient);
		printf(" action=%s", ev_action_name(rc->action));
		pstr("status", rc->status);
		printf(" code=%d", rc->reply_code);
		pstr("dtype", rc->diagnostic_type);
		pstr("diag", rc->diagnostic);
		pstr("remote", rc->remote_mta);
		printf(" last=%" PRId64 " retry=%" PRId64 "\n",
		    dsn_date_get(&rc->last_attempt),
		    dsn_date_get(&rc->will_retry_until));
	}
}

static double
now(void)
{
	struct timespec	 ts;

	/* CPU time: other load on the host does not count. */
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
usage(void)
{
	fprintf(stderr, "usage: parse_bench [-d] [-c header] [-n rounds] "
	    "file|dir ...\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct dsn_options	 opt = DSN_OPTIONS_DEFAULT;
	struct dsn_report	*r;
	struct rusage		 ru;
	size_t			 i, bytes = 0, nr = 0;
	long			 rounds = 20, k;
	double			 t0, t;
	int			 ch;
	bool			 dig = false;

	while ((ch = getopt(argc, argv, "c:dn:")) != -1) {
		switch (ch) {
		case 'c':
			opt.campaign_header = optarg;
			break;
		case 'd':
			dig = true;
			break;
		case 'n':
			rounds = strtol(optarg, NULL, 10);
			if (rounds < 1)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();
	for (; optind < argc; optind++)
		add_dir(argv[optind]);
	dsn_init();
	if (dig) {
		for (i = 0; i < nmsgs; i++) {
			if (dsn_parse(msgs[i].data, msgs[i].len, &opt, &r) !=
			    BD_OK) {
				fprintf(stderr, "parse_bench: out of memory\n");
				return 1;
			}
			digest(msgs[i].path, r);
			dsn_report_free(r);
		}
		dsn_shutdown();
		return 0;
	}
	for (i = 0; i < nmsgs; i++)
		bytes += msgs[i].len;
	t0 = now();
	for (k = 0; k < rounds; k++)
		for (i = 0; i < nmsgs; i++) {
			if (dsn_parse(msgs[i].data, msgs[i].len, &opt, &r) !=
			    BD_OK) {
				fprintf(stderr, "parse_bench: out of memory\n");
				return 1;
			}
			nr += r->nrcpts;
			dsn_report_free(r);
		}
	t = now() - t0;
	getrusage(RUSAGE_SELF, &ru);
	printf("messages=%zu rounds=%ld recipients/round=%zu seconds=%.3f "
	    "msgs/s=%.0f MB/s=%.1f maxrss_kb=%ld (CPU time)\n", nmsgs, rounds,
	    nr / (size_t)rounds, t, nmsgs * rounds / t,
	    bytes * rounds / t / 1e6, ru.ru_maxrss);
	dsn_shutdown();
	for (i = 0; i < nmsgs; i++) {
		free(msgs[i].path);
		free(msgs[i].data);
	}
	free(msgs);
	return 0;
}
