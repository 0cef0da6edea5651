# spendlog — targets:
#   make run     build, record a realistic sample into a temporary log, index it, print a report
#   make test    install what the tests need (libzstd-dev, zstd, a Python venv), build, run every test
#   make test-dates  run the built tests again under libfaketime, at other dates and in another zone
#   make soak-crash  the crash loop, the budget race under kills and the corruption sweep, long forms
#   make bench   run the benchmarks and write docs/PERFORMANCE.md
#   make build   release build of the CLI (.build/release/spendlog)
#   make deps    install the system packages the build needs (apt-get, only when missing)
#   make format  apply .swift-format to Sources/ and Tests/
#   make clean   remove build products

SHELL := /bin/bash
SWIFT ?= swift
VENV := .venv
APT_PACKAGES := libzstd-dev zstd pkg-config tzdata
TEST_APT_PACKAGES := faketime
TEST_ENV = SPENDLOG_BIN=$(CURDIR)/.build/debug/spendlog SPENDLOG_PYTHON=$(CURDIR)/$(VENV)/bin/python \
	SPENDLOG_RELEASE_BIN=$(CURDIR)/.build/release/spendlog
# Clocks for test-dates: a zone and a start time in it; the clock runs on from there. The first
# crosses a UTC midnight and the end of a February (2029 is no leap year) mid-run; the second a
# local midnight and new year fourteen hours ahead of UTC (10:00 UTC there).
FAKE_CLOCKS := "UTC|2029-02-28 23:59:30" "Pacific/Kiritimati|2026-12-31 23:59:30"

.PHONY: run test test-dates soak-crash bench build deps test-deps apt-install venv format clean

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

venv: test-deps
	@[ -x $(VENV)/bin/python ] || python3 -m venv $(VENV)
	@$(VENV)/bin/python -c "import duckdb" 2>/dev/null || $(VENV)/bin/pip install -q duckdb

build: deps
	$(SWIFT) build -c release --product spendlog

run: build
	@scripts/demo.sh .build/release/spendlog

# The release binary is built too: a test checks that it cannot be made to crash on purpose.
test: test-deps venv
	$(SWIFT) build --build-tests
	$(SWIFT) build -c release --product spendlog
	$(TEST_ENV) $(SWIFT) test --skip-build --parallel --num-workers 2

# The same tests, run directly from the test bundle with libfaketime shifting the clock of the
# bundle and of every process it starts. No test may depend on the day or the zone it runs in.
test-dates: test-deps venv
	$(SWIFT) build --build-tests
	$(SWIFT) build -c release --product spendlog
	@for clock in $(FAKE_CLOCKS); do \
		zone=$${clock%%|*}; start=$${clock#*|}; \
		echo "== tests at $$start in $$zone"; \
		TZ=$$zone $(TEST_ENV) faketime -f "@$$start" \
			.build/debug/spendlogPackageTests.xctest --testing-library swift-testing \
			> .build/test-dates.log 2>&1 || { tail -n 60 .build/test-dates.log; exit 1; }; \
		tail -n 1 .build/test-dates.log; \
	done

# The long forms of the crash tests (minutes, not part of make test): 2,000 crash-loop cycles,
# 500 budget-race rounds, every offset of the corruption sweep. Each prints a line of figures.
SOAK_CRASH_CYCLES ?= 2000
SOAK_BUDGET_ROUNDS ?= 500
soak-crash: test-deps
	$(SWIFT) build --build-tests
	$(TEST_ENV) SPENDLOG_CRASH_CYCLES=$(SOAK_CRASH_CYCLES) SPENDLOG_BUDGET_ROUNDS=$(SOAK_BUDGET_ROUNDS) \
		SPENDLOG_SWEEP=full $(SWIFT) test --skip-build \
		--filter 'CrashLoopTests|BudgetKillRaceTests|CorruptionSweepTests' 2>&1 \
		| tee .build/soak-crash.log | grep -E '^(crash loop|budget race|corruption sweep):|✘|error:'; \
		grep -q 'Test run with .* passed' .build/soak-crash.log

bench: build venv
	@scripts/bench.sh

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

clean:
	rm -rf .build
