/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * main.c - bounced(8): argument parsing and the startup order.
 *
 * The order (STYLE.md 3.10): argv, config (-n stops here), log_open,
 * the socket's folder, privileges (never run as root), store, milter
 * socket, background (-b, before any thread), PID file, signal thread
 * (reload on SIGUSR1, periodic duties every 5 minutes), READY=1,
 * smfi_main().  Everything that can fail before smfi_main() is
 * fatal with a sysexits(3) code; nothing here touches mail.
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

#include "config.h"
#include "daemon.h"
#include "dsn.h"
#include "log.h"
#include "maint.h"
#include "milter.h"
#include "store.h"

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
static struct store	*store;		/* tick_lock; NULL: closed */
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

/* SIGUSR1: build a new snapshot; on failure the running one stays. */
static void
reload(void)
{
	struct bd_config	*cur, *nc;
	char			 err[1024], fixed[512];

	if (config_load(conf_path, &nc, err, sizeof(err)) != BD_OK) {
		log_err("reload failed, the running configuration stays: %s",
		    err);
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
}

/* Every MAINT_PERIOD seconds, in the signal thread: expiry and alerts. */
static void
tick(void)
{
	struct bd_config	*c = milter_current_config();

	pthread_mutex_lock(&tick_lock);	/* not while main() closes it */
	maint_run(maint, store, c, (int64_t)time(NULL), NULL);
	pthread_mutex_unlock(&tick_lock);
	config_unref(c);
}

static void
load_or_die(bool check, struct bd_config **c)
{
	char	 err[1024];

	if (config_load(conf_path, c, err, sizeof(err)) != BD_OK) {
		fprintf(stderr, "bounced: %s\n", err);
		exit(EX_CONFIG);
	}
	if (check && (*c)->warnings != NULL)
		fprintf(stderr, "bounced: warning: %s\n", (*c)->warnings);
}

int
main(int argc, char *argv[])
{
	struct bd_config	*c;
	struct store		*lst;
	const char		*path = NULL;
	char			 err[1024];
	bool			 check = false, fg = false, bg = false;
	int			 ch, rc;

	while ((ch = getopt(argc, argv, "bc:fhnvV")) != -1) {
		switch (ch) {
		case 'b':	bg = true;		break;
		case 'c':	path = optarg;		break;
		case 'f':	fg = true;		break;
		case 'n':	check = true;		break;
		case 'v':	opt_verbose = true;	break;
		case 'V':
			printf("bounced %s\n", BD_VERSION);
			return EX_OK;
		case 'h':
			usage(stdout);
			return EX_OK;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc || (fg && bg)) {
		usage(stderr);
		return EX_USAGE;
	}
	if (path == NULL)
		path = config_default_path();
	/* -b changes to /: keep the file reachable for SIGUSR1. */
	if (realpath(path, conf_path) == NULL) {
		fprintf(stderr, "bounced: %s: %s\n", path, strerror(errno));
		return EX_CONFIG;
	}
	load_or_die(check, &c);
	if (check) {
		if (opt_verbose)
			config_print(c, stdout, false);
		config_free(c);
		return EX_OK;
	}

	log_open("bounced", config_facility(c->syslog_facility),
	    fg || !c->syslog || (!bg && isatty(STDERR_FILENO)));
	log_set_debug(c->log_debug || opt_verbose);
	log_warnings(c);
	daemon_socket_dir(c->socket, c->user);
	if (geteuid() == 0)
		daemon_drop_privileges(c->user);
	if (geteuid() == 0 || getuid() == 0)
		log_fatal(EX_CONFIG, "refusing to run as root");
	if (store_open(c->database, 0, (int)c->busy_timeout, &store, err,
	    sizeof(err)) != BD_OK)
		log_fatal(EX_CANTCREAT, "Database %s: %s", c->database, err);
	if (store_open(c->database, STORE_RDONLY, LOOKUP_BUSY_MS, &lst, err,
	    sizeof(err)) != BD_OK)
		log_warn("Database %s: no read-only handle for recipient "
		    "lookups (%s); they share the main one", c->database, err);
	/* Postfix reaches the socket through the group (STYLE.md 3.13). */
	(void)umask(0007);
	if (milter_register() != BD_OK)
		log_fatal(EX_SOFTWARE, "smfi_register failed");
	if (milter_listen(c->socket, err, sizeof(err)) != BD_OK)
		log_fatal(EX_UNAVAILABLE, "Socket %s: %s", c->socket, err);
	if (bg)
		daemon_background();
	daemon_pidfile_write(c->pid_file);
	dsn_init();
	milter_init(config_ref(c), store);
	milter_set_lookup_store(lst);
	daemon_block_signals();
	if (maint_new(&maint) != BD_OK)
		log_fatal(EX_OSERR, "out of memory");
	daemon_signal_thread(reload, tick, MAINT_PERIOD);
	log_info("starting bounced %s: socket=%s database=%s rules=%zu "
	    "from %s action=%s", BD_VERSION, c->socket, c->database,
	    rules_count(c->rules), rules_name(c->rules),
	    c->bounce_action == BOUNCE_DISCARD ? "discard" :
	    c->bounce_action == BOUNCE_HEADERS ? "headers" : "continue");
	daemon_notify("READY=1");

	rc = milter_run();

	daemon_notify("STOPPING=1");
	milter_fini();
	store_close(lst);
	pthread_mutex_lock(&tick_lock);
	store_close(store);
	store = NULL;
	pthread_mutex_unlock(&tick_lock);
	daemon_pidfile_remove(c->pid_file);
	log_info("stopped%s", rc == 0 ? "" : " after an error");
	config_unref(c);
	dsn_shutdown();
	return rc == 0 ? EX_OK : EX_SOFTWARE;
}
