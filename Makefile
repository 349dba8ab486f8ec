# Every target a developer needs; `make help` lists them.
.DEFAULT_GOAL := help
GO ?= go

.PHONY: help
help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

.PHONY: run
run: ## serve on :8080 with the embedded SQLite database (data/app.db)
	$(GO) run ./cmd/server

.PHONY: test
test: ## go vet, then every test with the race detector (PostgreSQL tests need 127.0.0.1:5432 or TEST_DATABASE_URL)
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...
	cd bench && $(GO) vet ./... && $(GO) test -count=1 ./...

.PHONY: lint
lint: ## go vet and staticcheck
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@latest ./...

.PHONY: fmt
fmt: ## gofmt every file
	gofmt -w $$(git ls-files '*.go')

.PHONY: bench
bench: ## run the benchmarks recorded in docs/BENCHMARKS.md
	scripts/bench.sh

.PHONY: errors
errors: ## regenerate docs/errors.md from the catalog
	$(GO) run ./cmd/server errors > docs/errors.md

.PHONY: fuzz
fuzz: ## fuzz each target for FUZZTIME (default 30s)
	scripts/fuzz.sh
