#!/bin/sh
# bench_last.sh BIN: `last -f` on a 1,000,000-record glibc wtmp, utmpbox
# against util-linux and against `cat FILE >/dev/null`; then `last -n 10`
# against a full `last`, both through wtmpd over a 300,000-record native
# wtmp. Checks the outputs agree, then reports median wall times, e.g.
#   last -f (1000000 records): utmpbox 0.17 s, util-linux 0.91 s, ratio 5.4x
# Targets (issue 11): last -f >= 10x util-linux and within 2x of cat;
# last -n 10 through wtmpd >= 20x faster than a full last through it.
# Then `last alice` through wtmpd, which sends the name (filter 64),
# against a full last through it (no target: alice has a sixth of the
# logins, so it prints about a tenth of the lines).
# Not a test: timings depend on the machine and its load.
set -eu
bin=${1:?usage: bench_last.sh /path/to/utmpbox}
records=${RECORDS:-1000000}
runs=${RUNS:-5}
command -v last >/dev/null || { echo "bench_last: util-linux last is not installed" >&2; exit 1; }
command -v python3 >/dev/null || { echo "bench_last: python3 is needed to generate the wtmp" >&2; exit 1; }

dir=$(mktemp -d)
wpid=
cleanup() {
	[ -n "$wpid" ] && kill "$wpid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM
ln -s "$bin" "$dir/last"

# A history like a busy server's: boots and shutdowns, logins and logouts
# on many ptys, IPv4 and IPv6 hosts; all years ago, so no
# entry depends on this machine's boot time, passwd or /proc.
python3 - "$dir/wtmp" "$records" <<'EOF'
import random, struct, sys
path, count = sys.argv[1], int(sys.argv[2])
rng = random.Random(2383)
rec = struct.Struct('<hxxi32s4s32s256shhiii16s20s')
users = [b'alice', b'bob', b'root', b'carol_longname', b'deploy', b'backup']
hosts = [(b'192.168.1.10', bytes([192, 168, 1, 10]) + bytes(12)),
         (b'very.long.hostname.example.com', bytes([10, 0, 0, 5]) + bytes(12)),
         (b'2001:db8::1', bytes([0x20, 1, 0xd, 0xb8]) + bytes(11) + b'\x01'),
         (b':0', bytes(16)), (b'', bytes(16))]
out = bytearray()
t = 1_300_000_000
open_lines = []
after_shutdown = False
for _ in range(count):
    t += rng.randint(1, 600)
    r = rng.random()
    if 0.004 <= r < 0.008 and not after_shutdown:
        r = 0.0
    after_shutdown = r < 0.004
    if r < 0.008:
        # Every boot follows a shutdown: a boot after a boot is where
        # utmpbox follows util-linux 2.40 (docs/COMPAT.md), not 2.38.1.
        kind, user = (1, b'shutdown') if r < 0.004 else (2, b'reboot')
        out += rec.pack(kind, 0, b'~', b'~~', user, b'6.1.0-28-amd64', 0, 0, 0, t, 0, bytes(16), b'')
        open_lines = []
    elif r < 0.55 or not open_lines:
        line = b'pts/%d' % rng.randrange(40)
        host, addr = rng.choice(hosts)
        out += rec.pack(7, rng.randrange(1, 99999), line, line[-4:], rng.choice(users), host, 0, 0, 0, t, 0, addr, b'')
        open_lines.append(line)
    else:
        line = open_lines.pop(rng.randrange(len(open_lines)))
        out += rec.pack(8, 0, line, line[-4:], b'', b'', 0, 0, 0, t, 0, bytes(16), b'')
with open(path, 'wb') as f:
    f.write(out)
EOF

export TZ=UTC LC_ALL=C
"$dir/last" -f "$dir/wtmp" > "$dir/ours"
last -f "$dir/wtmp" > "$dir/theirs"
if ! cmp -s "$dir/ours" "$dir/theirs"; then
	echo "bench_last: outputs differ:" >&2
	diff "$dir/ours" "$dir/theirs" | head -20 >&2
	exit 1
fi

# Median wall time of $runs runs, output to /dev/null.
median() {
	i=0
	while [ "$i" -lt "$runs" ]; do
		start=$(date +%s.%N)
		"$@" > /dev/null
		end=$(date +%s.%N)
		echo "$end - $start" | bc
		i=$((i + 1))
	done | sort -n | awk '{ t[NR] = $1 } END { printf "%.3f\n", t[int((NR + 1) / 2)] }'
}
ours=$(median "$dir/last" -f "$dir/wtmp")
theirs=$(median last -f "$dir/wtmp")
echo "$ours $theirs" | awk -v n="$records" \
	'{ printf "last -f (%d records): utmpbox %.3f s, util-linux %.3f s, ratio %.1fx (target >= 10x)\n", n, $1, $2, $2 / $1 }'
cat=$(median cat "$dir/wtmp")
echo "$ours $cat" | awk \
	'{ printf "last -f against cat FILE >/dev/null: %.3f s vs %.3f s, %.1fx the time of cat (target <= 2x)\n", $1, $2, $1 / $2 }'

# The first 300,000 records of that history as a native wtmp, converted
# by utmpdump itself (the text drops only session and exit status, which
# last does not print), for wtmpd to serve.
served=${SERVED:-300000}
mkdir -p "$dir/log" "$dir/run"
"$bin" utmpdump "$dir/wtmp" 2>/dev/null | head -n "$served" |
	"$bin" utmpdump -r --format native -o "$dir/log/wtmp" 2>/dev/null
export UTMPBOX_RUNDIR="$dir/run" UTMPBOX_LOGDIR="$dir/log"
ln -s "$bin" "$dir/wtmpd"
"$dir/wtmpd" -n 2>"$dir/wtmpd.log" & wpid=$!
for _ in $(seq 100); do
	[ -S "$dir/run/wtmpd.sock" ] && break
	sleep 0.05
done
"$dir/last" -n 10 > "$dir/ten"
"$dir/last" -n 10 -f "$dir/log/wtmp" > "$dir/ten.file"
"$dir/last" > "$dir/full"
if ! cmp -s "$dir/ten" "$dir/ten.file" ||
	! head -10 "$dir/ten" | cmp -s - "$(head -10 "$dir/full" > "$dir/full.head"; echo "$dir/full.head")"; then
	echo "bench_last: last -n 10 through wtmpd differs from the file or from a full last" >&2
	exit 1
fi
full=$(median "$dir/last")
ten=$(median "$dir/last" -n 10)
echo "$full $ten" | awk -v n="$served" \
	'{ printf "last through wtmpd (%d records): full %.3f s, -n 10 %.4f s, ratio %.0fx (target >= 20x)\n", n, $1, $2, $1 / $2 }'
"$dir/last" alice > "$dir/alice"
"$dir/last" alice -f "$dir/log/wtmp" > "$dir/alice.file"
if ! cmp -s "$dir/alice" "$dir/alice.file"; then
	echo "bench_last: last alice through wtmpd differs from the file" >&2
	exit 1
fi
alice=$(median "$dir/last" alice)
echo "$full $alice $(wc -l < "$dir/alice")" | awk -v n="$served" \
	'{ printf "last alice through wtmpd (%d records, %d lines): %.3f s, full last %.3f s, ratio %.1fx\n", n, $3, $2, $1, $1 / $2 }'
