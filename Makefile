# utmpbox: one static musl binary, symlinked once per applet.
#   make          build target/x86_64-unknown-linux-musl/release/utmpbox
#   make test     unit tests, then integration tests against that binary
#   make demo     the main job end to end in a scratch directory
#   make bench    ratios against the peer tools (scripts/bench.sh)
#   make install  PREFIX=/usr DESTDIR=/path/to/rootfs
#   make size     the stripped binary's size

TARGET  := x86_64-unknown-linux-musl
BIN     := target/$(TARGET)/release/utmpbox
PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  := $(DESTDIR)$(PREFIX)/bin
CARGO   ?= cargo

.PHONY: all build musl-target test demo bench install size clean deps

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
	UTMPBOX_BIN="$$bin" $(CARGO) test --locked --test tests -- --test-threads=2

demo: build
	@sh scripts/demo.sh $(CURDIR)/$(BIN)

bench: build deps
	@sh scripts/bench.sh $(CURDIR)/$(BIN)

install: build
	install -d $(BINDIR)
	install -m 0755 $(BIN) $(BINDIR)/utmpbox
	$(BINDIR)/utmpbox --install $(BINDIR)

size: build
	@wc -c < $(BIN) | awk '{ printf "%d bytes (%.1f KiB) %s\n", $$1, $$1 / 1024, "$(BIN)" }'

clean:
	$(CARGO) clean
