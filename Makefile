# spendlog — targets:
#   make run     build, record a realistic sample into a temporary log, index it, print a report
#                and write report.html beside the log
#   make test    install what the tests need (libzstd-dev, zstd, a Python venv), build, run every test
#   make test-dates  run the built tests again under libfaketime, at other dates and in another zone
#   make soak    the long reliability runs (figures in docs/RELIABILITY.md): soak-crash, soak-faults,
#                soak-fuzz, soak-sanitize
#   make soak-crash     the crash loop, the budget races under kills (local and on PostgreSQL) and the
#                       corruption sweep, long forms
#   make soak-faults    every errno at every call of the fault sweep, the whole hostile corpus, a full disk
#   make soak-fuzz      run each libFuzzer target for FUZZ_SECONDS (default 60)
#   make soak-sanitize  run the tests built with the thread and with the address sanitizer
#   make bench   run the benchmarks and write docs/PERFORMANCE.md
#   make bench-large  the index and the latency table at 10k, 1M and 10M records over 365 days (logs
#                made once, kept in .build/bench-large/); the "large" section of docs/PERFORMANCE.md
#   make build   release build of the CLI (.build/release/spendlog)
#   make docs    build the DocC catalogue of the SpendLog library (warnings are errors) and check
#                that every public symbol has a doc comment
#   make build-serve  release build of the HTTP server `spendlog serve` runs (.build/release/spendlog-serve)
#   make bench-serve  wrk against spendlog serve while records are appended (docs/PERFORMANCE.md)
#   make deps    install the system packages the build needs (apt-get, only when missing)
#   make format  apply .swift-format to Sources/ and Tests/
#   make clean   remove build products

SHELL := /bin/bash
SWIFT ?= swift
# The CLI is linked with the Swift runtime and Foundation inside (no shared Swift libraries to
# load), and with SPENDLOG_FAST_START=1 (Package.swift): metadata by accessor, libstdc++ and libzstd
# linked in, a position-dependent executable. One `spendlog append` starts in about half the time
# of a plain release build (docs/PERFORMANCE.md, "CLI start-up"). Exported, so every build and
# script of the Makefile reads the manifest the same way; SPENDLOG_FAST_START=0 turns it off.
SPENDLOG_FAST_START ?= 1
export SPENDLOG_FAST_START
RELEASE_BUILD := $(SWIFT) build -c release --static-swift-stdlib --product spendlog
VENV := .venv
PEERS_VENV := .venv-peers
APT_PACKAGES := libzstd-dev zstd libsqlite3-dev libpq-dev pkg-config tzdata
TEST_APT_PACKAGES := faketime postgresql openjdk-17-jre-headless chromium wrk gdb
TEST_ENV = SPENDLOG_BIN=$(CURDIR)/.build/debug/spendlog SPENDLOG_PYTHON=$(CURDIR)/$(VENV)/bin/python \
	SPENDLOG_PEERS_PYTHON=$(CURDIR)/$(PEERS_VENV)/bin/python \
	SPENDLOG_RELEASE_BIN=$(CURDIR)/.build/release/spendlog
# Clocks for test-dates: a zone and a start time in it; the clock runs on from there. The first
# crosses a UTC midnight and the end of a February (2029 is no leap year) mid-run; the second a
# local midnight and new year fourteen hours ahead of UTC (10:00 UTC there).
FAKE_CLOCKS := "UTC|2029-02-28 23:59:30" "Pacific/Kiritimati|2026-12-31 23:59:30"
# A test run that takes longer than this (seconds; a run takes 3 to 5 minutes) is stopped, and
# scripts/watchdog.sh prints the tests that did not end and the stacks of the processes.
TEST_LIMIT := 600

.PHONY: run build-serve bench-serve test test-dates soak soak-crash soak-faults soak-fuzz soak-sanitize bench bench-large build docs deps test-deps \
	apt-install venv format clean

deps:
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(APT_PACKAGES)"

test-deps:
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(APT_PACKAGES) $(TEST_APT_PACKAGES)"

