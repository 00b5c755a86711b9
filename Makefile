# make train / make test do all set-up on a fresh clone: .venv, the CPU torch wheel first, then dlx[dev].
VENV ?= .venv
PY := $(VENV)/bin/python
DLX := $(VENV)/bin/dlx
STAMP := $(VENV)/.dlx-installed
ARGS ?=

.PHONY: setup chromium train test smoke lint bench bench-search reliability device-kit clean

setup: $(STAMP)

$(PY):
	python3 -m venv $(VENV)

# torch first: a plain `torch` requirement would pull the newest CUDA build (several GB).
# A .venv that already has a torch (e.g. a GPU build) keeps it.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

train: $(STAMP)
	$(DLX) train $(ARGS)

test: $(STAMP) chromium
	$(PY) -m pytest -q -n 2 --dist loadgroup $(ARGS)  # two workers: most tests wait on a dlx subprocess starting up; loadgroup keeps each module with trained runs in one worker (its runs trained once)

# tests/report opens report.html in headless Chromium: installed once from apt (as root, or with sudo), quietly.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  command -v apt-get >/dev/null 2>&1 || { echo "make: tests/report needs chromium and apt-get is not available: install chromium yourself" >&2; exit 1; }; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); LOG=$$(mktemp); \
	  echo "make: installing chromium with apt-get (tests/report needs it)"; \
	  { $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends chromium; } >$$LOG 2>&1 && command -v chromium >/dev/null \
	  || { cat $$LOG >&2; echo "make: installing chromium with apt-get failed (output above)" >&2; rm -f $$LOG; exit 1; }; \
	  rm -f $$LOG; }

smoke: $(STAMP)
	$(DLX) train trainer=smoke $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check dlx tests bench
	$(VENV)/bin/ruff format --check dlx tests bench

# 10-17 minutes on 2 cores; each script adds its section to bench/results.json, the table comes last
bench: $(STAMP)
	$(PY) bench/train_overhead.py $(ARGS)
	$(PY) bench/dataloader.py
	$(PY) bench/default_run.py
	$(PY) bench/aug_throughput.py
	$(PY) bench/speed_options.py
	$(PY) bench/table.py

# The GPU rows of make bench on the lent GPU machine (python3 there has torch and Lightning, and no network):
# wheels of the three packages it lacks, at .venv's versions, into .whl/; then bench/on_device.sh there.
KIT := hydra-core omegaconf antlr4-python3-runtime
device-kit: $(STAMP)
	rm -rf .whl && mkdir .whl
	$(PY) -m pip wheel --quiet --no-deps -w .whl $$($(PY) -c "import importlib.metadata as m, sys; \
	  print(' '.join(f'{d}=={m.version(d)}' for d in sys.argv[1:]))" $(KIT))
	@ls .whl

# several minutes: parallel trials, Hyperband against the full grid, TPE against random (3 seeds)
bench-search: $(STAMP)
	$(PY) bench/search.py $(ARGS)

# several minutes: 20 kills at random moments then resume, 500 random override lists, 8 runs at once into one runs/;
# ends with the figures: kills survived, bad inputs handled, concurrent runs completed, files lost.
# No -n: the figures are counted in this process (tests/reliability/tally.py) and printed at the end.
reliability: $(STAMP)
	DLX_KILLS=20 DLX_FUZZ_CASES=500 DLX_CONCURRENT=8 $(PY) -m pytest -q -s tests/reliability $(ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info
