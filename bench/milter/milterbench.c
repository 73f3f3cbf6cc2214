/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * milterbench.c - drive a milter over the milter protocol (version 6, as
 * Postfix speaks it) and measure it: messages per second, the latency of
 * each message (from MAIL FROM to the answer at end of message, or at
 * MAIL FROM when the milter accepts there), and the milter's CPU time
 * and memory (from /proc/PID when -p is given).  Not a test; see
 * `make bench-milter`.
 *
 *   milterbench -s unix:/path/sock|inet:PORT@ADDR [-p PID] [-c CONNS] [-n MSGS] [-m MODE]
 *       [-f FILE] [-t TAG] [-q]
 *
 * MODE: bounce (default) - a Postfix DSN (bare "" sender, as on the
 * internal path) for a new recipient each time, "u<N>-<TAG>@remote.test";
 * ordinary - mail from alice@sender.test; file - FILE as the message of
 * a bounce from "<>" (hostile input), the same each time.  CONNS
 * threads, each with its own connection per message (Postfix's cleanup
 * opens one per message).  Prints one line of key=value figures; exits
 * 1 if any answer was not the expected one (continue/accept at the end),
 * counted as "unexpected".
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SMFI_VERSION	6
#define ACTS_OFFERED	0x1ffu
#define PROT_OFFERED	0x1fffffu
#define P_NOCONNECT	0x1u
#define P_NOHELO	0x2u
#define P_NOMAIL	0x4u
#define P_NORCPT	0x8u
#define P_NOBODY	0x10u
#define P_NOHDRS	0x20u
#define P_NOEOH		0x40u
#define P_NR_HDR	0x80u
#define P_NR_CONN	0x1000u
#define P_NR_HELO	0x2000u
#define P_NR_MAIL	0x4000u
#define P_NR_RCPT	0x8000u
#define P_NR_EOH	0x40000u
#define P_NR_BODY	0x80000u
#define P_HDR_LEADSPC	0x100000u
#define CHUNK		65535

enum mode { M_BOUNCE, M_ORDINARY, M_FILE };

static const char	*o_sock;
static int		 o_conns = 8;
static long		 o_msgs = 1000;
static enum mode	 o_mode = M_BOUNCE;
static char		*o_file;
static size_t		 o_filelen;
static const char	*o_tag = "b";
static const char	*o_path;	/* -f: the message sent */
static long		 g_next;		/* next message number */
static long		 g_unexpected;
static long		 g_tempfail;
static double		*g_lat;		/* ms, per message */
static pthread_mutex_t	 g_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * Commands are buffered and written when a reply is awaited, as Postfix's
 * milter8.c does through its VSTREAM (4096 bytes): a command and its
 * macros go out in one write, and headers that need no reply
 * (SMFIP_NR_HDR) go out together with the command after them.
 */
#define OBUF		4096

struct conn {
	int		 fd;
	uint32_t	 prot;		/* the milter's protocol flags */
	size_t		 olen;		/* bytes waiting in obuf */
	char		 obuf[OBUF];
	char		 rbuf[70000];
};

