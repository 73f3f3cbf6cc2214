/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors */
/*
 * maillog_follow.c - read complete lines from a log file that grows, is rotated
 * or truncated, or does not exist yet; or from standard input.
 *
 * Files are polled at an interval (no inotify: the same code works on
 * every system and inside any sandbox).  At the end of the file the path
 * is checked: another inode under the name means logrotate renamed the
 * file away, so the old one is read to its end first and then the new
 * one from its start; a file shorter than what was read means
 * copytruncate, so reading starts again at 0.  A line is returned only
 * once its newline has arrived, except at the end of a finished file,
 * of stdin, or of a FOLLOW_ONCE read.  Lines longer than max_line are
 * cut (the rest is dropped up to the newline) so memory stays bounded.
 *
 * The position (device, inode, offset of the next unread line) lets a
 * caller that stored it resume without reading a line twice; if the
 * inode changed meanwhile, the rest of the old file is read from path.1
 * when logrotate left it there, then the current file from its start.
 *
 * An I/O module: it never logs and never exits; it returns statuses.
 * XXX: a copytruncate followed by more writing than was read before we
 * look again goes unseen (the same holds for tail -F).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "maillog/maillog_follow.h"

#define FOLLOW_CHUNK		65536
#define FOLLOW_DEF_LINE		8192
#define FOLLOW_DEF_INTERVAL	250

struct follow {
	char		*path;		/* NULL: standard input */
	char		*path1;		/* path.1: the old file */
	int		 fd;		/* -1: the file is not there */
	bool		 eof;		/* stdin ended */
	bool		 old;		/* fd is path.1: path next */
	uint64_t	 dev, ino;	/* of fd */
	uint64_t	 off;		/* file offset of buf[end] */
	char		*buf;
	size_t		 cap, start, end, scan;
	size_t		 max_line;
	bool		 discarding;	/* dropping a cut line's tail */
	bool		 saved;		/* buf[saved_at] made NUL */
	size_t		 saved_at;
	char		 saved_ch;
	int		 interval_ms;
	unsigned	 flags;
	int		 err;
	struct follow_stats st;
};

static int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(int ms)
{
	struct timespec	 ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);	/* EINTR: the caller's loop looks again */
}

/* Open path; fill dev/ino/size.  -1 with errno on failure. */
static int
open_file(const char *path, uint64_t *dev, uint64_t *ino, uint64_t *size)
{
	struct stat	 sb;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return -1;
	if (fstat(fd, &sb) == -1) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	*dev = (uint64_t)sb.st_dev;
	*ino = (uint64_t)sb.st_ino;
	*size = (uint64_t)sb.st_size;
	return fd;
}

static void
reset_buffer(struct follow *f)
{
	f->start = f->end = f->scan = 0;
	f->discarding = false;
}

/* Start reading the file at path from its beginning (after a rotation). */
static void
open_current(struct follow *f)
{
	uint64_t	 size;

	f->fd = open_file(f->path, &f->dev, &f->ino, &size);
	if (f->fd == -1) {
		f->err = errno;
		if (errno != ENOENT)
			f->st.open_errors++;
		f->dev = f->ino = 0;
	}
	f->off = 0;
	f->old = false;
	reset_buffer(f);
}

static bool
same_file(uint64_t dev, uint64_t ino, const struct follow_pos *pos)
{
	return pos != NULL && pos->ino != 0 && pos->dev == dev &&
	    pos->ino == ino;
}

