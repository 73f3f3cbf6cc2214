/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2026 The bounced authors.
 *
 * ctl_metrics.c - bouncectl(8) metrics [--output FILE]: the database's
 * metrics in the Prometheus text format (store_metrics()), the same that
 * bounced writes into its MetricsFile after its own process counters.
 * With --output the file is written beside its final name and renamed,
 * so that node_exporter's textfile collector never reads half a file.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bouncectl/ctl_int.h"
#include "store/store.h"

/*
 * ctl_metrics - bouncectl metrics [--output FILE]
 *
 * Returns 0, or 2 when the database fails or FILE cannot be written
 * (then FILE is left as it was).
 */
int
ctl_metrics(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct store	*s;
	const char	*path = NULL;
	char		 tmp[PATH_MAX];
	FILE		*fp = stdout;
	int		 ch, rc;

	while ((ch = getopt_long(argc, argv, "o:", lo, NULL)) != -1) {
		if (ch != 'o')
			goto usage;
		path = optarg;
	}
	if (optind != argc)
		goto usage;
	if ((rc = ctl_store_open(o, STORE_RDONLY, &s)) != CTL_EXIT_OK)
		return rc;
	if (path != NULL) {
		snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
		if ((fp = fopen(tmp, "w")) == NULL) {
			fprintf(stderr, "bouncectl: %s: %s\n", tmp,
			    strerror(errno));
			store_close(s);
			return CTL_EXIT_ERROR;
		}
	}
	if (store_metrics(s, fp, (int64_t)time(NULL)) != BD_OK)
		rc = ctl_store_fail(s, "metrics");
	store_close(s);
	if (path == NULL)
		return rc;
	if (fclose(fp) != 0 && rc == CTL_EXIT_OK) {
		fprintf(stderr, "bouncectl: %s: %s\n", tmp, strerror(errno));
		rc = CTL_EXIT_ERROR;
	}
	if (rc == CTL_EXIT_OK && rename(tmp, path) == -1) {
		fprintf(stderr, "bouncectl: %s: %s\n", path, strerror(errno));
		rc = CTL_EXIT_ERROR;
	}
	if (rc != CTL_EXIT_OK)
		(void)unlink(tmp);
	return rc;
usage:
	fprintf(stderr, "usage: bouncectl metrics [--output FILE]\n");
	return CTL_EXIT_ERROR;
}
