# flowg — build, run, test, bench, lint, fuzz.
#
#   make run     build ./bin/flowg and start the server with the default directories
#   make test    go vet, then every test (unit, integration, crash), as CI runs them

GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
BIN      := bin/flowg
FUZZTIME ?= 10s

.PHONY: build run test bench lint fuzz

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/flowg

run: build
	./$(BIN) serve

test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 15m ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./backup/...

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
