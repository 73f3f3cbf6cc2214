/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2026 The bounced authors.
 *
 * ctl_hook.c - hand one event line to the EventHook of bounced.conf(5):
 * "exec:COMMAND" runs COMMAND with sh(1), the line on its standard input
 * and the cursor, type and recipient in its environment; an http:// or
 * https:// URL receives the line as the body of a POST (libcurl).
 * Success is exit 0, or a 2xx answer; anything else is a failure that
 * the caller (ctl_events.c) retries later, so delivery is at least once
 * and in cursor order.
 *
 * The hook runs in bouncectl, never in bounced: a receiver that hangs
 * costs this process its time (bounded: HOOK_TIMEOUT), never a mail.
 * The line is JSON we wrote (json-glib escapes every control byte, and
 * ctl_json.c makes text valid UTF-8 first), so the command sees no raw
 * network text; the URL and the command come from the configuration,
 * which is root's.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "bouncectl/ctl_int.h"

#ifndef BD_VERSION
#define BD_VERSION	"unknown"
#endif

#define HOOK_TIMEOUT	30	/* seconds a command or a POST may take */

struct ctl_hook {
	char		*target;
	bool		 exec;
	CURL		*curl;
	struct curl_slist *headers;
};

/*
 * libcurl is opened when a URL hook starts, not linked: it brings two
 * dozen libraries (TLS, Kerberos, LDAP, SSH ...) whose loading and
 * relocation was about a third of the start-up of every bouncectl
 * command (callgrind: 14 of 47 million instructions for a one-file
 * classify), while only "events --hook URL" needs it.
 */
static struct {
	void		*so;
	CURLcode	(*global_init)(long);
	void		(*global_cleanup)(void);
	CURL		*(*easy_init)(void);
	CURLcode	(*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode	(*easy_perform)(CURL *);
	void		(*easy_cleanup)(CURL *);
	CURLcode	(*easy_getinfo)(CURL *, CURLINFO, ...);
	const char	*(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void		(*slist_free_all)(struct curl_slist *);
} lc;

/* Open libcurl once; false (with why on stderr) when it cannot be. */
static bool
libcurl_open(void)
{
	static const char *const names[] = { "libcurl.so.4",
	    "libcurl-gnutls.so.4", "libcurl.so", NULL };
	size_t	 i;

	if (lc.so != NULL)
		return true;
	for (i = 0; names[i] != NULL && lc.so == NULL; i++)
		lc.so = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (lc.so == NULL) {
		fprintf(stderr, "bouncectl: an http(s) EventHook needs "
		    "libcurl (Debian: libcurl4): %s\n", dlerror());
		return false;
	}
#define SYM(f, n) (*(void **)&lc.f = dlsym(lc.so, n)) != NULL
	if (SYM(global_init, "curl_global_init") &&
	    SYM(global_cleanup, "curl_global_cleanup") &&
	    SYM(easy_init, "curl_easy_init") &&
	    SYM(easy_setopt, "curl_easy_setopt") &&
	    SYM(easy_perform, "curl_easy_perform") &&
	    SYM(easy_cleanup, "curl_easy_cleanup") &&
	    SYM(easy_getinfo, "curl_easy_getinfo") &&
	    SYM(easy_strerror, "curl_easy_strerror") &&
	    SYM(slist_append, "curl_slist_append") &&
	    SYM(slist_free_all, "curl_slist_free_all"))
		return true;
#undef SYM
	fprintf(stderr, "bouncectl: libcurl lacks a function: %s\n",
	    dlerror());
	(void)dlclose(lc.so);
	memset(&lc, 0, sizeof(lc));
	return false;
}

/* libcurl: the answer's body is not needed. */
static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/*
 * ctl_hook_new - a hook for target ("exec:COMMAND" or an http(s) URL)
 *
 * Returns the hook, or NULL after a message on stderr.
 */
struct ctl_hook *
ctl_hook_new(const char *target)
{
	struct ctl_hook	*h;

	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (h->target = strdup(target)) == NULL) {
		free(h);
		fprintf(stderr, "bouncectl: out of memory\n");
		return NULL;
	}
	if (strncmp(target, "exec:", 5) == 0 && target[5] != '\0') {
		h->exec = true;
		(void)signal(SIGPIPE, SIG_IGN);
		return h;
	}
	if (strncmp(target, "http://", 7) != 0 &&
	    strncmp(target, "https://", 8) != 0) {
		fprintf(stderr, "bouncectl: EventHook \"%s\" is not "
		    "exec:COMMAND or an http:// or https:// URL\n", target);
		ctl_hook_free(h);
		return NULL;
	}
	if (!libcurl_open()) {
		ctl_hook_free(h);
		return NULL;
	}
	if (lc.global_init(CURL_GLOBAL_DEFAULT) != 0 ||
	    (h->curl = lc.easy_init()) == NULL ||
	    (h->headers = lc.slist_append(NULL,
	    "Content-Type: application/json")) == NULL) {
		fprintf(stderr, "bouncectl: cannot start libcurl\n");
		ctl_hook_free(h);
		return NULL;
	}
	lc.easy_setopt(h->curl, CURLOPT_URL, h->target);
	lc.easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->headers);
	lc.easy_setopt(h->curl, CURLOPT_USERAGENT, "bouncectl/" BD_VERSION);
	lc.easy_setopt(h->curl, CURLOPT_TIMEOUT, (long)HOOK_TIMEOUT);
	lc.easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT, 10L);
	lc.easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	lc.easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, discard);
	/* no redirect to another scheme (file:, ...): http and https only */
	lc.easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	return h;
}

