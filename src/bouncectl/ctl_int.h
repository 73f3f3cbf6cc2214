/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ctl_int.h - bouncectl subcommands that read and change the store,
 * and the helpers they share (ctl.c, ctl_util.c).
 * Every subcommand returns the process exit status (see bouncectl(8)).
 *
 *	ctl_status.c	status, list, export, history
 *	ctl_manual.c	suppress, unsuppress
 *	ctl_import.c	import
 *	ctl_stats.c	stats, prune, expire
 *	ctl_rebuild.c	rebuild
 *	ctl_maillog.c	ingest-log, follow-log
 *	ctl_out.c	the output writer (ctl_out.h)
 */
#ifndef BD_CTL_STATE_H
#define BD_CTL_STATE_H

#include <stdio.h>
#include <sys/types.h>

#include "bouncectl/ctl.h"
#include "store/store.h"

#define CTL_LINE_MAX	65536	/* longest line of an input file */
#define CTL_DIAG_W	60	/* characters of a diagnostic in tables */

/*
 * ctl_store_open - open the database named by --db or the config; flags
 * STORE_RDONLY for a command that only reads, else 0 (a missing file is
 * refused unless --create), or STORE_NOCREATE (refused even with
 * --create); message on stderr
 */
int ctl_store_open(const struct ctl_opts *o, unsigned flags,
    struct store **out);
/* ctl_getopt_reset - make the next getopt_long() call start afresh on a new argv */
void ctl_getopt_reset(void);

struct bd_config;

/* ctl_util.c */
/* ctl_store_fail - "bouncectl: WHAT: REASON", and what it means; CTL_EXIT_ERROR */
int ctl_store_fail(struct store *s, const char *what);
/* ctl_set_db_path - the database the failures are about (ctl_store_open) */
void ctl_set_db_path(const char *path);
/* ctl_explain - an SQLite failure in the operator's words, or NULL */
const char *ctl_explain(const char *msg, char *buf, size_t len);
/*
 * ctl_config_policy - -c CONFIG (else the default one when it exists, else
 * the defaults) and its SoftBounceLimit, SoftBounceWindow and
 * ComplaintSuppress; message on stderr; config_free() *cfg
 */
int ctl_config_policy(const struct ctl_opts *o, struct bd_config **cfg,
    struct state_policy *pol);
bool ctl_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
bool ctl_parse_date(const char *s, int64_t now, int64_t *out);
bool ctl_opt_since(const char *arg, int64_t now, int64_t *out);
const char *ctl_default_by(char *buf, size_t len);
char *ctl_trim(char *s);
FILE *ctl_open_input(const char *path);
void ctl_close_input(FILE *fp);
ssize_t ctl_read_line(FILE *fp, char **line, size_t *cap);

int ctl_status(const struct ctl_opts *o, int argc, char **argv);
int ctl_list(const struct ctl_opts *o, int argc, char **argv);
int ctl_suppress(const struct ctl_opts *o, int argc, char **argv);
int ctl_unsuppress(const struct ctl_opts *o, int argc, char **argv);
int ctl_history(const struct ctl_opts *o, int argc, char **argv);
int ctl_stats(const struct ctl_opts *o, int argc, char **argv);
int ctl_export(const struct ctl_opts *o, int argc, char **argv);
int ctl_import(const struct ctl_opts *o, int argc, char **argv);
int ctl_prune(const struct ctl_opts *o, int argc, char **argv);
int ctl_expire(const struct ctl_opts *o, int argc, char **argv);
/* ctl_events.c: every event and state change, by cursor (JSON Lines) */
int ctl_events(const struct ctl_opts *o, int argc, char **argv);
/* ctl_hook.c: hand an event line to EventHook (exec:COMMAND or a URL) */
struct ctl_hook;
struct ctl_hook_meta {
	int64_t		 cursor;
	const char	*type;		/* "event", "state" */
	const char	*recipient;
};
struct ctl_hook *ctl_hook_new(const char *target);
void ctl_hook_free(struct ctl_hook *h);
bool ctl_hook_deliver(struct ctl_hook *h, const char *line, size_t len,
    const struct ctl_hook_meta *m, char *why, size_t whylen);
/* ctl_metrics.c: the database's metrics, Prometheus text format */
int ctl_metrics(const struct ctl_opts *o, int argc, char **argv);
/* ctl_backup.c: SQLite's online backup of the live database */
int ctl_backup(const struct ctl_opts *o, int argc, char **argv);
/* ctl_migrate.c: copy the database into a new one (PostgreSQL) */
int ctl_migrate(const struct ctl_opts *o, int argc, char **argv);
/* ctl_rebuild.c: replay every state under the current policy */
int ctl_rebuild(const struct ctl_opts *o, int argc, char **argv);

/* ctl_progress.c: progress of long work on a terminal (stderr) */
struct ctl_progress {
	bool		 on;		/* stderr is a terminal */
	bool		 shown;		/* a line is on screen */
	int64_t		 last_ms;
};
void ctl_progress_init(struct ctl_progress *p);
void ctl_progress_show(struct ctl_progress *p, bool force, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));
void ctl_progress_done(struct ctl_progress *p);

/* ctl_gz.c: compressed mail logs (gzip read, others refused) */
struct ctl_gz;
const char *ctl_compression(const char *path);
struct ctl_gz *ctl_gz_open(const char *path);
int ctl_gz_progress(const struct ctl_gz *g);
const char *ctl_gz_close(struct ctl_gz *g);

/* ctl_maillog.c: the MTA log */
int ctl_ingest_log(const struct ctl_opts *o, int argc, char **argv);
int ctl_follow_log(const struct ctl_opts *o, int argc, char **argv);

#endif
