/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_mime.c - mime.c reads a message's structure through mime_fast.c
 * when it can and through GMime's parser otherwise: the two must give
 * the same parts, byte for byte.  Every message of tests/data/dsn, the
 * fuzzing seeds, ../shared/corpus and ../shared/fixtures, and hand-made
 * edge cases (boundaries of a parent, CRLF, missing end boundary, digest
 * defaults, encodings, empty parts), go through both, enclosed messages
 * expanded too.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <gmime/gmime.h>

#include "parse/dsn.h"
#include "parse/mime.h"
#include "parse/mime_int.h"
#include "testutil.h"

#define MAX_TEXT	(64u << 10)

static size_t	 nfast, nall;

static bool
same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool
same_bytes(const char *a, size_t an, const char *b, size_t bn)
{
	if (an != bn)
		return false;
	if (an == 0)
		return true;
	return a != NULL && b != NULL && memcmp(a, b, an) == 0;
}

/* Compare the parts of the two docs; name says which message. */
static void
compare_docs(const char *name, const struct mime_doc *f,
    const struct mime_doc *g)
{
	size_t	 i;

	ck_assert_msg(f->nparts == g->nparts, "%s: %zu parts, GMime %zu", name,
	    f->nparts, g->nparts);
	ck_assert_msg(f->defects == g->defects, "%s: defects %x, GMime %x",
	    name, f->defects, g->defects);
	ck_assert_msg(same_str(f->top_type, g->top_type), "%s: top %s, %s",
	    name, f->top_type ? f->top_type : "-",
	    g->top_type ? g->top_type : "-");
	ck_assert_msg(same_str(f->report_type, g->report_type),
	    "%s: report-type differs", name);
	for (i = 0; i < f->nparts; i++) {
		const struct mime_part *a = &f->parts[i], *b = &g->parts[i];

		ck_assert_msg(strcmp(a->type, b->type) == 0,
		    "%s: part %zu: %s, GMime %s", name, i, a->type, b->type);
		ck_assert_msg(a->depth == b->depth && a->message == b->message &&
		    a->expandable == b->expandable && a->html == b->html,
		    "%s: part %zu: flags differ", name, i);
		ck_assert_msg(same_bytes(a->text, a->len, b->text, b->len) &&
		    same_str(a->text, b->text),
		    "%s: part %zu (%s): text differs (%zu, GMime %zu bytes)",
		    name, i, a->type, a->len, b->len);
		ck_assert_msg(same_bytes(a->raw, a->rawlen, b->raw, b->rawlen),
		    "%s: part %zu (%s): raw differs (%zu, GMime %zu bytes)",
		    name, i, a->type, a->rawlen, b->rawlen);
	}
}

/* GMime's and mime_simple_ctype's readings of v agree, when the latter
 * reads it at all. */
static void
check_ctype(const char *name, const char *v)
{
	struct mime_ctype c;
	GMimeContentType *ct;
	char		 pool[4096];
	size_t		 used = 0;

	if (!mime_simple_ctype(v, &c, pool, &used, sizeof(pool)))
		return;
	ct = g_mime_content_type_parse(NULL, v);
	ck_assert_msg(same_str(c.type, g_mime_content_type_get_media_type(ct))
	    && same_str(c.subtype, g_mime_content_type_get_media_subtype(ct))
	    && same_str(c.charset, g_mime_content_type_get_parameter(ct,
	    "charset")) && same_str(c.boundary,
	    g_mime_content_type_get_parameter(ct, "boundary")) &&
	    same_str(c.report_type, g_mime_content_type_get_parameter(ct,
	    "report-type")), "%s: Content-Type \"%s\" read differently",
	    name, v);
	g_object_unref(ct);
}

