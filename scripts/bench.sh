#!/bin/sh
# make bench: every scripts/bench_*.sh against the binary given (each
# prints its own "name: utmpbox X ms, peer Y ms, ratio Zx" lines).
#   scripts/bench.sh BIN
set -e
BIN=${1:?usage: scripts/bench.sh BIN}
dir=$(dirname "$0")
status=0
for bench in "$dir"/bench_*.sh; do
	sh "$bench" "$BIN" || status=1
done
exit $status
