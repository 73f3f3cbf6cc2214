/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors */
/*
 * check_follow.c - unit tests for the log follower: appends, partial
 * lines, logrotate's rename and copytruncate, a file that appears late,
 * resuming from a stored position, cut lines, FOLLOW_ONCE and stdin.
 * Each test works in its own temporary folder; the waits add up to a
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

#include "follow.h"

static char	 dir[256];
static char	 path[300];
static char	 path1[300];

static void
setup(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/check_follow.XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/maillog", dir);
	snprintf(path1, sizeof(path1), "%s/maillog.1", dir);
}

static void
teardown(void)
{
	unlink(path);
	unlink(path1);
	rmdir(dir);
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

static const struct follow_opts fast = { 0, 10, 0 };

/* The next line must be want. */
static void
want_line(struct follow *f, const char *want)
{
	const char		*line = NULL;
	size_t			 len = 0;
	bool			 cut;
	enum follow_result	 r;

	r = follow_next(f, 0, &line, &len, &cut);
	ck_assert_msg(r == FOLLOW_LINE, "want \"%s\": got result %d, want "
	    "FOLLOW_LINE", want, r);
	ck_assert_msg(len == strlen(want) && memcmp(line, want, len) == 0 &&
	    line[len] == '\0', "got \"%.*s\", want \"%s\"", (int)len, line,
	    want);
	ck_assert_msg(!cut, "\"%s\": got cut, want whole", want);
}

static void
want_result(struct follow *f, enum follow_result want)
{
	const char		*line = NULL;
	size_t			 len = 0;
	bool			 cut;
	enum follow_result	 r;

	r = follow_next(f, 0, &line, &len, &cut);
	ck_assert_msg(r == want, "got result %d (\"%.*s\"), want %d", r,
	    r == FOLLOW_LINE ? (int)len : 0, r == FOLLOW_LINE ? line : "",
	    want);
}

START_TEST(test_follow_reads_appended_lines)
{
	struct follow	*f;

	append(path, "one\ntwo\n");
	ck_assert_int_eq(follow_open(path, NULL, &fast, &f), BD_OK);
	want_line(f, "one");
	want_line(f, "two");
	want_result(f, FOLLOW_TIMEOUT);
	append(path, "three\n\n");
	want_line(f, "three");
	want_line(f, "");
	want_result(f, FOLLOW_TIMEOUT);
	follow_close(f);
}
END_TEST

START_TEST(test_follow_waits_for_the_newline)
{
	struct follow		*f;
	struct follow_pos	 pos;

	append(path, "first\npart");
	ck_assert_int_eq(follow_open(path, NULL, &fast, &f), BD_OK);
	want_line(f, "first");
	want_result(f, FOLLOW_TIMEOUT);
	follow_position(f, &pos);
	ck_assert_msg(pos.off == 6, "position: got %llu, want 6",
	    (unsigned long long)pos.off);
	append(path, "ial line\n");
	want_line(f, "partial line");
	follow_position(f, &pos);
	ck_assert_msg(pos.off == 19, "position: got %llu, want 19",
	    (unsigned long long)pos.off);
	follow_close(f);
}
END_TEST

START_TEST(test_follow_finishes_old_file_after_rename)
{
	struct follow		*f;
	struct follow_stats	 st;
	struct follow_pos	 pos;
	struct stat		 sb;

	append(path, "a1\na2\n");
	ck_assert_int_eq(follow_open(path, NULL, &fast, &f), BD_OK);
	want_line(f, "a1");
	/* logrotate: rename, the writer still has the old file open */
	ck_assert_int_eq(rename(path, path1), 0);
	want_line(f, "a2");
	want_result(f, FOLLOW_TIMEOUT);	/* no new file yet */
	append(path1, "a3\nlast-without-newline");
	append(path, "b1\n");
	want_line(f, "a3");
	want_line(f, "last-without-newline");
	want_line(f, "b1");
	want_result(f, FOLLOW_TIMEOUT);
	follow_get_stats(f, &st);
	ck_assert_msg(st.rotations == 1, "rotations: got %llu, want 1",
	    (unsigned long long)st.rotations);
	follow_position(f, &pos);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_msg(pos.ino == (uint64_t)sb.st_ino && pos.off == 3,
	    "position: got ino %llu off %llu, want ino %llu off 3",
	    (unsigned long long)pos.ino, (unsigned long long)pos.off,
	    (unsigned long long)sb.st_ino);
	follow_close(f);
}
END_TEST