static double
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static bool
write_all(int fd, const void *p, size_t n)
{
	const char	*q = p;
	ssize_t		 w;

	while (n > 0) {
		if ((w = write(fd, q, n)) < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		q += w;
		n -= (size_t)w;
	}
	return true;
}

static bool
read_all(int fd, void *p, size_t n)
{
	char	*q = p;
	ssize_t	 r;

	while (n > 0) {
		if ((r = read(fd, q, n)) <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			return false;
		}
		q += r;
		n -= (size_t)r;
	}
	return true;
}

static bool
flush_out(struct conn *c)
{
	bool	 ok = write_all(c->fd, c->obuf, c->olen);

	c->olen = 0;
	return ok;
}

static bool
send_cmd(struct conn *c, char cmd, const void *data, size_t len)
{
	uint32_t	 n = htonl((uint32_t)len + 1);
	char		 hdr[5];

	memcpy(hdr, &n, 4);
	hdr[4] = cmd;
	if (c->olen + 5 + len > OBUF && !flush_out(c))
		return false;
	if (5 + len > OBUF)		/* a large body chunk */
		return write_all(c->fd, hdr, 5) && write_all(c->fd, data, len);
	memcpy(c->obuf + c->olen, hdr, 5);
	if (len > 0)
		memcpy(c->obuf + c->olen + 5, data, len);
	c->olen += 5 + len;
	return true;
}

/* One reply packet: its command letter, or 0 on a broken connection. */
static char
read_reply(struct conn *c, size_t *len)
{
	uint32_t	 n;

	if (c->olen > 0 && !flush_out(c))
		return 0;
	if (!read_all(c->fd, &n, 4))
		return 0;
	n = ntohl(n);
	if (n == 0 || n > sizeof(c->rbuf))
		return 0;
	if (!read_all(c->fd, c->rbuf, n))
		return 0;
	if (len != NULL)
		*len = n - 1;
	return c->rbuf[0];
}

/* The final answer to a command, skipping modification requests. */
static char
final_reply(struct conn *c)
{
	char	 r;

	for (;;) {
		switch ((r = read_reply(c, NULL))) {
		case 'h': case 'm': case 'i': case '+': case '-': case 'b':
		case 'e': case 'q': case 'p': case '2': case 'f':
			continue;	/* header/recipient changes, progress */
		default:
			return r;
		}
	}
}

/*
 * A connected socket to the milter: "unix:/path" (or "local:", or a bare
 * path), or "inet:PORT@ADDRESS" as in libmilter and Postfix (an IPv4
 * address; `./setup.sh run` listens on inet:8895@127.0.0.1).
 */
static int
milter_connect(const char *spec)
{
	struct sockaddr_un	 su;
	struct sockaddr_in	 si;
	struct sockaddr		*sa = (struct sockaddr *)&su;
	socklen_t		 salen = sizeof(su);
	const char		*at;
	char			*end;
	long			 port;
	int			 fd;

	if (strncmp(spec, "inet:", 5) == 0) {
		port = strtol(spec + 5, &end, 10);
		at = strchr(spec, '@');
		memset(&si, 0, sizeof(si));
		si.sin_family = AF_INET;
		if (port < 1 || port > 65535 || end != at || at == NULL ||
		    inet_pton(AF_INET, at + 1, &si.sin_addr) != 1)
			return -1;
		si.sin_port = htons((uint16_t)port);
		sa = (struct sockaddr *)&si;
		salen = sizeof(si);
	} else {
		if (strncmp(spec, "unix:", 5) == 0)
			spec += 5;
		else if (strncmp(spec, "local:", 6) == 0)
			spec += 6;
		memset(&su, 0, sizeof(su));
		su.sun_family = AF_UNIX;
		if (strlen(spec) >= sizeof(su.sun_path))
			return -1;
		memcpy(su.sun_path, spec, strlen(spec));
	}
	if ((fd = socket(sa->sa_family, SOCK_STREAM, 0)) < 0)
		return -1;
	if (connect(fd, sa, salen) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool
conn_open(struct conn *c)
{
	uint32_t		 v[3];

	if ((c->fd = milter_connect(o_sock)) < 0)
		return false;
	c->olen = 0;
	v[0] = htonl(SMFI_VERSION);
	v[1] = htonl(ACTS_OFFERED);
	v[2] = htonl(PROT_OFFERED);
	if (!send_cmd(c, 'O', v, sizeof(v)) || read_reply(c, NULL) != 'O') {
		close(c->fd);
		return false;
	}
	memcpy(v, c->rbuf + 1, sizeof(v));
	c->prot = ntohl(v[2]);
	return true;
}

/* Send a command that may have a reply; its answer ('c' when none). */
static char
step(struct conn *c, char cmd, const void *d, size_t n, uint32_t no,
    uint32_t nr)
{
	if (c->prot & no)
		return 'c';
	if (!send_cmd(c, cmd, d, n))
		return 0;
	return (c->prot & nr) ? 'c' : final_reply(c);
}

static size_t
nul_join(char *out, size_t max, const char *a, const char *b)
{
	size_t	 la = strlen(a) + 1, lb = b ? strlen(b) + 1 : 0;

	if (la + lb > max)
		return 0;
	memcpy(out, a, la);
	if (b)
		memcpy(out + la, b, lb);
	return la + lb;
}

/* A Postfix DSN for message number i (a new recipient each time). */
static size_t
make_dsn(char *buf, size_t max, long i)
{
	int	 n;

	n = snprintf(buf, max,
	    "Date: Sun, 06 Dec 2026 08:00:00 +0000 (UTC)\r\n"
	    "From: MAILER-DAEMON@e2e-mta.test (Mail Delivery System)\r\n"
	    "Subject: Undelivered Mail Returned to Sender\r\n"
	    "To: alice@sender.test\r\n"
	    "Auto-Submitted: auto-replied\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/report; report-type=delivery-status;\r\n"
	    "\tboundary=\"B%ld\"\r\n"
	    "Message-Id: <dsn-%s-%ld@e2e-mta.test>\r\n"
	    "\r\n"
	    "--B%ld\r\nContent-Description: Notification\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
	    "This is the mail system at host e2e-mta.test.\r\n\r\n"
	    "I'm sorry to have to inform you that your message could not\r\n"
	    "be delivered to one or more recipients.\r\n\r\n"
	    "<u%ld-%s@remote.test>: host 127.0.0.1[127.0.0.1] said: 550 5.1.1\r\n"
	    "    Error: no such user here (in reply to RCPT TO command)\r\n\r\n"
	    "--B%ld\r\nContent-Description: Delivery report\r\n"
	    "Content-Type: message/delivery-status\r\n\r\n"
	    "Reporting-MTA: dns; e2e-mta.test\r\n"
	    "X-Postfix-Queue-ID: Q%s%ld\r\n"
	    "X-Postfix-Sender: rfc822; alice@sender.test\r\n"
	    "Arrival-Date: Sun,  6 Dec 2026 07:59:59 +0000 (UTC)\r\n\r\n"
	    "Final-Recipient: rfc822; u%ld-%s@remote.test\r\n"
	    "Original-Recipient: rfc822;u%ld-%s@remote.test\r\n"
	    "Action: failed\r\nStatus: 5.1.1\r\n"
	    "Remote-MTA: dns; 127.0.0.1\r\n"
	    "Diagnostic-Code: smtp; 550 5.1.1 Error: no such user here\r\n\r\n"
	    "--B%ld\r\nContent-Description: Undelivered Message\r\n"
	    "Content-Type: message/rfc822\r\n\r\n"
	    "From: <alice@sender.test>\r\nTo: <u%ld-%s@remote.test>\r\n"
	    "Subject: bench\r\nMessage-ID: <m%ld-%s@sender.test>\r\n\r\n"
	    "bench message\r\n\r\n--B%ld--\r\n",
	    i, o_tag, i, i, i, o_tag, i, o_tag, i, i, o_tag, i, o_tag, i, i,
	    o_tag, i, o_tag, i);
	return n > 0 && (size_t)n < max ? (size_t)n : 0;
}

/* Headers as 'L' packets, then EOH, then the body in chunks. */
static char
send_message(struct conn *c, const char *m, size_t len)
{
	const char	*p = m, *end = m + len, *colon, *eol, *q;
	char		 buf[CHUNK + 2], r;
	size_t		 n, bl;

	/* the header block: one field at a time, folding kept as LF */
	while (p < end && *p != '\r' && *p != '\n') {
		colon = memchr(p, ':', (size_t)(end - p));
		if (colon == NULL)
			break;
		q = colon + 1;
		if (!(c->prot & P_HDR_LEADSPC))
			while (q < end && (*q == ' ' || *q == '\t'))
				q++;
		bl = 0;
		n = (size_t)(colon - p);
		if (n >= sizeof(buf) - 2)
			n = sizeof(buf) - 3;
		memcpy(buf, p, n);
		buf[n++] = '\0';
		for (;;) {
			eol = memchr(q, '\n', (size_t)(end - q));
			if (eol == NULL)
				eol = end;
			bl = (size_t)(eol - q);
			if (bl > 0 && q[bl - 1] == '\r')
				bl--;
			if (n + bl + 2 < sizeof(buf)) {
				memcpy(buf + n, q, bl);
				n += bl;
			}
			p = eol < end ? eol + 1 : end;
			if (p < end && (*p == ' ' || *p == '\t')) {
				if (n + 1 < sizeof(buf))
					buf[n++] = '\n';
				q = p;
				continue;
			}
			break;
		}
		buf[n++] = '\0';
		if ((r = step(c, 'L', buf, n, P_NOHDRS, P_NR_HDR)) != 'c')
			return r;
	}
	if (p < end && *p == '\r')
		p++;
	if (p < end && *p == '\n')
		p++;
	if ((r = step(c, 'N', NULL, 0, P_NOEOH, P_NR_EOH)) != 'c')
		return r;
	while (p < end && !(c->prot & P_NOBODY)) {
		n = (size_t)(end - p) > CHUNK ? CHUNK : (size_t)(end - p);
		r = step(c, 'B', p, n, P_NOBODY, P_NR_BODY);
		p += n;
		if (r == 's')
			break;
		if (r != 'c')
			return r;
	}
	if (!send_cmd(c, 'E', NULL, 0))
		return 0;
	return final_reply(c);
}

/* One message on a new connection; its final answer. */
static char
one(long i, char *mbuf, size_t mmax)
{
	struct conn	 c;
	char		 d[512], r;
	size_t		 n, mlen;
	uint16_t	 port = htons(0);

	if (!conn_open(&c))
		return 0;
	/* connect macros, as on Postfix's internal path */
	n = 0;
	d[n++] = 'C';
	n += nul_join(d + n, sizeof(d) - n, "j", "e2e-mta.test");
	n += nul_join(d + n, sizeof(d) - n, "{daemon_name}", "bench");
	r = 0;
	if (!send_cmd(&c, 'D', d, n))
		goto out;
	n = nul_join(d, sizeof(d), "localhost", NULL);
	d[n++] = '4';
	memcpy(d + n, &port, 2);
	n += 2;
	n += nul_join(d + n, sizeof(d) - n, "127.0.0.1", NULL);
	if ((r = step(&c, 'C', d, n, P_NOCONNECT, P_NR_CONN)) != 'c')
		goto out;
	if ((r = step(&c, 'H', "localhost", 10, P_NOHELO, P_NR_HELO)) != 'c')
		goto out;
	n = 0;
	d[n++] = 'M';
	{
		char	 qid[32];

		(void)snprintf(qid, sizeof(qid), "D%s%ld", o_tag, i);
		n += nul_join(d + n, sizeof(d) - n, "i", qid);
	}
	if (!send_cmd(&c, 'D', d, n)) {
		r = 0;
		goto out;
	}
	n = nul_join(d, sizeof(d), o_mode == M_ORDINARY ?
	    "<alice@sender.test>" : o_mode == M_FILE ? "<>" : "", NULL);
	if ((r = step(&c, 'M', d, n, P_NOMAIL, P_NR_MAIL)) != 'c')
		goto out;
	n = nul_join(d, sizeof(d), o_mode == M_ORDINARY ?
	    "<bob@remote.test>" : "alice@sender.test", NULL);
	if ((r = step(&c, 'R', d, n, P_NORCPT, P_NR_RCPT)) != 'c')
		goto out;
	if (o_mode == M_FILE) {
		r = send_message(&c, o_file, o_filelen);
	} else if (o_mode == M_ORDINARY) {
		static const char msg[] = "From: <alice@sender.test>\r\n"
		    "To: <bob@remote.test>\r\nSubject: hello\r\n"
		    "Message-ID: <o@sender.test>\r\n\r\nhello\r\n";

		r = send_message(&c, msg, sizeof(msg) - 1);
	} else {
		if ((mlen = make_dsn(mbuf, mmax, i)) == 0) {
			r = 0;
			goto out;
		}
		r = send_message(&c, mbuf, mlen);
	}
out:
	if (send_cmd(&c, 'Q', NULL, 0))
		(void)flush_out(&c);
	close(c.fd);
	return r;
}

static void *
worker(void *arg)
{
	char	*mbuf = malloc(16384);
	long	 i;
	double	 t0;
	char	 r;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&g_lock);
		i = g_next < o_msgs ? g_next++ : -1;
		pthread_mutex_unlock(&g_lock);
		if (i < 0)
			break;
		t0 = now_ms();
		r = one(i, mbuf, 16384);
		g_lat[i] = now_ms() - t0;
		if (r == 't')
			__atomic_add_fetch(&g_tempfail, 1, __ATOMIC_RELAXED);
		if (r != 'c' && r != 'a')
			__atomic_add_fetch(&g_unexpected, 1, __ATOMIC_RELAXED);
	}
	free(mbuf);
	return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* CPU ticks (utime + stime) of a process, -1 if unknown. */
static long long
proc_cpu(long pid)
{
	char		 path[64], buf[2048], *p;
	FILE		*fp;
	unsigned long	 ut, st;
	size_t		 n;

	(void)snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	/* fields 14 and 15 (utime, stime); p is at the end of field 2 */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &ut, &st) != 2)
		return -1;
	return (long long)(ut + st);
}

