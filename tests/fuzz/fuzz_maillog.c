/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2026 The bounced authors.
 *
 * fuzz_maillog.c - libFuzzer target for the mail-log parser: the input is
 * cut into lines as maillog_follow delivers them (at '\n', at most
 * MAILLOG_LINE_MAX bytes looked at by the parser itself), and every line
 * goes through maillog_parse(), maillog_event() for each recipient, and
 * the pure step of the log source, logsource_events(), which classifies
 * with the compiled-in rules and keeps a queue-id memory across the
 * lines of one input.  No store, no clock: "now" is fixed.  Crashes,
 * leaks and undefined behaviour are the sanitizers' to report.  Built by
 * `make fuzz-maillog` (mk/fuzz.am), never installed.
 *
 * Run: ./fuzz_maillog -max_total_time=600 -max_len=16384 CORPUS_DIR
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "maillog/maillog.h"
#include "maillog/maillog_source.h"
#include "verdict/rules.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct rules *fz_rules;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	err[256];

	(void)argc;
	(void)argv;
	if (rules_default(&fz_rules, err, sizeof(err)) != BD_OK)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a fixed clock: 2026-11-24 00:00:00 UTC, and a zone east of UTC */
	const int64_t		 now = 1795478400;
	struct logsource_opts	 o = { 0 };
	struct logsource	*ls = NULL;
	struct maillog_rec	*rec;
	struct bd_event		 ev, evs[LOGSOURCE_QRCPT_MAX + 1];
	const char		*p = (const char *)data, *end = p + size, *nl;
	size_t			 i;

	rec = malloc(sizeof(*rec));
	if (rec == NULL)
		return 0;
	o.rules = fz_rules;
	o.max_queue = 64;	/* small, so that eviction is exercised */
	o.gmtoff = 3600;
	o.campaign_header = "X-Campaign";
	if (logsource_new(&o, &ls) != BD_OK) {
		free(rec);
		return 0;
	}
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if (maillog_parse(p, (size_t)(nl - p), now, o.gmtoff, rec) ==
		    MAILLOG_RECORD) {
			for (i = 0; maillog_recipient(rec, i) != NULL; i++)
				maillog_event(rec, i, &ev);
			(void)logsource_events(ls, rec, evs,
			    sizeof(evs) / sizeof(evs[0]));
		}
		p = nl + 1;
	}
	logsource_free(ls);
	free(rec);
	return 0;
}