/* Every Content-Type field of p[0..len), at any depth, unfolded. */
static void
check_ctypes(const char *name, const char *p, size_t len)
{
	const char	*q = p, *end = p + len, *e;
	char		 v[1024];
	size_t		 o;

	for (; q < end; q = e + 1) {
		if ((e = memchr(q, '\n', end - q)) == NULL)
			e = end;
		if (e - q < 13 || g_ascii_strncasecmp(q, "Content-Type:", 13))
			continue;
		o = 0;
		for (q += 13; q < end && o + 1 < sizeof(v); q++) {
			if (*q == '\n' && (q + 1 >= end ||
			    (q[1] != ' ' && q[1] != '\t')))
				break;
			if (*q != '\r' && *q != '\n')
				v[o++] = *q;
		}
		v[o] = '\0';
		e = q < end ? q : end - 1;
		if (strlen(v) != o)
			continue;
		{
			char *s = v, *t = v + o;

			while (*s == ' ' || *s == '\t')
				s++;
			while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
				t--;
			*t = '\0';
			check_ctype(name, s);
		}
	}
}

/* Both readings of p[0..len), and of its enclosed messages, agree. */
static void
check_message(const char *name, const char *p, size_t len)
{
	struct mime_doc	*f, *g;
	enum bd_status	 sf, sg;
	unsigned	 d;

	check_ctypes(name, p, len);
	f = calloc(1, sizeof(*f));
	g = calloc(1, sizeof(*g));
	ck_assert(f != NULL && g != NULL);
	sf = mime_open(p, len, MAX_TEXT, f);
	sg = mime_open_gmime(p, len, MAX_TEXT, g);
	ck_assert_msg(sf == sg, "%s: status %d, GMime %d", name, sf, sg);
	nall++;
	if (sf == BD_OK && f->msg == NULL)
		nfast++;
	if (sf == BD_OK) {
		compare_docs(name, f, g);
		for (d = 0; d < 3; d++) {
			size_t a = mime_expand(f, d, NULL);
			size_t b = mime_expand(g, d, NULL);

			ck_assert_msg(a == b, "%s: expand %u: %zu, GMime %zu",
			    name, d, a, b);
			compare_docs(name, f, g);
		}
	}
	mime_close(f);
	mime_close(g);
	free(f);
	free(g);
}

/* Every regular file of dir (and of its subfolders, depth levels). */
static void
check_dir(const char *dir, int depth)
{
	char		 path[4096];
	struct dirent	*de;
	struct stat	 sb;
	DIR		*d;
	char		*buf;
	size_t		 len;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		(void)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &sb) != 0)
			continue;
		if (S_ISDIR(sb.st_mode)) {
			if (depth > 0)
				check_dir(path, depth - 1);
			continue;
		}
		if (S_ISREG(sb.st_mode) &&
		    (buf = testutil_read_file(path, &len)) != NULL) {
			check_message(path, buf, len);
			free(buf);
		}
	}
	closedir(d);
}

START_TEST(test_files)
{
	char	 dir[4096];

	if (testutil_srcdir("tests/data/dsn", dir, sizeof(dir)))
		check_dir(dir, 1);
	if (testutil_srcdir("tests/fuzz/corpus/dsn", dir, sizeof(dir)))
		check_dir(dir, 1);
	if (testutil_shared("corpus/emails", dir, sizeof(dir)))
		check_dir(dir, 1);
	if (testutil_shared("fixtures", dir, sizeof(dir)))
		check_dir(dir, 2);
	/* The fast path must be the common one, or it is pointless. */
	ck_assert_msg(nall == 0 || nfast * 4 >= nall * 3,
	    "fast path for %zu of %zu messages", nfast, nall);
	fprintf(stderr, "check_mime: fast path for %zu of %zu messages\n",
	    nfast, nall);
}
END_TEST

