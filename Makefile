# Two commands: `make demo` (set up, run the main job on a bundled example) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO := examples/tfjs_lstm_layer.json

.PHONY: demo test lint schemas clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.runtime

js/node_modules/.package-lock.json: js/package.json js/package-lock.json
	npm ci --prefix js --no-audit --no-fund --loglevel=error

demo: $(VENV)/.runtime
	$(BIN)/tfjs-lstm validate $(DEMO)
	$(BIN)/tfjs-lstm map --from tfjs --to keras3 $(DEMO)
	$(BIN)/tfjs-lstm map --from tfjs --to tfjs-json $(DEMO) > $(VENV)/demo-tfjs-json.json
	$(BIN)/tfjs-lstm validate --as tfjs-json $(VENV)/demo-tfjs-json.json

test: $(VENV)/.test js/node_modules/.package-lock.json
	$(BIN)/ruff check tfjs_lstm tests bench
	$(BIN)/python -m pytest

schemas: $(VENV)/.runtime
	$(BIN)/python -m tfjs_lstm.schema schemas

clean:
	rm -rf $(VENV) js/node_modules
