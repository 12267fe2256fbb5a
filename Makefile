# Veritrail: `make run` to try it, `make test` to check it.
.PHONY: setup run test lint typecheck clean

PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

setup:
	@bash scripts/setup.sh

run: setup
	@$(PY) -m veritrail db upgrade
	@$(PY) -m veritrail demo --if-empty
	@$(PY) -m veritrail serve --host $(HOST) --port $(PORT)

test: setup
	@$(PY) -m ruff check src tests benchmarks scripts
	@$(PY) -m mypy
	@mkdir -p var && .venv/bin/lint-imports --no-cache > var/lint-imports.log 2>&1 \
		&& echo "layers: every import points downwards" \
		|| { cat var/lint-imports.log; exit 1; }
	@$(PY) -m pytest -n 2 $(PYTEST_ARGS)

lint: setup
	@$(PY) -m ruff check src tests benchmarks scripts

clean:
	rm -rf .venv node_modules .setup-stamps src/veritrail/web/static/vendor
