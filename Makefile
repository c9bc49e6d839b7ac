# The two commands: `make run` and `make test`. Everything else is a helper of those.
PYTHON ?= python3
VENV ?= .venv
FLASK = $(VENV)/bin/flask --app campaign
RUN_ENV = CAMPAIGN_SITE_URL=$${CAMPAIGN_SITE_URL:-http://$(HOST):$(PORT)}
ADMIN_EMAIL ?= admin@ipap2.example.org
DEMO ?= 1
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install install-test lint format bench load clean messages

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# The build compiles the message catalogues (setup.py), so a changed catalogue reinstalls.
$(VENV)/.installed: setup.cfg setup.py pyproject.toml campaign/translations/sr_Latn/LC_MESSAGES/messages.po | $(VENV)/bin/python
	$(VENV)/bin/pip install --disable-pip-version-check -q -e .
	touch $@

$(VENV)/.installed-test: setup.cfg setup.py pyproject.toml $(VENV)/.installed
	$(VENV)/bin/pip install --disable-pip-version-check -q -e '.[test,postgres]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(RUN_ENV) $(FLASK) init-db --admin-email $(ADMIN_EMAIL)
	@if [ "$(DEMO)" != "0" ]; then $(FLASK) seed-demo; fi
	@echo "Serving the campaign planner on http://$(HOST):$(PORT)/ (log in at /login)"
	$(RUN_ENV) $(FLASK) run --host $(HOST) --port $(PORT)

test: install-test
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install-test
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install-test
	$(VENV)/bin/python bench/list_page.py

# Mixed load on gunicorn (4 workers), SQLite then PostgreSQL with a restart; ~1 minute.
load: install-test
	$(VENV)/bin/python bench/load.py

# After changing a template or message: extract the English strings, merge them into the
# Serbian (Latin) catalogue to translate; the build generates Cyrillic and compiles both.
messages: install-test
	$(VENV)/bin/pybabel extract -F babel.cfg -k lazy_gettext -k _l -k N_ --no-location --sort-output --omit-header -o campaign/translations/messages.pot .
	$(VENV)/bin/pybabel update -i campaign/translations/messages.pot -d campaign/translations -l sr_Latn --no-fuzzy-matching --width 100
	$(VENV)/bin/python -m campaign.catalogues

clean:
	rm -rf $(VENV) .venv-* build dist *.egg-info .pytest_cache