/* A field of /proc/PID/status in KiB (VmRSS, VmHWM), -1 if unknown. */
static long
proc_kib(long pid, const char *field)
{
	char	 path[64], line[256];
	FILE	*fp;
	long	 v = -1;
	size_t	 fl = strlen(field);

	(void)snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, field, fl) == 0 && line[fl] == ':')
			v = strtol(line + fl + 1, NULL, 10);
	fclose(fp);
	return v;
}

struct sampler {
	long		 pid;
	volatile bool	 stop;
	long		 peak;		/* VmRSS seen, KiB */
};

static void *
sample(void *arg)
{
	struct sampler	*s = arg;
	long		 v;

	while (!s->stop) {
		if ((v = proc_kib(s->pid, "VmRSS")) > s->peak)
			s->peak = v;
		usleep(2000);
	}
	return NULL;
}

static void
usage(void)
{
	fprintf(stderr, "usage: milterbench -s SOCKET [-p PID] [-c CONNS] "
	    "[-n MSGS] [-m bounce|ordinary|file] [-f FILE] [-t TAG]\n");
	exit(64);
}

int
main(int argc, char *argv[])
{
	struct sampler	 sm = { 0, false, 0 };
	pthread_t	*tids, stid;
	long		 pid = 0, rss0 = -1, hz = sysconf(_SC_CLK_TCK);
	long long	 cpu0 = -1, cpu1 = -1;
	double		 t0, secs;
	int		 ch, i;
	bool		 tagged = false;	/* -t given */
	FILE		*fp;

	while ((ch = getopt(argc, argv, "c:f:m:n:p:s:t:")) != -1) {
		switch (ch) {
		case 'c': o_conns = atoi(optarg); break;
		case 'f': o_mode = M_FILE; o_path = optarg; break;
		case 'm':
			o_mode = strcmp(optarg, "ordinary") == 0 ? M_ORDINARY :
			    strcmp(optarg, "file") == 0 ? M_FILE : M_BOUNCE;
			break;
		case 'n': o_msgs = atol(optarg); break;
		case 'p': pid = atol(optarg); break;
		case 's': o_sock = optarg; break;
		case 't': o_tag = optarg; tagged = true; break;
		default: usage();
		}
	}
	if (o_sock == NULL || o_conns < 1 || o_msgs < 1)
		usage();
	if (o_mode == M_FILE) {
		if (o_path == NULL)
			usage();
		if ((fp = fopen(o_path, "rb")) == NULL) {
			perror(o_path);
			return 66;
		}
		fseek(fp, 0, SEEK_END);
		o_filelen = (size_t)ftell(fp);
		rewind(fp);
		if ((o_file = malloc(o_filelen + 1)) == NULL ||
		    fread(o_file, 1, o_filelen, fp) != o_filelen) {
			fprintf(stderr, "cannot read %s\n", o_path);
			return 66;
		}
		fclose(fp);
		if (!tagged)
			o_tag = "f";
	}
	if ((g_lat = calloc((size_t)o_msgs, sizeof(*g_lat))) == NULL ||
	    (tids = calloc((size_t)o_conns, sizeof(*tids))) == NULL)
		return 71;
	if (pid > 0) {
		cpu0 = proc_cpu(pid);
		rss0 = proc_kib(pid, "VmRSS");
		sm.pid = pid;
		pthread_create(&stid, NULL, sample, &sm);
	}
	t0 = now_ms();
	for (i = 0; i < o_conns; i++)
		pthread_create(&tids[i], NULL, worker, NULL);
	for (i = 0; i < o_conns; i++)
		pthread_join(tids[i], NULL);
	secs = (now_ms() - t0) / 1e3;
	if (pid > 0) {
		cpu1 = proc_cpu(pid);
		sm.stop = true;
		pthread_join(stid, NULL);
	}
	qsort(g_lat, (size_t)o_msgs, sizeof(*g_lat), cmp_double);
	printf("mode=%s msgs=%ld conns=%d seconds=%.3f msgs_per_s=%.0f "
	    "p50_ms=%.3f p99_ms=%.3f max_ms=%.3f unexpected=%ld tempfail=%ld",
	    o_mode == M_BOUNCE ? "bounce" : o_mode == M_ORDINARY ? "ordinary" :
	    "file", o_msgs, o_conns, secs, (double)o_msgs / secs,
	    g_lat[o_msgs / 2], g_lat[(size_t)((double)o_msgs * 0.99)],
	    g_lat[o_msgs - 1], g_unexpected, g_tempfail);
	if (pid > 0 && cpu0 >= 0 && cpu1 >= 0)
		printf(" milter_cpu_s=%.3f cpu_ms_per_msg=%.4f rss_before_kib=%ld "
		    "rss_peak_kib=%ld hwm_kib=%ld", (double)(cpu1 - cpu0) / hz,
		    (double)(cpu1 - cpu0) * 1e3 / hz / (double)o_msgs, rss0,
		    sm.peak, proc_kib(pid, "VmHWM"));
	printf("\n");
	return g_unexpected > 0 ? 1 : 0;
}
