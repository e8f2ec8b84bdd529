# imagegate development tasks. `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8080
# every bundled plugin distribution (each folder has its own pyproject.toml; scripts/build_dists.py finds the same)
PLUGINS := $(sort $(dir $(wildcard plugins/*/pyproject.toml */pyproject.toml)))
STAMP  := $(VENV)/.installed
# the official MCP Inspector CLI (plugins/mcp tests): v1 runs on Node 20 and is built on the TypeScript
# SDK 1.x, like most desktop hosts; installed into the git-ignored NODE_TOOLS, no lock file
INSPECTOR_VERSION := 1.0.3
NODE_TOOLS := .tools/node
RUNTIME_STAMP := $(VENV)/.runtime
PIP    := $(BIN)/python -m pip install --quiet -c constraints.txt

.PHONY: install run test bench tools dist clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt $(addsuffix pyproject.toml,$(PLUGINS))
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(PIP) -e ".[test]" $(addprefix -e ,$(PLUGINS))
	$(MAKE) --no-print-directory tools
	touch $@

# external tools the tests use: promtool (Debian's prometheus package) for the alert-rule tests,
# chromium (Debian's) for the gallery's browser tests, redis-server and nginx (Debian's) for the
# Redis plugin's tests and the replicas end-to-end test (deploy/), the MCP Inspector CLI (npm) for
# the MCP client-compatibility tests; each test skips, saying why, without it
tools:
	@if command -v npm >/dev/null 2>&1; then \
	  test -x $(NODE_TOOLS)/node_modules/.bin/mcp-inspector && grep -q '"version": "$(INSPECTOR_VERSION)"' \
	    $(NODE_TOOLS)/node_modules/@modelcontextprotocol/inspector/package.json 2>/dev/null || \
	  npm install --prefix $(NODE_TOOLS) --no-package-lock --no-save --no-audit --no-fund --loglevel=error \
	    @modelcontextprotocol/inspector@$(INSPECTOR_VERSION) >/dev/null || \
	  echo "warning: could not install the MCP Inspector; its tests will be skipped"; \
	else echo "warning: npm is missing; the MCP Inspector tests will be skipped"; fi
	@command -v promtool >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1 || \
	  { (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null) \
	    || echo "warning: could not install promtool; the alert-rule tests will say so"; }
	@test -x /usr/bin/chromium || ! command -v apt-get >/dev/null 2>&1 || \
	  { (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null) \
	    || echo "warning: could not install chromium; the gallery's browser tests will say so"; }
	@{ test -x /usr/bin/redis-server && test -x /usr/sbin/nginx; } || ! command -v apt-get >/dev/null 2>&1 || \
	  { (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server nginx >/dev/null) \
	    || echo "warning: could not install redis-server and nginx; the Redis and replica tests will say so"; }

# what serving needs and nothing more: the core and every bundled plugin, editable; no test stack
$(RUNTIME_STAMP): pyproject.toml constraints.txt $(addsuffix pyproject.toml,$(PLUGINS))
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(PIP) -e . $(addprefix -e ,$(PLUGINS))
	touch $@

run: $(RUNTIME_STAMP)
	$(BIN)/imagegate serve http --host $(HOST) --port $(PORT)

# the wheel and sdist of every distribution, into dist/ (pip install --find-links dist 'imagegate[all]')
dist:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -c "import hatchling" 2>/dev/null || $(PIP) hatchling
	$(BIN)/python scripts/build_dists.py

test: install tools
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python -m bench.compare

clean:
	rm -rf $(VENV) dist
