# Two commands a new user needs: `make up` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install up test bench lint clean catalogue messages

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

# The compiled catalogues (.mo) are built, not kept: a .po edited since is compiled again.
LANGS := fr es ar
MO := $(foreach l,$(LANGS),locale/$(l)/LC_MESSAGES/opsroom.mo)

locale/%/LC_MESSAGES/opsroom.mo: locale/%/LC_MESSAGES/opsroom.po $(STAMP)
	$(BIN)/pybabel -q compile -D opsroom -d locale -l $*

catalogue: $(MO)

# After changing user-facing text: the template anew, and each language's .po updated from it.
messages: install
	$(BIN)/pybabel -q extract -F babel.cfg -k tr -k trn:1,2 -k N_ --no-location \
	  --sort-output --project=opsroom -o locale/opsroom.pot .
	$(BIN)/pybabel -q update -D opsroom -d locale -i locale/opsroom.pot --no-fuzzy-matching \
	  --ignore-obsolete

install: $(STAMP) $(MO)

up: install
	$(BIN)/opsroom up

test: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python -m bench

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV)
