/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors */
/*
 * check_follow.c - unit tests for the log follower: appends, partial
 * lines, logrotate's rename and copytruncate, a file that appears late,
 * resuming from a stored position, cut lines, FOLLOW_ONCE and stdin.
 * The file cases are scripts (a table of steps: write, rotate, read,
 * check) run in a temporary folder of their own; the waits add up to a
 * few hundred milliseconds at most.
 */
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "maillog/maillog_follow.h"
#include "testutil.h"

static char	 dir[256];
static char	 path[300];	/* dir/maillog, the file followed */
static char	 path1[300];	/* dir/maillog.1, where rotation puts it */

static void
setup(void)
{
	testutil_tmpdir("check_follow", dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/maillog", dir);
	snprintf(path1, sizeof(path1), "%s/maillog.1", dir);
}

static void
teardown(void)
{
	testutil_rmtree(dir);
}

/* Append text to a file, creating it if need be. */
static void
append(const char *p, const char *text)
{
	int	 fd;
	size_t	 n = strlen(text);

	fd = open(p, O_WRONLY | O_CREAT | O_APPEND, 0600);
	ck_assert_msg(fd != -1, "open %s: %s", p, strerror(errno));
	ck_assert_msg(write(fd, text, n) == (ssize_t)n, "write: %s",
	    strerror(errno));
	close(fd);
}

/* The next line must be want, cut (longer than max_line) or whole. */
static void
want_line(struct follow *f, const char *want, bool want_cut,
    const char *where)
{
	const char		*line = NULL;
	size_t			 len = 0;
	bool			 cut;
	enum follow_result	 r;

	r = follow_next(f, 0, &line, &len, &cut);
	ck_assert_msg(r == FOLLOW_LINE, "%s: want \"%s\": got result %d, "
	    "want FOLLOW_LINE", where, want, r);
	ck_assert_msg(len == strlen(want) && memcmp(line, want, len) == 0 &&
	    line[len] == '\0', "%s: got \"%.*s\", want \"%s\"", where,
	    (int)len, line, want);
	ck_assert_msg(cut == want_cut, "%s: \"%s\": got %s, want %s", where,
	    want, cut ? "cut" : "whole", want_cut ? "cut" : "whole");
}

static void
want_result(struct follow *f, enum follow_result want, const char *where)
{
	const char		*line = NULL;
	size_t			 len = 0;
	bool			 cut;
	enum follow_result	 r;

	r = follow_next(f, 0, &line, &len, &cut);
	ck_assert_msg(r == want, "%s: got result %d (\"%.*s\"), want %d",
	    where, r, r == FOLLOW_LINE ? (int)len : 0,
	    r == FOLLOW_LINE ? line : "", want);
}

static const struct follow_opts fast = { 0, 10, 0 };
static const struct follow_opts end = { 0, 10, FOLLOW_FROM_END };
static const struct follow_opts once = { 0, 10, FOLLOW_ONCE };
static const struct follow_opts small = { 16, 10, 0 };

enum op {
	S_END = 0,
	S_APPEND,	/* s to the file followed */
	S_APPEND_OLD,	/* s to the rotated file */
	S_ROTATE,	/* logrotate: rename; the writer keeps the old one */
	S_TRUNCATE,	/* copytruncate */
	S_UNLINK,
	S_UNLINK_OLD,
	S_OPEN,		/* follow_open() with o, no position: BD_OK */
	S_OPEN_FAILS,	/* follow_open() with o, no position: BD_EIO */
	S_SAVE,		/* keep follow_position() */
	S_RESUME,	/* follow_open() with o from the kept position */
	S_CLOSE,
	S_LINE,		/* the next line is s, whole */
	S_CUT,		/* the next line is s, cut at max_line */
	S_RESULT,	/* the next result is n */
	S_OFFSET,	/* the position's offset is n */
	S_INODE,	/* the position's inode is the file's (0: none) */
	S_ROTATIONS,	/* the counters say n */
	S_TRUNCATIONS,
	S_CUT_LINES,
};

struct step {
	enum op			 op;
	const char		*s;
	uint64_t		 n;
	const struct follow_opts *o;
};

#define APPEND(t)	{ S_APPEND, (t), 0, NULL }
#define APPEND_OLD(t)	{ S_APPEND_OLD, (t), 0, NULL }
#define DO(op)		{ (op), NULL, 0, NULL }
#define OPEN(o)		{ S_OPEN, NULL, 0, &(o) }
#define OPEN_FAILS(o)	{ S_OPEN_FAILS, NULL, 0, &(o) }
#define RESUME(o)	{ S_RESUME, NULL, 0, &(o) }
#define LINE(t)		{ S_LINE, (t), 0, NULL }
#define CUT(t)		{ S_CUT, (t), 0, NULL }
#define CHECK(op, v)	{ (op), NULL, (v), NULL }
#define TIMEOUT		CHECK(S_RESULT, FOLLOW_TIMEOUT)

static const struct script {
	const char	*name;
	struct step	 steps[20];
} scripts[] = {
	{ "reads appended lines", {
	    APPEND("one\ntwo\n"), OPEN(fast), LINE("one"), LINE("two"),
	    TIMEOUT, APPEND("three\n\n"), LINE("three"), LINE(""), TIMEOUT,
	    DO(S_CLOSE) } },
	{ "waits for the newline", {
	    APPEND("first\npart"), OPEN(fast), LINE("first"), TIMEOUT,
	    CHECK(S_OFFSET, 6), APPEND("ial line\n"), LINE("partial line"),
	    CHECK(S_OFFSET, 19), DO(S_CLOSE) } },
	{ "finishes the old file after a rename", {
	    APPEND("a1\na2\n"), OPEN(fast), LINE("a1"), DO(S_ROTATE),
	    LINE("a2"), TIMEOUT,		/* no new file yet */
	    APPEND_OLD("a3\nlast-without-newline"), APPEND("b1\n"),
	    LINE("a3"), LINE("last-without-newline"), LINE("b1"), TIMEOUT,
	    CHECK(S_ROTATIONS, 1), DO(S_INODE), CHECK(S_OFFSET, 3),
	    DO(S_CLOSE) } },
	{ "restarts after copytruncate", {
	    APPEND("old1\nold2\n"), OPEN(fast), LINE("old1"), LINE("old2"),
	    DO(S_TRUNCATE), APPEND("new\n"), LINE("new"), TIMEOUT,
	    CHECK(S_TRUNCATIONS, 1), DO(S_CLOSE) } },
	{ "waits for a missing file", {
	    OPEN(fast), TIMEOUT, DO(S_INODE), CHECK(S_OFFSET, 0),
	    APPEND("hello\n"), LINE("hello"), DO(S_CLOSE),
	    /* FOLLOW_ONCE on a missing file is an error */
	    DO(S_UNLINK), OPEN_FAILS(once) } },
	{ "starts at the end with FOLLOW_FROM_END", {
	    APPEND("before\n"), OPEN(end), TIMEOUT, APPEND("after\n"),
	    LINE("after"), DO(S_CLOSE) } },
	{ "reads to the end with FOLLOW_ONCE", {
	    APPEND("x\ny"), OPEN(once), LINE("x"), LINE("y"),
	    CHECK(S_RESULT, FOLLOW_EOF), DO(S_CLOSE) } },
	{ "cuts long lines", {
	    /* whole in one read */
	    APPEND("0123456789abcdefXYZ-the-rest\nshort\n"), OPEN(small),
	    CUT("0123456789abcdef"), LINE("short"),
	    /* arriving in pieces: cut when the buffer holds max_line */
	    APPEND("ABCDEFGHIJ"), TIMEOUT, APPEND("KLMNOPQRSTUVWXYZ"),
	    CUT("ABCDEFGHIJKLMNOP"), TIMEOUT,
	    APPEND("more-of-the-same\nnext\n"), LINE("next"),
	    CHECK(S_CUT_LINES, 2), DO(S_CLOSE) } },
	{ "resumes from a saved position", {
	    APPEND("l1\nl2\nl3\n"), OPEN(fast), LINE("l1"), LINE("l2"),
	    DO(S_SAVE), DO(S_CLOSE), APPEND("l4\n"), RESUME(fast), LINE("l3"),
	    LINE("l4"), TIMEOUT, DO(S_CLOSE),
	    /* FOLLOW_FROM_END does not override a position */
	    RESUME(end), LINE("l3"), DO(S_CLOSE) } },
	{ "resumes in the rotated file", {
	    APPEND("r1\nr2\n"), OPEN(fast), LINE("r1"), DO(S_SAVE),
	    DO(S_CLOSE),
	    /* while we were down: more lines, a rotation, a new file */
	    APPEND("r3\n"), DO(S_ROTATE), APPEND("n1\n"), RESUME(fast),
	    LINE("r2"), LINE("r3"), LINE("n1"), TIMEOUT, DO(S_CLOSE),
	    /* the old file gone: the current one from its start */
	    DO(S_UNLINK_OLD), RESUME(fast), LINE("n1"), DO(S_CLOSE) } },
	{ "resumes after a truncation at zero", {
	    APPEND("t1\nt2\n"), OPEN(fast), LINE("t1"), LINE("t2"),
	    DO(S_SAVE), DO(S_CLOSE), DO(S_TRUNCATE), APPEND("u\n"),
	    RESUME(fast), LINE("u"), DO(S_CLOSE) } },
};

/* A counter of the follower against the step's number. */
static void
want_count(struct follow *f, const struct step *st, const char *where)
{
	struct follow_stats	 fs;
	uint64_t		 got;
	const char		*what;

	follow_get_stats(f, &fs);
	switch (st->op) {
	case S_ROTATIONS:
		got = fs.rotations;
		what = "rotations";
		break;
	case S_TRUNCATIONS:
		got = fs.truncations;
		what = "truncations";
		break;
	default:
		got = fs.cut_lines;
		what = "cut_lines";
		break;
	}
	ck_assert_msg(got == st->n, "%s: %s: got %llu, want %llu", where,
	    what, (unsigned long long)got, (unsigned long long)st->n);
}

/* The position's inode against the file's, 0 when there is none. */
static void
want_inode(struct follow *f, const char *where)
{
	struct follow_pos	 pos;
	struct stat		 sb;
	uint64_t		 ino = 0;

	if (stat(path, &sb) == 0)
		ino = (uint64_t)sb.st_ino;
	follow_position(f, &pos);
	ck_assert_msg(pos.ino == ino, "%s: position: got ino %llu, want %llu",
	    where, (unsigned long long)pos.ino, (unsigned long long)ino);
}

START_TEST(test_follow_scripts)
{
	const struct script	*sc = &scripts[_i];
	const struct step	*st;
	struct follow		*f = NULL;
	struct follow_pos	 saved, pos;
	char			 where[128];

	memset(&saved, 0, sizeof(saved));
	for (st = sc->steps; st->op != S_END; st++) {
		snprintf(where, sizeof(where), "%s, step %d", sc->name,
		    (int)(st - sc->steps) + 1);
		switch (st->op) {
		case S_APPEND:
		case S_APPEND_OLD:
			append(st->op == S_APPEND ? path : path1, st->s);
			break;
		case S_ROTATE:
			ck_assert_msg(rename(path, path1) == 0,
			    "%s: rename: %s", where, strerror(errno));
			break;
		case S_TRUNCATE:
			ck_assert_msg(truncate(path, 0) == 0,
			    "%s: truncate: %s", where, strerror(errno));
			break;
		case S_UNLINK:
		case S_UNLINK_OLD:
			(void)unlink(st->op == S_UNLINK ? path : path1);
			break;
		case S_OPEN:
		case S_RESUME:
			ck_assert_msg(follow_open(path, st->op == S_RESUME ?
			    &saved : NULL, st->o, &f) == BD_OK, "%s: "
			    "follow_open: got an error, want success", where);
			break;
		case S_OPEN_FAILS:
			ck_assert_msg(follow_open(path, NULL, st->o, &f) ==
			    BD_EIO && f == NULL, "%s: follow_open: got "
			    "success, want BD_EIO", where);
			break;
		case S_SAVE:
			follow_position(f, &saved);
			break;
		case S_CLOSE:
			follow_close(f);
			f = NULL;
			break;
		case S_LINE:
		case S_CUT:
			want_line(f, st->s, st->op == S_CUT, where);
			break;
		case S_RESULT:
			want_result(f, (enum follow_result)st->n, where);
			break;
		case S_OFFSET:
			follow_position(f, &pos);
			ck_assert_msg(pos.off == st->n, "%s: position: got off "
			    "%llu, want %llu", where,
			    (unsigned long long)pos.off,
			    (unsigned long long)st->n);
			break;
		case S_INODE:
			want_inode(f, where);
			break;
		default:
			want_count(f, st, where);
			break;
		}
	}
	ck_assert_msg(f == NULL, "%s: script left the follower open",
	    sc->name);
}
END_TEST

/* follow_next() on an empty source: the timeout, and how long it took. */
static long
timed_out_after(struct follow *f, int timeout_ms)
{
	struct timespec		 t0, t1;
	const char		*line;
	size_t			 len;
	bool			 cut;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(follow_next(f, timeout_ms, &line, &len, &cut),
	    FOLLOW_TIMEOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) /
	    1000000;
}

START_TEST(test_follow_reads_stdin)
{
	struct follow		*f;
	struct follow_pos	 pos;
	const char		*line;
	size_t			 len;
	bool			 cut;
	int			 p[2];
	long			 ms;

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_ne(dup2(p[0], STDIN_FILENO), -1);
	close(p[0]);
	ck_assert_int_eq(follow_open("-", NULL, NULL, &f), BD_OK);

	/* an open, empty pipe: the wait ends at the timeout */
	ms = timed_out_after(f, 60);
	ck_assert_msg(ms >= 50 && ms < 1000, "waited %ld ms, want about 60",
	    ms);

	ck_assert_int_eq(write(p[1], "s1\ns2", 5), 5);
	want_line(f, "s1", false, "stdin");
	want_result(f, FOLLOW_TIMEOUT, "stdin");
	close(p[1]);
	ck_assert_int_eq(follow_next(f, 100, &line, &len, &cut), FOLLOW_LINE);
	ck_assert_msg(len == 2 && memcmp(line, "s2", 2) == 0,
	    "got \"%.*s\", want \"s2\"", (int)len, line);
	want_result(f, FOLLOW_EOF, "stdin");
	follow_position(f, &pos);
	ck_assert_msg(pos.ino == 0 && pos.off == 5,
	    "position: got ino %llu off %llu, want 0 5",
	    (unsigned long long)pos.ino, (unsigned long long)pos.off);
	follow_close(f);
}
END_TEST

START_TEST(test_follow_file_wait_honours_timeout)
{
	struct follow	*f;
	long		 ms;

	append(path, "");
	ck_assert_int_eq(follow_open(path, NULL, &fast, &f), BD_OK);
	ms = timed_out_after(f, 50);
	ck_assert_msg(ms >= 45 && ms < 1000, "waited %ld ms, want about 50",
	    ms);
	follow_close(f);
}
END_TEST

static Suite *
follow_suite(void)
{
	Suite	*s = suite_create("follow");
	TCase	*tc;

	tc = tcase_create("file");
	tcase_add_checked_fixture(tc, setup, teardown);
	TESTUTIL_LOOP(tc, test_follow_scripts, scripts);
	tcase_add_test(tc, test_follow_file_wait_honours_timeout);
	suite_add_tcase(s, tc);

	tc = tcase_create("stdin");
	tcase_add_test(tc, test_follow_reads_stdin);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return testutil_run(follow_suite()) == 0 ? EXIT_SUCCESS :
	    EXIT_FAILURE;
}
