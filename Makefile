# Bedside: the two commands are `make run` and `make test`. Both create/refresh .venv themselves.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed


# Debian packages: dcmtk (reference renderer for tests), poppler-utils (PDF pages in tests),
# libopenjp2-tools (benchmark reference), what a real Qt window needs, and the real servers the
# integration tests start on loopback ports: Orthanc with DICOMweb and dicom3tools' dciodvfy (PACS),
# PostgreSQL (department audit store), rsyslog with TLS (ATNA audit repository).
SYSTEM_PACKAGES := dcmtk poppler-utils libopenjp2-tools libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0 fonts-noto-cjk \
  orthanc orthanc-dicomweb dicom3tools postgresql rsyslog rsyslog-gnutls

.PHONY: system-deps run test lint typecheck contracts deadcode pytest pytest-slow bench freeze frozen-check deb deb-check demo-bundle venv clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==26.3"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

venv: $(STAMP)

# Installs the Debian packages above when run as root and any is missing (CI does this).
system-deps:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "Missing Debian packages (install them as root): $$missing"; fi; \
	fi

run: $(STAMP)
	$(BIN)/bedside demo

test: $(STAMP) lint typecheck contracts deadcode pytest

lint: $(STAMP)
	$(BIN)/ruff format --check viewer tests bench packaging
	$(BIN)/ruff check viewer tests bench packaging

typecheck: $(STAMP)
	$(BIN)/mypy

contracts: $(STAMP)
	$(BIN)/lint-imports

# Unused code (vulture; paths, confidence and whitelist in pyproject [tool.vulture]).
deadcode: $(STAMP)
	$(BIN)/vulture

pytest: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -m "not slow" -q

pytest-slow: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -m slow -q

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

demo-bundle: $(STAMP)
	$(BIN)/python packaging/demo_build.py resources/demo

freeze: $(STAMP)
	$(BIN)/python packaging/build.py

frozen-check: freeze
	bash packaging/smoke_test.sh dist/bedside

# The Debian package (docs/it-guide.md): dist/deb/bedside_<version>-$(DEB_REVISION)_<arch>.deb and
# SHA256SUMS. It freezes first only when dist/bedside is older than what goes into it.
DEB_REVISION ?= 1
FREEZE_INPUTS := $(shell find viewer resources -type f ! -path '*/__pycache__/*' ! -name '*.pyc' 2>/dev/null) \
  packaging/bedside.spec packaging/entry.py packaging/build.py pyproject.toml

dist/bedside/bedside: $(FREEZE_INPUTS) | $(STAMP)
	$(BIN)/python packaging/build.py

deb: $(STAMP) dist/bedside/bedside
	$(BIN)/python packaging/build_deb.py --app-dir dist/bedside --out dist/deb --revision $(DEB_REVISION)

# Install, smoke-test, upgrade, remove and purge the package on this machine (root; CI runs it).
deb-check: $(STAMP)
	bash packaging/deb_check.sh

clean:
	rm -rf build dist $(VENV)
