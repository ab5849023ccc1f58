# flowg — build, run, test, bench, lint, fuzz.
#
#   make run     build ./bin/flowg and start the server with the default directories
#   make test    go vet, then every test (unit, integration, crash), as CI runs them

GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
BIN      := bin/flowg
FUZZTIME ?= 10s

BENCH_WORK ?= /tmp/flowg-bench

.PHONY: build run test cross bench bench-quick lint fuzz

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/flowg

run: build
	./$(BIN) serve

test: cross
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 15m ./...

# The module builds and vets for darwin and windows too (kv/README.md, Portability).
cross:
	GOOS=darwin $(GO) build ./... && GOOS=windows $(GO) build ./...
	GOOS=darwin $(GO) vet ./... && GOOS=windows $(GO) vet ./...

# The side-by-side benchmark of issue 5: 1M log records, 5 alternating rounds
# of Badger's own backup path and flowg's; the table lands in $(BENCH_WORK)/results.md.
bench:
	$(GO) run ./cmd/flowg-bench --work $(BENCH_WORK)
	$(GO) test -run '^$$' -bench . -benchmem ./backup/

# A quick smoke run of the same harness: 100k records, 3 rounds.
bench-quick:
	$(GO) run ./cmd/flowg-bench --quick --work $(BENCH_WORK)-quick

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
