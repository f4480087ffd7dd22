# utmpbox: one static musl binary, symlinked once per applet.
#   make          build target/x86_64-unknown-linux-musl/release/utmpbox
#   make test     unit tests, then integration tests against that binary
#   make demo     the main job end to end in a scratch directory
#   make bench    ratios against the peer tools (scripts/bench.sh)
#   make install  PREFIX=/usr DESTDIR=/path/to/rootfs (daemons in PREFIX/sbin)
#   make size     the stripped binary's size
#   make fuzz     each fuzz target for FUZZ_SECONDS (60), seeded; fails on a crash
#   make capi     libutmpbox, the C API: dist/lib, dist/include (docs/CAPI.md)
#   make tiny     dist/utmpbox-tiny: nightly, build-std, immediate-abort; fails over 420 KiB
#   make powerloss  20 SIGKILLs of a qemu guest appending to wtmp (docs/BOOT.md)

TARGET  := x86_64-unknown-linux-musl
BIN     := target/$(TARGET)/release/utmpbox
PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  := $(DESTDIR)$(PREFIX)/bin
SBINDIR := $(DESTDIR)$(PREFIX)/sbin
CARGO   ?= cargo

.PHONY: all build musl-target test demo bench install size clean deps fuzz capi install-capi
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
	@$(MAKE) --no-print-directory capi || \
		echo 'make test: WARNING: make capi failed; the C API tests (tests/capi.rs) will say so' >&2
	@if $(MAKE) --no-print-directory build; then \
		bin='$(CURDIR)/$(BIN)'; \
	else \
		echo 'make test: WARNING: the static musl build failed; testing the host build instead' >&2; \
		$(CARGO) build --locked && bin='$(CURDIR)/target/debug/utmpbox'; \
	fi; \
	UTMPBOX_CAPI='$(CURDIR)/$(CAPI_DIST)' UTMPBOX_BIN="$$bin" $(CARGO) test --locked --test tests -- --test-threads=2 --skip boot::
	@# The same suite against the tiny build, the one for initramfs and
	@# rootfs builders: the boot tests (tests/boot.rs) boot that one.
	@# It is the file tiny-build copied to dist/utmpbox-tiny, under the
	@# name utmpbox: the binary dispatches on its name, and the suite
	@# runs it by that name too.
	@$(MAKE) --no-print-directory tiny-build
	UTMPBOX_CAPI='$(CURDIR)/$(CAPI_DIST)' UTMPBOX_BIN='$(CURDIR)/$(TINY_DIR)/$(TARGET)/release/utmpbox' $(CARGO) test --locked --test tests -- --test-threads=2

demo: build
	@sh scripts/demo.sh $(CURDIR)/$(BIN)

bench: build deps
	@sh scripts/bench.sh $(CURDIR)/$(BIN)

# The daemons' links go to PREFIX/sbin; links are relative within DESTDIR.
install: build install-capi
	install -d $(BINDIR) $(SBINDIR)
	install -m 0755 $(BIN) $(BINDIR)/utmpbox
	$(BINDIR)/utmpbox --install $(BINDIR) $(SBINDIR)

# libutmpbox, the C API (src/capi/, docs/CAPI.md), in dist/:
#   lib/libutmpbox.a   for musl, static; with the libunwind of Rust's musl
#                      target inside (its std unwinds through it; Debian's
#                      libgcc_eh.a needs glibc's _dl_find_object); without
#                      debug info, as the stripped release binary (7.9 MB
#                      to 3.3 MB; a program linked with it: 2.0 MB to 0.55)
#   lib/libutmpbox.so  for glibc, to LD_PRELOAD
#   include/utmpx.h, include/utmp.h (musl's layout), lib/pkgconfig/utmpbox.pc
# Each file is replaced by a rename, so a program linking against dist/
# meanwhile (the tests run `make install-capi`) never sees half of one.
CAPI_DIST    := dist
CAPI_FLAGS   := --locked --lib --profile capi --features capi
GNU_TARGET   := x86_64-unknown-linux-gnu
VERSION      := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
LIBDIR       := $(DESTDIR)$(PREFIX)/lib
INCDIR       := $(DESTDIR)$(PREFIX)/include/utmpbox

capi: musl-target
	@rustup target list --installed 2>/dev/null | grep -qx '$(GNU_TARGET)' || rustup target add $(GNU_TARGET)
	$(CARGO) rustc $(CAPI_FLAGS) --crate-type staticlib --target $(TARGET)
	$(CARGO) rustc $(CAPI_FLAGS) --crate-type cdylib --target $(GNU_TARGET)
	@set -e; d='$(CAPI_DIST)'; \
	unwind="$$(rustc --print sysroot)/lib/rustlib/$(TARGET)/lib/self-contained/libunwind.a"; \
	new="$$(mktemp -d '$(CURDIR)/.capi.XXXXXX')"; trap 'rm -rf "$$new"' EXIT; \
	mkdir -p "$$new/lib/pkgconfig" "$$new/include" "$$new/unwind"; \
	cp target/$(TARGET)/capi/libutmpbox.a "$$new/lib/libutmpbox.a"; \
	(cd "$$new/unwind" && ar x "$$unwind" && ar rs ../lib/libutmpbox.a $$(ar t "$$unwind")) >/dev/null; \
	strip --strip-debug "$$new/lib/libutmpbox.a"; \
	cp target/$(GNU_TARGET)/capi/libutmpbox.so "$$new/lib/libutmpbox.so"; \
	cp src/capi/include/utmpx.h src/capi/include/utmp.h "$$new/include/"; \
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' src/capi/utmpbox.pc.in \
		> "$$new/lib/pkgconfig/utmpbox.pc"; \
	mkdir -p "$$d/lib/pkgconfig" "$$d/include"; \
	for f in lib/libutmpbox.a lib/libutmpbox.so include/utmpx.h include/utmp.h \
		lib/pkgconfig/utmpbox.pc; do mv -f "$$new/$$f" "$$d/$$f"; done; \
	echo "capi: $$d/lib/libutmpbox.a $$d/lib/libutmpbox.so $$d/include $$d/lib/pkgconfig/utmpbox.pc"

install-capi: capi
	install -d $(LIBDIR)/pkgconfig $(INCDIR)
	install -m 0644 $(CAPI_DIST)/lib/libutmpbox.a $(LIBDIR)/libutmpbox.a
	install -m 0755 $(CAPI_DIST)/lib/libutmpbox.so $(LIBDIR)/libutmpbox.so
	install -m 0644 $(CAPI_DIST)/include/utmpx.h $(CAPI_DIST)/include/utmp.h $(INCDIR)/
	install -m 0644 $(CAPI_DIST)/lib/pkgconfig/utmpbox.pc $(LIBDIR)/pkgconfig/utmpbox.pc

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
