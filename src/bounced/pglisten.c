/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * pglisten.c - a fleet's shared suppressions at RCPT TO, within a second.
 *
 * On PostgreSQL every relay of a fleet records into one database, but
 * each keeps its own RCPT TO cache (rcache.c, answers kept for seconds).
 * The schema's trigger on recipients (store_schema.c) sends NOTIFY
 * bounced_state with the address at each commit that changes a state;
 * this thread LISTENs on a connection of its own and drops that address
 * from the cache, so a suppression recorded by relay A is enforced by
 * relay B's next lookup, a few milliseconds later.
 *
 * A lost connection may have lost notifications: the whole cache is
 * dropped, and again every second until the listener is back, so that
 * no answer outlives a change by more than a second meanwhile (the
 * lookups then ask the database, or pass mail when it is down: rcache.c).
 * One WARNING when it is lost, one INFO when it is back.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bounced/milter.h"
#include "bounced/pglisten.h"
#include "log/log.h"
#include "store/db.h"

#define PGLISTEN_CHANNEL	"bounced_state"	/* store_schema.c */
#define PGLISTEN_TICK_MS	1000	/* the longest a lost change lives */

static struct {
	pthread_t	 tid;
	bool		 running;
	char		*target;
	char		 shown[1024];	/* target without a password */
	bool		 stop;		/* __atomic */
} l;

static void
forget(void *arg, const char *addr)
{
	(void)arg;
	if (addr[0] != '\0')
		milter_cache_forget(addr);
}

/* A connection that listens, or NULL (err says why). */
static struct db *
connect_listener(char *err, size_t errlen)
{
	struct db	*db = NULL;

	if (db_open(l.target, DB_RDONLY, 1000, &db, err, errlen) != BD_OK)
		return NULL;
	if (db_listen(db, PGLISTEN_CHANNEL) != BD_OK) {
		snprintf(err, errlen, "LISTEN: %s", db_errmsg(db));
		db_close(db);
		return NULL;
	}
	return db;
}

static void *
listener_main(void *arg)
{
	struct db	*db = NULL;
	struct pollfd	 pfd;
	char		 err[512], san[LOG_SANITIZE_BUF];
	bool		 lost = false;

	(void)arg;
	while (!__atomic_load_n(&l.stop, __ATOMIC_ACQUIRE)) {
		if (db == NULL && (db = connect_listener(err,
		    sizeof(err))) == NULL) {
			if (!lost)
				log_warn("database %s: no notifications of "
				    "other relays' changes (%s); RCPT TO "
				    "answers are kept 1 s at most until they "
				    "are back", l.shown,
				    log_sanitize(err, san, sizeof(san)));
			lost = true;
			milter_cache_forget(NULL);
			(void)poll(NULL, 0, PGLISTEN_TICK_MS);
			continue;
		}
		if (lost) {
			/* what changed while we were deaf */
			milter_cache_forget(NULL);
			log_info("database %s: notifications of other relays' "
			    "changes are back", l.shown);
			lost = false;
		}
		pfd.fd = db_socket(db);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, PGLISTEN_TICK_MS) == -1 && errno != EINTR)
			continue;
		if (db_notifications(db, forget, NULL) < 0) {
			db_close(db);
			db = NULL;
		}
	}
	db_close(db);
	return NULL;
}

/*
 * pglisten_start - hear other relays' changes on a PostgreSQL database
 *
 * Arguments: target, the Database value (copied).
 * Notes: after milter_init() (the cache) and the fork of -b; a failure
 * to start is a warning: answers then live their time to live.
 */
void
pglisten_start(const char *target)
{
	int	 e;

	if (l.running || (l.target = strdup(target)) == NULL)
		return;
	db_target_redact(target, l.shown, sizeof(l.shown));
	__atomic_store_n(&l.stop, false, __ATOMIC_RELEASE);
	if ((e = pthread_create(&l.tid, NULL, listener_main, NULL)) != 0) {
		log_warn("database %s: cannot start the notification "
		    "listener: %s", l.shown, strerror(e));
		free(l.target);
		l.target = NULL;
		return;
	}
	l.running = true;
}

/* pglisten_stop - stop the thread (within PGLISTEN_TICK_MS) */
void
pglisten_stop(void)
{
	if (!l.running)
		return;
	__atomic_store_n(&l.stop, true, __ATOMIC_RELEASE);
	(void)pthread_join(l.tid, NULL);
	l.running = false;
	free(l.target);
	l.target = NULL;
}
