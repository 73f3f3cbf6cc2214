/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2026 The bounced authors.
 *
 * ctl_gz.c - compressed mail logs for ingest-log.  logrotate compresses
 * the old logs (mail.log.2.gz); read as text, such a file gave a hundred
 * "lines" of binary, no record and exit 0.  A file is now recognised by
 * its magic bytes: gzip is inflated with zlib by a thread into a pipe
 * that becomes standard input (the log follower reads it as it reads a
 * pipe), and bzip2, xz and zstd are refused with the command that reads
 * them (bzcat FILE | bouncectl ingest-log -).
 *
 * The inflating thread only reads the file and writes the pipe; the
 * compressed bytes it has read are published for the progress line.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "bouncectl/ctl_int.h"

struct ctl_gz {
	pthread_t	 th;
	gzFile		 gz;
	int		 wfd;		/* the pipe's write end */
	int		 rawfd;		/* the file, for the offset */
	uint64_t	 done;		/* compressed bytes read (atomic) */
	uint64_t	 size;		/* compressed size */
	char		 err[160];	/* "" or why inflating stopped */
};

/*
 * ctl_compression - the compression of the file at path, by its first
 * bytes: "gzip", "bzip2", "xz", "zstd", or NULL (plain, or unreadable:
 * the caller's open says why)
 */
const char *
ctl_compression(const char *path)
{
	static const struct {
		const char	*name;
		const char	*magic;
		size_t		 len;
	} kinds[] = {
		{ "gzip", "\x1f\x8b", 2 },
		{ "bzip2", "BZh", 3 },
		{ "xz", "\xfd" "7zXZ\0", 6 },
		{ "zstd", "\x28\xb5\x2f\xfd", 4 },
	};
	unsigned char	 head[8];
	ssize_t		 n;
	size_t		 i;
	int		 fd;

	if (strcmp(path, "-") == 0 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	n = read(fd, head, sizeof(head));
	close(fd);
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (n >= (ssize_t)kinds[i].len &&
		    memcmp(head, kinds[i].magic, kinds[i].len) == 0)
			return kinds[i].name;
	return NULL;
}

static void *
inflate_main(void *arg)
{
	struct ctl_gz	*g = arg;
	char		 buf[65536];
	const char	*p, *msg;
	int		 n, zerr;
	ssize_t		 w;
	off_t		 at;

	while ((n = gzread(g->gz, buf, sizeof(buf))) > 0) {
		for (p = buf; n > 0; p += w, n -= (int)w) {
			if ((w = write(g->wfd, p, (size_t)n)) == -1) {
				if (errno == EINTR) {
					w = 0;
					continue;
				}
				/* the reader stopped (EPIPE): not our error */
				goto out;
			}
		}
		if ((at = lseek(g->rawfd, 0, SEEK_CUR)) >= 0)
			__atomic_store_n(&g->done, (uint64_t)at,
			    __ATOMIC_RELAXED);
	}
	/* a truncated stream ends with 0 and Z_BUF_ERROR (zlib.h, gzread) */
	msg = gzerror(g->gz, &zerr);
	if (n < 0 || zerr != Z_OK)
		snprintf(g->err, sizeof(g->err), "gzip: %s", zerr == Z_BUF_ERROR ?
		    "truncated data (unexpected end of file)" : msg);
out:
	close(g->wfd);
	g->wfd = -1;
	return NULL;
}

/*
 * ctl_gz_open - inflate the gzip file at path into standard input
 *
 * Returns the reader (ctl_gz_close() it after the input is read), or
 * NULL after a message on stderr.
 * Notes: standard input is replaced by the pipe; SIGPIPE is ignored, so
 * that a reader that stops early ends the thread with EPIPE.
 */
struct ctl_gz *
ctl_gz_open(const char *path)
{
	struct ctl_gz	*g;
	struct stat	 sb;
	int		 p[2];

	if ((g = calloc(1, sizeof(*g))) == NULL) {
		fprintf(stderr, "bouncectl: out of memory\n");
		return NULL;
	}
	g->wfd = g->rawfd = -1;
	if ((g->rawfd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(g->rawfd, &sb) == -1) {
		fprintf(stderr, "bouncectl: %s: %s\n", path, strerror(errno));
		goto fail;
	}
	g->size = (uint64_t)sb.st_size;
	/* zlib gets its own descriptor; rawfd is only for the offset */
	if ((g->gz = gzdopen(dup(g->rawfd), "rb")) == NULL) {
		fprintf(stderr, "bouncectl: %s: cannot read gzip data\n",
		    path);
		goto fail;
	}
	if (pipe(p) == -1 || fcntl(p[1], F_SETFD, FD_CLOEXEC) == -1 ||
	    dup2(p[0], STDIN_FILENO) == -1) {
		fprintf(stderr, "bouncectl: pipe: %s\n", strerror(errno));
		goto fail;
	}
	close(p[0]);
	g->wfd = p[1];
	(void)signal(SIGPIPE, SIG_IGN);
	if ((errno = pthread_create(&g->th, NULL, inflate_main, g)) != 0) {
		fprintf(stderr, "bouncectl: thread: %s\n", strerror(errno));
		goto fail;
	}
	return g;
fail:
	if (g->gz != NULL)
		gzclose(g->gz);
	if (g->wfd != -1)
		close(g->wfd);
	if (g->rawfd != -1)
		close(g->rawfd);
	free(g);
	return NULL;
}

/* ctl_gz_progress - per mille of the compressed file read so far */
int
ctl_gz_progress(const struct ctl_gz *g)
{
	uint64_t	 d = __atomic_load_n(&g->done, __ATOMIC_RELAXED);

	return g->size > 0 ? (int)(d * 1000 / g->size) : 0;
}

/*
 * ctl_gz_close - wait for the thread and free g
 *
 * Returns NULL, or the text of a failure to inflate (corrupt or
 * truncated data), valid until the next call.
 * Notes: standard input is closed first, so that a thread still
 * writing ends (EPIPE).
 */
const char *
ctl_gz_close(struct ctl_gz *g)
{
	static char	 err[160];

	if (g == NULL)
		return NULL;
	close(STDIN_FILENO);
	pthread_join(g->th, NULL);
	gzclose(g->gz);
	close(g->rawfd);
	snprintf(err, sizeof(err), "%s", g->err);
	free(g);
	return err[0] != '\0' ? err : NULL;
}