/* Place a file follower at its first line: resume, the end, or 0. */
static enum bd_status
position_file(struct follow *f, const struct follow_pos *pos)
{
	uint64_t	 dev, ino, size;
	int		 fd;

	f->fd = open_file(f->path, &f->dev, &f->ino, &size);
	if (f->fd == -1) {
		f->err = errno;
		if (errno != ENOENT)
			f->st.open_errors++;
		f->dev = f->ino = 0;
		/* not there yet: it will be read from its start */
	}
	if (pos != NULL && pos->ino != 0) {
		if (f->fd != -1 && same_file(f->dev, f->ino, pos)) {
			if (size >= pos->off) {
				if (lseek(f->fd, (off_t)pos->off, SEEK_SET) ==
				    (off_t)-1)
					return BD_EIO;
				f->off = pos->off;
			} else
				f->st.truncations++;
			return BD_OK;
		}
		/* rotated since: finish the old file if it is path.1 */
		fd = open_file(f->path1, &dev, &ino, &size);
		if (fd != -1) {
			if (same_file(dev, ino, pos) && size >= pos->off &&
			    lseek(fd, (off_t)pos->off, SEEK_SET) != (off_t)-1) {
				if (f->fd != -1)
					close(f->fd);
				f->fd = fd;
				f->dev = dev;
				f->ino = ino;
				f->off = pos->off;
				f->old = true;
				return BD_OK;
			}
			close(fd);
		}
		/* the current file, from its start */
		return f->fd == -1 && (f->flags & FOLLOW_ONCE) ? BD_EIO : BD_OK;
	}
	if (f->fd == -1 && (f->flags & FOLLOW_ONCE))
		return BD_EIO;
	if (f->fd != -1 && (f->flags & FOLLOW_FROM_END)) {
		if (lseek(f->fd, (off_t)size, SEEK_SET) == (off_t)-1)
			return BD_EIO;
		f->off = size;
	}
	return BD_OK;
}

/*
 * follow_open - start following a file or standard input
 *
 * Arguments: path, the log file ("-" or NULL: standard input); pos, a
 * position from follow_position() saved earlier, or NULL; opts, or NULL
 * for the defaults (8192-byte lines, 250 ms polling, from the start);
 * out receives the follower.
 * Returns BD_OK; BD_ENOMEM; BD_EIO when FOLLOW_ONCE names a file that
 * cannot be opened or a seek fails (follow_errno() is not available
 * then: errno is left set).
 * Notes: a file that does not exist is not an error: it is waited for.
 * A position on the current inode is resumed (a file now shorter than
 * it starts again at 0); on another inode, the rest of path.1 is read
 * first when path.1 is that inode, then path from its start.
 */
enum bd_status
follow_open(const char *path, const struct follow_pos *pos,
    const struct follow_opts *opts, struct follow **out)
{
	struct follow	*f;
	enum bd_status	 rc;
	size_t		 n;

	*out = NULL;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return BD_ENOMEM;
	f->fd = -1;
	f->max_line = opts && opts->max_line ? opts->max_line :
	    FOLLOW_DEF_LINE;
	f->interval_ms = opts && opts->interval_ms > 0 ? opts->interval_ms :
	    FOLLOW_DEF_INTERVAL;
	f->flags = opts ? opts->flags : 0;
	f->cap = f->max_line + FOLLOW_CHUNK + 2;
	if ((f->buf = malloc(f->cap)) == NULL) {
		free(f);
		return BD_ENOMEM;
	}
	if (path == NULL || strcmp(path, "-") == 0) {
		f->fd = STDIN_FILENO;
		*out = f;
		return BD_OK;
	}
	n = strlen(path);
	if ((f->path = strdup(path)) == NULL ||
	    (f->path1 = malloc(n + 3)) == NULL) {
		follow_close(f);
		return BD_ENOMEM;
	}
	memcpy(f->path1, path, n);
	memcpy(f->path1 + n, ".1", 3);
	if ((rc = position_file(f, pos)) != BD_OK) {
		int e = errno;
		follow_close(f);
		errno = e;
		return rc;
	}
	*out = f;
	return BD_OK;
}

/*
 * The next line in the buffer: one that ends in a newline, or the first
 * max_line bytes of a longer one.  The line is NUL-terminated in place.
 */
