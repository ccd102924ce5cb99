# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export SNDSKIT_HOME ?= $(CURDIR)/.sndskit-home

.PHONY: demo test lint clean venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[dev,spark,web]"
	touch $(STAMP)

venv: $(STAMP)

DEMO := $(CURDIR)/.sndskit-home/demo
EXAMPLES := $(CURDIR)/src/sndskit/resources/cohorts/examples
STUDY := $(CURDIR)/src/sndskit/resources/access/examples/study.yaml

demo: $(STAMP)
	$(BIN)/sndskit data import
	$(BIN)/sndskit data status
	$(BIN)/sndskit catalog tour
	$(BIN)/sndskit codes search "avc" --vocab CIM10 --limit 8
	$(BIN)/sndskit codes search "metformine" --limit 8
	$(BIN)/sndskit codes vocabularies
	mkdir -p $(DEMO)
	$(BIN)/sndskit codelist build stroke -o $(DEMO)/stroke.json
	$(BIN)/sndskit codelist show $(DEMO)/stroke.json --limit 10
	$(BIN)/sndskit codelist export $(DEMO)/stroke.json --format sql --dialect spark
	$(BIN)/sndskit synth generate --patients 10000 --start 2019 --end 2022 --seed 7 --out $(DEMO)/data
	$(BIN)/sndskit synth show $(DEMO)/data
	$(BIN)/sndskit codelist usage $(DEMO)/stroke.json --data $(DEMO)/data
	$(BIN)/sndskit cohort describe $(EXAMPLES)/t2d_treated.yaml
	$(BIN)/sndskit cohort run $(EXAMPLES)/t2d_treated.yaml --data $(DEMO)/data --out $(DEMO)/t2d_treated
	$(BIN)/sndskit cohort stats $(DEMO)/t2d_treated --data $(DEMO)/data
	$(BIN)/sndskit cohort run $(EXAMPLES)/acs_hospitalised.yaml --data $(DEMO)/data --out $(DEMO)/acs_hospitalised
	$(BIN)/sndskit access edb $(STUDY) --out $(DEMO)/access
	$(BIN)/sndskit access dossier $(STUDY) --out $(DEMO)/access
	$(BIN)/sndskit access review $(STUDY) --out $(DEMO)/access
	$(BIN)/sndskit algo list
	$(BIN)/sndskit algo lint
	$(BIN)/sndskit algo run t2d_treated --data $(DEMO)/data --out $(DEMO)/algo_t2d_treated
	$(BIN)/sndskit algo validate heart_failure --data $(DEMO)/data --out $(DEMO)/algo_heart_failure
	$(BIN)/sndskit algo export stroke_hospitalised --format boas
	$(BIN)/sndskit algo docs --site $(DEMO)/algorithms-site
	$(BIN)/sndskit omop etl --data $(DEMO)/data --out $(DEMO)/omop
	@echo "Web app on the demo data: $(BIN)/sndskit web --data $(DEMO)/data  (then open http://127.0.0.1:8765/)"

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

clean:
	rm -rf $(VENV) .sndskit-home .pytest_cache build *.egg-info src/*.egg-info
