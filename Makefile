# utmpbox: one static musl binary, symlinked once per applet.
#   make          build target/x86_64-unknown-linux-musl/release/utmpbox
#   make test     unit tests, then integration tests against that binary
#   make demo     the main job end to end in a scratch directory
#   make bench    ratios against the peer tools (scripts/bench.sh)
#   make install  PREFIX=/usr DESTDIR=/path/to/rootfs
#   make size     the stripped binary's size
#   make fuzz     each fuzz target for FUZZ_SECONDS (60), seeded; fails on a crash
#   make capi     libutmpbox, the C API: dist/lib, dist/include (docs/CAPI.md)

TARGET  := x86_64-unknown-linux-musl
BIN     := target/$(TARGET)/release/utmpbox
PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  := $(DESTDIR)$(PREFIX)/bin
CARGO   ?= cargo

.PHONY: all build musl-target test demo bench install size clean deps fuzz capi install-capi

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
	$(MAKE) --no-print-directory capi
	@if $(MAKE) --no-print-directory build; then \
		bin='$(CURDIR)/$(BIN)'; \
	else \
		echo 'make test: WARNING: the static musl build failed; testing the host build instead' >&2; \
		$(CARGO) build --locked && bin='$(CURDIR)/target/debug/utmpbox'; \
	fi; \
	UTMPBOX_CAPI='$(CURDIR)/$(CAPI_DIST)' UTMPBOX_BIN="$$bin" $(CARGO) test --locked --test tests -- --test-threads=2

demo: build
	@sh scripts/demo.sh $(CURDIR)/$(BIN)

bench: build deps
	@sh scripts/bench.sh $(CURDIR)/$(BIN)

install: build install-capi
	install -d $(BINDIR)
	install -m 0755 $(BIN) $(BINDIR)/utmpbox
	$(BINDIR)/utmpbox --install $(BINDIR)

# libutmpbox, the C API (src/capi/, docs/CAPI.md), in dist/:
#   lib/libutmpbox.a   for musl, static; with the libunwind of Rust's musl
#                      target inside (its std unwinds through it; Debian's
#                      libgcc_eh.a needs glibc's _dl_find_object)
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

size: build
	@wc -c < $(BIN) | awk '{ printf "%d bytes (%.1f KiB) %s\n", $$1, $$1 / 1024, "$(BIN)" }'

clean:
	$(CARGO) clean
	rm -rf $(CAPI_DIST)
