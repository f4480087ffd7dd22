#!/bin/sh
# make bench: every benchmark part, each printing ratios against the peer
# tools (or against the measured skarnet utmps numbers for the daemons).
# Speed is measured here, never in tests: these machines are noisy.
set -u
bin=${1:?usage: bench.sh /path/to/utmpbox}
here=$(dirname "$0")
status=0
for part in last who w daemons utmps stall syslog; do
	script="$here/bench_$part.sh"
	[ -f "$script" ] || continue
	echo "== $part"
	sh "$script" "$bin" || status=1
done
exit $status