/* Hand-made structures, each read both ways. */
static const char *const edge[] = {
	/* plain report */
	"From: a@b\nContent-Type: multipart/report; report-type="
	"delivery-status; boundary=\"B\"\n\npre\n--B\nContent-Type: text/plain"
	"\n\nhello\n--B\nContent-Type: message/delivery-status\n\n"
	"Final-Recipient: rfc822; x@y\nAction: failed\nStatus: 5.1.1\n"
	"--B\nContent-Type: message/rfc822\n\nSubject: s\nMessage-ID: <m@x>\n"
	"\nbody\n--B--\nepilogue\n",
	/* CRLF line ends */
	"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n"
	"Content-Type: text/plain\r\n\r\nline\r\n--B\r\n\r\nsecond\r\n"
	"--B--\r\n",
	/* LF content, CRLF boundary: GMime trims two bytes */
	"Content-Type: multipart/mixed; boundary=B\n\n--B\n\nabc\n--B\r\n"
	"\nxyz\n--B--\n",
	/* no end boundary, trailing spaces on a boundary */
	"Content-Type: multipart/mixed; boundary=B\n\n--B  \n\nabc\n--B\t\n"
	"\nxyz\n",
	/* nested: a parent's boundary ends the inner multipart */
	"Content-Type: multipart/mixed; boundary=O\n\n--O\nContent-Type: "
	"multipart/alternative; boundary=I\n\n--I\n\nin1\n--I\nContent-Type:"
	" text/html\n\n<p>in2</p>\n--O\nContent-Type: text/plain\n\nout\n"
	"--O--\n",
	/* nested, closed properly, epilogue then parent boundary */
	"Content-Type: multipart/mixed; boundary=O\n\n--O\nContent-Type: "
	"multipart/alternative; boundary=I\n\n--I\n\nin1\n--I--\nepi\n--O\n"
	"\nout\n--O--\n",
	/* digest: parts default to message/rfc822 */
	"Content-Type: multipart/digest; boundary=D\n\n--D\n\nSubject: a\n\n"
	"x\n--D\n\nSubject: b\n\ny\n--D--\n",
	/* encodings */
	"Content-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: "
	"text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
	"aGVsbG8gd29ybGQ=\n--B\nContent-Type: text/plain; charset="
	"iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\ncaf=E9 "
	"=\nok\n--B\nContent-Type: message/rfc822\nContent-Transfer-Encoding:"
	" base64\n\nU3ViamVjdDogeAoKYm9keQo=\n--B--\n",
	/* duplicate Content-Type: GMime decides */
	"Content-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: "
	"text/plain\nContent-Type: text/html\n\nx\n--B--\n",
	/* empty part, part without blank line, folded Content-Type */
	"Content-Type: multipart/mixed;\n boundary=\"B\"\n\n--B\n\n--B\n"
	"Content-Type: text/plain\n--B\nContent-type:\n text/plain;\n charset"
	"=us-ascii\n\nfolded\n--B--\n",
	/* multipart without parts, without boundary */
	"Content-Type: multipart/mixed; boundary=B\n\njust text\n",
	"Content-Type: multipart/mixed\n\njust text\n",
	/* not MIME at all; odd header lines */
	"Subject: plain\n\nbody only\n",
	"Content-Type: text/plain\nbad header line\n\nbody\n",
	"Content-Type: text/plain; charset=\"=?utf-8?q?x?=\"\n\nbody\n",
	/* boundary line at the end of input without a line break */
	"Content-Type: multipart/mixed; boundary=B\n\n--B\n\nabc\n--B--",
	"Content-Type: multipart/mixed; boundary=B\n\n--B\n\nabc\n--B",
	/* boundary that is a prefix of another line */
	"Content-Type: multipart/mixed; boundary=B\n\n--B\n\n--Bx\n--B \n"
	"\nz\n--B--\n",
	/* RFC 2231 parameter, comments */
	"Content-Type: multipart/mixed; boundary*=us-ascii''B\n\n--B\n\nx\n"
	"--B--\n",
	"Content-Type: multipart/mixed (c); boundary=B\n\n--B\n\nx\n--B--\n",
};

START_TEST(test_edge)
{
	char	 name[32];

	(void)snprintf(name, sizeof(name), "edge case %d", _i);
	check_message(name, edge[_i], strlen(edge[_i]));
}
END_TEST

static Suite *
mime_suite(void)
{
	Suite	*s = suite_create("mime");
	TCase	*tc = tcase_create("fast");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_files);
	TESTUTIL_LOOP(tc, test_edge, edge);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	int	 failed;

	dsn_init();
	failed = testutil_run(mime_suite());
	dsn_shutdown();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