# Installs the packages named in PACKAGES that are missing (apt-get; sudo unless root).
apt-install:
	@missing=""; \
	for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# LiteLLM is pinned to the version the price fixture comes from (Fixtures/prices); its install
# takes about 6 minutes on 2 cores (many dependencies), once. The differential test runs offline.
LITELLM_VERSION := 1.109.1
# Spark reads the segments in a test (local mode, on Debian's Java 17).
PYSPARK_VERSION := 4.3.0
# The Python peers `spendlog import` reads; the import test writes their databases through them.
LLM_TOLL_VERSION := 0.13.0
LLM_ACCOUNTING_VERSION := 0.1.34
# `spendlog serve`'s tests: the Prometheus text parser, the OpenAPI validator, and schemathesis.
PROMETHEUS_CLIENT_VERSION := 0.26.0
OPENAPI_SPEC_VALIDATOR_VERSION := 0.9.0
SCHEMATHESIS_VERSION := 4.32.5
venv: test-deps
	@[ -x $(VENV)/bin/python ] || python3 -m venv $(VENV)
	@$(VENV)/bin/python -c "import duckdb" 2>/dev/null || $(VENV)/bin/pip install -q duckdb
	@[ "$$($(VENV)/bin/python -c 'import importlib.metadata as m; print(m.version("litellm"))' 2>/dev/null)" \
		= "$(LITELLM_VERSION)" ] || $(VENV)/bin/pip install -q "litellm==$(LITELLM_VERSION)"
	@$(VENV)/bin/python -c "import chdb, opentelemetry.proto" 2>/dev/null || $(VENV)/bin/pip install -q chdb opentelemetry-proto
	@$(VENV)/bin/python -c "import pyspark" 2>/dev/null || $(VENV)/bin/pip install -q "pyspark==$(PYSPARK_VERSION)"
	@[ "$$($(VENV)/bin/python -c 'import importlib.metadata as m; print(m.version("schemathesis"), m.version("prometheus_client"), m.version("openapi-spec-validator"))' 2>/dev/null)" \
		= "$(SCHEMATHESIS_VERSION) $(PROMETHEUS_CLIENT_VERSION) $(OPENAPI_SPEC_VALIDATOR_VERSION)" ] \
		|| $(VENV)/bin/pip install -q "schemathesis==$(SCHEMATHESIS_VERSION)" \
			"prometheus_client==$(PROMETHEUS_CLIENT_VERSION)" "openapi-spec-validator==$(OPENAPI_SPEC_VALIDATOR_VERSION)"
	@# The peers get a venv of their own: llm-accounting pins click and python-dotenv below what
	@# litellm's dependencies need.
	@[ -x $(PEERS_VENV)/bin/python ] || python3 -m venv $(PEERS_VENV)
	@$(PEERS_VENV)/bin/python -c "import llm_toll, llm_accounting" 2>/dev/null \
		|| $(PEERS_VENV)/bin/python -m pip install -q "llm-toll==$(LLM_TOLL_VERSION)" "llm-accounting==$(LLM_ACCOUNTING_VERSION)"

build: deps
	$(RELEASE_BUILD)

# The server of `spendlog serve`, beside the CLI; not part of `make build` (it builds SwiftNIO).
build-serve: deps
	$(SWIFT) build -c release --product spendlog-serve

bench-serve: build build-serve test-deps
	@scripts/bench-serve.sh .build/release

run: build
	@scripts/demo.sh .build/release/spendlog

# The DocC catalogue (Sources/SpendLog/SpendLog.docc) and the reference of every public symbol,
# with docc's warnings as errors: a link to a symbol that does not exist fails the build. Then
# scripts/doc-coverage.py reads the symbol graph the plugin extracted (the newest under
# .build/<triple>/extracted-symbols/<package>/SpendLog) and lists every public symbol without a
# doc comment; one is enough to fail. The archive: .build/plugins/Swift-DocC/outputs/.
docs: deps
	$(SWIFT) package generate-documentation --target SpendLog --warnings-as-errors
	@graphs=$$(ls -td .build/*/extracted-symbols/*/SpendLog 2>/dev/null | head -n 1); \
	if [ -z "$$graphs" ]; then echo "docs: no symbol graph of SpendLog under .build"; exit 1; fi; \
	scripts/doc-coverage.py "$$graphs"

