# One entry point over the scripts (each target runs one or a few of them; the scripts stay
# the source of how, and install what they need). `make help` lists the targets.
.PHONY: help build test lint check-generated dist demo bench fuzz
# The debug builds here name the host's triple as the scripts' do (scripts/dev-target), so
# `make lint` and `make test` share one target/<triple>/debug.
SHELL := /bin/bash
DEV := . scripts/dev-target &&

help:
	@echo "make build            debug build of every crate (cargo build --workspace)"
	@echo "make test             every suite: scripts/test (what CI runs, .ci/run)"
	@echo "make lint             cargo fmt --check and clippy -D warnings"
	@echo "make check-generated  the C header, C result enum, C setters, Go options table and typings against core"
	@echo "make dist             the release artifacts into dist/ (scripts/dist), then scripts/test-dist"
	@echo "make demo             every language's worker against a local Secrets Manager (scripts/demo)"
	@echo "make bench            the criterion benchmarks against the harness"
	@echo "make fuzz             a bounded fuzz run of every target (scripts/fuzz-smoke, FUZZ_SECONDS)"

build:
	$(DEV) cargo build --workspace

test:
	scripts/test

lint:
	cargo fmt --all --check
	$(DEV) cargo clippy --workspace --all-targets --quiet -- -D warnings

# Generated files and the drift tests that hold them to core: the header (cbindgen), the C
# result enum (from core's codes), the C setters and Go's options table (from core's options),
# the options' and codes' descriptions in every language.
check-generated:
	scripts/check-header
	$(DEV) cargo test -p starfleet-secrets-c --lib -- the_result_enum_is_generated_from_cores_codes the_setters_are_generated_from_cores_options \
		the_go_options_table_is_generated_from_cores_options
	$(DEV) cargo test -p starfleet-secrets --test options_described --test error_codes

dist:
	scripts/dist
	scripts/test-dist

demo:
	scripts/demo

bench:
	scripts/bootstrap-venv
	scripts/with-harness cargo bench -p starfleet-secrets

fuzz:
	scripts/fuzz-smoke
