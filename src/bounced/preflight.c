/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * preflight.c - what a start of bounced(8) needs, said before the start
 * fails, and one instance per database and socket.
 *
 * bounced -n used to stop at the configuration's syntax; a start then
 * failed on what only the running process meets: UserID root or unknown,
 * a database folder the user cannot write, a socket folder it cannot
 * write, a port below 1024 as an unprivileged user, a rules file it
 * cannot read at reload.  preflight_check() runs those checks in a child
 * that has become the user bounced will run as (UserID when started as
 * root, as prepare() in main.c does), so that access(2) and bind(2)
 * answer as they will at the start, and says each problem with strerror.
 *
 * A second bounced on the same socket used to remove the live socket
 * (smfi_opensocket(true) unlinks whatever is there) and, at its exit,
 * remove its own: the first instance ran on, unreachable, and with
 * milter_default_action = accept bounces passed unrecorded.
 * instance_lock() takes flock(2) locks on "DATABASE.lock" and, for a unix
 * socket, "SOCKET.lock" (kept for the life of the process: the kernel
 * drops them when it dies, so a crash leaves no stale lock), and refuses
 * a socket on which something answers, before libmilter touches it.  The
 * lock files hold the holder's pid, for the message and for bouncectl.
 * They are never removed: removing a lock file races with its next user.
 */
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf/conf.h"
#include "store/db.h"
#include "bounced/daemon.h"
#include "bounced/preflight.h"

/* A libmilter socket spec, split. */
struct sockspec {
	int	 family;		/* AF_UNIX, AF_INET, AF_INET6; 0: bad */
	char	 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char	 host[256];		/* "": any address */
	char	 port[16];
};

/* "unix:/p", "local:/p", "inet:port[@host]", "inet6:port[@host]". */
static bool
sockspec_parse(const char *conn, struct sockspec *ss)
{
	const char	*p, *at;
	size_t		 n;

	memset(ss, 0, sizeof(*ss));
	if (strncasecmp(conn, "unix:", 5) == 0 ||
	    strncasecmp(conn, "local:", 6) == 0) {
		p = strchr(conn, ':') + 1;
		if (*p != '/' || strlen(p) >= sizeof(ss->path))
			return false;
		ss->family = AF_UNIX;
		snprintf(ss->path, sizeof(ss->path), "%s", p);
		return true;
	}
	if (strncasecmp(conn, "inet:", 5) == 0)
		ss->family = AF_INET;
	else if (strncasecmp(conn, "inet6:", 6) == 0)
		ss->family = AF_INET6;
	else
		return false;
	p = strchr(conn, ':') + 1;
	at = strchr(p, '@');
	n = at != NULL ? (size_t)(at - p) : strlen(p);
	if (n == 0 || n >= sizeof(ss->port) || strspn(p, "0123456789") != n)
		return false;
	memcpy(ss->port, p, n);
	if (at != NULL) {
		at++;
		n = strlen(at);
		if (n > 1 && at[0] == '[' && at[n - 1] == ']') {
			at++;
			n -= 2;
		}
		if (n >= sizeof(ss->host))
			return false;
		memcpy(ss->host, at, n);
		ss->host[n] = '\0';
	}
	return true;
}

/* The address of an inet spec (NULL host: any, for bind) or NULL. */
static struct addrinfo *
sockspec_addr(const struct sockspec *ss, bool for_bind)
{
	struct addrinfo	 hints, *res = NULL;
	const char	*host = ss->host[0] ? ss->host : NULL;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = ss->family;
	hints.ai_socktype = SOCK_STREAM;
	if (host == NULL && for_bind)
		hints.ai_flags = AI_PASSIVE;
	else if (host == NULL)
		host = ss->family == AF_INET6 ? "::1" : "127.0.0.1";
	if (getaddrinfo(host, ss->port, &hints, &res) != 0)
		return NULL;
	return res;
}

/* Connect to sa within timeout_ms: true when something accepted. */
static bool
connects(int family, const struct sockaddr *sa, socklen_t len, int timeout_ms)
{
	struct pollfd	 pfd;
	int		 fd, soerr = 0;
	socklen_t	 sl = sizeof(soerr);
	bool		 ok = false;

	if ((fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return false;
	if (connect(fd, sa, len) == 0)
		ok = true;
	else if (errno == EINPROGRESS || errno == EAGAIN) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, timeout_ms) == 1 &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 &&
		    soerr == 0)
			ok = true;
	}
	close(fd);
	return ok;
}

