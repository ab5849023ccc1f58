# flowg — build, run, test, bench, lint, fuzz.
#
#   make run     build ./bin/flowg and start the server in $(RUN_DIR), outside the sources
#   make tools   build the pinned tools the tests run into ./.tools/bin (once per version)
#   make test    make tools, go vet, then every test (unit, integration, crash), as CI runs them
#
#   make test TEST_PKGS=./integration/ TEST_ARGS='-run TestS3'   # some tests only

GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS  := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
BIN      := bin/flowg
FUZZTIME ?= 10s

BENCH_WORK ?= /tmp/flowg-bench

# make run's working directory: its ./data (the databases), ./backups (the
# catalog) and whatever the tour writes (./backup, *.db) land there, never
# among the sources.
RUN_DIR ?= $(if $(HOME),$(HOME)/flowg-run,/tmp/flowg-run)

# The tools of tools/go.mod, built by tools/install.sh; make test puts them
# first on the tests' PATH.
TOOLS_BIN    := $(CURDIR)/.tools/bin
TEST_PKGS    ?= ./...
TEST_ARGS    ?=
TEST_TIMEOUT ?= 15m
# The Chromium the console's browser tests drive (integration/console_test.go):
# the system's, else the copy make tools unpacked without root.
FLOWG_CHROMIUM ?= $(if $(wildcard /usr/bin/chromium),/usr/bin/chromium,$(TOOLS_BIN)/chromium)

.PHONY: build run tools test cross bench bench-quick bench-continuous bench-scale lint fuzz

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/flowg

run: build
	@run_dir="$$(realpath -m "$(RUN_DIR)")"; \
	case "$$run_dir/" in "$$(realpath .)/"*) \
		echo "RUN_DIR=$(RUN_DIR) is inside the source tree; pick a directory outside it, e.g. make run RUN_DIR=/tmp/flowg-run" >&2; exit 2;; \
	esac; \
	mkdir -p -m 700 "$$run_dir"; \
	echo "flowg serves from $$run_dir: databases in ./data, catalog in ./backups."; \
	echo "Run the tour there:  cd $$run_dir && export PATH=\"$(CURDIR)/bin:\$$PATH\""; \
	echo "The web console: open the address of the \"flowg console:\" line below in a browser."; \
	cd "$$run_dir" && exec "$(CURDIR)/$(BIN)" serve

tools:
	@tools/install.sh "$(TOOLS_BIN)"

# Ends with gotestsum's summary: DONE N tests[, N skipped][, N failures] in Ts.
test: tools cross
	$(GO) vet $(TEST_PKGS)
	PATH="$(TOOLS_BIN):$$PATH" FLOWG_CHROMIUM="$(FLOWG_CHROMIUM)" "$(TOOLS_BIN)/gotestsum" --format pkgname -- -count=1 -timeout $(TEST_TIMEOUT) $(TEST_ARGS) $(TEST_PKGS)

# The module builds and vets for darwin and windows too (kv/README.md, Portability).
cross:
	GOOS=darwin $(GO) build ./... && GOOS=windows $(GO) build ./...
	GOOS=darwin $(GO) vet ./... && GOOS=windows $(GO) vet ./...

# The side-by-side benchmark of issue 5: 1M log records, 5 alternating rounds
# of Badger's own backup path and flowg's, and (same run) continuous backup's
# targets of issue 14; the table lands in $(BENCH_WORK)/results.md. Then the
# scale run of issue 17 (bench-scale, below).
bench:
	PATH="$(TOOLS_BIN):$$PATH" $(GO) run ./cmd/flowg-bench --work $(BENCH_WORK)
	$(GO) test -run '^$$' -bench . -benchmem ./backup/
	$(MAKE) bench-scale

# A quick smoke run of the same harness: 100k records, 3 rounds.
bench-quick:
	$(GO) run ./cmd/flowg-bench --quick --work $(BENCH_WORK)-quick

# Continuous backup alone (issue 14: RPO lag, ingest and RSS with it on and
# off, restore --at), part of make bench too; its table lands in
# $(BENCH_WORK)-continuous/results.md. BENCH_FLAGS=--quick for a smoke run
# (100k records, 3 rounds), --profile for the server's perf profiles. The
# MinIO of make tools ships the continuous-on-s3 round.
bench-continuous:
	PATH="$(TOOLS_BIN):$$PATH" $(GO) run ./cmd/flowg-bench --only continuous --work $(BENCH_WORK)-continuous $(BENCH_FLAGS)

# Issue 17's scale run: every backup and restore once on 1M, 3M and 10M
# records (datasets kept in the work directory), with CPU-seconds, peak RSS
# and the per-record time growth. SCALE_RECORDS overrides the sizes.
SCALE_RECORDS ?= 1M,3M,10M
bench-scale:
	$(GO) run ./cmd/flowg-bench --scale --scale-records $(SCALE_RECORDS) --work $(BENCH_WORK)-scale

lint:
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then \
		echo "gofmt: these files need formatting (run gofmt -w on them):"; \
		echo "$$unformatted"; \
		exit 1; \
	fi
	$(GO) vet ./...

# Runs every fuzz target of every package for FUZZTIME each (make fuzz FUZZTIME=1m).
# Their seed corpora already run as ordinary tests in `make test`.
fuzz:
	@set -e; \
	for pkg in $$($(GO) list ./...); do \
		for target in $$($(GO) test -list '^Fuzz' "$$pkg" | grep '^Fuzz' || true); do \
			echo "== $$pkg $$target ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) "$$pkg"; \
		done; \
	done
