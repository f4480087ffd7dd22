#!/bin/sh
# Speed of utmpbox's who and uptime against coreutils who and procps uptime:
# the median wall time of N whole-process runs of each, same machine, same
# data. Uses hyperfine when installed, else a loop timed with date +%s%N.
#   scripts/bench_who.sh [BIN] [N]
# Prints lines like: who: utmpbox 1.2 ms, coreutils 1.9 ms, ratio 1.6x
# (ratio = peer / utmpbox, so above 1 means utmpbox is faster).
set -e
BIN=${1:-target/x86_64-unknown-linux-musl/release/utmpbox}
N=${2:-300}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
[ -x "$BIN" ] || { echo "bench_who: no binary at $BIN (run make)" >&2; exit 1; }
command -v utmpdump >/dev/null || { echo "bench_who: utmpdump (util-linux) needed" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/bin"
"$BIN" --install "$work/bin"

# A utmp table of 500 sessions (glibc 384-byte records), made by utmpdump.
i=0
while [ $i -lt 500 ]; do
	printf '[7] [%05d] [ts%02d] [user%03d ] [pts/%-8d] [host%d.example.org    ] [10.0.%d.%d       ] [2026-11-26T%02d:%02d:00,000000+00:00]\n' \
		$((1000 + i)) $((i % 100)) $((i % 250)) $i $i $((i / 256)) $((i % 256)) $((i % 24)) $((i % 60))
	i=$((i + 1))
done > "$work/utmp.txt"
utmpdump -r < "$work/utmp.txt" > "$work/utmp" 2>/dev/null

export LC_ALL=C TZ=UTC UTMPBOX_RUNDIR="$work/none"

# median_ms CMD...: median wall time of N runs, in ms with one decimal.
median_ms() {
	if command -v hyperfine >/dev/null; then
		hyperfine -N -w 20 -r "$N" --export-json "$work/h.json" "$*" >/dev/null 2>&1
		sed -n 's/.*"median": *\([0-9.e+-]*\).*/\1/p' "$work/h.json" | head -1 |
			awk '{ printf "%.2f", $1 * 1000 }'
		return
	fi
	: > "$work/times"
	j=0
	while [ $j -lt "$N" ]; do
		a=$(date +%s%N)
		"$@" > /dev/null
		b=$(date +%s%N)
		echo $((b - a)) >> "$work/times"
		j=$((j + 1))
	done
	sort -n "$work/times" | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] / 1e6 }'
}

report() { # name ours_ms peer_name peer_ms
	awk -v n="$1" -v o="$2" -v p="$3" -v t="$4" \
		'BEGIN { printf "%s: utmpbox %s ms, %s %s ms, ratio %.2fx\n", n, o, p, t, t / o }'
}

ours=$(median_ms "$work/bin/who" "$work/utmp")
theirs=$(median_ms who "$work/utmp")
report "who FILE" "$ours" coreutils "$theirs"

ours=$(median_ms "$work/bin/who" -a "$work/utmp")
theirs=$(median_ms who -a "$work/utmp")
report "who -a FILE" "$ours" coreutils "$theirs"

ours=$(median_ms "$work/bin/uptime")
theirs=$(median_ms uptime)
report "uptime" "$ours" procps "$theirs"
