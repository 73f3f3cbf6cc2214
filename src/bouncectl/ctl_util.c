/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2025 The bounced authors.
 *
 * ctl_util.c - small pieces the bouncectl(8) store subcommands share:
 * numbers and dates of options (--since, --limit), who runs the command
 * (--by), input files read line by line with a bound, the message for a
 * store failure, and the config and suppression policy of the commands
 * that record or replay events (ingest-log, follow-log, rebuild).
 *
 * Dates are UTC: "YYYY-MM-DD[(T| )HH:MM[:SS]][Z]" (ISO 8601 / RFC 3339
 * section 5.6, without offsets), "@EPOCH" or "Nd" (N days ago); the
 * civil-date arithmetic is proleptic Gregorian, so no gmtime/timegm and
 * no TZ.  Nothing here touches the store or writes to stdout.
 */
#include <sys/file.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "conf/conf.h"
#include "bouncectl/ctl_int.h"

/* The database of this run, for the words of a failure (ctl.c sets it). */
static const char	*ctl_db;

/* ctl_set_db_path - the database path that failures are about */
void
ctl_set_db_path(const char *path)
{
	ctl_db = path;
}

/*
 * The pid of the bounced that holds DATABASE.lock (see bounced(8)), or 0
 * when none runs on this database.
 */
static long
bounced_holder(void)
{
	char	 path[PATH_MAX + 8], line[32];
	ssize_t	 n;
	long	 pid = 0;
	int	 fd;

	if (ctl_db == NULL)
		return 0;
	snprintf(path, sizeof(path), "%s.lock", ctl_db);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB) == -1 && errno == EWOULDBLOCK &&
	    (n = pread(fd, line, sizeof(line) - 1, 0)) > 0) {
		line[n] = '\0';
		pid = strtol(line, NULL, 10);
	}
	close(fd);
	return pid;
}

/*
 * ctl_explain - what an SQLite failure means to the operator, and what
 * to do; NULL when there is nothing to add to the text
 *
 * Arguments: msg, store_errmsg() or store_open()'s text; buf/len room.
 */
const char *
ctl_explain(const char *msg, char *buf, size_t len)
{
	const char	*db = ctl_db != NULL ? ctl_db : "the database";
	long		 pid;

	if (strstr(msg, "database is locked") != NULL ||
	    strstr(msg, "database table is locked") != NULL) {
		pid = bounced_holder();
		snprintf(buf, len, "another bouncectl or bounced holds the "
		    "database's write lock; try again, or wait longer with "
		    "--wait SECONDS");
		if (pid > 0)
			snprintf(buf, len, "another bouncectl or bounced holds "
			    "the database's write lock (bounced pid %ld runs on "
			    "it); try again, or wait longer with --wait SECONDS",
			    pid);
		return buf;
	}
	if (strstr(msg, "readonly database") != NULL) {
		snprintf(buf, len, "%s cannot be written by this user (uid %u):"
		    " run bouncectl as bounced's user or with sudo, and check "
		    "that the file, its -wal and -shm files and its folder are "
		    "writable", db, (unsigned)geteuid());
		return buf;
	}
	if (strstr(msg, "unable to open database file") != NULL) {
		snprintf(buf, len, "%s cannot be opened: its folder must exist "
		    "and be writable for the -wal and -shm files (uid %u)", db,
		    (unsigned)geteuid());
		return buf;
	}
	if (strstr(msg, "disk I/O error") != NULL) {
		snprintf(buf, len, "the system refused a read or write of %s "
		    "or its -wal/-shm files: a full or failing disk, or files "
		    "owned by another user (ls -l %s*)", db, db);
		return buf;
	}
	if (strstr(msg, "database or disk is full") != NULL) {
		snprintf(buf, len, "the disk that holds %s is full (df)", db);
		return buf;
	}
	if (strstr(msg, "file is not a database") != NULL) {
		snprintf(buf, len, "%s is not an SQLite database: --db or the "
		    "config's Database names another file", db);
		return buf;
	}
	if (strstr(msg, "malformed") != NULL) {
		snprintf(buf, len, "%s is damaged: restore a backup "
		    "(bouncectl backup makes them)", db);
		return buf;
	}
	return NULL;
}

