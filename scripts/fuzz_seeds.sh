#!/bin/sh
# Seeds for the fuzz targets, made the way the tests make their files:
# utmpdump text turned into glibc, utmpx and native files, the native
# files the daemons write (run in a scratch directory, stopped at exit),
# legacy lastlog entries, and protocol requests and frames.
#
# Usage: scripts/fuzz_seeds.sh /absolute/path/to/utmpbox CORPUS_DIR
# Fills CORPUS_DIR/TARGET/ for each target in fuzz/Cargo.toml. Seeds are
# made afresh each run and never committed (fuzz/corpus is ignored).
set -eu

BIN=${1:?usage: fuzz_seeds.sh /path/to/utmpbox CORPUS_DIR}
CORPUS=${2:?usage: fuzz_seeds.sh /path/to/utmpbox CORPUS_DIR}
work=$(mktemp -d "${TMPDIR:-/tmp}/utmpbox-seeds.XXXXXX")
pids=""
cleanup() {
	for pid in $pids; do kill "$pid" 2>/dev/null || true; done
	for pid in $pids; do wait "$pid" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir "$work/bin"
"$BIN" --install "$work/bin" >/dev/null
bin=$work/bin

# seed TARGET NAME: stdin becomes CORPUS/TARGET/NAME (the directory is
# made on first use, so a new target needs no list here).
seed() {
	mkdir -p "$CORPUS/$1"
	cat >"$CORPUS/$1/$2"
}

# Bytes as printf octal escapes: le32 N writes N as 4 little-endian bytes.
le32() {
	printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $(($1 & 255)) $(($1 >> 8 & 255)) \
		$(($1 >> 16 & 255)) $(($1 >> 24 & 255)))"
}

# zeros N: N NUL bytes.
zeros() {
	head -c "$1" /dev/zero
}

# Text as util-linux and utmpbox print it, and forms they read: the old
# date form, a UTC offset, times before 1970 and after 2038, IPv6 with an
# IPv4 tail, an id with spaces.
cat >"$work/dump.txt" <<'EOF'
[2] [00000] [~~  ] [reboot  ] [~           ] [6.1.0-13-amd64      ] [0.0.0.0        ] [2026-11-20T08:00:00,000000+00:00]
[1] [20019] [~~  ] [runlevel] [~           ] [6.1.0-13-amd64      ] [0.0.0.0        ] [2026-11-20T08:00:05,000000+00:00]
[7] [01234] [ts/0] [alice   ] [pts/0       ] [192.168.1.10        ] [192.168.1.10   ] [2026-11-20T09:15:00,000000+00:00]
[8] [01234] [ts/0] [        ] [pts/0       ] [                    ] [0.0.0.0        ] [2026-11-20T10:02:13,000000+00:00]
[7] [01301] [ts/1] [carol   ] [pts/1       ] [2001:db8::7         ] [2001:db8::7    ] [2026-11-20T11:00:00,250000+00:00]
[6] [00777] [1   ] [LOGIN   ] [tty1        ] [                    ] [::ffff:10.0.0.1] [1969-12-31T23:59:59,999999+00:00]
[5] [00042] [si  ] [        ] [            ] [                    ] [0.0.0.0        ] [1901-12-13T20:45:52,000000+00:00]
[9] [-0001] [ab  ] [x       ] [console     ] [host.example        ] [10.1.2.3       ] [Tue Sep 01 00:00:00 1998 GMT]
[3] [00001] [    ] [        ] [|           ] [                    ] [0.0.0.0        ] [2026-11-20T09:15:00+02:00]
EOF
mkdir -p "$CORPUS/text_line"
split -l 1 "$work/dump.txt" "$CORPUS/text_line/line-"
for f in "$CORPUS"/text_line/line-*; do
	tr -d '\n' <"$f" >"$f.tmp" && mv "$f.tmp" "$f"
done
cat >"$work/future.txt" <<'EOF'
[7] [99999] [9999] [a-user-name-longer-than-32-bytes-for-native] [pts/99      ] [future.example      ] [fe80::1        ] [2100-01-01T00:00:00,000001+00:00]
[8] [00001] [0   ] [        ] [pts/0       ] [                    ] [0.0.0.0        ] [-0100-01-01T00:00:00,000000+00:00]
EOF
tr -d '\n' <"$work/future.txt" | seed text_line future-pair

# The same records as files of each layout, whole and record by record.
# (The times before 1901 and after 2038 only fit native.)
for format in glibc utmpx; do
	"$bin/utmpdump" -r --format "$format" -o "$work/wtmp.$format" "$work/dump.txt" 2>/dev/null
	seed decode_file "wtmp.$format" <"$work/wtmp.$format"
done
cat "$work/dump.txt" "$work/future.txt" >"$work/all.txt"
"$bin/utmpdump" -r --format native -o "$work/wtmp.native" "$work/all.txt" 2>/dev/null
seed decode_file wtmp.native <"$work/wtmp.native"
i=0
while [ $i -lt 9 ]; do
	# legacy_record reads the first 384 bytes as glibc and 400 as utmpx.
	dd if="$work/wtmp.glibc" bs=384 skip=$i count=1 2>/dev/null | seed legacy_record "glibc-$i"
	dd if="$work/wtmp.utmpx" bs=400 skip=$i count=1 2>/dev/null | seed legacy_record "utmpx-$i"
	i=$((i + 1))
done

