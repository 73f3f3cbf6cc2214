/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * daemon.c - the process plumbing of bounced(8): resolve and become the
 * unprivileged user (Postfix chroot_uid.c order: groups, gid, uid, then
 * prove that uid 0 cannot be regained), create the folder of a unix:
 * socket, background with -b, keep a PID file, tell systemd we are
 * ready (the sd_notify(3) datagram protocol, without libsystemd), and run
 * the signal thread: reload on SIGUSR1, periodic duties in between.
 *
 * SIGHUP, SIGTERM and SIGINT stop the milter (smfi_main() takes them,
 * in engine.c as in libmilter), so reload is SIGUSR1, blocked in every thread and taken with sigwait(3).
 * Everything here runs before smfi_main() except the signal thread and
 * daemon_pidfile_remove(); failures before smfi_main() are fatal with a
 * sysexits(3) code.  Must not touch the MTA or the store.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "bounced/daemon.h"
#include "log/log.h"

static bool
parse_id(const char *s, unsigned long *out)
{
	char	*end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno == 0 && *end == '\0' && *out < (unsigned long)INT_MAX;
}

/*
 * daemon_resolve_user - find the ids of "user[:group]"
 *
 * Arguments: spec; uid and gid, the result; err and errlen, why not.
 *
 * Returns true when found.  The group defaults to the user's primary
 * group; both may be given as numbers.
 */
bool
daemon_resolve_user(const char *spec, uid_t *uid, gid_t *gid, char *err,
    size_t errlen)
{
	char		 user[256];
	const char	*group;
	struct passwd	*pw;
	struct group	*gr;
	unsigned long	 n;
	size_t		 ulen;

	group = strchr(spec, ':');
	ulen = group ? (size_t)(group - spec) : strlen(spec);
	if (ulen == 0 || ulen >= sizeof(user)) {
		(void)snprintf(err, errlen, "bad user \"%s\"", spec);
		return false;
	}
	memcpy(user, spec, ulen);
	user[ulen] = '\0';
	if ((pw = getpwnam(user)) != NULL) {
		*uid = pw->pw_uid;
		*gid = pw->pw_gid;
	} else if (parse_id(user, &n)) {
		*uid = (uid_t)n;
		*gid = (gid_t)n;
	} else {
		(void)snprintf(err, errlen, "unknown user \"%s\"", user);
		return false;
	}
	if (group != NULL) {
		group++;
		if ((gr = getgrnam(group)) != NULL)
			*gid = gr->gr_gid;
		else if (parse_id(group, &n))
			*gid = (gid_t)n;
		else {
			(void)snprintf(err, errlen, "unknown group \"%s\"",
			    group);
			return false;
		}
	}
	return true;
}

/*
 * daemon_drop_privileges - become the unprivileged user for good
 *
 * Arguments: spec, "user[:group]" (UserID).
 *
 * Notes: fatal (EX_NOUSER, EX_OSERR) on any failure, including when
 * setuid(0) still succeeds afterwards.
 */
void
daemon_drop_privileges(const char *spec)
{
	struct passwd	*pw;
	uid_t		 uid;
	gid_t		 gid;
	char		 err[300];

	if (!daemon_resolve_user(spec, &uid, &gid, err, sizeof(err)))
		log_fatal(EX_NOUSER, "UserID: %s", err);
	if (uid == 0)
		log_fatal(EX_CONFIG, "UserID %s is root: refusing to run as "
		    "root", spec);
	pw = getpwuid(uid);
	if (pw != NULL && strchr(spec, ':') == NULL) {
		if (initgroups(pw->pw_name, gid) == -1)
			log_fatal(EX_OSERR, "initgroups %s: %s", pw->pw_name,
			    strerror(errno));
	} else if (setgroups(1, &gid) == -1)
		log_fatal(EX_OSERR, "setgroups: %s", strerror(errno));
	if (setgid(gid) == -1)
		log_fatal(EX_OSERR, "setgid %ld: %s", (long)gid,
		    strerror(errno));
	if (setuid(uid) == -1)
		log_fatal(EX_OSERR, "setuid %ld: %s", (long)uid,
		    strerror(errno));
	if (setuid(0) != -1 || geteuid() == 0)
		log_fatal(EX_OSERR, "could regain root after dropping "
		    "privileges");
}

