/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * engine_pool.c - the milter engine's socket and workers (the protocol
 * of one connection is engine.c's; see its header for why an engine of
 * our own): smfi_setconn(), smfi_opensocket(), smfi_main(), smfi_stop().
 *
 * Worker threads wait in accept(2) on the listening socket; each serves
 * one connection at a time to its end.  A worker that takes a connection
 * when no other is waiting starts one more (up to ENGINE_MAX_WORKERS);
 * one that finds ENGINE_IDLE_KEEP others waiting when its connection
 * ends, leaves.  So a steady load reuses the same threads, and a burst
 * grows the pool as libmilter's thread per connection would.
 */
#define _GNU_SOURCE	/* accept4(2) */

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>

#include "bounced/engine.h"

#define ENGINE_MAX_WORKERS	4096	/* connections served at once */
#define ENGINE_IDLE_KEEP	16	/* waiting workers kept */
#define ENGINE_FIRST_WORKERS	4
#define ENGINE_STOP_WAIT_S	30	/* for sessions, at smfi_main's end */

/* A connection being served, so that smfi_main can end it at a stop. */
struct session {
	int		 fd;
	struct session	*next, **prevp;
};

static char		*g_conn;
static int		 g_listen = -1;
static char		*g_unix_path;	/* to unlink at the end */
static int		 g_backlog = SOMAXCONN;

static pthread_mutex_t	 g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 g_gone = PTHREAD_COND_INITIALIZER;
static unsigned		 g_workers, g_waiting;
static bool		 g_stopping;
static struct session	*g_sessions;
static pthread_t	 g_main;
static bool		 g_main_set;

/* ---- the socket ---- */

static int
listen_unix(const char *path, bool rmsocket)
{
	struct sockaddr_un	 su;
	int			 fd;

	memset(&su, 0, sizeof(su));
	su.sun_family = AF_UNIX;
	if (*path == '\0' || strlen(path) >= sizeof(su.sun_path))
		return -1;
	memcpy(su.sun_path, path, strlen(path));
	if (rmsocket) {
		struct stat	 st;

		/* only a socket: never a file the path names by mistake */
		if (lstat(path, &st) == 0 && (!S_ISSOCK(st.st_mode) ||
		    unlink(path) != 0))
			return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&su, sizeof(su)) != 0) {
		(void)close(fd);
		return -1;
	}
	if ((g_unix_path = strdup(path)) == NULL) {
		(void)close(fd);
		(void)unlink(path);
		return -1;
	}
	return fd;
}

/*
 * "inet:PORT[@HOST]" or "inet6:PORT[@HOST]": PORT a number or service,
 * HOST a name or an address (in brackets or not); none: all addresses.
 */
static int
listen_inet(const char *spec, int family)
{
	struct addrinfo	 hints, *ai = NULL;
	char		 port[64], host[256];
	const char	*at = strchr(spec, '@');
	size_t		 plen = at ? (size_t)(at - spec) : strlen(spec), hl;
	int		 fd = -1, one = 1;

	if (plen == 0 || plen >= sizeof(port))
		return -1;
	memcpy(port, spec, plen);
	port[plen] = '\0';
	host[0] = '\0';
	if (at != NULL && at[1] != '\0') {
		at++;
		if ((hl = strlen(at)) >= sizeof(host))
			return -1;
		if (at[0] == '[' && hl > 2 && at[hl - 1] == ']') {
			at++;
			hl -= 2;
		}
		memcpy(host, at, hl);
		host[hl] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if (getaddrinfo(host[0] ? host : NULL, port, &hints, &ai) != 0)
		return -1;
	if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		if (fd >= 0)
			(void)close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

int
smfi_setconn(char *conn)
{
	if (conn == NULL || *conn == '\0')
		return MI_FAILURE;
	free(g_conn);
	return (g_conn = strdup(conn)) != NULL ? MI_SUCCESS : MI_FAILURE;
}

int
smfi_opensocket(bool rmsocket)
{
	const char	*s = g_conn;
	int		 fd;

	if (s == NULL || g_listen >= 0)
		return g_listen >= 0 ? MI_SUCCESS : MI_FAILURE;
	if (strncmp(s, "inet:", 5) == 0)
		fd = listen_inet(s + 5, AF_INET);
	else if (strncmp(s, "inet6:", 6) == 0)
		fd = listen_inet(s + 6, AF_INET6);
	else if (strncmp(s, "unix:", 5) == 0 || strncmp(s, "local:", 6) == 0)
		fd = listen_unix(strchr(s, ':') + 1, rmsocket);
	else if (strchr(s, ':') == NULL)
		fd = listen_unix(s, rmsocket);
	else
		return MI_FAILURE;
	if (fd < 0)
		return MI_FAILURE;
	if (listen(fd, g_backlog) != 0) {
		(void)close(fd);
		return MI_FAILURE;
	}
	g_listen = fd;
	return MI_SUCCESS;
}

int
smfi_setbacklog(int n)
{
	if (n <= 0)
		return MI_FAILURE;
	g_backlog = n;
	return MI_SUCCESS;
}

/* ---- the pool of workers ---- */

static void *worker(void *);

/* With g_lock held. */
static void
spawn_worker(void)
{
	pthread_attr_t	 at;
	pthread_t	 t;

	if (g_workers >= ENGINE_MAX_WORKERS || g_stopping)
		return;
	(void)pthread_attr_init(&at);
	(void)pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &at, worker, NULL) == 0)
		g_workers++;
	(void)pthread_attr_destroy(&at);
}