START_TEST(test_follow_restarts_after_copytruncate)
{
	struct follow		*f;
	struct follow_stats	 st;

	append(path, "old1\nold2\n");
	ck_assert_int_eq(follow_open(path, NULL, &fast, &f), BD_OK);
	want_line(f, "old1");
	want_line(f, "old2");
	ck_assert_int_eq(truncate(path, 0), 0);
	append(path, "new\n");
	want_line(f, "new");
	want_result(f, FOLLOW_TIMEOUT);
	follow_get_stats(f, &st);
	ck_assert_msg(st.truncations == 1, "truncations: got %llu, want 1",
	    (unsigned long long)st.truncations);
	follow_close(f);
}
END_TEST

START_TEST(test_follow_waits_for_a_missing_file)
{
	struct follow		*f;
	struct follow_pos	 pos;

	ck_assert_int_eq(follow_open(path, NULL, &fast, &f), BD_OK);
	want_result(f, FOLLOW_TIMEOUT);
	follow_position(f, &pos);
	ck_assert_msg(pos.ino == 0 && pos.off == 0,
	    "position: got ino %llu off %llu, want 0 0",
	    (unsigned long long)pos.ino, (unsigned long long)pos.off);
	append(path, "hello\n");
	want_line(f, "hello");
	follow_close(f);

	/* FOLLOW_ONCE on a missing file is an error */
	{
		struct follow_opts once = { 0, 10, FOLLOW_ONCE };
		unlink(path);
		ck_assert_int_eq(follow_open(path, NULL, &once, &f), BD_EIO);
		ck_assert_ptr_null(f);
	}
}
END_TEST

START_TEST(test_follow_resumes_from_saved_position)
{
	struct follow		*f;
	struct follow_pos	 pos;

	append(path, "l1\nl2\nl3\n");
	ck_assert_int_eq(follow_open(path, NULL, &fast, &f), BD_OK);
	want_line(f, "l1");
	want_line(f, "l2");
	follow_position(f, &pos);
	follow_close(f);

	append(path, "l4\n");
	ck_assert_int_eq(follow_open(path, &pos, &fast, &f), BD_OK);
	want_line(f, "l3");
	want_line(f, "l4");
	want_result(f, FOLLOW_TIMEOUT);
	follow_close(f);

	/* FOLLOW_FROM_END does not override a position */
	{
		struct follow_opts end = { 0, 10, FOLLOW_FROM_END };
		ck_assert_int_eq(follow_open(path, &pos, &end, &f), BD_OK);
		want_line(f, "l3");
		follow_close(f);
	}
}
END_TEST

START_TEST(test_follow_resumes_in_rotated_file)
{
	struct follow		*f;
	struct follow_pos	 pos;

	append(path, "r1\nr2\n");
	ck_assert_int_eq(follow_open(path, NULL, &fast, &f), BD_OK);
	want_line(f, "r1");
	follow_position(f, &pos);
	follow_close(f);

	/* while we were down: more lines, a rotation, a new file */
	append(path, "r3\n");
	ck_assert_int_eq(rename(path, path1), 0);
	append(path, "n1\n");
	ck_assert_int_eq(follow_open(path, &pos, &fast, &f), BD_OK);
	want_line(f, "r2");
	want_line(f, "r3");
	want_line(f, "n1");
	want_result(f, FOLLOW_TIMEOUT);
	follow_close(f);

	/* the old file gone: the current one from its start */
	unlink(path1);
	ck_assert_int_eq(follow_open(path, &pos, &fast, &f), BD_OK);
	want_line(f, "n1");
	follow_close(f);
}
END_TEST

START_TEST(test_follow_resume_after_truncation_starts_at_zero)
{
	struct follow		*f;
	struct follow_pos	 pos;

	append(path, "t1\nt2\n");
	ck_assert_int_eq(follow_open(path, NULL, &fast, &f), BD_OK);
	want_line(f, "t1");
	want_line(f, "t2");
	follow_position(f, &pos);
	follow_close(f);
	ck_assert_int_eq(truncate(path, 0), 0);
	append(path, "u\n");
	ck_assert_int_eq(follow_open(path, &pos, &fast, &f), BD_OK);
	want_line(f, "u");
	follow_close(f);
}
END_TEST

START_TEST(test_follow_from_end_skips_existing)
{
	struct follow		*f;
	struct follow_opts	 end = { 0, 10, FOLLOW_FROM_END };

	append(path, "before\n");
	ck_assert_int_eq(follow_open(path, NULL, &end, &f), BD_OK);
	want_result(f, FOLLOW_TIMEOUT);
	append(path, "after\n");
	want_line(f, "after");
	follow_close(f);
}
END_TEST

START_TEST(test_follow_once_reads_to_end)
{
	struct follow		*f;
	struct follow_opts	 once = { 0, 10, FOLLOW_ONCE };

	append(path, "x\ny");
	ck_assert_int_eq(follow_open(path, NULL, &once, &f), BD_OK);
	want_line(f, "x");
	want_line(f, "y");
	want_result(f, FOLLOW_EOF);
	follow_close(f);
}
END_TEST

