/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * replies_score.c - score the classifier on the catalogue of documented
 * SMTP replies (the .tsv files of tests/data/replies): each row is one reply as a
 * provider's, a filter's or an MTA's documentation gives it, with the
 * reason and hard-or-soft its documented meaning calls for (labelled
 * from the documentation, never from a classifier run).  Each reply is
 * classified as `bouncectl rules-test` does (a failed recipient of a
 * delivery report, the status and reply code read from the text), and
 * the score is compared with the limits of tests/replies-threshold.txt.
 *
 *	replies_score [--detail|--all] [--rules FILE] [--threshold FILE]
 *	    [TSV...]
 *
 * Without TSV arguments it reads every .tsv file of
 * $TOP_SRCDIR/tests/data/replies; without --threshold it uses
 * $TOP_SRCDIR/tests/replies-threshold.txt.  Prints one line per file and
 * a total line; --detail also lists every row it got wrong, --all every
row (with the deciding rule: what a rule's cite= can name).  Exits 0
 * when every limit holds, 1 when one does not, 99 on a hard error (the
 * automake harness's code for a broken test).
 *
 * A test program, not part of the product: it reads files and prints.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "verdict/classify.h"

#define MAX_FILES	32
#define MAX_COLS	16

struct score {
	unsigned	 rows;		/* rows scored */
	unsigned	 reason_ok;	/* reason as labelled */
	unsigned	 hard_ok;	/* hard as labelled */
	unsigned	 soft;		/* labelled soft */
	unsigned	 soft_hard;	/* ... but called hard */
	unsigned	 hard;		/* labelled hard */
	unsigned	 hard_soft;	/* ... but called soft */
	unsigned	 undefined;	/* no rule matched */
};

static double
pct(unsigned a, unsigned b)
{
	return b != 0 ? 100.0 * a / b : 0.0;
}

static void
score_print(const char *name, const struct score *s)
{
	printf("%s: rows=%u hard=%.1f%% soft-called-hard=%u/%u (%.1f%%) "
	    "hard-called-soft=%u/%u (%.1f%%) reason=%.1f%% undefined=%u\n",
	    name, s->rows, pct(s->hard_ok, s->rows), s->soft_hard, s->soft,
	    pct(s->soft_hard, s->soft), s->hard_soft, s->hard,
	    pct(s->hard_soft, s->hard), pct(s->reason_ok, s->rows),
	    s->undefined);
}

static void
score_add(struct score *to, const struct score *s)
{
	to->rows += s->rows;
	to->reason_ok += s->reason_ok;
	to->hard_ok += s->hard_ok;
	to->soft += s->soft;
	to->soft_hard += s->soft_hard;
	to->hard += s->hard;
	to->hard_soft += s->hard_soft;
	to->undefined += s->undefined;
}

/* Split line (modified) at tabs into at most MAX_COLS fields. */
static size_t
split_tabs(char *line, char **col)
{
	size_t	 n = 0;
	char	*p = line, *t;

	for (;;) {
		if (n == MAX_COLS)
			return n;
		col[n++] = p;
		if ((t = strchr(p, '\t')) == NULL)
			break;
		*t = '\0';
		p = t + 1;
	}
	return n;
}

static int
col_index(char **col, size_t n, const char *name)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(col[i], name) == 0)
			return (int)i;
	return -1;
}

/*
 * Score one catalogue file into s; with detail 1 print the rows the
 * classifier got wrong, with 2 every row.  Returns false on a
 * malformed file (told on stderr).
 */
static bool
score_file(const struct rules *rules, const char *path, int detail,
    struct score *s)
{
	FILE			*fp;
	char			*line = NULL, *col[MAX_COLS];
	size_t			 cap = 0, n;
	ssize_t			 len;
	unsigned		 lineno = 0;
	int			 c_reply = -1, c_reason = -1, c_hard = -1;
	const char		*base;
	struct classify_input	 in;
	struct verdict		 v;
	bool			 ok = true;