/*
 * daemon_socket_dir - make sure the folder of a unix: socket exists
 *
 * Arguments: conn, the Socket value; spec, UserID (the owner when root).
 *
 * Notes: only the last component is created (mode 0750); its parent
 * must exist.  Other socket kinds need nothing.
 */
void
daemon_socket_dir(const char *conn, const char *spec)
{
	char		 dir[PATH_MAX], err[300];
	const char	*path, *slash;
	struct stat	 sb;
	uid_t		 uid;
	gid_t		 gid;

	if (strncasecmp(conn, "unix:", 5) == 0)
		path = conn + 5;
	else if (strncasecmp(conn, "local:", 6) == 0)
		path = conn + 6;
	else
		return;
	if ((slash = strrchr(path, '/')) == NULL || slash == path)
		return;
	if ((size_t)(slash - path) >= sizeof(dir))
		log_fatal(EX_CONFIG, "Socket: path too long");
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (stat(dir, &sb) == 0) {
		if (!S_ISDIR(sb.st_mode))
			log_fatal(EX_CONFIG, "Socket: %s is not a folder", dir);
		return;
	}
	if (errno != ENOENT)
		log_fatal(EX_OSERR, "Socket: %s: %s", dir, strerror(errno));
	if (mkdir(dir, 0750) == -1 && errno != EEXIST)
		log_fatal(EX_CANTCREAT, "Socket: mkdir %s: %s", dir,
		    strerror(errno));
	if (geteuid() == 0) {
		if (!daemon_resolve_user(spec, &uid, &gid, err, sizeof(err)))
			log_fatal(EX_NOUSER, "UserID: %s", err);
		if (chown(dir, uid, gid) == -1)
			log_fatal(EX_OSERR, "Socket: chown %s: %s", dir,
			    strerror(errno));
	}
}

/*
 * daemon_background - detach from the terminal
 *
 * Notes: the parent exits 0 once the child exists; must run before any
 * thread is started (fork keeps only the calling thread).
 */
void
daemon_background(void)
{
	pid_t	 pid;
	int	 fd;

	if ((pid = fork()) == -1)
		log_fatal(EX_OSERR, "fork: %s", strerror(errno));
	if (pid != 0)
		_exit(0);
	if (setsid() == -1)
		log_fatal(EX_OSERR, "setsid: %s", strerror(errno));
	if (chdir("/") == -1)
		log_fatal(EX_OSERR, "chdir /: %s", strerror(errno));
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		(void)dup2(fd, STDIN_FILENO);
		(void)dup2(fd, STDOUT_FILENO);
		(void)dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
}

/*
 * daemon_pidfile_write - record our process id
 *
 * Arguments: path (PidFile); "" or NULL does nothing.
 *
 * Notes: refuses to follow a symbolic link; fatal (EX_CANTCREAT) when it
 * cannot be written.
 */
void
daemon_pidfile_write(const char *path)
{
	char	 line[32];
	int	 fd, n;

	if (path == NULL || *path == '\0')
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	    0644);
	if (fd == -1)
		log_fatal(EX_CANTCREAT, "PidFile %s: %s", path,
		    strerror(errno));
	n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	if (n < 0 || write(fd, line, (size_t)n) != n) {
		close(fd);
		log_fatal(EX_IOERR, "PidFile %s: write failed", path);
	}
	close(fd);
}

/*
 * daemon_pidfile_remove - remove the PID file at shutdown
 *
 * Arguments: path; "" or NULL does nothing.
 *
 * Notes: the file is left alone when it names another process.
 */
void
daemon_pidfile_remove(const char *path)
{
	char	 line[32];
	ssize_t	 n;
	int	 fd;

	if (path == NULL || *path == '\0')
		return;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return;
	n = read(fd, line, sizeof(line) - 1);
	close(fd);
	if (n <= 0)
		return;
	line[n] = '\0';
	if (strtol(line, NULL, 10) == (long)getpid())
		(void)unlink(path);
}