static bool
take_line(struct follow *f, const char **line, size_t *len, bool *cut)
{
	char	*nl;
	size_t	 s0;

	for (;;) {
		nl = f->scan < f->end ? memchr(f->buf + f->scan, '\n',
		    f->end - f->scan) : NULL;
		if (nl == NULL) {
			f->scan = f->end;
			if (f->discarding) {
				f->start = f->scan = f->end;
				return false;
			}
			if (f->end - f->start < f->max_line)
				return false;
			/* too long: hand out max_line bytes, drop the rest */
			*line = f->buf + f->start;
			*len = f->max_line;
			*cut = true;
			f->start += f->max_line;
			f->scan = f->start;
			f->saved = true;
			f->saved_at = f->start;
			f->saved_ch = f->buf[f->start];
			f->buf[f->start] = '\0';
			f->discarding = true;
			f->st.cut_lines++;
			f->st.lines++;
			return true;
		}
		s0 = f->start;
		*nl = '\0';
		*line = f->buf + s0;
		*len = (size_t)(nl - (f->buf + s0));
		f->start = f->scan = (size_t)(nl - f->buf) + 1;
		if (f->discarding) {	/* the tail of a cut line */
			f->discarding = false;
			continue;
		}
		if (*len > f->max_line) {	/* came whole in one read */
			*len = f->max_line;
			*cut = true;
			f->st.cut_lines++;
			f->buf[s0 + f->max_line] = '\0';
		}
		f->st.lines++;
		return true;
	}
}

/* Read what is there.  >0 bytes, 0 at the end for now, -1 on error. */
static ssize_t
fill(struct follow *f)
{
	ssize_t	 n;

	if (f->start > 0) {
		memmove(f->buf, f->buf + f->start, f->end - f->start);
		f->end -= f->start;
		f->scan -= f->start;
		f->start = 0;
	}
	if (f->fd == -1 || f->end + 1 >= f->cap)
		return 0;
	if (f->path == NULL) {
		/* never block in read(2) on a pipe: the caller's timeout */
		struct pollfd pfd = { f->fd, POLLIN, 0 };
		if (f->eof || poll(&pfd, 1, 0) <= 0)
			return 0;
	}
	do
		n = read(f->fd, f->buf + f->end, f->cap - f->end - 1);
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		f->err = errno;
		return -1;
	}
	if (n == 0 && f->path == NULL)
		f->eof = true;
	f->end += (size_t)n;
	f->off += (uint64_t)n;
	f->st.bytes += (uint64_t)n;
	return n;
}

/* At the end of a finished file: its last line needs no newline. */
static bool
finish_partial(struct follow *f)
{
	if (f->end == f->start || f->discarding)
		return false;
	/* off stays: once the line is taken, off - (end - start) is the
	 * file's size again, so a stored position is never past the end */
	f->buf[f->end++] = '\n';
	return true;
}

/*
 * At the end of the file: was it rotated away or truncated?  Returns
 * true when there is something new to read.
 */