	if ((fp = fopen(path, "r")) == NULL) {
		fprintf(stderr, "replies_score: %s: %s\n", path,
		    strerror(errno));
		return false;
	}
	base = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
	memset(s, 0, sizeof(*s));
	while ((len = getline(&line, &cap, fp)) != -1) {
		bool want_hard;

		lineno++;
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		n = split_tabs(line, col);
		if (lineno == 1) {
			c_reply = col_index(col, n, "reply");
			c_reason = col_index(col, n, "reason");
			c_hard = col_index(col, n, "hard");
			if (c_reply < 0 || c_reason < 0 || c_hard < 0) {
				fprintf(stderr, "replies_score: %s: header "
				    "lacks reply, reason or hard\n", path);
				ok = false;
				break;
			}
			continue;
		}
		if ((int)n <= c_reply || (int)n <= c_reason ||
		    (int)n <= c_hard || classify_reason_word(col[c_reason]) ==
		    NULL || (strcmp(col[c_hard], "yes") != 0 &&
		    strcmp(col[c_hard], "no") != 0)) {
			fprintf(stderr, "replies_score: %s:%u: want a reply, "
			    "a reason word and hard yes or no\n", path,
			    lineno);
			ok = false;
			break;
		}
		want_hard = strcmp(col[c_hard], "yes") == 0;

		/* As bouncectl rules-test does with the text alone. */
		memset(&in, 0, sizeof(in));
		in.diagnostic = col[c_reply];
		in.action = EV_ACT_FAILED;
		in.kind = DSN_KIND_REPORT;
		classify(rules, &in, &v);

		s->rows++;
		if (strcasecmp(v.reason, col[c_reason]) == 0)
			s->reason_ok++;
		if (v.hard == want_hard)
			s->hard_ok++;
		if (want_hard) {
			s->hard++;
			if (!v.hard)
				s->hard_soft++;
		} else {
			s->soft++;
			if (v.hard)
				s->soft_hard++;
		}
		if (v.rule[0] == '\0')
			s->undefined++;
		if (detail > 1 || (detail && (v.hard != want_hard ||
		    strcasecmp(v.reason, col[c_reason]) != 0)))
			printf("  %s:%u: want %s/%s, got %s/%s %s%s| %s\n",
			    base, lineno, col[c_reason],
			    want_hard ? "hard" : "soft", v.reason,
			    v.hard ? "hard" : "soft",
			    v.rule[0] != '\0' ? v.rule : "(no rule)",
			    v.hard != want_hard ? " HARD " : " ", col[c_reply]);
	}
	free(line);
	fclose(fp);
	return ok;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.tsv files of dir, sorted, into paths; returns their number. */
static size_t
list_tsv(const char *dir, char **paths, size_t max)
{
	DIR		*d;
	struct dirent	*e;
	size_t		 n = 0, l;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL && n < max) {
		l = strlen(e->d_name);
		if (l < 5 || strcmp(e->d_name + l - 4, ".tsv") != 0)
			continue;
		if ((paths[n] = malloc(strlen(dir) + l + 2)) == NULL)
			break;
		(void)snprintf(paths[n], strlen(dir) + l + 2, "%s/%s", dir,
		    e->d_name);
		n++;
	}
	closedir(d);
	qsort(paths, n, sizeof(*paths), cmp_str);
	return n;
}

/*
 * Check the total against the threshold file: "key percent" lines;
 * hard and reason are minimums, soft-called-hard and hard-called-soft
 * maximums.  Returns 0 when all hold, 1 when one fails, 99 when the file
 * is unreadable or names an unknown key.
 */
