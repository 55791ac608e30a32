# SurveyHub: `make run` sets everything up and serves the demo; `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export SURVEYHUB_BASE_URL ?= http://$(HOST):$(PORT)

.PHONY: run setup test bench clean translations

run: setup
	$(BIN)/surveyhub init
	$(BIN)/surveyhub demo
	$(BIN)/surveyhub serve --host $(HOST) --port $(PORT)

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml $(wildcard plugins/*/pyproject.toml)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]' $(foreach p,$(wildcard plugins/*/pyproject.toml),-e ./$(dir $(p)))
	touch $@

# The suite runs on every core (pytest-xdist); TEST_WORKERS=0 runs it in this one process.
TEST_WORKERS ?= auto
test: setup
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup

bench: setup
	for script in bench/*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) instance .pytest_cache

# Refresh the Dutch catalog after changing user-facing text (English msgids, Dutch translations).
# N_ marks service error messages, which services leave untranslated (surveyhub/services/errors.py).
translations: setup
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k N_ --no-location -o surveyhub/translations/messages.pot .
	$(BIN)/pybabel update -i surveyhub/translations/messages.pot -d surveyhub/translations -l nl --no-fuzzy-matching
