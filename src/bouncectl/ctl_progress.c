/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2026 The bounced authors.
 *
 * ctl_progress.c - progress of long work (ingest-log, import, rebuild)
 * on standard error, only when it is a terminal: one line rewritten in
 * place at most five times a second, erased at the end.  Under cron or
 * systemd, or with stderr redirected, nothing is written, so logs hold
 * only the summary.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bouncectl/ctl_int.h"

#define PROGRESS_MS	200	/* between two updates */

static int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ctl_progress_init - progress on stderr if it is a terminal */
void
ctl_progress_init(struct ctl_progress *p)
{
	memset(p, 0, sizeof(*p));
	p->on = isatty(STDERR_FILENO) == 1;
	p->last_ms = now_ms();
}

/*
 * ctl_progress_show - rewrite the progress line (printf format), unless
 * the last update is less than PROGRESS_MS old; force: always
 */
void
ctl_progress_show(struct ctl_progress *p, bool force, const char *fmt, ...)
{
	va_list	 ap;
	int64_t	 t;

	if (!p->on)
		return;
	t = now_ms();
	if (!force && t - p->last_ms < PROGRESS_MS)
		return;
	p->last_ms = t;
	fputs("\r", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\033[K", stderr);	/* erase the rest of a longer line */
	fflush(stderr);
	p->shown = true;
}

/* ctl_progress_done - erase the progress line, if one was written */
void
ctl_progress_done(struct ctl_progress *p)
{
	if (p->on && p->shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	p->shown = false;
}
