/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * maillog_follow.h - read complete lines from a growing log file (across
 * logrotate's rename and copytruncate, and before the file exists) or
 * from standard input, with a position that can be stored and resumed.
 *
 * An I/O module: it never logs; everything comes back as a status.
 */
#ifndef BD_FOLLOW_H
#define BD_FOLLOW_H

#include "util/bd.h"

struct follow;

/* Where the next unread line starts: store it, give it to follow_open. */
struct follow_pos {
	uint64_t	 dev;		/* st_dev; 0 for stdin */
	uint64_t	 ino;		/* st_ino; 0: no position */
	uint64_t	 off;		/* byte offset of the next line */
};

struct follow_opts {
	size_t		 max_line;	/* cut longer lines (0: 8192) */
	int		 interval_ms;	/* file polling (0: 250 ms) */
	unsigned	 flags;		/* FOLLOW_* */
};

#define FOLLOW_FROM_END	0x01	/* no position: start at the end */
#define FOLLOW_ONCE	0x02	/* read a file to its end, then EOF */

enum follow_result {
	FOLLOW_LINE = 0,	/* one line, without its newline */
	FOLLOW_TIMEOUT,		/* no whole line before the timeout */
	FOLLOW_EOF,		/* stdin closed; the end in FOLLOW_ONCE */
	FOLLOW_ERROR,		/* read error: see follow_errno() */
};

/* Counters for the caller's log and status output. */
struct follow_stats {
	uint64_t	 lines;		/* lines returned */
	uint64_t	 bytes;		/* bytes read */
	uint64_t	 rotations;	/* files finished and replaced */
	uint64_t	 truncations;	/* the file shrank under us */
	uint64_t	 cut_lines;	/* lines longer than max_line */
	uint64_t	 lost_partial;	/* partial lines truncated */
	uint64_t	 open_errors;	/* failed opens, ENOENT aside */
};

/*
 * follow_open - follow path ("-" or NULL: standard input), resuming at
 * *pos when it names the current file (or path.1 after a rotation).
 * opts may be NULL.  BD_ENOMEM, BD_EIO (FOLLOW_ONCE and no such file).
 */
enum bd_status follow_open(const char *path, const struct follow_pos *pos,
    const struct follow_opts *opts, struct follow **out);
/* follow_next - wait up to timeout_ms (<0: for ever) for the next line */
enum follow_result follow_next(struct follow *f, int timeout_ms,
    const char **line, size_t *len, bool *cut);
/* follow_position - the position just after the last line returned */
void follow_position(const struct follow *f, struct follow_pos *pos);
/* follow_stats - a copy of the counters */
void follow_get_stats(const struct follow *f, struct follow_stats *st);
/* follow_errno - errno of the last failed open or read, 0 if none */
int follow_errno(const struct follow *f);
/* follow_close - close and free; NULL is fine */
void follow_close(struct follow *f);

#endif
