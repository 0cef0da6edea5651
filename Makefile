# spendlog — targets:
#   make run     build, record a realistic sample into a temporary log, index it, print a report
#   make test    install what the tests need (libzstd-dev, zstd, a Python venv), build, run every test
#   make bench   run the benchmarks and write docs/PERFORMANCE.md
#   make build   release build of the CLI (.build/release/spendlog)
#   make deps    install the system packages the build needs (apt-get, only when missing)
#   make format  apply .swift-format to Sources/ and Tests/
#   make clean   remove build products

SHELL := /bin/bash
SWIFT ?= swift
VENV := .venv
APT_PACKAGES := libzstd-dev zstd pkg-config tzdata

.PHONY: run test bench build deps venv format clean

deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

venv: deps
	@[ -x $(VENV)/bin/python ] || python3 -m venv $(VENV)
	@$(VENV)/bin/python -c "import duckdb" 2>/dev/null || $(VENV)/bin/pip install -q duckdb

build: deps
	$(SWIFT) build -c release --product spendlog

run: build
	@scripts/demo.sh .build/release/spendlog

test: deps venv
	$(SWIFT) build --build-tests
	SPENDLOG_BIN=$(CURDIR)/.build/debug/spendlog SPENDLOG_PYTHON=$(CURDIR)/$(VENV)/bin/python \
		$(SWIFT) test --skip-build --parallel --num-workers 2

bench: build venv
	@scripts/bench.sh

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

clean:
	rm -rf .build
