# nesykg: two commands. `make demo` runs the main job; `make test` runs the test-suite
# with every server it needs. Both create .venv when it is missing. pip keeps its wheel
# cache (~/.cache/pip), so torch is downloaded once per machine, not per run.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --progress-bar off -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF $$CMAKE_ARGS" CMAKE_BUILD_PARALLEL_LEVEL=$$(getconf _NPROCESSORS_ONLN) \
	  $(BIN)/python -m pip install --quiet --progress-bar off -e '.[test,llm]' 'llama-cpp-python==0.3.36'
	touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/nesykg demo

test: $(VENV)/.installed-test
	bash scripts/run_tests.sh $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .servers .pytest_cache
