# Two commands: `make demo` (set up, run the main job on a bundled example) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_LAYER := examples/tfjs_lstm_layer.json
DEMO_MODEL := examples/keras3_lstm.keras
DEMO_OUT := $(VENV)/demo/sensor_classifier_tfjs
# pytest processes (pytest-xdist); each test module runs whole in one of them.
TEST_WORKERS ?= 2

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
	$(BIN)/tfjs-lstm convert $(DEMO_MODEL) $(DEMO_OUT) --check
	$(BIN)/tfjs-lstm validate $(DEMO_OUT)/model.json
	$(BIN)/tfjs-lstm summary $(DEMO_OUT) --style tfjs
	$(BIN)/tfjs-lstm map --from tfjs --to keras3 $(DEMO_LAYER)

test: $(VENV)/.test js/node_modules/.package-lock.json
	@command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium) \
		|| echo "chromium not installed: the report screenshot and webgl tests will be skipped"
	$(BIN)/ruff check tfjs_lstm tests bench
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadscope

schemas: $(VENV)/.runtime
	$(BIN)/python -m tfjs_lstm.schema schemas

clean:
	rm -rf $(VENV) js/node_modules
