# The two commands: `make run` and `make test`. Both create .venv and install on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint format audit bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# The demo acts as the local administrator without a prompt (integrations/cli/identity.py);
# set ROTA_OPERATOR to a staff id to act as that person instead.
run: export ROTA_OPERATOR ?= operator
run: $(STAMP)
	$(BIN)/rota demo --load-if-empty
	$(BIN)/rota agenda
	$(BIN)/rota serve --token-for-role clinical_director

test: $(STAMP) lint
	$(BIN)/python -m pytest -q -n auto --dist loadfile --no-loadscope-reorder --durations=15  # one worker per core; a file's tests stay together, files with slow tests handed out first (tests/conftest.py; xdist's own order, most tests first, left the long one-test files for last); the slowest 15 listed

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/bandit -q -r assistant clinic integrations rules solver slack -c pyproject.toml

# Known vulnerabilities in the installed dependencies (asks PyPI's advisory service: an
# operator's command, not part of `make test`, which runs offline).
audit: $(STAMP)
	$(BIN)/pip-audit --skip-editable

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python bench/storage.py

clean:
	rm -rf $(VENV) .pytest_cache
