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

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==$(TORCH_VERSION) $(TORCH_PIP_ARGS)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
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
