# The two commands a user needs: `make run` and `make test`. Both create/update .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# torch is installed first and pinned, so nothing pulls a multi-GB CUDA build. Where PyPI's
# default wheel is not the CPU one, add: TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu"
TORCH_VERSION := 2.13.0
TORCH_PIP_ARGS ?=
# Empty: BRIEFING_HOST / BRIEFING_PORT, else 127.0.0.1:8000 (briefing serve's defaults).
HOST ?=
PORT ?=

.PHONY: install chromium run test lint bench clean

# Installing says which step runs and shows pip's progress: torch's download with pip's own
# progress bar (in a terminal; a line per file in a log), then a line per package downloaded
# for the service, not the "Requirement already satisfied" line pip prints for each of ~110
# packages on every re-install. pip's warnings and errors (stderr) all show; pipefail keeps
# pip's exit status through the filter.
SHELL := /bin/bash
PIP := PYTHONUNBUFFERED=1 $(BIN)/python -m pip install
PIP_PROGRESS := awk '/^ *Downloading |^Installing collected|^Successfully installed/ { print; fflush() }'
HAS_TORCH := import importlib.metadata as m; assert m.version('torch').split('+')[0] == '$(TORCH_VERSION)'

$(STAMP): pyproject.toml Makefile
	@set -eo pipefail; started=$$(date +%s); \
	if [ -x $(BIN)/python ]; then echo "==> [1/4] $(VENV) is there"; \
	else echo "==> [1/4] creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); fi; \
	echo "==> [2/4] updating pip"; \
	$(PIP) --quiet --upgrade pip; \
	if $(BIN)/python -c "$(HAS_TORCH)" 2>/dev/null; then \
	  echo "==> [3/4] torch $(TORCH_VERSION) is installed"; \
	else \
	  echo "==> [3/4] installing torch $(TORCH_VERSION), the largest download"; \
	  $(PIP) torch==$(TORCH_VERSION) $(TORCH_PIP_ARGS); \
	fi; \
	echo "==> [4/4] installing the service and its dependencies (pip install -e '.[test]')"; \
	$(PIP) -e '.[test]' | $(PIP_PROGRESS); \
	touch $(STAMP); \
	echo "==> installed in $$(( $$(date +%s) - started )) s"

install: $(STAMP)

# The model first: pulled when it is missing and the hub answers within 3 s (its size and a
# progress bar), else a line saying why the service starts on the extractive engine.
# `briefing serve` itself never downloads.
run: install
	@$(BIN)/briefing model pull --if-missing
	$(BIN)/briefing serve $(if $(HOST),--host $(HOST)) $(if $(PORT),--port $(PORT))

# The browser tests drive Debian's Chromium (never a browser download): installed here when
# missing and we are root with apt; otherwise those tests skip and say why (CI=true: they fail).
CHROMIUM := /usr/bin/chromium
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium) \
	      || echo "could not install chromium: the browser tests will skip"; \
	  else \
	    echo "no $(CHROMIUM): the browser tests will skip (apt-get install chromium)"; \
	  fi; \
	fi

test: install chromium
	$(BIN)/python -m pytest

lint: install
	$(BIN)/python -m ruff check service tests bench

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