/*
 * daemon_notify - tell the service manager about our state
 *
 * Arguments: state, e.g. "READY=1" or "STOPPING=1".
 *
 * Notes: sends one datagram to $NOTIFY_SOCKET (a path, or '@' for the
 * abstract namespace) as sd_notify(3) does; silent when unset; a failure
 * is logged as a warning.
 */
void
daemon_notify(const char *state)
{
	struct sockaddr_un	 sa;
	const char		*path;
	socklen_t		 len;
	size_t			 plen;
	int			 fd;

	if ((path = getenv("NOTIFY_SOCKET")) == NULL || *path == '\0')
		return;
	plen = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || plen >= sizeof(sa.sun_path)) {
		log_warn("NOTIFY_SOCKET: unsupported address");
		return;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, plen);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen +
	    (path[0] == '@' ? 0 : 1));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("NOTIFY_SOCKET: socket: %s", strerror(errno));
		return;
	}
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sa, len) == -1)
		log_warn("NOTIFY_SOCKET: send: %s", strerror(errno));
	close(fd);
}

/*
 * daemon_block_signals - the signal mask every thread inherits
 *
 * Notes: blocks SIGUSR1 (taken by the signal thread) and SIGHUP,
 * SIGTERM, SIGINT, which smfi_main() (engine.c or libmilter) takes with
 * sigwait(3) once smfi_main() runs: a thread started earlier with them
 * unblocked would let SIGTERM kill the process instead of stopping it
 * cleanly.  Ignores SIGPIPE (a peer closing the milter socket).  Call
 * before any thread.
 */
void
daemon_block_signals(void)
{
	sigset_t	 set;

	(void)signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if ((errno = pthread_sigmask(SIG_BLOCK, &set, NULL)) != 0)
		log_fatal(EX_OSERR, "pthread_sigmask: %s", strerror(errno));
}

struct sigthread {
	void		(*reload)(void);
	void		(*tick)(void);
	int		 period;
};

static void *
signal_main(void *arg)
{
	struct sigthread	 t;
	struct timespec		 now, next, wait;
	sigset_t		 set;
	int			 sig;

	memcpy(&t, arg, sizeof(t));
	free(arg);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	clock_gettime(CLOCK_MONOTONIC, &next);
	next.tv_sec += t.period;
	for (;;) {
		if (t.tick == NULL) {
			if (sigwait(&set, &sig) == 0 && sig == SIGUSR1)
				t.reload();
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > next.tv_sec || (now.tv_sec == next.tv_sec &&
		    now.tv_nsec >= next.tv_nsec)) {
			t.tick();
			clock_gettime(CLOCK_MONOTONIC, &next);
			next.tv_sec += t.period;
			continue;
		}
		wait.tv_sec = next.tv_sec - now.tv_sec;
		wait.tv_nsec = next.tv_nsec - now.tv_nsec;
		if (wait.tv_nsec < 0) {
			wait.tv_sec--;
			wait.tv_nsec += 1000000000L;
		}
		/* EAGAIN (the period is over) and EINTR: look again. */
		if (sigtimedwait(&set, NULL, &wait) == SIGUSR1)
			t.reload();
	}
	return NULL;
}

/*
 * daemon_signal_thread - run reload on every SIGUSR1, and tick every
 * period seconds
 *
 * Arguments: reload, called on SIGUSR1; tick, the periodic duties (NULL:
 * none); period, seconds between two ticks (> 0), counted from the end
 * of the previous one on the monotonic clock.
 *
 * Notes: both run in this one thread, one call at a time, so a reload
 * never overlaps a tick.  daemon_block_signals() must have run.  The
 * thread is detached and lives until the process exits.  Fatal when it
 * cannot start.
 */
void
daemon_signal_thread(void (*reload)(void), void (*tick)(void), int period)
{
	struct sigthread	*t;
	pthread_t		 tid;

	if ((t = malloc(sizeof(*t))) == NULL)
		log_fatal(EX_OSERR, "signal thread: out of memory");
	t->reload = reload;
	t->tick = tick;
	t->period = period > 0 ? period : 300;
	if ((errno = pthread_create(&tid, NULL, signal_main, t)) != 0)
		log_fatal(EX_OSERR, "signal thread: %s", strerror(errno));
	(void)pthread_detach(tid);
}