/*
 * socket_answers - is a milter (or anything) listening on conn?
 *
 * Arguments: conn, a Socket value; timeout_ms, the longest wait.
 * Returns true when a connection was accepted.
 * Notes: a unix socket that nobody listens on (a stale one) refuses at
 * once; an inet spec without a host is tried on loopback.
 */
bool
socket_answers(const char *conn, int timeout_ms)
{
	struct sockspec		 ss;
	struct sockaddr_un	 sun;
	struct addrinfo		*res, *ai;
	bool			 ok = false;

	if (!sockspec_parse(conn, &ss))
		return false;
	if (ss.family == AF_UNIX) {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		memcpy(sun.sun_path, ss.path, strlen(ss.path));
		return connects(AF_UNIX, (struct sockaddr *)&sun, sizeof(sun),
		    timeout_ms);
	}
	if ((res = sockspec_addr(&ss, false)) == NULL)
		return false;
	for (ai = res; ai != NULL && !ok; ai = ai->ai_next)
		ok = connects(ai->ai_family, ai->ai_addr, ai->ai_addrlen,
		    timeout_ms);
	freeaddrinfo(res);
	return ok;
}

/* ---- the checks, as the user bounced will be ---- */

struct pf {
	FILE		*fp;
	int		 problems;
	const char	*as;		/* "user bounced", for messages */
	bool		 root;		/* started as root: folders made as root */
};

