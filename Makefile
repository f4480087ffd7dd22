# utmpbox: one static musl binary, symlinked once per applet.
#   make          build target/x86_64-unknown-linux-musl/release/utmpbox
#   make test     unit tests, then integration tests against that binary
#   make demo     the main job end to end in a scratch directory
#   make bench    ratios against the peer tools (scripts/bench.sh)
#   make install  PREFIX=/usr DESTDIR=/path/to/rootfs
#   make size     the stripped binary's size
#   make fuzz     each fuzz target for FUZZ_SECONDS (60), seeded; fails on a crash
#   make tiny     dist/utmpbox-tiny: nightly, build-std, immediate-abort; fails over 420 KiB
#   make powerloss  20 SIGKILLs of a qemu guest appending to wtmp (docs/BOOT.md)

TARGET  := x86_64-unknown-linux-musl
BIN     := target/$(TARGET)/release/utmpbox
PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  := $(DESTDIR)$(PREFIX)/bin
CARGO   ?= cargo

.PHONY: all build musl-target test demo bench install size clean deps fuzz
.PHONY: tiny tiny-build boot-kernel powerloss

all: build

musl-target:
	@rustup target list --installed 2>/dev/null | grep -qx '$(TARGET)' || rustup target add $(TARGET)

build: musl-target
	$(CARGO) build --release --locked --target $(TARGET)

$(BIN): build

# The peer tools are the oracles of the differential tests.
deps:
	@sh scripts/deps.sh

# The integration tests drive the static musl binary. Should the musl
# target be impossible to install (no rustup, no route to its server),
# they still run, loudly, against the host build rather than not at all.
test: deps
	$(CARGO) test --locked --lib --bins
	@if $(MAKE) --no-print-directory build; then \
		bin='$(CURDIR)/$(BIN)'; \
	else \
		echo 'make test: WARNING: the static musl build failed; testing the host build instead' >&2; \
		$(CARGO) build --locked && bin='$(CURDIR)/target/debug/utmpbox'; \
	fi; \
	UTMPBOX_BIN="$$bin" $(CARGO) test --locked --test tests -- --test-threads=2 --skip boot::
	@# The same suite against the tiny build, the one for initramfs and
	@# rootfs builders: the boot tests (tests/boot.rs) boot that one.
	@# It is the file tiny-build copied to dist/utmpbox-tiny, under the
	@# name utmpbox: the binary dispatches on its name, and the suite
	@# runs it by that name too.
	@$(MAKE) --no-print-directory tiny-build
	UTMPBOX_BIN='$(CURDIR)/$(TINY_DIR)/$(TARGET)/release/utmpbox' $(CARGO) test --locked --test tests -- --test-threads=2

demo: build
	@sh scripts/demo.sh $(CURDIR)/$(BIN)

bench: build deps
	@sh scripts/bench.sh $(CURDIR)/$(BIN)

install: build
	install -d $(BINDIR)
	install -m 0755 $(BIN) $(BINDIR)/utmpbox
	$(BINDIR)/utmpbox --install $(BINDIR)

# The fuzz targets (fuzz/, cargo-fuzz on nightly) one after the other,
# each seeded by scripts/fuzz_seeds.sh and run for FUZZ_SECONDS. A crash
# leaves its input in fuzz/artifacts/TARGET/ and fails the run once every
# target has had its turn; fixed, the input goes to fuzz/regressions/TARGET/,
# which make test replays. Logs: fuzz/logs/TARGET.log.
FUZZ_SECONDS ?= 60
FUZZ_CARGO   ?= cargo +nightly

fuzz: build
	@command -v cargo-fuzz >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked
	@sh scripts/fuzz_seeds.sh '$(CURDIR)/$(BIN)' '$(CURDIR)/fuzz/corpus'
	@mkdir -p fuzz/logs; failed=''; \
	for target in $$($(FUZZ_CARGO) fuzz list); do \
		log=fuzz/logs/$$target.log; \
		if $(FUZZ_CARGO) fuzz run $$target -- -max_total_time=$(FUZZ_SECONDS) \
			-print_final_stats=1 >$$log 2>&1; then result=ok; \
		else result="CRASH, see $$log"; failed="$$failed $$target"; fi; \
		runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $$log | tail -n 1); \
		echo "fuzz: $$target: $${runs:-?} executions in $(FUZZ_SECONDS) s: $$result"; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: crashed:$$failed" >&2; exit 1; fi