static bool
check_file(struct follow *f)
{
	struct stat	 sb;
	uint64_t	 dev, ino, size;
	int		 fd;

	if (f->fd == -1) {
		open_current(f);
		return f->fd != -1;
	}
	if (f->old) {			/* resumed in path.1: now path */
		if (finish_partial(f))
			return true;
		close(f->fd);
		open_current(f);
		f->st.rotations++;
		return true;
	}
	if (fstat(f->fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    (uint64_t)sb.st_size < f->off) {
		/* copytruncate: the writer starts again at 0 */
		if (f->end > f->start)
			f->st.lost_partial++;
		if (lseek(f->fd, 0, SEEK_SET) == (off_t)-1) {
			f->err = errno;
			return false;
		}
		f->off = 0;
		reset_buffer(f);
		f->st.truncations++;
		return true;
	}
	fd = open_file(f->path, &dev, &ino, &size);
	if (fd == -1) {
		if (errno != ENOENT) {
			f->err = errno;
			f->st.open_errors++;
		}
		return false;	/* renamed, the new one not there yet */
	}
	if (dev == f->dev && ino == f->ino) {
		close(fd);
		return false;
	}
	/* rotated: the old file is read to its end (fill() said 0 just
	 * now, but the writer may not have reopened yet), then the new */
	if (fill(f) > 0 || finish_partial(f)) {
		close(fd);
		return true;
	}
	close(f->fd);
	f->fd = fd;
	f->dev = dev;
	f->ino = ino;
	f->off = 0;
	reset_buffer(f);
	f->st.rotations++;
	return true;
}

/*
 * follow_next - the next complete line
 *
 * Arguments: f; timeout_ms, how long to wait for a line (0: do not wait,
 * <0: until one comes); line/len receive the line without its newline,
 * NUL-terminated, valid until the next call; cut is set when the line
 * was longer than max_line and has been cut (the rest is dropped).
 * Returns FOLLOW_LINE; FOLLOW_TIMEOUT (also when a signal interrupted the
 * wait on stdin, so that the caller can look at its flags); FOLLOW_EOF
 * at the end of stdin or, with FOLLOW_ONCE, of the file; FOLLOW_ERROR
 * when read(2) failed (follow_errno()).
 * Notes: a file that vanished or cannot be reopened is waited for, not
 * an error: follow_errno() and the open_errors counter say why.
 */
enum follow_result
follow_next(struct follow *f, int timeout_ms, const char **line, size_t *len,
    bool *cut)
{
	int64_t		 deadline = 0;
	ssize_t		 n;
	int		 left;

	*cut = false;
	if (f->saved) {
		f->buf[f->saved_at] = f->saved_ch;
		f->saved = false;
	}
	if (timeout_ms >= 0)
		deadline = now_ms() + timeout_ms;
	for (;;) {
		if (take_line(f, line, len, cut))
			return FOLLOW_LINE;
		if ((n = fill(f)) > 0)
			continue;
		if (n < 0)
			return FOLLOW_ERROR;
		left = -1;
		if (timeout_ms >= 0) {
			int64_t d = deadline - now_ms();
			left = d > 0 ? (int)d : 0;
		}
		if (f->path == NULL) {
			struct pollfd	 pfd;
			int		 k;

			if (f->eof) {
				if (finish_partial(f))
					continue;
				return FOLLOW_EOF;
			}
			pfd.fd = f->fd;
			pfd.events = POLLIN;
			pfd.revents = 0;
			k = poll(&pfd, 1, left);
			if (k == 0 || (k == -1 && errno == EINTR))
				return FOLLOW_TIMEOUT;
			if (k == -1) {
				f->err = errno;
				return FOLLOW_ERROR;
			}
			continue;
		}
		if (check_file(f))
			continue;
		if (f->flags & FOLLOW_ONCE) {
			if (finish_partial(f))
				continue;
			return FOLLOW_EOF;
		}
		if (left == 0)
			return FOLLOW_TIMEOUT;
		sleep_ms(left < 0 || left > f->interval_ms ? f->interval_ms :
		    left);
	}
}

/*
 * follow_position - where the next unread line starts
 *
 * Arguments: f; pos receives device, inode and offset.
 * Notes: store it once the lines before it have been recorded; pass it
 * to follow_open() at the next start.  For stdin, dev and ino are 0 and
 * off counts the bytes consumed.  Before the file exists, all are 0.
 */
void
follow_position(const struct follow *f, struct follow_pos *pos)
{
	pos->dev = f->path ? f->dev : 0;
	pos->ino = f->path ? f->ino : 0;
	pos->off = f->off - (uint64_t)(f->end - f->start);
}

/*
 * follow_get_stats - copy the counters
 *
 * Arguments: f; st receives them.
 */
void
follow_get_stats(const struct follow *f, struct follow_stats *st)
{
	*st = f->st;
}

/*
 * follow_errno - the errno of the last failed open or read
 *
 * Arguments: f.  Returns 0 if nothing failed (ENOENT while waiting for
 * the file to appear is recorded too).
 */
int
follow_errno(const struct follow *f)
{
	return f->err;
}

/*
 * follow_close - stop following
 *
 * Arguments: f, or NULL.
 * Notes: standard input is not closed.
 */
void
follow_close(struct follow *f)
{
	if (f == NULL)
		return;
	if (f->path != NULL && f->fd != -1)
		close(f->fd);
	free(f->path);
	free(f->path1);
	free(f->buf);
	free(f);
}