/* ctl_hook_free - NULL is fine */
void
ctl_hook_free(struct ctl_hook *h)
{
	if (h == NULL)
		return;
	if (h->curl != NULL) {
		lc.easy_cleanup(h->curl);
		lc.global_cleanup();
	}
	if (h->headers != NULL)
		lc.slist_free_all(h->headers);
	free(h->target);
	free(h);
}

/* Run the command with line on its stdin; true on exit 0. */
static bool
hook_exec(struct ctl_hook *h, const char *line, size_t len,
    const struct ctl_hook_meta *m, char *why, size_t whylen)
{
	char		 cur[32];
	const char	*p;
	pid_t		 pid;
	ssize_t		 w;
	int		 fd[2], status, waited;

	if (pipe(fd) == -1) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		return false;
	}
	if ((pid = fork()) == -1) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		close(fd[0]);
		close(fd[1]);
		return false;
	}
	if (pid == 0) {
		if (dup2(fd[0], STDIN_FILENO) == -1)
			_exit(127);
		close(fd[0]);
		close(fd[1]);
		snprintf(cur, sizeof(cur), "%lld", (long long)m->cursor);
		setenv("BOUNCED_CURSOR", cur, 1);
		setenv("BOUNCED_TYPE", m->type, 1);
		setenv("BOUNCED_RECIPIENT", m->recipient, 1);
		(void)signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", h->target + 5, (char *)NULL);
		_exit(127);
	}
	close(fd[0]);
	for (p = line; len > 0; p += w, len -= (size_t)w)
		if ((w = write(fd[1], p, len)) == -1) {
			if (errno == EINTR) {
				w = 0;
				continue;
			}
			break;		/* it need not read it all */
		}
	close(fd[1]);
	/* bounded: a hung command is killed, and retried later */
	for (waited = 0; waitpid(pid, &status, WNOHANG) == 0; waited++) {
		if (waited >= HOOK_TIMEOUT * 20) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			snprintf(why, whylen, "killed after %d s", HOOK_TIMEOUT);
			return false;
		}
		usleep(50000);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return true;
	if (WIFEXITED(status))
		snprintf(why, whylen, "exit %d", WEXITSTATUS(status));
	else
		snprintf(why, whylen, "killed by signal %d",
		    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return false;
}

/* POST line; true on a 2xx answer. */
static bool
hook_post(struct ctl_hook *h, const char *line, size_t len, char *why,
    size_t whylen)
{
	CURLcode	 cc;
	long		 code = 0;

	lc.easy_setopt(h->curl, CURLOPT_POSTFIELDS, line);
	lc.easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE, (long)len);
	if ((cc = lc.easy_perform(h->curl)) != CURLE_OK) {
		snprintf(why, whylen, "%s", lc.easy_strerror(cc));
		return false;
	}
	lc.easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code >= 200 && code <= 299)
		return true;
	snprintf(why, whylen, "HTTP %ld", code);
	return false;
}

/*
 * ctl_hook_deliver - hand one line (a JSON object and its newline) to
 * the hook
 *
 * Returns true when the receiver took it; false with why set.
 */
bool
ctl_hook_deliver(struct ctl_hook *h, const char *line, size_t len,
    const struct ctl_hook_meta *m, char *why, size_t whylen)
{
	why[0] = '\0';
	if (h->exec)
		return hook_exec(h, line, len, m, why, whylen);
	return hook_post(h, line, len, why, whylen);
}
