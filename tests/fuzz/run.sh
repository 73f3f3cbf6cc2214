#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The bounced authors
#
# tests/fuzz/run.sh - `make check-fuzz`: build the libFuzzer targets and
# run each for a bounded time from its corpus (tests/fuzz/corpus/NAME),
# so that CI fuzzes every run.  The corpus is copied: what a run finds is
# not kept (a longer campaign merges its finds by hand, see mk/fuzz.am).
#
# Exit: 0 no finding, 1 a crash, leak, timeout or sanitizer report (the
# reproducer is printed and kept in $FUZZ_OUT), 77 clang or its fuzzer
# runtime missing, 99 the harness failed (build error).
#
# Environment: FUZZ_SECONDS (30) per target, FUZZ_TARGETS ("dsn maillog
# engine"),
# FUZZ_OUT (a fresh folder under TMPDIR), MAKE, FUZZ_CC, TOP_SRCDIR.
set -u
top=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
secs=${FUZZ_SECONDS:-30}
cc=${FUZZ_CC:-clang}
make=${MAKE:-make}

say() { printf 'check-fuzz: %s\n' "$*"; }

# clang and libFuzzer's runtime: a one-line target must link
probe=$(mktemp -d "${TMPDIR:-/tmp}/bounced-fuzz-probe.XXXXXX") || exit 99
printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)' \
    '{ (void)d; (void)n; return 0; }' >"$probe/p.c"
if ! "$cc" -fsanitize=fuzzer,address,undefined -o "$probe/p" "$probe/p.c" \
    >"$probe/log" 2>&1; then
	say "SKIP: $cc cannot link -fsanitize=fuzzer (install clang and" \
	    "libclang-rt-14-dev): $(head -n 3 "$probe/log" | tr '\n' ' ')"
	rm -rf "$probe"
	exit 77
fi
rm -rf "$probe"

targets=${FUZZ_TARGETS:-dsn maillog engine}
for t in $targets; do
	$make -s "fuzz_$t" || { say "ERROR: make fuzz_$t failed"; exit 99; }
done

out=${FUZZ_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/bounced-fuzz.XXXXXX")}
rc=0
for t in $targets; do
	seeds=$top/tests/fuzz/corpus/$t
	[ -d "$seeds" ] || { say "ERROR: no corpus $seeds"; exit 99; }
	mkdir -p "$out/$t/corpus" "$out/$t/crash"
	cp "$seeds"/* "$out/$t/corpus/"
	case $t in
	dsn|engine)	maxlen=65536 ;;
	*)	maxlen=16384 ;;
	esac
	# -timeout: one input taking 10 s is a hang; -rss_limit_mb: the
	# parser's own caps must keep an input far below 2 GB.
	"./fuzz_$t" -max_total_time="$secs" -max_len="$maxlen" \
	    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$out/$t/crash/" "$out/$t/corpus" \
	    >"$out/$t/log" 2>&1
	r=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
	    "$out/$t/log" | tail -n 1)
	if [ "$r" -ne 0 ]; then
		say "FAIL: fuzz_$t exited $r after ${execs:-?} executions"
		tail -n 40 "$out/$t/log"
		ls -l "$out/$t/crash/"
		rc=1
	else
		say "ok: fuzz_$t: ${execs:-?} executions in $secs s, no finding"
	fi
done
[ "$rc" -eq 0 ] && [ -z "${FUZZ_OUT:-}" ] && rm -rf "$out"
[ "$rc" -ne 0 ] && say "kept $out"
exit "$rc"
