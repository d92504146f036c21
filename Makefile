# Two commands on a fresh machine: `make run` (the app on the sample churn model) and `make test`.
# Both create .venv when missing and install the project into it with the tested versions.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SAMPLES := sample_models/data/.built

.PHONY: install run test samples bench clean

install: $(STAMP) $(SAMPLES)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; set PYTHON=python3.11")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

$(SAMPLES): $(STAMP) $(wildcard sample_models/*.py)
	$(VENV)/bin/review-board samples build
	touch $(SAMPLES)

samples: $(SAMPLES)

run: install
	$(VENV)/bin/streamlit run app.py

test: install
	$(PY) -m pytest

bench: install
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) sample_models/data .pytest_cache
