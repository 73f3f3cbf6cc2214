#!/usr/bin/perl
# SPDX-License-Identifier: BSD-2-Clause
#
# sisimai_bench.pl - the comparison run of `make bench`: Sisimai (Debian's
# libsisimai-perl) on the same emails, measured the way bench_classify
# measures bounced: every email read into memory first, then
# Sisimai->make (->rise in Sisimai 5) on each one in one Perl process,
# looped until SECONDS of CPU time (user + system) have passed, RUNS
# times; the best run counts.
#
# usage: perl sisimai_bench.pl SECONDS RUNS FILE...
use strict;
use warnings;
use Sisimai;

my ($secs, $runs, @files) = @ARGV;
die "usage: sisimai_bench.pl SECONDS RUNS FILE...\n"
    unless defined $runs && $secs > 0 && $runs >= 1 && @files;
my $parse = Sisimai->can('rise') ? 'rise' : 'make';
my @mail;
for my $f (@files) {
	open my $fh, '<:raw', $f or die "sisimai_bench.pl: $f: $!\n";
	local $/;
	push @mail, scalar <$fh>;
	close $fh;
}

sub cpu { my @t = times; return $t[0] + $t[1]; }

my ($best, $results) = (0, 0);
for my $run (1 .. $runs) {
	my ($done, $t0, $t) = (0, cpu(), 0);
	do {
		$results = 0;
		for my $m (@mail) {
			# A scalar reference: Sisimai::Mail::Memory, no I/O.
			my $v = Sisimai->$parse(\$m) // [];
			$results += scalar @$v;
		}
		$done += @mail;
		$t = cpu() - $t0;
	} while ($t < $secs);
	my $rate = $t > 0 ? $done / $t : 0;
	$best = $rate if $rate > $best;
}
my $rss = 0;
if (open my $st, '<', '/proc/self/status') {
	while (<$st>) {
		$rss = $1 / 1024 if /^VmHWM:\s+(\d+)/;
	}
}
printf "emails:      %.0f emails/s (Sisimai->%s, email in memory; "
    . "best of %d runs of >= %.1f s CPU)\n", $best, $parse, $runs, $secs;
printf "results:     %d per pass over %d emails\n", $results, scalar @mail;
printf "peak RSS:    %.1f MB (VmHWM)\n", $rss;
