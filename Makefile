# minidokku's developer entry points. `make test` sets a fresh Debian machine up and runs every layer.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: venv zipapp command-table test test-unit machine stack lint format bench bench-piku bench-swarm clean

venv: $(BIN)/dokku
$(BIN)/dokku: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

zipapp: dist/minidokku.pyz
dist/minidokku.pyz: venv $(shell find minidokku buildpacks -type f -not -path '*/__pycache__/*') pyproject.toml
	mkdir -p dist
	rm -rf build  # setuptools' build/lib would keep a file deleted from minidokku/ in the zipapp
	# --compile-pyc: bytecode is written as the zipapp unpacks itself where it is run as it is (the
	# laptop's client), so that no command compiles its modules again; a server's copy is install.sh's
	# own, compiled as install.sh unpacks it
	$(BIN)/shiv --quiet --compressed --reproducible --compile-pyc -p '/usr/bin/env python3' -e minidokku.entry:main -o $@ .

# Which family module declares each command (cli/command_table.py), written again after a command
# is added, renamed or moved: tests/unit/test_command_table.py fails until it is.
command-table: venv
	$(BIN)/python -c 'from minidokku.cli import render_command_table as r; open("minidokku/cli/command_table.py", "w").write(r())'

# The system packages, a running dockerd and the stack image (built once, then reused).
machine:
	sh tests/setup-machine.sh

# In a state root of its own: without one (no /home/dokku on a fresh machine) `dokku` is the laptop's client.
stack: machine venv
	root=$$(mktemp -d) && DOKKU_ROOT=$$root $(BIN)/dokku stack:build; status=$$?; rm -rf $$root; exit $$status

# Three steps, each failing the whole: the unit layer (seconds, no Docker); the tests marked
# `serial`, alone (they restart dockerd or remake an image the others use); then every other
# Docker test on TEST_WORKERS processes, a test file per process at a time (--dist loadfile: a
# module's platform and victim are set up once; the files with the most tests start first).
# Most of a Docker test is waiting (builds, containers, nginx), so 3 beat 2 on a 2-core machine:
# integration + e2e took 19.3 min serially, 11.0 min with 2 workers, 9.0 with 3 (a shared, busy machine).
# Beside that last step, in a pytest of its own (its output printed after), the fresh-machine test
# (tests/fresh: the README's first command in a new Debian container, minutes of waiting); it
# cannot run with the serial step, whose dockerd restarts would end its container. An interrupted
# `make test` ends it too (a background job of make's shell ignores the ^C).
TEST_WORKERS ?= 3
ENGINE_LAYERS := tests/integration tests/e2e tests/security tests/swarm
test: machine venv stack
	$(BIN)/pytest tests/unit
	$(BIN)/pytest -m serial --durations=5 $(ENGINE_LAYERS)
	fresh_log=$$(mktemp); $(BIN)/pytest tests/fresh >$$fresh_log 2>&1 & fresh=$$!; \
	trap 'kill $$fresh 2>/dev/null; rm -f $$fresh_log; exit 130' INT TERM HUP; \
	$(BIN)/pytest -m 'not serial' -n $(TEST_WORKERS) --dist loadfile --durations=15 $(ENGINE_LAYERS); status=$$?; \
	wait $$fresh; fresh_status=$$?; cat $$fresh_log; rm -f $$fresh_log; \
	[ $$status = 0 ] && [ $$fresh_status = 0 ]

test-unit: venv
	$(BIN)/pytest tests/unit

lint: venv
	$(BIN)/ruff check minidokku tests bench
	$(BIN)/ruff format --check minidokku tests bench

format: venv
	$(BIN)/ruff format minidokku tests bench
	$(BIN)/ruff check --fix minidokku tests bench

# The last one prints issue 17's table of targets, with piku beside minidokku when piku is installed
# (`make bench-piku`) or asked for (BENCH_PIKU=1: installed first from PIKU_REPO when it is not), and
# bench/proxy_overhead.py's figures, measured inside it (run alone, it measures the same in its own root).
PIKU_REPO ?= https://github.com/piku/piku
bench: machine venv stack zipapp
	command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
	$(BIN)/python bench/deploy_times.py
	$(BIN)/python bench/redeploy_under_load.py
	$(BIN)/python bench/trigger_overhead.py
	$(BIN)/python bench/postgres_create.py
	$(BIN)/python bench/engine_restart.py
	$(if $(filter 1,$(BENCH_PIKU)),$(BIN)/python bench/pikulib.py ensure '$(PIKU_REPO)')
	$(BIN)/python bench/targets.py

# piku installed as its docs say (from PIKU_REPO: a URL or a clone's path), then catmeow on both, interleaved.
# The swarm scheduler beside the local one (issue 19), on the swarm testbed (tests/swarm/testbed.sh).
bench-swarm: machine venv stack zipapp
	$(BIN)/python bench/swarm_times.py

bench-piku: machine venv stack
	$(BIN)/python bench/pikulib.py install '$(PIKU_REPO)'
	$(BIN)/python bench/versus_piku.py

clean:
	rm -rf $(VENV) dist build *.egg-info
