.PHONY: help run test lint fmt migration bench boundaries fuzz api-fuzz

help: ## List the targets
	@awk -F':.*## ' '/^[a-z-]+:.*## /{printf "  %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

run: ## Start on SQLite and the memory store, no config needed
	cargo run -p tessera-server -- serve

test: ## Run every test (PostgreSQL and Redis tests skip loudly unless CI=true, where they must pass)
	cargo build -p tessera-server --bin tessera
	scripts/clients.sh
	rm -rf target/test-logs
	# No backtraces: a failing test's message is the last thing it prints, so a log tail keeps it.
	RUST_BACKTRACE=0 TESSERA_BIN=$(CURDIR)/target/debug/tessera cargo test --workspace --no-fail-fast
	scripts/smoke.sh target/debug/tessera
	scripts/check-test-logs.sh target/test-logs

lint: boundaries ## cargo fmt --check, clippy with warnings as errors, crate boundaries
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

boundaries: ## Prove the layering: proto has no actix/diesel/tokio, core no actix/diesel, service no actix, http no diesel/db
	@for p in actix-web diesel tokio; do ! cargo tree -p tessera-proto -e normal -i $$p >/dev/null 2>&1 || { echo "tessera-proto depends on $$p"; exit 1; }; done
	@for p in actix-web diesel; do ! cargo tree -p tessera-core -e normal -i $$p >/dev/null 2>&1 || { echo "tessera-core depends on $$p"; exit 1; }; done
	@! cargo tree -p tessera-service -e normal -i actix-web >/dev/null 2>&1 || { echo "tessera-service depends on actix-web"; exit 1; }
	@! cargo tree -p tessera-http -e normal --depth 1 --prefix none | grep -Eq '^(diesel|tessera-db) ' || { echo "tessera-http depends on diesel or tessera-db: the service answers in wire types"; exit 1; }
	@echo "crate boundaries hold"

fmt: ## Format the code
	cargo fmt --all

migration: ## Create a migration in both trees: make migration NAME=add_things
	@test -n "$(NAME)" || { echo "usage: make migration NAME=snake_case_name"; exit 1; }
	@d=$$(date -u +%Y-%m-%d-%H%M%S)_$(NAME); \
	for b in sqlite postgres; do mkdir -p migrations/$$b/$$d; \
	  printf -- '-- %s (%s)\n' "$(NAME)" "$$b" > migrations/$$b/$$d/up.sql; \
	  printf -- '-- revert %s (%s)\n' "$(NAME)" "$$b" > migrations/$$b/$$d/down.sql; done; \
	echo "created migrations/{sqlite,postgres}/$$d"

fuzz: ## Run every cargo-fuzz target for FUZZ_SECONDS (default 45) each
	scripts/fuzz.sh

api-fuzz: ## schemathesis against /openapi.json of a running Tessera, as admin
	cargo build -p tessera-server --bin tessera
	scripts/api-fuzz.sh target/debug/tessera

bench: ## Measure the hot path against an actix-web hello world with wrk; writes BENCHMARKS.md
	bench/run.sh