static int
check_thresholds(const char *path, const struct score *t)
{
	FILE	*fp;
	char	 line[256], key[64];
	double	 want, got;
	int	 rc = 0;
	bool	 max;

	if ((fp = fopen(path, "r")) == NULL) {
		fprintf(stderr, "replies_score: %s: %s\n", path,
		    strerror(errno));
		return 99;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (line[0] == '#' || sscanf(line, "%63s %lf", key,
		    &want) != 2)
			continue;
		max = false;
		if (strcmp(key, "hard") == 0)
			got = pct(t->hard_ok, t->rows);
		else if (strcmp(key, "reason") == 0)
			got = pct(t->reason_ok, t->rows);
		else if (strcmp(key, "soft-called-hard") == 0) {
			got = pct(t->soft_hard, t->soft);
			max = true;
		} else if (strcmp(key, "hard-called-soft") == 0) {
			got = pct(t->hard_soft, t->hard);
			max = true;
		} else {
			fprintf(stderr, "replies_score: %s: unknown key %s\n",
			    path, key);
			rc = 99;
			break;
		}
		if (max ? got > want + 1e-9 : got < want - 1e-9) {
			printf("FAIL: %s: got %.2f%%, want %s %.2f%%\n", key,
			    got, max ? "<=" : ">=", want);
			rc = 1;
		} else
			printf("ok: %s: got %.2f%%, want %s %.2f%%\n", key,
			    got, max ? "<=" : ">=", want);
	}
	fclose(fp);
	return rc;
}

int
main(int argc, char **argv)
{
	const char	*top = getenv("TOP_SRCDIR"), *rules_path = NULL;
	const char	*thr = NULL;
	char		*paths[MAX_FILES];
	char		 err[512], dir[4096], thr_buf[4096];
	struct rules	*rules;
	struct score	 s, total;
	size_t		 n = 0, i;
	bool		 own = false;
	int		 rc, a, detail = 0;

	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--detail") == 0)
			detail = 1;
		else if (strcmp(argv[a], "--all") == 0)
			detail = 2;
		else if (strcmp(argv[a], "--rules") == 0 && a + 1 < argc)
			rules_path = argv[++a];
		else if (strcmp(argv[a], "--threshold") == 0 && a + 1 < argc)
			thr = argv[++a];
		else if (argv[a][0] == '-') {
			fprintf(stderr, "usage: replies_score [--detail|--all] "
			    "[--rules FILE] [--threshold FILE] [TSV...]\n");
			return 99;
		} else if (n < MAX_FILES)
			paths[n++] = argv[a];
	}
	if (top == NULL)
		top = ".";
	if (n == 0) {
		if ((size_t)snprintf(dir, sizeof(dir), "%s/tests/data/replies",
		    top) >= sizeof(dir))
			return 99;
		n = list_tsv(dir, paths, MAX_FILES);
		own = true;
		if (n == 0) {
			fprintf(stderr, "replies_score: no *.tsv in %s\n",
			    dir);
			return 99;
		}
	}
	if (thr == NULL) {
		if ((size_t)snprintf(thr_buf, sizeof(thr_buf),
		    "%s/tests/replies-threshold.txt", top) >= sizeof(thr_buf))
			return 99;
		thr = thr_buf;
	}
	if ((rules_path != NULL ? rules_load(rules_path, &rules, err,
	    sizeof(err)) : rules_default(&rules, err, sizeof(err))) != BD_OK) {
		fprintf(stderr, "replies_score: %s\n", err);
		return 99;
	}
	memset(&total, 0, sizeof(total));
	rc = 0;
	for (i = 0; i < n; i++) {
		if (!score_file(rules, paths[i], detail, &s)) {
			rc = 99;
			continue;
		}
		score_print(strrchr(paths[i], '/') != NULL ?
		    strrchr(paths[i], '/') + 1 : paths[i], &s);
		score_add(&total, &s);
	}
	score_print("total", &total);
	if (rc == 0)
		rc = check_thresholds(thr, &total);
	rules_unref(rules);
	if (own)
		for (i = 0; i < n; i++)
			free(paths[i]);
	return rc;
}