static void
problem(struct pf *pf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
problem(struct pf *pf, const char *fmt, ...)
{
	va_list	 ap;

	fputs("bounced: ", pf->fp);
	va_start(ap, fmt);
	vfprintf(pf->fp, fmt, ap);
	va_end(ap);
	fputc('\n', pf->fp);
	pf->problems++;
}

/*
 * Not a problem: what -n sees of a running instance (checking a config
 * before a restart is the usual case), said but not counted.
 */
static void
note(struct pf *pf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
note(struct pf *pf, const char *fmt, ...)
{
	va_list	 ap;

	fputs("bounced: note: ", pf->fp);
	va_start(ap, fmt);
	vfprintf(pf->fp, fmt, ap);
	va_end(ap);
	fputc('\n', pf->fp);
}

/* The folder of path into dir ("/" or "." when it has none). */
static void
folder_of(const char *path, char *dir, size_t len)
{
	const char	*slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(dir, len, ".");
	else if (slash == path)
		snprintf(dir, len, "/");
	else
		snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

/* A folder bounced must create files in: exists, writable, searchable. */
static bool
check_folder(struct pf *pf, const char *what, const char *dir,
    const char *why)
{
	struct stat	 sb;

	if (stat(dir, &sb) == -1) {
		problem(pf, "%s folder %s: %s (%s)", what, dir,
		    strerror(errno), why);
		return false;
	}
	if (!S_ISDIR(sb.st_mode)) {
		problem(pf, "%s folder %s: not a folder", what, dir);
		return false;
	}
	if (access(dir, W_OK | X_OK) == -1) {
		problem(pf, "%s folder %s: %s as %s (%s)", what, dir,
		    strerror(errno), pf->as, why);
		return false;
	}
	return true;
}

/* A file bounced reads (and writes when w): readable, writable. */
static void
check_file(struct pf *pf, const char *what, const char *path, bool w,
    const char *why)
{
	if (access(path, w ? R_OK | W_OK : R_OK) == -1)
		problem(pf, "%s %s: %s as %s (%s)", what, path,
		    strerror(errno), pf->as, why);
}

static void
check_database(struct pf *pf, const char *db)
{
	static const char	 magic[16] = "SQLite format 3";
	char			 dir[PATH_MAX], side[PATH_MAX + 8], head[16];
	const char		*ext[] = { "-wal", "-shm", ".lock" };
	struct stat		 sb;
	size_t			 i;
	ssize_t			 n;
	int			 fd;

	folder_of(db, dir, sizeof(dir));
	if (!check_folder(pf, "Database", dir, "bounced creates the database "
	    "and its -wal and -shm files there; systemd's StateDirectory= "
	    "makes " BD_STATEDIR))
		return;
	if (stat(db, &sb) == -1)
		return;		/* the first start creates it */
	if (!S_ISREG(sb.st_mode)) {
		problem(pf, "Database %s: not a regular file", db);
		return;
	}
	check_file(pf, "Database", db, true, "bounced writes it");
	if ((fd = open(db, O_RDONLY | O_CLOEXEC)) != -1) {
		n = read(fd, head, sizeof(head));
		close(fd);
		if (n > 0 && (n != (ssize_t)sizeof(head) ||
		    memcmp(head, magic, sizeof(magic)) != 0))
			problem(pf, "Database %s: not an SQLite database", db);
	}
	for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		snprintf(side, sizeof(side), "%s%s", db, ext[i]);
		if (access(side, F_OK) == 0)
			check_file(pf, "Database file", side, true,
			    "owned by another user? chown it to bounced's");
	}
	/* side is the lock file now: held by a running instance? */
	if ((fd = open(side, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return;
	if (flock(fd, LOCK_SH | LOCK_NB) == -1 && errno == EWOULDBLOCK) {
		n = pread(fd, head, sizeof(head) - 1, 0);
		head[n > 0 ? n : 0] = '\0';
		note(pf, "Database %s: in use by a running bounced (pid %ld); "
		    "a second instance would refuse to start", db,
		    strtol(head, NULL, 10));
	}
	close(fd);
}

/* Bind to the port as the user (SO_REUSEADDR: a TIME_WAIT is no issue). */
static void
check_inet(struct pf *pf, const char *conn, const struct sockspec *ss)
{
	struct addrinfo	*res;
	int		 fd, one = 1, e = 0;

	if ((res = sockspec_addr(ss, true)) == NULL) {
		problem(pf, "Socket %s: cannot resolve \"%s\"", conn,
		    ss->host);
		return;
	}
	if ((fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC,
	    0)) == -1)
		e = errno;
	else {
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one));
		if (bind(fd, res->ai_addr, res->ai_addrlen) == -1)
			e = errno;
		close(fd);
	}
	freeaddrinfo(res);
	if (e == EACCES && atoi(ss->port) < 1024)
		problem(pf, "Socket %s: %s as %s: port %s is privileged; bounced "
		    "binds it after dropping root: use a port above 1023 "
		    "(8895 is usual)", conn, strerror(e), pf->as, ss->port);
	else if (e == EADDRINUSE && socket_answers(conn, 1000))
		note(pf, "Socket %s: something answers there now (a running "
		    "bounced?); a second instance would refuse to start",
		    conn);
	else if (e == EADDRINUSE)
		problem(pf, "Socket %s: %s", conn, strerror(e));
	else if (e != 0)
		problem(pf, "Socket %s: %s as %s", conn, strerror(e), pf->as);
}

static void
check_unix(struct pf *pf, const char *conn, const struct sockspec *ss)
{
	char		 dir[PATH_MAX], parent[PATH_MAX];
	struct stat	 sb;

	folder_of(ss->path, dir, sizeof(dir));
	if (stat(dir, &sb) == -1 && errno == ENOENT) {
		/* daemon_socket_dir() makes it, as root, before the drop */
		folder_of(dir, parent, sizeof(parent));
		if (!pf->root)
			check_folder(pf, "Socket", parent, "bounced creates "
			    "the socket's folder there");
		else if (stat(parent, &sb) == -1)
			problem(pf, "Socket folder %s: %s (bounced creates "
			    "the last component only)", parent,
			    strerror(errno));
		return;
	}
	if (!check_folder(pf, "Socket", dir, "bounced creates the socket "
	    "there after dropping root; systemd's RuntimeDirectory= makes "
	    BD_RUNDIR))
		return;
	if (lstat(ss->path, &sb) == -1)
		return;
	if (!S_ISSOCK(sb.st_mode))
		problem(pf, "Socket %s: %s exists and is not a socket "
		    "(libmilter would remove it)", conn, ss->path);
	else if (socket_answers(conn, 1000))
		note(pf, "Socket %s: a milter answers there now (a running "
		    "bounced?); a second instance would refuse to start",
		    conn);
}

static void
check_socket(struct pf *pf, const char *conn)
{
	struct sockspec	 ss;

	if (!sockspec_parse(conn, &ss))
		problem(pf, "Socket %s: not unix:/PATH, local:/PATH, "
		    "inet:PORT[@HOST] or inet6:PORT[@HOST]", conn);
	else if (ss.family == AF_UNIX)
		check_unix(pf, conn, &ss);
	else
		check_inet(pf, conn, &ss);
}

/*
 * PostgreSQL: no file of ours; a password written in the configuration
 * is a note (libpq's passfile= or ~/.pgpass keep it out of a file that
 * operators copy around), and a server that does not answer now is a
 * note too: bounced starts anyway and keeps trying (dbpool.c).
 */
static void
check_pg(struct pf *pf, const char *target, const char *conf_path)
{
	struct db	*db = NULL;
	struct stat	 sb;
	char		 shown[1024], err[512];

	db_target_redact(target, shown, sizeof(shown));
	if (strcmp(shown, target) != 0 && conf_path != NULL &&
	    stat(conf_path, &sb) == 0 && (sb.st_mode & 0044) != 0)
		note(pf, "Database %s: a password in %s, which others may "
		    "read; give it through libpq (passfile=, ~/.pgpass, a "
		    "service file) instead", shown, conf_path);
	if (db_open(target, DB_RDONLY, 1000, &db, err, sizeof(err)) != BD_OK)
		note(pf, "Database %s: no connection now (%s); bounced starts "
		    "anyway, passes ordinary mail and defers bounces until it "
		    "connects", shown, err);
	db_close(db);
}

/* The checks of a start, once the process is the user it will run as. */
static void
check_all(struct pf *pf, const struct bd_config *c)
{
	char	 dir[PATH_MAX];

	if (db_target_kind(c->database) == DB_POSTGRES)
		check_pg(pf, c->database, c->path);
	else
		check_database(pf, c->database);
	check_socket(pf, c->socket);
	if (c->rules_file != NULL && c->rules_file[0] != '\0')
		check_file(pf, "RulesFile", c->rules_file, false,
		    "reload (SIGUSR1) reads it as this user");
	if (c->path != NULL)
		check_file(pf, "configuration", c->path, false,
		    "reload (SIGUSR1) reads it as this user");
	if (c->pid_file != NULL && c->pid_file[0] != '\0') {
		if (access(c->pid_file, F_OK) == 0)
			check_file(pf, "PidFile", c->pid_file, true,
			    "bounced rewrites it");
		else {
			folder_of(c->pid_file, dir, sizeof(dir));
			check_folder(pf, "PidFile", dir, "bounced writes it "
			    "after dropping root");
		}
	}
}

/*
 * Become the user of UserID as prepare() does (groups, gid, uid); false
 * after a problem.  Only in the child of preflight_check().
 */
static bool
become(struct pf *pf, const char *spec, char *as, size_t aslen)
{
	struct passwd	*pw;
	uid_t		 uid;
	gid_t		 gid;
	char		 err[300];

	if (!daemon_resolve_user(spec, &uid, &gid, err, sizeof(err))) {
		problem(pf, "UserID: %s (bounced started as root needs it; "
		    "the sysusers file creates user bounced)", err);
		return false;
	}
	if (uid == 0) {
		problem(pf, "UserID %s is root: bounced refuses to run as root",
		    spec);
		return false;
	}
	pw = getpwuid(uid);
	snprintf(as, aslen, "user %s", pw != NULL ? pw->pw_name : spec);
	if ((pw != NULL && strchr(spec, ':') == NULL ?
	    initgroups(pw->pw_name, gid) : setgroups(1, &gid)) == -1 ||
	    setgid(gid) == -1 || setuid(uid) == -1) {
		problem(pf, "UserID %s: cannot become it: %s", spec,
		    strerror(errno));
		return false;
	}
	return true;
}

/*
 * preflight_check - bounced -n: what a start of c needs
 *
 * Arguments: c, the loaded configuration; fp, where problems are said.
 * Returns the number of problems (0: a start should get past setup).
 * Notes: forks; the child becomes UserID when we are root, so that the
 * answers are the ones the started daemon will get.  Before any thread.
 */
int
preflight_check(const struct bd_config *c, FILE *fp)
{
	struct pf	 pf;
	struct passwd	*pw;
	char		 as[300];
	pid_t		 pid;
	int		 status;

	memset(&pf, 0, sizeof(pf));
	pf.fp = fp;
	pf.root = geteuid() == 0;
	fflush(fp);
	if ((pid = fork()) == -1) {
		fprintf(fp, "bounced: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		if (pf.root) {
			if (!become(&pf, c->user, as, sizeof(as)))
				_exit(pf.problems);
		} else {
			pw = getpwuid(getuid());
			snprintf(as, sizeof(as), "user %s", pw != NULL ?
			    pw->pw_name : "(this uid)");
		}
		pf.as = as;
		check_all(&pf, c);
		fflush(fp);
		_exit(pf.problems > 100 ? 100 : pf.problems);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR) {
			fprintf(fp, "bounced: waitpid: %s\n", strerror(errno));
			return 1;
		}
	if (!WIFEXITED(status)) {
		fprintf(fp, "bounced: the check process died\n");
		return 1;
	}
	return WEXITSTATUS(status);
}

/* ---- one instance ---- */

static int	 lock_fd[2] = { -1, -1 };	/* database, socket */
static pthread_once_t lock_once = PTHREAD_ONCE_INIT;

/* Our pid into a lock file we hold (also after -b's fork). */
static void
lock_note_pid(int fd)
{
	char	 line[32];
	int	 n;

	if (fd == -1)
		return;
	n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == 0 && n > 0)
		(void)!pwrite(fd, line, (size_t)n, 0);
}

static void
lock_atfork_child(void)
{
	lock_note_pid(lock_fd[0]);
	lock_note_pid(lock_fd[1]);
}

static void
lock_register(void)
{
	(void)pthread_atfork(NULL, NULL, lock_atfork_child);
}

/*
 * Take the lock file at path for good (slot 0 or 1); false with err set.
 * what names the resource in the message ("Database /x.db").
 */
static bool
take_lock(int slot, const char *path, const char *what, char *err,
    size_t errlen)
{
	char	 line[32], holder[48] = "";
	ssize_t	 n;
	int	 fd;

	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd == -1) {
		snprintf(err, errlen, "%s: lock file %s: %s", what, path,
		    strerror(errno));
		return false;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK) {
			n = pread(fd, line, sizeof(line) - 1, 0);
			if (n > 0) {
				line[n] = '\0';
				if (strtol(line, NULL, 10) > 0)
					snprintf(holder, sizeof(holder),
					    " (pid %ld)", strtol(line, NULL,
					    10));
			}
			snprintf(err, errlen, "%s is in use by another bounced"
			    "%s, which holds %s: stop it first, or give this "
			    "one its own Database and Socket", what, holder,
			    path);
		} else
			snprintf(err, errlen, "%s: lock file %s: %s", what,
			    path, strerror(errno));
		close(fd);
		return false;
	}
	lock_fd[slot] = fd;
	lock_note_pid(fd);
	return true;
}

