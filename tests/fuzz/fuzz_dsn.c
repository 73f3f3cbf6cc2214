/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copyright (c) 2026 The bounced authors.
 *
 * fuzz_dsn.c - libFuzzer target for the bounce parser: every input is
 * given to dsn_parse() (bounded by max_bytes, with a campaign header so
 * that the returned original's headers are read too) and the report is
 * freed.  Crashes, leaks and undefined behaviour are the sanitizers' to
 * report.  Built by `make fuzz-dsn` (mk/parse.am), never installed.
 *
 * Run: ./fuzz_dsn -max_total_time=600 -max_len=65536 CORPUS_DIR
 */
#include <stddef.h>
#include <stdint.h>

#include "parse/dsn.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	dsn_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dsn_options	 opt = DSN_OPTIONS_DEFAULT;
	struct dsn_report	*r = NULL;

	opt.max_bytes = 256u << 10;
	opt.max_recipients = 100;
	opt.campaign_header = "X-Campaign";
	if (dsn_parse((const char *)data, size, &opt, &r) == BD_OK)
		dsn_report_free(r);
	return 0;
}