# What the daemons write: wtmp, btmp, lastlog and utmp, all native.
export UTMPBOX_RUNDIR="$work/run" UTMPBOX_LOGDIR="$work/log"
mkdir -m 0755 "$UTMPBOX_RUNDIR" "$UTMPBOX_LOGDIR"
"$bin/wtmpd" -n 2>"$work/wtmpd.log" &
pids="$pids $!"
"$bin/utmpd" 2>"$work/utmpd.log" &
pids="$pids $!"
tries=0
until [ -S "$UTMPBOX_RUNDIR/wtmpd.sock" ] && [ -S "$UTMPBOX_RUNDIR/utmpd.sock" ]; do
	tries=$((tries + 1))
	if [ $tries -gt 100 ]; then
		echo "fuzz_seeds: the daemons did not start:" >&2
		cat "$work/wtmpd.log" "$work/utmpd.log" >&2
		exit 1
	fi
	sleep 0.1
done
"$bin/utmpset" boot >/dev/null
"$bin/utmpset" -u root -l pts/7 -H 192.0.2.10 -A 192.0.2.10 -p $$ login
"$bin/utmpset" -u daemon -l tty5 -i tty5 -p 1 -H 2001:db8::1 -A 2001:db8::1 login
"$bin/utmpset" -u daemon -l tty5 -i tty5 -p 1 -e 3 logout
"$bin/utmpset" -u nobody -l ssh:notty -H 203.0.113.7 fail
"$bin/utmpset" -u root -l pts/8 -T 4102444800 login
for pid in $pids; do kill "$pid"; done
for pid in $pids; do wait "$pid" 2>/dev/null || true; done
pids=""
for file in "$UTMPBOX_LOGDIR"/wtmp "$UTMPBOX_LOGDIR"/btmp "$UTMPBOX_LOGDIR"/lastlog "$UTMPBOX_RUNDIR"/utmp; do
	[ -f "$file" ] || continue
	name=$(basename "$file")
	# The first records only: a log ends in a reserve of 512 KiB of zeros.
	head -c $((64 + 12 * 512)) "$file" | seed decode_file "daemon-$name"
	size=$(wc -c <"$file")
	i=0
	while [ $((64 + (i + 1) * 512)) -le "$size" ] && [ $i -lt 8 ]; do
		# native_record reads the first 512 bytes; the header is 64.
		tail -c +$((65 + i * 512)) "$file" | head -c 512 >"$work/record"
		if [ -n "$(tr -d '\000' <"$work/record" | head -c 1)" ]; then
			seed native_record "$name-$i" <"$work/record"
			cp "$work/record" "$work/last-record"
		fi
		i=$((i + 1))
	done
	head -c 64 "$file" | seed native_record "$name-header"
	"$bin/utmpdump" "$file" 2>/dev/null | head -n 3 | tr -d '\n' | seed text_line "dump-$name"
done
record=$work/last-record

# Legacy lastlog: glibc 292 bytes (i32 time), musl 296 (i64 time); an
# entry alone (uid 0) and after a never-logged-in uid 0 (uid 1).
{
	le32 1764180660
	printf 'pts/0'
	zeros 27
	printf '192.168.1.10'
	zeros 244
} >"$work/lastlog.292"
{
	le32 1764180660
	zeros 4
	printf 'tty1'
	zeros 28
	printf 'host.example'
	zeros 244
} >"$work/lastlog.296"
for size in 292 296; do
	seed lastlog_record "entry-$size" <"$work/lastlog.$size"
	{ zeros $size; cat "$work/lastlog.$size"; } | seed lastlog_record "uid1-$size"
done

# Request bodies (version, op, two zero bytes, payload), one per op.
body() {
	printf '\001'
	printf "$(printf '\\%03o' "$1")"
	printf '\000\000'
}
{ body 1; } | seed request utmp-list
{ body 2; cat "$record"; } | seed request utmp-get-id
{ body 3; printf '\005pts/7'; } | seed request utmp-get-line
{ body 4; cat "$record"; } | seed request utmp-put
{ body 16; printf '\001'; cat "$record"; } | seed request log-append
{ body 17; printf '\002'; } | seed request log-stat
# LOG_READ: wtmp, every filter, max 10, before u64::MAX, since, until,
# user, line.
{
	body 18
	printf '\001\017\012\000'
	printf '\377\377\377\377\377\377\377\377'
	zeros 8
	printf '\377\377\377\377\377\377\377\177'
	printf '\004root\005pts/7'
} | seed request log-read
{ body 32; printf '\004root'; } | seed request lastlog-get
{ body 33; } | seed request lastlog-list
{ body 34; cat "$record"; } | seed request lastlog-set
{ body 35; printf '\004root'; } | seed request lastlog-clear

# Frame streams: a byte of how many piece sizes follow, the sizes, then
# pipelined frames (length prefix and body).
for f in "$CORPUS"/request/*; do
	{
		printf '\003\001\007\377'
		le32 "$(wc -c <"$f")"
		cat "$f"
		le32 4
		body 1
	} | seed frame_reader "$(basename "$f")"
done
{
	printf '\000'
	le32 9999
} | seed frame_reader too-long

# utmps streams (a byte: top bit wtmpd, low bits how many piece sizes
# follow; the sizes; then requests as libutmps sends them): a session's
# calls to utmpd, and wtmpd's append, from the utmpx records above.
dd if="$work/wtmp.utmpx" bs=400 count=1 2>/dev/null >"$work/one.utmpx"
{
	printf '\003\001\017\377'
	printf 'r'
	printf 'E'
	cat "$work/one.utmpx"
	printf 'i\000\007ts/7'
	printf 'l'
	printf 'pts/7'
	zeros 27
	printf 'e'
	printf 'r'
} | seed utmps_request utmpd-session
{
	printf '\202\077\377'
	printf '+'
	cat "$work/one.utmpx"
} | seed utmps_request wtmpd-append