# The release binary is built too: a test checks that it cannot be made to crash on purpose.
test: test-deps venv
	$(SWIFT) build --build-tests
	$(RELEASE_BUILD)
	@$(MAKE) --no-print-directory docs
	@scripts/watchdog.sh --echo $(TEST_LIMIT) .build/test.log \
		env $(TEST_ENV) $(SWIFT) test --skip-build --parallel --num-workers 2

# The same tests, run directly from the test bundle with libfaketime shifting the clock of the
# bundle and of every process it starts. No test may depend on the day or the zone it runs in.
# FAKETIME_DONT_RESET: every process reads the one clock started with the run (otherwise each
# process starts its own at the given time). NO_FAKE_STAT: file times are left as the kernel
# stamped them. libfaketime 0.9.10 shifts them under a semaphore that all the processes of the
# run share, and a process killed while it holds it (the crash tests kill writers at random)
# stops every later stat of every process, the test bundle's included, for good. The code
# compares file times with the kernel's clock (FileSystem.kernelTimeMs), not the shifted one.
# Each process still takes that semaphore once, for a few instructions, as it starts: a kill in
# that window would stop the run too, and the watchdog would then say where.
test-dates: test-deps venv
	$(SWIFT) build --build-tests
	$(RELEASE_BUILD)
	@for clock in $(FAKE_CLOCKS); do \
		zone=$${clock%%|*}; start=$${clock#*|}; \
		echo "== tests at $$start in $$zone"; \
		TZ=$$zone NO_FAKE_STAT=1 FAKETIME_DONT_RESET=1 $(TEST_ENV) scripts/watchdog.sh $(TEST_LIMIT) .build/test-dates.log \
			faketime -f "@$$start" .build/debug/spendlogPackageTests.xctest --testing-library swift-testing \
			|| { tail -n 60 .build/test-dates.log; exit 1; }; \
		tail -n 1 .build/test-dates.log; \
	done

# The long reliability runs, not part of make test (an hour or more on 2 cores). Each part prints
# its figures; docs/RELIABILITY.md keeps those of the last run.
soak: soak-crash soak-faults soak-fuzz soak-sanitize

# The long forms of the crash tests (minutes, not part of make test): 2,000 crash-loop cycles,
# 500 budget-race rounds, every offset of the corruption sweep. Each prints a line of figures.
SOAK_CRASH_CYCLES ?= 2000
SOAK_BUDGET_ROUNDS ?= 500
# The shared budget on PostgreSQL: 3 hosts × 8 processes, killed at random, this many rounds.
SOAK_PG_ROUNDS ?= 10
soak-crash: test-deps
	$(SWIFT) build --build-tests
	$(TEST_ENV) SPENDLOG_CRASH_CYCLES=$(SOAK_CRASH_CYCLES) SPENDLOG_BUDGET_ROUNDS=$(SOAK_BUDGET_ROUNDS) \
		SPENDLOG_PG_ROUNDS=$(SOAK_PG_ROUNDS) SPENDLOG_PG_PROCESSES=8 SPENDLOG_PG_ATTEMPTS=8 \
		SPENDLOG_SWEEP=full $(SWIFT) test --skip-build \
		--filter 'CrashLoopTests|BudgetKillRaceTests|CorruptionSweepTests|SharedBudgetCLITests/threeHosts' 2>&1 \
		| tee .build/soak-crash.log | grep -E '^(crash loop|budget race|shared budget race|corruption sweep):|✘|error:'; \
		grep -q 'Test run with .* passed' .build/soak-crash.log

# Every errno at every failing call of the fault sweep, every case of the hostile corpus (make test
# runs a sample of each), and a real full disk: a small tmpfs (needs root to mount), filled until
# writes fail, then given space again.
FULL_DISK_ROUNDS ?= 3
soak-faults: test-deps venv
	$(SWIFT) build --build-tests
	$(RELEASE_BUILD)
	$(TEST_ENV) SPENDLOG_SOAK=1 SPENDLOG_FAST_PATH_ROUNDS=3000 $(SWIFT) test --skip-build --filter 'FaultSweepTests|HostileInputTests|AppendFastPathTests' 2>&1 \
		| tee .build/soak-faults.log | grep -E '^(fault sweep|hostile corpus)|✘|error:'; \
		grep -q 'Test run with .* passed' .build/soak-faults.log
	scripts/soak-full-disk.py .build/release/spendlog $(FULL_DISK_ROUNDS)

# Fuzzing, with libFuzzer (Sources/spendlog-fuzz; the target exists only when SPENDLOG_FUZZ is
# set, so no other build sees it). Each target runs FUZZ_SECONDS from a seed corpus made of
# Fixtures/; what it finds is left in .build-fuzz/crashes/<target>/ and the run fails.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= parser scanner capture
FUZZ_BUILD := .build-fuzz
soak-fuzz: deps
	SPENDLOG_FUZZ=1 $(SWIFT) build -c release --scratch-path $(FUZZ_BUILD) --product spendlog-fuzz \
		-Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -enable-testing
	@scripts/fuzz-seeds.sh $(FUZZ_BUILD)/seeds
	@failed=""; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/crashes/$$t; \
		echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
		SPENDLOG_FUZZ_TARGET=$$t $(FUZZ_BUILD)/release/spendlog-fuzz $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/seeds/$$t \
			-max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
			-artifact_prefix=$(FUZZ_BUILD)/crashes/$$t/ > $(FUZZ_BUILD)/fuzz-$$t.log 2>&1 \
			|| { failed="$$failed $$t"; tail -n 40 $(FUZZ_BUILD)/fuzz-$$t.log; }; \
		grep -E "^stat::number_of_executed_units|^Done" $(FUZZ_BUILD)/fuzz-$$t.log || true; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzzing found problems in:$$failed (see $(FUZZ_BUILD)/crashes/)"; exit 1; fi

# The whole test suite built with each sanitizer in its own build folder (the normal .build is not
# touched); the CLI the tests run is that build's too. Reports go to .build-<sanitizer>/test.log.
# (The check that a release binary cannot be made to crash is left to make test.) Leaks the
# address sanitizer finds in swift-foundation and XCTest are suppressed: scripts/lsan-suppressions.txt.
SANITIZERS ?= thread address
soak-sanitize: test-deps venv
	@failed=""; for s in $(SANITIZERS); do \
		dir=.build-$$s; start=$$(date +%s); mkdir -p $$dir; \
		echo "== tests under the $$s sanitizer"; \
		$(SWIFT) build --build-tests --sanitize=$$s --scratch-path $$dir > $$dir/build.log 2>&1 \
			|| { tail -n 40 $$dir/build.log; exit 1; }; \
		built=$$(date +%s); \
		LSAN_OPTIONS=suppressions=$(CURDIR)/scripts/lsan-suppressions.txt \
		SPENDLOG_BIN=$(CURDIR)/$$dir/debug/spendlog SPENDLOG_PYTHON=$(CURDIR)/$(VENV)/bin/python \
			$(SWIFT) test --skip-build --sanitize=$$s --scratch-path $$dir --parallel --num-workers 2 \
			> $$dir/test.log 2>&1 || failed="$$failed $$s"; \
		echo "   build $$((built - start)) s, tests $$(($$(date +%s) - built)) s"; \
		grep -cE "^(WARNING: ThreadSanitizer|==[0-9]+==ERROR: AddressSanitizer)" $$dir/test.log \
			| sed 's/^/   sanitizer reports: /'; \
		tail -n 1 $$dir/test.log; \
	done; \
	if [ -n "$$failed" ]; then echo "failed under:$$failed"; exit 1; fi

bench: build venv
	@scripts/bench.sh

# Not part of make bench: making the 10M-record log takes minutes the first time (then it is reused).
bench-large: build venv
	@scripts/bench-large.sh

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

clean:
	rm -rf .build .build-fuzz .build-thread .build-address
