/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf_tab.h - the only definition of every bounced.conf(5) key: name,
 * type, default, bounds, where it is stored and whether a reload (SIGUSR1)
 * applies it.  Included by conf.c only.  tests/check_docs.sh checks that
 * every key named here is documented in man/bounced.conf.5.in and
 * etc/bounced.conf; keep the three (and tests/check_config.c) in step.
 *
 * Defaults are strings parsed by the same code as the file, so a default
 * can never be out of its own bounds.  Bounds are in the key's unit:
 * bytes, seconds, milliseconds or a plain count.
 */
#ifndef BD_CONFTAB_H
#define BD_CONFTAB_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"

enum conf_type {
	CT_STR,		/* the rest of the line */
	CT_BOOL,	/* yes|no|true|false|on|off|1|0 */
	CT_COUNT,	/* unsigned integer, no unit */
	CT_SIZE,	/* bytes: 512, 64k, 1M, 1G (1024-based) */
	CT_SECONDS,	/* 30, 30s, 5m, 1h, 1d, 1w; stored in seconds */
	CT_MSEC,	/* 250ms, 5s, 1m; stored in milliseconds */
	CT_ENUM,	/* one word of names[], stored as its index */
};

enum conf_check {
	CK_NONE,
	CK_SOCKET,	/* libmilter socket spec: unix:|local:|inet:|inet6: */
	CK_PATH,	/* absolute path, or empty where allowed */
	CK_DATABASE,	/* an absolute path (SQLite) or a PostgreSQL URL */
	CK_USER,	/* user[:group], no white space */
	CK_FACILITY,	/* a syslog facility name */
	CK_HEADER,	/* an RFC 5322 field name, or empty */
	CK_PATTERNS,	/* comma-separated glob patterns, or empty */
	CK_REPLY,	/* "4xx|5xx [x.y.z] text" */
	CK_EXPIRY,	/* store_expiry_parse() rules, or empty */
	CK_FEEDBACK,	/* comma-separated ARF Feedback-Types, or empty */
	CK_HOOK,	/* "exec:COMMAND", an http(s):// URL, or empty */
	CK_NETS,	/* IP addresses and networks (trust.c), or empty */
	CK_SIGNERS,	/* glob patterns of senders to sign, or empty */
	CK_HOPS,	/* HandOffRelays: comma-separated globs, or empty */
};

struct conf_key {
	const char		*name;
	enum conf_type		 type;
	const char		*def;		/* default, as in a file */
	int64_t			 min, max;	/* bounds (numbers) */
	int64_t			 warn_min, warn_max; /* advised; 0,0: none */
	size_t			 off;		/* offsetof(bd_config, x) */
	size_t			 size;		/* sizeof the field */
	bool			 reloadable;	/* SIGUSR1 applies */
	const char *const	*names;		/* CT_ENUM words, NULL-ended */
	enum conf_check		 check;
	bool			 empty_ok;	/* CT_STR: "" allowed */
};

#define CONF_FIELD(f) \
	offsetof(struct bd_config, f), sizeof(((struct bd_config *)0)->f)

static const char *const conf_loglevels[] = { "info", "debug", NULL };
static const char *const conf_actions[] = {
	"continue", "headers", "discard", NULL	/* enum bounce_action */
};
static const char *const conf_onerror[] = {
	"tempfail", "accept", NULL		/* enum on_error */
};
static const char *const conf_rcptpolicy[] = {
	"off", "tag", "reject", NULL		/* enum rcpt_policy */
};
static const char *const conf_trustpolicy[] = {
	"sent", "local", "off", NULL		/* enum trust_policy */
};

#ifndef BD_RUNDIR
#define BD_RUNDIR	"/run/bounced"
#endif
#ifndef BD_STATEDIR
#define BD_STATEDIR	"/var/lib/bounced"
#endif

#define K64	(int64_t)1024
#define DAY	(int64_t)86400