# The same source on nightly: std rebuilt (-Zbuild-std) with the
# immediate-abort panic strategy (no unwinding or panic message code),
# no unwind tables, std's optimize_for_size, rust-lld with identical code
# folding, LLVM's machine outliner; the release profile (opt-level z, LTO,
# one codegen unit, strip) as for `make`. RUSTFLAGS replaces
# .cargo/config.toml's flags, so the static non-PIE ones are repeated.
# Its own target dir: these flags rebuild everything. No nightly: fail,
# never fall back to stable.
NIGHTLY       ?= nightly
TINY_DIR      := target/tiny
TINY_BIN      := dist/utmpbox-tiny
TINY_MAX_BYTES ?= 430080
TINY_RUSTFLAGS := -Zunstable-options -Cpanic=immediate-abort -Cforce-unwind-tables=no \
	-Zlocation-detail=none -Zfmt-debug=none \
	-Ctarget-feature=+crt-static -Crelocation-model=static \
	-Clinker-flavor=gnu-lld-cc -Clink-self-contained=+linker \
	-Clink-arg=-Wl,--icf=all -Clink-arg=-Wl,--no-eh-frame-hdr \
	-Cllvm-args=-enable-machine-outliner=always

# Build dist/utmpbox-tiny, whatever its size (make test uses this).
tiny-build:
	@cargo +$(NIGHTLY) --version >/dev/null 2>&1 || { \
		echo 'make tiny: fatal: no $(NIGHTLY) Rust toolchain (rustup toolchain install $(NIGHTLY)): -Zbuild-std and -Cpanic=immediate-abort exist only on nightly' >&2; \
		exit 1; }
	@rustup component list --installed --toolchain $(NIGHTLY) 2>/dev/null | grep -q '^rust-src' || \
		rustup component add --toolchain $(NIGHTLY) rust-src
	@rustup target list --installed --toolchain $(NIGHTLY) 2>/dev/null | grep -qx '$(TARGET)' || \
		rustup target add --toolchain $(NIGHTLY) $(TARGET)
	RUSTFLAGS='$(TINY_RUSTFLAGS)' cargo +$(NIGHTLY) build --release --locked --target $(TARGET) \
		-Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size --target-dir $(TINY_DIR)
	@mkdir -p dist
	@cp $(TINY_DIR)/$(TARGET)/release/utmpbox $(TINY_BIN)
	@wc -c < $(TINY_BIN) | awk '{ printf "%s: %d bytes (%.1f KiB; limit %d)\n", "$(TINY_BIN)", $$1, $$1 / 1024, $(TINY_MAX_BYTES) }'

# dist/utmpbox-tiny, failing when it is over TINY_MAX_BYTES (420 KiB).
tiny: tiny-build
	@size=$$(wc -c < $(TINY_BIN)); if [ "$$size" -gt $(TINY_MAX_BYTES) ]; then \
		echo "make tiny: fatal: $(TINY_BIN) is $$size bytes, over the limit of $(TINY_MAX_BYTES) (420 KiB)" >&2; \
		exit 1; fi

# Debian's current cloud kernel for the boot tests, cached outside the
# checkout (scripts/boot/kernel.sh); the tests fetch it themselves too.
boot-kernel:
	@sh scripts/boot/kernel.sh >/dev/null

# The power-loss test at full length: POWERLOSS_CYCLES SIGKILLs of a qemu
# guest whose 8 writers append to wtmp on a virtio disk (make test runs
# 3). Prints cycles, acknowledged, lost and repaired records.
POWERLOSS_CYCLES ?= 20
powerloss: build deps boot-kernel
	UTMPBOX_BIN='$(CURDIR)/$(BIN)' UTMPBOX_POWERLOSS_CYCLES=$(POWERLOSS_CYCLES) \
		$(CARGO) test --locked --test tests -- --exact boot::powerloss::power_loss_loses_no_acknowledged_record --nocapture

size: build
	@wc -c < $(BIN) | awk '{ printf "%d bytes (%.1f KiB) %s\n", $$1, $$1 / 1024, "$(BIN)" }'

clean:
	$(CARGO) clean
	rm -rf dist
