/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf.h - bounced.conf(5): an immutable configuration snapshot.
 * The key table in conf_tab.h is the only definition of a key.
 */
#ifndef BD_CONFIG_H
#define BD_CONFIG_H

#include <stdio.h>

#include "util/bd.h"
#include "verdict/rules.h"
#include "store/store.h"
#include "verdict/trust.h"

enum bounce_action {
	BOUNCE_CONTINUE = 0,	/* let the bounce go on unchanged */
	BOUNCE_HEADERS,		/* add X-Bounce-* headers */
	BOUNCE_DISCARD,		/* drop it once recorded */
};

enum on_error {
	ON_ERROR_TEMPFAIL = 0,	/* the MTA keeps the bounce and offers it again */
	ON_ERROR_ACCEPT,	/* let it through unrecorded */
};

enum rcpt_policy {
	RCPT_OFF = 0,		/* do not look at recipients of ordinary mail */
	RCPT_TAG,		/* add a header naming suppressed recipients */
	RCPT_REJECT,		/* refuse suppressed recipients at RCPT TO */
};

struct bd_config {
	char		*path;			/* file it came from */
	char		*socket;		/* Socket */
	char		*user;			/* UserID (user[:group]) */
	char		*pid_file;		/* PidFile */
	char		*database;		/* Database */
	char		*rules_file;		/* RulesFile; NULL = built-in */
	bool		 syslog;		/* Syslog */
	char		*syslog_facility;	/* SyslogFacility */
	bool		 log_debug;		/* LogLevel debug */
	char		*bounce_addresses;	/* BounceAddresses: comma-separated glob patterns */
	enum bounce_action bounce_action;	/* BounceAction */
	enum on_error	 on_error;		/* OnError */
	size_t		 max_message_bytes;	/* MaxMessageBytes */
	unsigned	 soft_bounce_limit;	/* SoftBounceLimit */
	int64_t		 soft_bounce_window;	/* SoftBounceWindow, seconds */
	int64_t		 busy_timeout;		/* DatabaseBusyTimeout, milliseconds */
	char		*campaign_header;	/* CampaignHeader */
	enum rcpt_policy suppressed_rcpt;	/* SuppressedRecipients */
	char		*reject_reply;		/* RejectReply, e.g. "550 5.1.1 ..." */
	char		*suppression_expiry;	/* SuppressionExpiry, as written */
	unsigned	 sender_alert_rate;	/* SenderSideAlertRate, per hour; 0 off */
	char		*complaint_suppress;	/* ComplaintSuppress (printed) */
	char		*event_hook;		/* EventHook: bouncectl events --hook */
	enum trust_policy trust_policy;		/* TrustPolicy */
	int64_t		 trust_max_age;		/* TrustMaxAge, seconds */
	char		*feedback_sources;	/* FeedbackSources, as written */
	bool		 record_sends;		/* RecordSends */
	bool		 sign_envelope;		/* SignEnvelope */
	char		*sign_key_file;		/* SignKeyFile */
	char		*sign_senders;		/* SignSenders, as written */
	int64_t		 sign_max_age;		/* SignMaxAge, seconds */
	char		*metrics_file;		/* MetricsFile: Prometheus textfile */
	char		*handoff_relays;	/* HandOffRelays, as written */
	bool		 local_part_case;	/* LocalPartCaseSensitive */
	struct rules	*rules;			/* compiled RulesFile (or built-in) */
	/* Added by the daemon (conf.c); derived at load, read-only after. */
	char		**bounce_patterns;	/* BounceAddresses split, lower-cased */
	size_t		 n_bounce_patterns;
	struct store_expiry expiry[STORE_EXPIRY_MAX]; /* SuppressionExpiry */
	size_t		 n_expiry;		/* 0: expiry off */
	unsigned	 complaint_types;	/* ComplaintSuppress: bits */
	struct trust_net feedback_nets[TRUST_NETS_MAX];	/* FeedbackSources */
	size_t		 n_feedback_nets;
	char		**sign_patterns;	/* SignSenders split, lower-cased */
	size_t		 n_sign_patterns;
	/* SignKeyFile's bytes, by config_load_key() only (the daemon) */
	unsigned char	*sign_key;
	size_t		 sign_key_len;
	char		**hop_patterns;		/* HandOffRelays split, lower-cased */
	size_t		 n_hop_patterns;
	char		*warnings;		/* "file:line: warning" lines, or NULL */
	unsigned	 refs;			/* config_ref/config_unref */
};

/*
 * config_load - read a bounced.conf; path NULL means built-in defaults only.
 * Unknown or duplicate keys and bad values fail with "file:line: why" in err.
 * Also loads the rules file.  Free with config_free().
 */
enum bd_status config_load(const char *path, struct bd_config **out,
    char *err, size_t errlen);
/* config_free - NULL is fine */
void config_free(struct bd_config *c);
/* config_default_path - SYSCONFDIR "/bounced.conf" */
const char *config_default_path(void);
/*
 * config_parse - config_load() of a text already in memory; name is used
 * in "name:line" messages.
 */
enum bd_status config_parse(const char *name, const char *text, size_t len,
    struct bd_config **out, char *err, size_t errlen);
/* config_ref - take a reference (thread-safe); returns c */
struct bd_config *config_ref(struct bd_config *c);
/* config_unref - drop a reference, config_free() at zero; NULL is fine */
void config_unref(struct bd_config *c);
/* config_print - "Key value" lines; all keys, or only non-default ones */
void config_print(const struct bd_config *c, FILE *fp, bool all);
/*
 * config_fixed_changed - names of the non-reloadable keys whose values
 * differ between a and b, comma-separated into out ("" if none)
 */
void config_fixed_changed(const struct bd_config *a,
    const struct bd_config *b, char *out, size_t outlen);
/*
 * config_load_key - read SignKeyFile when SignEnvelope is on (the daemon
 * only: bouncectl never needs the secret); BD_ECONFIG with why in err
 * when it is missing, short, or readable by group or others
 */
enum bd_status config_load_key(struct bd_config *c, char *err, size_t errlen);
/* config_signs_sender - SignEnvelope is on and sender matches SignSenders */
bool config_signs_sender(const struct bd_config *c, const char *sender);
/* config_is_bounce_address - rcpt matches a BounceAddresses pattern */
bool config_is_bounce_address(const struct bd_config *c, const char *rcpt);
/* config_facility - syslog facility code of a name ("mail"), -1 if none */
int config_facility(const char *name);

/*
 * config_policy - SoftBounceLimit, SoftBounceWindow, ComplaintSuppress
 * and HandOffRelays as the suppression rule's policy (borrows from c)
 */
void config_policy(const struct bd_config *c, struct state_policy *pol);

#endif