/*
 * instance_lock - one bounced per SQLite database and per socket
 *
 * Arguments: c; err/errlen receive why not.
 * Returns true when this process holds the locks; false when another
 * instance holds one, when something already answers on the socket, or
 * when a lock file cannot be made (strerror in err).
 * Notes: called after dropping privileges (the files are the user's) and
 * before the socket is created, so a refused start never touches the
 * live socket.  The locks last until the process ends.
 */
bool
instance_lock(const struct bd_config *c, char *err, size_t errlen)
{
	struct sockspec	 ss;
	char		 path[PATH_MAX + 8], what[PATH_MAX + 16];

	(void)pthread_once(&lock_once, lock_register);
	snprintf(path, sizeof(path), "%s.lock", c->database);
	snprintf(what, sizeof(what), "Database %s", c->database);
	/* a PostgreSQL database is shared by a fleet of relays on purpose */
	if (db_target_kind(c->database) == DB_SQLITE && lock_fd[0] == -1 &&
	    !take_lock(0, path, what, err, errlen))
		return false;
	if (!sockspec_parse(c->socket, &ss)) {
		snprintf(err, errlen, "Socket %s: not a socket spec",
		    c->socket);
		return false;
	}
	snprintf(what, sizeof(what), "Socket %s", c->socket);
	if (ss.family == AF_UNIX && lock_fd[1] == -1) {
		snprintf(path, sizeof(path), "%s.lock", ss.path);
		if (!take_lock(1, path, what, err, errlen))
			return false;
	}
	if (socket_answers(c->socket, 1000)) {
		snprintf(err, errlen, "%s: something already answers there "
		    "(another bounced, or another milter): not touching it",
		    what);
		return false;
	}
	return true;
}