START_TEST(test_follow_cuts_long_lines)
{
	struct follow		*f;
	struct follow_opts	 small = { 16, 10, 0 };
	struct follow_stats	 st;
	const char		*line;
	size_t			 len;
	bool			 cut;

	/* whole in one read */
	append(path, "0123456789abcdefXYZ-the-rest\nshort\n");
	ck_assert_int_eq(follow_open(path, NULL, &small, &f), BD_OK);
	ck_assert_int_eq(follow_next(f, 0, &line, &len, &cut), FOLLOW_LINE);
	ck_assert_msg(cut && len == 16 && memcmp(line, "0123456789abcdef",
	    16) == 0 && line[16] == '\0', "got \"%.*s\" cut=%d, want the "
	    "first 16 bytes, cut", (int)len, line, cut);
	want_line(f, "short");

	/* arriving in pieces: cut when the buffer holds max_line bytes */
	append(path, "ABCDEFGHIJ");
	want_result(f, FOLLOW_TIMEOUT);
	append(path, "KLMNOPQRSTUVWXYZ");
	ck_assert_int_eq(follow_next(f, 0, &line, &len, &cut), FOLLOW_LINE);
	ck_assert_msg(cut && len == 16 && memcmp(line, "ABCDEFGHIJKLMNOP",
	    16) == 0, "got \"%.*s\" cut=%d, want ABCDEFGHIJKLMNOP, cut",
	    (int)len, line, cut);
	want_result(f, FOLLOW_TIMEOUT);
	append(path, "more-of-the-same\nnext\n");
	want_line(f, "next");
	follow_get_stats(f, &st);
	ck_assert_msg(st.cut_lines == 2, "cut_lines: got %llu, want 2",
	    (unsigned long long)st.cut_lines);
	follow_close(f);
}
END_TEST

START_TEST(test_follow_reads_stdin)
{
	struct follow		*f;
	struct follow_pos	 pos;
	const char		*line;
	size_t			 len;
	bool			 cut;
	int			 p[2];
	struct timespec		 t0, t1;
	long			 ms;

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_ne(dup2(p[0], STDIN_FILENO), -1);
	close(p[0]);
	ck_assert_int_eq(follow_open("-", NULL, NULL, &f), BD_OK);

	/* an open, empty pipe: the wait ends at the timeout */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(follow_next(f, 60, &line, &len, &cut),
	    FOLLOW_TIMEOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) /
	    1000000;
	ck_assert_msg(ms >= 50 && ms < 1000, "waited %ld ms, want about 60",
	    ms);

	ck_assert_int_eq(write(p[1], "s1\ns2", 5), 5);
	want_line(f, "s1");
	want_result(f, FOLLOW_TIMEOUT);
	close(p[1]);
	ck_assert_int_eq(follow_next(f, 100, &line, &len, &cut), FOLLOW_LINE);
	ck_assert_msg(len == 2 && memcmp(line, "s2", 2) == 0,
	    "got \"%.*s\", want \"s2\"", (int)len, line);
	want_result(f, FOLLOW_EOF);
	follow_position(f, &pos);
	ck_assert_msg(pos.ino == 0 && pos.off == 5,
	    "position: got ino %llu off %llu, want 0 5",
	    (unsigned long long)pos.ino, (unsigned long long)pos.off);
	follow_close(f);
}
END_TEST

START_TEST(test_follow_file_wait_honours_timeout)
{
	struct follow		*f;
	const char		*line;
	size_t			 len;
	bool			 cut;
	struct timespec		 t0, t1;
	long			 ms;

	append(path, "");
	ck_assert_int_eq(follow_open(path, NULL, &fast, &f), BD_OK);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(follow_next(f, 50, &line, &len, &cut),
	    FOLLOW_TIMEOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) /
	    1000000;
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
	tcase_add_test(tc, test_follow_reads_appended_lines);
	tcase_add_test(tc, test_follow_waits_for_the_newline);
	tcase_add_test(tc, test_follow_finishes_old_file_after_rename);
	tcase_add_test(tc, test_follow_restarts_after_copytruncate);
	tcase_add_test(tc, test_follow_waits_for_a_missing_file);
	tcase_add_test(tc, test_follow_from_end_skips_existing);
	tcase_add_test(tc, test_follow_once_reads_to_end);
	tcase_add_test(tc, test_follow_cuts_long_lines);
	tcase_add_test(tc, test_follow_file_wait_honours_timeout);
	suite_add_tcase(s, tc);

	tc = tcase_create("resume");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_follow_resumes_from_saved_position);
	tcase_add_test(tc, test_follow_resumes_in_rotated_file);
	tcase_add_test(tc, test_follow_resume_after_truncation_starts_at_zero);
	suite_add_tcase(s, tc);

	tc = tcase_create("stdin");
	tcase_add_test(tc, test_follow_reads_stdin);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(follow_suite());
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
