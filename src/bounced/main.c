/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * main.c - bounced(8): argument parsing and the startup order.
 *
 * The order (STYLE.md 3.10, but for the database): argv, config (-n
 * checks what a start needs, preflight.c, and stops here), log_open, the
 * socket's folder, privileges (never run as root), umask, the instance
 * lock (preflight.c), milter socket, background (-b, before any thread), PID
 * file, signal mask, database (dbpool.c: after the fork, as SQLite's
 * locks are not inherited; never fatal), signal thread (reload on
 * SIGUSR1, periodic duties every 5 minutes), READY=1, smfi_main().
 * Everything else that can fail before smfi_main() is fatal with a
 * sysexits(3) code; nothing here touches mail.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#include "bounced/daemon.h"
#include "bounced/dbpool.h"
#include "parse/dsn.h"
#include "log/log.h"
#include "bounced/maint.h"
#include "bounced/metrics.h"
#include "bounced/milter.h"
#include "bounced/pglisten.h"
#include "bounced/preflight.h"
#include "store/db.h"
#include "store/store.h"

#ifndef BD_VERSION
#define BD_VERSION	"unknown"
#endif

/*
 * RCPT TO lookups use a read-only handle of their own, so they never wait
 * for the writers' lock; in WAL mode a reader is not blocked by writers,
 * and this bounds the rare wait (WAL recovery) well below SMTP timeouts.
 */
#define LOOKUP_BUSY_MS	100

static char		 conf_path[PATH_MAX];
static bool		 opt_verbose;
static struct maint	*maint;		/* the signal thread's only */
static bool		 db_closed;	/* tick_lock: after dbpool_stop() */
static pthread_mutex_t	 tick_lock = PTHREAD_MUTEX_INITIALIZER;

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: bounced [-bfhnvV] [-c file]\n"
	    "  -c file  configuration (default %s)\n"
	    "  -n       check the configuration and exit (-v: print the "
	    "non-default values)\n"
	    "  -f       stay in the foreground, log to stderr\n"
	    "  -b       run in the background (fork, setsid, PidFile)\n"
	    "  -v       debug logging\n"
	    "  -V       print the version\n  -h       this help\n",
	    config_default_path());
}

static void
log_warnings(const struct bd_config *c)
{
	const char	*p, *e;

	for (p = c->warnings; p != NULL && *p != '\0'; p = *e ? e + 1 : e) {
		e = p + strcspn(p, "\n");
		log_warn("%.*s", (int)(e - p), p);
	}
}

/*
 * The states follow the policy: a changed SoftBounceLimit, Window or
 * ComplaintSuppress (or a schema that asks for it) folds every address
 * again, so a lowered limit applies to the addresses already counted.
 * At start, on reload, and at every tick (the database may open late);
 * a tick with the same policy only compares it.
 */
static void
sync_policy(const struct bd_config *c)
{
	struct state_policy	 pol;
	struct store		*st;
	char			 text[256];
	bool			 rebuilt = false;

	config_policy(c, &pol);
	store_policy_text(&pol, text, sizeof(text));
	pthread_mutex_lock(&tick_lock);
	st = db_closed ? NULL : dbpool_main();
	if (st != NULL && store_policy_sync(st, &pol, &rebuilt) != BD_OK)
		log_err("policy %s: states not refolded: %s", text,
		    store_errmsg(st));
	else if (rebuilt)
		log_info("policy %s: every state folded again", text);
	pthread_mutex_unlock(&tick_lock);
}

