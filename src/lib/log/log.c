/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The bounced authors. */
/*
 * log.c - logging for the daemon and the CLI.
 *
 * Messages go to syslog(3) with the configured facility, or to stderr
 * when the daemon runs in the foreground under a terminal (or with -f).
 * Severity follows Postfix: WARNING for malformed input or a failing
 * peer, ERR for a handled failure, fatal (sysexits code, before
 * smfi_main() only) and panic (a bug: abort).  This is the only file
 * that calls syslog(); the pure modules never log.
 *
 * Thread safety: every function may be called from any thread once
 * log_open() has run; a line is formatted into an automatic buffer and
 * written with one call, so lines from concurrent callbacks do not mix.
 * log_sanitize() writes only into the caller's buffer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log/log.h"

#define LOG_LINE_MAX	2048

static const char	*log_ident = "bounced";
static bool		 log_syslog;	/* else stderr */
static bool		 log_dbg;
static bool		 log_quiet;
static void		(*log_hook)(int, const char *);

/*
 * log_open - start logging
 *
 * Arguments: ident, the program name (kept by reference: pass a string
 * that lives as long as the process); facility, a LOG_* facility code;
 * to_stderr, write to stderr instead of syslog.
 *
 * Notes: call once at startup, before any thread exists.
 */
void
log_open(const char *ident, int facility, bool to_stderr)
{
	log_ident = ident;
	log_syslog = !to_stderr;
	if (log_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
}

/*
 * log_close - stop using syslog
 *
 * Notes: later messages go to stderr.
 */
void
log_close(void)
{
	if (log_syslog)
		closelog();
	log_syslog = false;
}

/*
 * log_set_debug - turn DEBUG messages on or off
 *
 * Notes: may be called from the reload thread while others log.
 */
void
log_set_debug(bool on)
{
	__atomic_store_n(&log_dbg, on, __ATOMIC_RELAXED);
}

/*
 * log_debug_enabled - whether DEBUG messages are emitted
 *
 * Returns true after log_set_debug(true).  Callers use it to skip
 * building expensive debug lines.
 */
bool
log_debug_enabled(void)
{
	return __atomic_load_n(&log_dbg, __ATOMIC_RELAXED);
}

/*
 * log_set_quiet - drop INFO and DEBUG messages
 *
 * Notes: for the unit tests, which drive the milter many times.
 */
void
log_set_quiet(bool on)
{
	log_quiet = on;
}

/*
 * log_set_hook - send lines to fn instead of syslog or stderr
 *
 * Arguments: fn, called with the syslog priority and the formatted line
 * (after the level filters), or NULL to restore the normal output.
 *
 * Notes: for the unit tests, which count what was logged; set it before
 * any thread logs.
 */
void
log_set_hook(void (*fn)(int prio, const char *line))
{
	log_hook = fn;
}

static void
log_emit(int prio, const char *fmt, va_list ap)
{
	char		 line[LOG_LINE_MAX];
	const char	*tag;
	int		 n;

	if (prio == LOG_DEBUG && !log_debug_enabled())
		return;
	if (log_quiet && (prio == LOG_DEBUG || prio == LOG_INFO))
		return;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))	/* cut: say so */
		memcpy(line + sizeof(line) - 4, "...", 4);
	if (log_hook != NULL) {
		log_hook(prio, line);
		return;
	}
	if (log_syslog) {
		syslog(prio, "%s", line);
		return;
	}
	switch (prio) {
	case LOG_CRIT:		tag = "fatal: ";	break;
	case LOG_ALERT:		tag = "panic: ";	break;
	case LOG_ERR:		tag = "error: ";	break;
	case LOG_WARNING:	tag = "warning: ";	break;
	case LOG_DEBUG:		tag = "debug: ";	break;
	default:		tag = "";		break;
	}
	fprintf(stderr, "%s[%ld]: %s%s\n", log_ident, (long)getpid(), tag,
	    line);
}

/*
 * log_err - log a handled failure
 *
 * Arguments: printf format and arguments.
 */
void
log_err(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_emit(LOG_ERR, fmt, ap);
	va_end(ap);
}

/*
 * log_warn - log malformed input or a failing peer
 *
 * Arguments: printf format and arguments.
 */
void
log_warn(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_emit(LOG_WARNING, fmt, ap);
	va_end(ap);
}

/*
 * log_info - log one event worth an operator's attention
 *
 * Arguments: printf format and arguments.
 */
void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_emit(LOG_INFO, fmt, ap);
	va_end(ap);
}

/*
 * log_debug - log details, when LogLevel is debug
 *
 * Arguments: printf format and arguments.
 */
void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_emit(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

/*
 * log_fatal - log and exit
 *
 * Arguments: status, a sysexits.h code; printf format and arguments.
 *
 * Notes: only before smfi_main(); afterwards failures are returned to
 * milter.c, which applies OnError.
 */
void
log_fatal(int status, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_emit(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(status);
}

/*
 * log_panic - log a broken invariant and abort, leaving a core
 *
 * Arguments: printf format and arguments.
 */
void
log_panic(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_emit(LOG_ALERT, fmt, ap);
	va_end(ap);
	abort();
}

/*
 * log_sanitize - make an untrusted string safe to log
 *
 * Arguments: in, the string (NULL is "");  out and outlen, the caller's
 * buffer (LOG_SANITIZE_BUF bytes keep the full cap).
 *
 * Returns out: bytes outside printable ASCII (and '"', '\\', which would
 * confuse key=value parsers) become '?', and at most LOG_SANITIZE_MAX
 * bytes of in are kept; a cut is marked with "...".
 */
const char *
log_sanitize(const char *in, char *out, size_t outlen)
{
	size_t	 i, keep;

	if (outlen == 0)
		return out;
	if (in == NULL)
		in = "";
	keep = outlen - 1;
	if (keep > LOG_SANITIZE_MAX)
		keep = LOG_SANITIZE_MAX;
	for (i = 0; i < keep && in[i] != '\0'; i++) {
		unsigned char c = (unsigned char)in[i];

		out[i] = (c < 0x20 || c > 0x7e || c == '"' || c == '\\') ?
		    '?' : (char)c;
	}
	out[i] = '\0';
	if (in[i] != '\0' && outlen >= 4) {
		if (i + 3 >= outlen)
			i = outlen - 4;
		memcpy(out + i, "...", 4);
	}
	return out;
}