/*
 * ctl_store_fail - report a store failure
 *
 * Arguments: s; what, the command or argument it concerns.
 * Returns CTL_EXIT_ERROR, after "bouncectl: WHAT: REASON" on stderr,
 * and a line saying what it means and what to do when SQLite's text is
 * one an operator should not have to decode.
 */
int
ctl_store_fail(struct store *s, const char *what)
{
	char		 hint[512];
	const char	*h = ctl_explain(store_errmsg(s), hint, sizeof(hint));

	fprintf(stderr, "bouncectl: %s: %s\n", what, store_errmsg(s));
	if (h != NULL)
		fprintf(stderr, "bouncectl: %s\n", h);
	return CTL_EXIT_ERROR;
}

/*
 * ctl_config_policy - the config and suppression policy of a command
 * that records or replays events
 *
 * Arguments: o, the global options; *cfg receives the snapshot (the
 * caller config_free()s it); *pol receives SoftBounceLimit,
 * SoftBounceWindow, ComplaintSuppress and HandOffRelays (borrowed from
 * *cfg: keep it while pol is used).
 * Returns CTL_EXIT_OK, or CTL_EXIT_ERROR after a message on stderr.
 * Notes: the config is -c, else the default one when it exists (also
 * with --db: its keys apply to that database too); without one, the defaults of every key of
 * bounced.conf(5) (3 sends in 30 days; abuse and opt-out complaints
 * suppress) and the built-in rules.
 */
int
ctl_config_policy(const struct ctl_opts *o, struct bd_config **cfg,
    struct state_policy *pol)
{
	const char	*cpath = o->config_path;
	char		 err[512];
	enum bd_status	 st;

	*cfg = NULL;
	memset(pol, 0, sizeof(*pol));
	if (cpath == NULL && access(config_default_path(), F_OK) == 0)
		cpath = config_default_path();
	err[0] = '\0';
	/* NULL: the defaults of every key, and the built-in rules */
	if ((st = config_load(cpath, cfg, err, sizeof(err))) != BD_OK) {
		fprintf(stderr, "bouncectl: %s\n", err[0] ? err :
		    bd_strerror(st));
		*cfg = NULL;
		return CTL_EXIT_ERROR;
	}
	config_policy(*cfg, pol);
	addr_set_local_case((*cfg)->local_part_case);
	return CTL_EXIT_OK;
}

/*
 * ctl_parse_i64 - a whole decimal number in [min, max]
 *
 * Arguments: s (NULL or "" is refused); min/max; *out receives it.
 * Returns true, or false (out untouched) on anything else.
 */
bool
ctl_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char		*end;
	long long	 v;

	if (s == NULL || *s == '\0')
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* "Nd": N days before now. */
static bool
days_ago(const char *s, size_t len, int64_t now, int64_t *out)
{
	char	 num[8];
	int64_t	 v;

	if (len < 2 || len >= sizeof(num) || s[len - 1] != 'd')
		return false;
	memcpy(num, s, len - 1);
	num[len - 1] = '\0';
	if (!ctl_parse_i64(num, 0, 100000, &v))
		return false;
	*out = now - v * 86400;
	return true;
}

/*
 * ctl_parse_date - a date of an option or an imported record
 *
 * Arguments: s, "YYYY-MM-DD[(T| )HH:MM[:SS]][Z]" in UTC (RFC 3339's
 * date and time without a zone, or with Z), "@EPOCH" or "Nd" (N days
 * before now); now; *out receives seconds since the epoch.
 * Returns true, or false on anything else (years before 1970, another
 * zone than Z too: the page promises UTC).
 * Notes: the calendar and the checks are GLib's ISO 8601 parser
 * (g_date_time_new_from_iso8601()); the forms it takes beyond ours
 * (week dates, ordinal days, basic format, fractions) are refused first.
 */