static void *
worker(void *arg)
{
	struct session	 s;
	int		 fd;

	(void)arg;
	pthread_mutex_lock(&g_lock);
	for (;;) {
		if (g_stopping)
			break;
		g_waiting++;
		pthread_mutex_unlock(&g_lock);
		fd = accept4(g_listen, NULL, NULL, SOCK_CLOEXEC);
		pthread_mutex_lock(&g_lock);
		g_waiting--;
		if (fd < 0) {
			if (g_stopping)
				break;
			if (errno != EINTR && errno != ECONNABORTED &&
			    errno != EAGAIN) {
				/* out of descriptors (or worse): a pause */
				pthread_mutex_unlock(&g_lock);
				(void)usleep(100000);
				pthread_mutex_lock(&g_lock);
			}
			continue;
		}
		if (g_stopping) {
			(void)close(fd);
			break;
		}
		/* nobody left waiting for the next connection: one more */
		if (g_waiting == 0)
			spawn_worker();
		s.fd = fd;
		s.next = g_sessions;
		s.prevp = &g_sessions;
		if (g_sessions != NULL)
			g_sessions->prevp = &s.next;
		g_sessions = &s;
		pthread_mutex_unlock(&g_lock);

		engine_serve(fd);

		pthread_mutex_lock(&g_lock);
		*s.prevp = s.next;
		if (s.next != NULL)
			s.next->prevp = s.prevp;
		(void)close(fd);
		if (g_waiting >= ENGINE_IDLE_KEEP)
			break;
	}
	g_workers--;
	pthread_cond_broadcast(&g_gone);
	pthread_mutex_unlock(&g_lock);
	return NULL;
}

/*
 * smfi_stop - end smfi_main(): no new connection; those being served end
 * after the command in hand.
 */
int
smfi_stop(void)
{
	pthread_mutex_lock(&g_lock);
	g_stopping = true;
	if (g_main_set)
		(void)pthread_kill(g_main, SIGTERM);
	pthread_mutex_unlock(&g_lock);
	return MI_SUCCESS;
}

/*
 * smfi_main - serve until SIGHUP, SIGTERM or SIGINT (or smfi_stop()).
 * The signals are blocked in the calling thread and in the workers, and
 * taken here with sigwait(3).  At the stop, sessions are ended (their
 * reads see the end of the connection) and waited for, at most
 * ENGINE_STOP_WAIT_S seconds.
 */
int
smfi_main(void)
{
	sigset_t	 set;
	struct session	*s;
	struct timespec	 until;
	int		 sig, i;

	if (!engine_registered() || (g_listen < 0 && smfi_opensocket(false) !=
	    MI_SUCCESS))
		return MI_FAILURE;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		return MI_FAILURE;
	(void)signal(SIGPIPE, SIG_IGN);
	pthread_mutex_lock(&g_lock);
	g_main = pthread_self();
	g_main_set = true;
	for (i = 0; i < ENGINE_FIRST_WORKERS; i++)
		spawn_worker();
	i = g_workers > 0 && !g_stopping;
	pthread_mutex_unlock(&g_lock);
	if (!i)
		return MI_FAILURE;
	while (sigwait(&set, &sig) != 0)
		;
	pthread_mutex_lock(&g_lock);
	g_stopping = true;
	g_main_set = false;
	/* wakes the workers in accept(2): it fails with EINVAL */
	(void)shutdown(g_listen, SHUT_RDWR);
	for (s = g_sessions; s != NULL; s = s->next)
		(void)shutdown(s->fd, SHUT_RD);
	(void)clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ENGINE_STOP_WAIT_S;
	while (g_workers > 0)
		if (pthread_cond_timedwait(&g_gone, &g_lock, &until) ==
		    ETIMEDOUT)
			break;
	i = g_workers == 0;
	pthread_mutex_unlock(&g_lock);
	if (i) {
		(void)close(g_listen);
		g_listen = -1;
	}
	if (g_unix_path != NULL) {
		(void)unlink(g_unix_path);
		free(g_unix_path);
		g_unix_path = NULL;
	}
	return MI_SUCCESS;
}
