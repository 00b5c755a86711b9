# make train / make test do all set-up on a fresh clone: .venv, the CPU torch wheel first, then dlx[dev].
VENV ?= .venv
PY := $(VENV)/bin/python
DLX := $(VENV)/bin/dlx
STAMP := $(VENV)/.dlx-installed
ARGS ?=

.PHONY: setup train test smoke lint bench clean

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

test: $(STAMP)
	$(PY) -m pytest -q $(ARGS)

smoke: $(STAMP)
	$(DLX) train trainer=smoke $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check dlx tests bench
	$(VENV)/bin/ruff format --check dlx tests bench

bench: $(STAMP)
	$(PY) bench/train_overhead.py $(ARGS)
	$(PY) bench/default_run.py
	$(PY) bench/aug_throughput.py

clean:
	rm -rf $(VENV) build dist *.egg-info
