/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * log.h - the one logging module: syslog or stderr, levels, sanitizing.
 * Only the glue (store, milter, ctl, daemon, main) calls log_*; the pure
 * modules report through return values.
 */
#ifndef BD_LOG_H
#define BD_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define LOG_SANITIZE_MAX	200	/* bytes of an untrusted value kept */
#define LOG_SANITIZE_BUF	(LOG_SANITIZE_MAX + 4)	/* + "..." + NUL */

/* log_open - start logging as ident to syslog(facility) or to stderr */
void log_open(const char *ident, int facility, bool to_stderr);
/* log_close - close syslog; later messages go to stderr */
void log_close(void);
/* log_set_debug - enable or disable DEBUG messages */
void log_set_debug(bool on);
/* log_debug_enabled - whether DEBUG messages are emitted */
bool log_debug_enabled(void);
/* log_set_quiet - drop everything below WARNING (tests) */
void log_set_quiet(bool on);
/* log_set_hook - lines go to fn(prio, line) instead (tests); NULL: normal */
void log_set_hook(void (*fn)(int prio, const char *line));

/* log_err - an error: something failed and was handled */
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_warn - malformed input or a failing peer; processing continues */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_info - one line per message, startup, reload and shutdown */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_debug - details; off unless LogLevel debug */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_fatal - before smfi_main() only: log and exit with a sysexits code */
void log_fatal(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
/* log_panic - a broken invariant: log and abort */
void log_panic(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/*
 * log_sanitize - copy an untrusted string into out for logging:
 * non-printable bytes become '?', at most LOG_SANITIZE_MAX bytes are
 * kept ("..." marks a cut).  NULL becomes "".  Returns out.
 */
const char *log_sanitize(const char *in, char *out, size_t outlen);

#endif