/* Sorted alphabetically, as in bounced.conf(5). */
static const struct conf_key conftab[] = {
	{ "BounceAction", CT_ENUM, "continue", 0, 0, 0, 0,
	  CONF_FIELD(bounce_action), true, conf_actions, CK_NONE, false },
	{ "BounceAddresses", CT_STR, "", 0, 0, 0, 0,
	  CONF_FIELD(bounce_addresses), true, NULL, CK_PATTERNS, true },
	{ "CampaignHeader", CT_STR, "", 0, 0, 0, 0,
	  CONF_FIELD(campaign_header), true, NULL, CK_HEADER, true },
	{ "ComplaintSuppress", CT_STR, "abuse,opt-out", 0, 0, 0, 0,
	  CONF_FIELD(complaint_suppress), true, NULL, CK_FEEDBACK, true },
	{ "Database", CT_STR, BD_STATEDIR "/bounced.db", 0, 0,
	  0, 0, CONF_FIELD(database), false, NULL, CK_DATABASE, false },
	{ "DatabaseBusyTimeout", CT_MSEC, "5s", 0, 600000, 0, 0,
	  CONF_FIELD(busy_timeout), false, NULL, CK_NONE, false },
	{ "EventHook", CT_STR, "", 0, 0, 0, 0,
	  CONF_FIELD(event_hook), true, NULL, CK_HOOK, true },
	{ "FeedbackSources", CT_STR, "", 0, 0, 0, 0,
	  CONF_FIELD(feedback_sources), true, NULL, CK_NETS, true },
	{ "HandOffRelays", CT_STR, "127.*, ::1, localhost", 0, 0, 0, 0,
	  CONF_FIELD(handoff_relays), true, NULL, CK_HOPS, true },
	{ "LocalPartCaseSensitive", CT_BOOL, "no", 0, 0, 0, 0,
	  CONF_FIELD(local_part_case), false, NULL, CK_NONE, false },
	{ "LogLevel", CT_ENUM, "info", 0, 0, 0, 0,
	  CONF_FIELD(log_debug), true, conf_loglevels, CK_NONE, false },
	{ "MaxMessageBytes", CT_SIZE, "1M", 4 * K64, 64 * K64 * K64, 0, 0,
	  CONF_FIELD(max_message_bytes), true, NULL, CK_NONE, false },
	{ "MetricsFile", CT_STR, "", 0, 0, 0, 0,
	  CONF_FIELD(metrics_file), false, NULL, CK_PATH, true },
	{ "OnError", CT_ENUM, "tempfail", 0, 0, 0, 0,
	  CONF_FIELD(on_error), true, conf_onerror, CK_NONE, false },
	{ "PidFile", CT_STR, "", 0, 0, 0, 0,
	  CONF_FIELD(pid_file), false, NULL, CK_PATH, true },
	{ "RecordSends", CT_BOOL, "yes", 0, 0, 0, 0,
	  CONF_FIELD(record_sends), true, NULL, CK_NONE, false },
	{ "RejectReply", CT_STR, "550 5.1.1 recipient address suppressed", 0,
	  0, 0, 0, CONF_FIELD(reject_reply), true, NULL, CK_REPLY, false },
	{ "RulesFile", CT_STR, "", 0, 0, 0, 0,
	  CONF_FIELD(rules_file), true, NULL, CK_PATH, true },
	{ "SenderSideAlertRate", CT_COUNT, "50", 0, 1000000, 0, 0,
	  CONF_FIELD(sender_alert_rate), true, NULL, CK_NONE, false },
	{ "SignEnvelope", CT_BOOL, "no", 0, 0, 0, 0,
	  CONF_FIELD(sign_envelope), true, NULL, CK_NONE, false },
	{ "SignKeyFile", CT_STR, "", 0, 0, 0, 0,
	  CONF_FIELD(sign_key_file), true, NULL, CK_PATH, true },
	{ "SignMaxAge", CT_SECONDS, "7d", DAY, 365 * DAY, 0, 0,
	  CONF_FIELD(sign_max_age), true, NULL, CK_NONE, false },
	{ "SignSenders", CT_STR, "", 0, 0, 0, 0,
	  CONF_FIELD(sign_senders), true, NULL, CK_SIGNERS, true },
	{ "Socket", CT_STR, "unix:" BD_RUNDIR "/bounced.sock", 0, 0,
	  0, 0, CONF_FIELD(socket), false, NULL, CK_SOCKET, false },
	{ "SoftBounceLimit", CT_COUNT, "3", 1, 20, 3, 5,
	  CONF_FIELD(soft_bounce_limit), true, NULL, CK_NONE, false },
	{ "SoftBounceWindow", CT_SECONDS, "30d", 3600, 366 * DAY, 0, 0,
	  CONF_FIELD(soft_bounce_window), true, NULL, CK_NONE, false },
	{ "SuppressedRecipients", CT_ENUM, "off", 0, 0, 0, 0,
	  CONF_FIELD(suppressed_rcpt), true, conf_rcptpolicy, CK_NONE, false },
	{ "SuppressionExpiry", CT_STR, "", 0, 0, 0, 0,
	  CONF_FIELD(suppression_expiry), true, NULL, CK_EXPIRY, true },
	{ "Syslog", CT_BOOL, "yes", 0, 0, 0, 0,
	  CONF_FIELD(syslog), false, NULL, CK_NONE, false },
	{ "SyslogFacility", CT_STR, "mail", 0, 0, 0, 0,
	  CONF_FIELD(syslog_facility), false, NULL, CK_FACILITY, false },
	{ "TrustMaxAge", CT_SECONDS, "30d", 3600, 366 * DAY, 0, 0,
	  CONF_FIELD(trust_max_age), true, NULL, CK_NONE, false },
	{ "TrustPolicy", CT_ENUM, "sent", 0, 0, 0, 0,
	  CONF_FIELD(trust_policy), true, conf_trustpolicy, CK_NONE, false },
	{ "UserID", CT_STR, "bounced", 0, 0, 0, 0,
	  CONF_FIELD(user), false, NULL, CK_USER, false },
};

#define CONFTAB_N	(sizeof(conftab) / sizeof(conftab[0]))

#endif