/* SIGUSR1: build a new snapshot; on failure the running one stays. */
static void
reload(void)
{
	struct bd_config	*cur, *nc;
	char			 err[1024], fixed[512];

	if (config_load(conf_path, &nc, err, sizeof(err)) != BD_OK ||
	    config_load_key(nc, err, sizeof(err)) != BD_OK) {
		log_err("reload failed, the running configuration stays: %s",
		    err);
		config_free(nc);
		return;
	}
	cur = milter_current_config();
	config_fixed_changed(cur, nc, fixed, sizeof(fixed));
	if (fixed[0] != '\0')
		log_warn("reload: %s changed; the running value stays "
		    "until a restart", fixed);
	config_unref(cur);
	log_warnings(nc);
	log_set_debug(nc->log_debug || opt_verbose);
	log_info("reloaded %s: rules=%zu from %s", conf_path,
	    rules_count(nc->rules), rules_name(nc->rules));
	milter_swap_config(nc);
	sync_policy(nc);
}

/* Every MAINT_PERIOD seconds, in the signal thread: expiry and alerts. */
static void
tick(void)
{
	struct bd_config	*c = milter_current_config();

	sync_policy(c);
	pthread_mutex_lock(&tick_lock);	/* not while main() closes it */
	if (!db_closed)		/* NULL while not open: nothing done */
		maint_run(maint, dbpool_main(), c, (int64_t)time(NULL), NULL);
	pthread_mutex_unlock(&tick_lock);
	config_unref(c);
}

struct opts {
	const char	*path;		/* -c, or NULL: the default */
	bool		 check;		/* -n */
	bool		 fg;		/* -f */
	bool		 bg;		/* -b */
};

/* Step 1: argv.  -h, -V and mistakes end the process here. */
static void
parse_args(int argc, char *argv[], struct opts *o)
{
	int	 ch;

	memset(o, 0, sizeof(*o));
	while ((ch = getopt(argc, argv, "bc:fhnvV")) != -1) {
		switch (ch) {
		case 'b':	o->bg = true;		break;
		case 'c':	o->path = optarg;	break;
		case 'f':	o->fg = true;		break;
		case 'n':	o->check = true;	break;
		case 'v':	opt_verbose = true;	break;
		case 'V':
			printf("bounced %s\n", BD_VERSION);
			exit(EX_OK);
		case 'h':
			usage(stdout);
			exit(EX_OK);
		default:
			usage(stderr);
			exit(EX_USAGE);
		}
	}
	if (optind != argc || (o->fg && o->bg)) {
		usage(stderr);
		exit(EX_USAGE);
	}
	if (o->path == NULL)
		o->path = config_default_path();
}

/* Step 2: the configuration; -n stops here.  Errors go to stderr. */
static struct bd_config *
load_or_die(const struct opts *o)
{
	struct bd_config	*c;
	char			 err[1024];

	/* -b changes to /: keep the file reachable for SIGUSR1. */
	if (realpath(o->path, conf_path) == NULL) {
		fprintf(stderr, "bounced: %s: %s\n", o->path, strerror(errno));
		exit(EX_CONFIG);
	}
	/* The key as root, before privileges are dropped; a reload reads
	 * it as UserID (bounced.conf(5), SignKeyFile). */
	if (config_load(conf_path, &c, err, sizeof(err)) != BD_OK ||
	    config_load_key(c, err, sizeof(err)) != BD_OK) {
		fprintf(stderr, "bounced: %s\n", err);
		exit(EX_CONFIG);
	}
	/* the address key: not reloadable, set before any thread */
	addr_set_local_case(c->local_part_case);
	if (!o->check)
		return c;
	if (c->warnings != NULL)
		fprintf(stderr, "bounced: warning: %s\n", c->warnings);
	if (opt_verbose)
		config_print(c, stdout, false);
	/* what the start needs, checked as the user it will run as */
	if (preflight_check(c, stderr) > 0) {
		config_free(c);
		exit(EX_CONFIG);
	}
	config_free(c);
	exit(EX_OK);
}

/*
 * Steps 4 to 7: the unprivileged user (never root), the file mode
 * creation mask, the milter socket.  The database is opened later, by
 * the process that uses it (after the fork of -b).
 */
