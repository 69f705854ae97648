# Relais — the two commands of the README:
#   make run    runs the main job on the embedded default: the API, the pages and the
#               orchestration on SQLite under ./var; `make run DEMO=1` first fills an empty
#               database with the demonstration network and its users
#   make test   runs every check: lint, types, layering, the test suite (SQLite + PostgreSQL)
# and: make test-fast (the domain and the engine, in seconds, while working on them),
#      make demo (the demonstration network: years of cases through the engine), make bench.
# Both create the virtual environment from pyproject.toml and constraints.txt when needed.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run

# Prefect stays offline: no telemetry, nothing leaves loopback.
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: run demo test test-fast lint bench wheel clean i18n

# running needs the runtime dependencies only; the checks add the dev extras (pytest, mypy,
# Playwright…) to the same environment
$(RUN_STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e .
	touch $@

$(STAMP): $(RUN_STAMP)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

run: $(RUN_STAMP)
	$(BIN)/relais serve $(if $(filter 1 yes true,$(DEMO)),--demo)

demo: $(RUN_STAMP)
	$(BIN)/relais demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest

# The fast lane: the domain and the engine (case rules, engine, guards, routes and their
# validation, deadlines, letters, published figures, property tests), without what needs
# PostgreSQL, a browser, a server or another process (markers set in tests/conftest.py).
FAST_TESTS := $(addprefix tests/test_,case_rules engine guards route_validation \
                route_compare invariants deadlines letters steering_protection \
                pages_contrast pages_session_key catalogue write_path services_fake \
                outbox_services membership file_reading i18n_catalogues)
test-fast: $(STAMP)
	$(BIN)/pytest -q -m "not postgres and not browser and not server and not slow" \
	  $(addsuffix .py,$(FAST_TESTS))

# The catalogues: extract the messages (msgids are the English) into relais/locale/relais.pot,
# merge them into the four relais.po (new ones empty, to translate), then check that none is
# missing. The .po are compiled in memory at first use (relais/i18n.py): no .mo to go stale.
LOCALE := relais/locale
i18n: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -k tr:2 -k said:3 -k ntr:2,3 -k N_ --no-location --sort-output \
	  --width 100 --project Relais --copyright-holder "Relais contributors" \
	  -o $(LOCALE)/relais.pot .
	$(BIN)/pybabel -q update -D relais -i $(LOCALE)/relais.pot -d $(LOCALE) \
	  --no-fuzzy-matching --width 100 --ignore-obsolete
	$(BIN)/python tools/i18n_codemod.py --fill
	@# no date in the headers: a run that changes no message changes no file (nor a merge)
	sed -i '/^"POT-Creation-Date: /d; /^"PO-Revision-Date: /d' $(LOCALE)/relais.pot \
	  $(LOCALE)/*/LC_MESSAGES/relais.po
	$(BIN)/pytest -q tests/test_i18n_catalogues.py

bench: $(STAMP)
	$(BIN)/python -m bench.transitions

# the distribution a canton installs (pip install dist/relais_cii-*.whl): runtime only
wheel: $(RUN_STAMP)
	$(BIN)/pip wheel --quiet --disable-pip-version-check --no-deps -w dist .

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