bool
ctl_parse_date(const char *s, int64_t now, int64_t *out)
{
	GTimeZone	*utc;
	GDateTime	*dt;
	char		 iso[32];
	size_t		 n = strlen(s);

	if (s[0] == '@')
		return ctl_parse_i64(s + 1, 0, INT64_MAX / 2, out);
	if (days_ago(s, n, now, out))
		return true;
	/* ours: 10 (date), 16 (+ hh:mm), 19 (+ :ss), each with a Z or not */
	if (n > 0 && s[n - 1] == 'Z')
		n--;
	if ((n != 10 && n != 16 && n != 19) || strspn(s, "0123456789-:T ") <
	    n || s[4] != '-' || s[7] != '-' || (n > 10 && s[10] != 'T' &&
	    s[10] != ' ') || (n > 10 && s[13] != ':') || (n > 16 &&
	    s[16] != ':'))
		return false;
	/* GLib's form: the date, T, hh:mm:ss (no Z: the zone is UTC) */
	(void)snprintf(iso, sizeof(iso), "%.10sT%.*s%s", s,
	    n > 10 ? (int)(n - 11) : 5, n > 10 ? s + 11 : "00:00",
	    n == 19 ? "" : ":00");
	utc = g_time_zone_new_utc();
	dt = g_date_time_new_from_iso8601(iso, utc);
	g_time_zone_unref(utc);
	if (dt == NULL)
		return false;
	*out = g_date_time_to_unix(dt);
	g_date_time_unref(dt);
	return *out >= 0;
}

/*
 * ctl_opt_since - the argument of --since
 *
 * Arguments: arg; now; *out.
 * Returns true, or false after a message on stderr.
 */
bool
ctl_opt_since(const char *arg, int64_t now, int64_t *out)
{
	if (ctl_parse_date(arg, now, out))
		return true;
	fprintf(stderr, "bouncectl: --since: bad date \"%s\" "
	    "(YYYY-MM-DD[THH:MM[:SS]], @EPOCH or Nd)\n", arg);
	return false;
}

/*
 * ctl_default_by - who runs the command, for --by's default
 *
 * Arguments: buf/len, room for the name.
 * Returns $SUDO_USER, else the user name of the real uid (in buf), else
 * "uid N" (in buf).
 */
const char *
ctl_default_by(char *buf, size_t len)
{
	const char	*u;
	struct passwd	 pw, *res = NULL;
	char		 pwbuf[1024];

	if ((u = getenv("SUDO_USER")) != NULL && *u != '\0')
		return u;
	if (getpwuid_r(getuid(), &pw, pwbuf, sizeof(pwbuf), &res) == 0 &&
	    res != NULL) {
		snprintf(buf, len, "%s", pw.pw_name);
		return buf;
	}
	snprintf(buf, len, "uid %u", (unsigned)getuid());
	return buf;
}

/*
 * ctl_trim - strip surrounding white space, in place
 *
 * Returns s past its leading white space, its trailing one cut off.
 */
char *
ctl_trim(char *s)
{
	size_t	 n;

	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/*
 * ctl_open_input - open FILE, or standard input for "-"
 *
 * Returns the stream, or NULL after a message on stderr.  Close it with
 * ctl_close_input().
 */
FILE *
ctl_open_input(const char *path)
{
	FILE	*fp;

	if (strcmp(path, "-") == 0)
		return stdin;
	if ((fp = fopen(path, "r")) == NULL)
		fprintf(stderr, "bouncectl: %s: %s\n", path, strerror(errno));
	return fp;
}

/* ctl_close_input - close what ctl_open_input() opened (NULL is fine) */
void
ctl_close_input(FILE *fp)
{
	if (fp != NULL && fp != stdin)
		fclose(fp);
}

/*
 * ctl_read_line - one line of an input file
 *
 * Arguments: fp; line and cap, a getline() buffer (the caller frees it).
 * Returns the length of the line without its CR/LF; -1 at the end (or
 * on a read error: see ferror()); -2 for a line longer than
 * CTL_LINE_MAX or holding a NUL byte (the caller reports and skips it).
 */
ssize_t
ctl_read_line(FILE *fp, char **line, size_t *cap)
{
	ssize_t	 n;

	if ((n = getline(line, cap, fp)) < 0)
		return -1;
	if (n > CTL_LINE_MAX || strlen(*line) != (size_t)n)
		return -2;
	while (n > 0 && ((*line)[n - 1] == '\n' || (*line)[n - 1] == '\r'))
		(*line)[--n] = '\0';
	return n;
}