static void
prepare(const struct bd_config *c)
{
	char	 err[1024];

	daemon_socket_dir(c->socket, c->user);
	if (geteuid() == 0)
		daemon_drop_privileges(c->user);
	if (geteuid() == 0 || getuid() == 0)
		log_fatal(EX_CONFIG, "refusing to run as root");
	/*
	 * Every file but the socket (the instance locks, the database, its
	 * -wal and -shm, the PID file) is ours and the group's to read at
	 * most: the database holds addresses.
	 */
	(void)umask(0027);
	/* one instance per database and socket: the live one is untouched */
	if (!instance_lock(c, err, sizeof(err)))
		log_fatal(EX_UNAVAILABLE, "%s", err);
	/* Postfix reaches the socket through the group (STYLE.md 3.13). */
	(void)umask(0007);
	if (milter_register() != BD_OK)
		log_fatal(EX_SOFTWARE, "smfi_register failed");
	if (milter_listen(c->socket, err, sizeof(err)) != BD_OK)
		log_fatal(EX_UNAVAILABLE, "Socket %s: %s", c->socket, err);
	(void)umask(0027);
}

/*
 * Step 9: the signal mask (before any thread), the database, the shared
 * state, then the signal thread.
 */
static void
start(struct bd_config *c)
{
	char	 shown[1024];

	dsn_init();
	daemon_block_signals();
	milter_init(config_ref(c), NULL);	/* connections: dbpool.c */
	(void)dbpool_start(c->database, (int)c->busy_timeout, LOOKUP_BUSY_MS,
	    c->on_error == ON_ERROR_TEMPFAIL);
	/* a fleet on PostgreSQL: other relays' changes reach our cache */
	if (db_target_kind(c->database) == DB_POSTGRES)
		pglisten_start(c->database);
	if (maint_new(&maint) != BD_OK)
		log_fatal(EX_OSERR, "out of memory");
	sync_policy(c);
	daemon_signal_thread(reload, tick, MAINT_PERIOD);
	metrics_start(c);	/* MetricsFile: a thread of its own */
	db_target_redact(c->database, shown, sizeof(shown));
	log_info("starting bounced %s: socket=%s database=%s%s rules=%zu "
	    "from %s action=%s", BD_VERSION, c->socket, shown,
	    dbpool_ready() ? "" : " (not open yet)",
	    rules_count(c->rules), rules_name(c->rules),
	    c->bounce_action == BOUNCE_DISCARD ? "discard" :
	    c->bounce_action == BOUNCE_HEADERS ? "headers" : "continue");
	daemon_notify("READY=1");
}

/* After smfi_main(): close in the reverse order. */
static void
stop(struct bd_config *c, int rc)
{
	daemon_notify("STOPPING=1");
	pglisten_stop();
	milter_fini();
	pthread_mutex_lock(&tick_lock);
	dbpool_stop();
	db_closed = true;
	pthread_mutex_unlock(&tick_lock);
	daemon_pidfile_remove(c->pid_file);
	log_info("stopped%s", rc == 0 ? "" : " after an error");
	config_unref(c);
	dsn_shutdown();
}

/*
 * The numbers are the steps of STYLE.md 3.10; anything that fails before
 * milter_run() ends the process with a sysexits(3) code.
 */
int
main(int argc, char *argv[])
{
	struct opts		 o;
	struct bd_config	*c;
	int			 rc;

	parse_args(argc, argv, &o);			/* 1 */
	c = load_or_die(&o);				/* 2 */
	log_open("bounced", config_facility(c->syslog_facility),
	    o.fg || !c->syslog || (!o.bg && isatty(STDERR_FILENO)));
	log_set_debug(c->log_debug || opt_verbose);	/* 3 */
	log_warnings(c);
	prepare(c);					/* 4 to 7 */
	if (o.bg)
		daemon_background();			/* 8 */
	daemon_pidfile_write(c->pid_file);
	start(c);					/* 9 */
	rc = milter_run();				/* 10 */
	stop(c, rc);
	return rc == 0 ? EX_OK : EX_SOFTWARE;
}
