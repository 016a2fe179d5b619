# The README's two commands are `make demo` and `make test`; both set up .venv themselves.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_DIR ?= demo-output
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

APP_PORT ?= 7860
APP_ARGS ?= --gm $(DEMO_DIR)/runs/gm-dpo --im $(DEMO_DIR)/runs/im-sft --port $(APP_PORT)

.PHONY: install demo app test test-slow test-all bench lint format clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first and pinned: the CPU build; a looser range would pull a multi-GB CUDA build.
	$(PY) -m pip install -q "torch==2.13.0"
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# The whole pipeline on the bundled synthetic sample with tiny models on CPU: build -> train -> evaluate
# -> assist -> publish dry run. The numbers it produces are meaningless (tiny random models).
demo: $(STAMP)
	rm -rf $(DEMO_DIR)
	@echo "== 1. dataset: synthetic dump -> RedditESS folder"
	$(PY) -m dataset_builder sample --out $(DEMO_DIR)/raw
	REDDITESS_PSEUDONYM_KEY=demo-key-not-secret $(PY) -m dataset_builder build --input $(DEMO_DIR)/raw --out $(DEMO_DIR)/redditess --version 0.1.0-demo --log_level WARNING
	$(PY) -m dataset_builder stats $(DEMO_DIR)/redditess
	@echo "== 2. training: tiny GM SFT -> DPO, IM SFT, classifier (QLoRA recipes, CPU)"
	$(PY) -m training.tiny --out $(DEMO_DIR)/tiny-models --corpus $(DEMO_DIR)/redditess
	$(PY) training/sft.py --config training/recipes/tiny/gm-sft.yaml --model_name_or_path $(DEMO_DIR)/tiny-models/tiny-llama --dataset_name $(DEMO_DIR)/redditess --output_dir $(DEMO_DIR)/runs/gm-sft
	$(PY) training/dpo.py --config training/recipes/tiny/gm-dpo.yaml --model_name_or_path $(DEMO_DIR)/tiny-models/tiny-llama --dataset_name $(DEMO_DIR)/redditess --parent_run $(DEMO_DIR)/runs/gm-sft --output_dir $(DEMO_DIR)/runs/gm-dpo
	$(PY) training/sft.py --config training/recipes/tiny/im-sft.yaml --model_name_or_path $(DEMO_DIR)/tiny-models/tiny-llama --dataset_name $(DEMO_DIR)/redditess --output_dir $(DEMO_DIR)/runs/im-sft
	$(PY) training/classifier.py --config training/recipes/tiny/classifier.yaml --model_name_or_path $(DEMO_DIR)/tiny-models/tiny-encoder --dataset_name $(DEMO_DIR)/redditess --output_dir $(DEMO_DIR)/runs/classifier
	@echo "== 3. evaluation: classifier, generate, judge, human kit, linguistic, safety, report"
	$(PY) -m eval classifier --torch_threads 1 --model $(DEMO_DIR)/runs/classifier --dataset $(DEMO_DIR)/redditess --split test --output_dir $(DEMO_DIR)/eval/classifier
	$(PY) -m eval generate --torch_threads 1 --model $(DEMO_DIR)/tiny-models/tiny-llama --dataset $(DEMO_DIR)/redditess --split test --system_name base --max_new_tokens 48 --output $(DEMO_DIR)/eval/generations/base.jsonl
	$(PY) -m eval generate --torch_threads 1 --model $(DEMO_DIR)/tiny-models/tiny-llama --adapter $(DEMO_DIR)/runs/gm-dpo --dataset $(DEMO_DIR)/redditess --split test --system_name gm-dpo --max_new_tokens 48 --output $(DEMO_DIR)/eval/generations/gm-dpo.jsonl
	$(PY) -m eval judge --torch_threads 1 --a $(DEMO_DIR)/eval/generations/gm-dpo.jsonl --b $(DEMO_DIR)/eval/generations/base.jsonl --judge classifier --judge_model $(DEMO_DIR)/runs/classifier --dataset $(DEMO_DIR)/redditess --output_dir $(DEMO_DIR)/eval/judge-classifier
	$(PY) -m eval judge --torch_threads 1 --a $(DEMO_DIR)/eval/generations/gm-dpo.jsonl --b $(DEMO_DIR)/eval/generations/base.jsonl --judge llm --judge_model $(DEMO_DIR)/tiny-models/tiny-llama --dataset $(DEMO_DIR)/redditess --validity_max_posts 20 --output_dir $(DEMO_DIR)/eval/judge-llm
	$(PY) -m eval human export --generations $(DEMO_DIR)/eval/generations/gm-dpo.jsonl $(DEMO_DIR)/eval/generations/base.jsonl --raters rater1 rater2 rater3 --output_dir $(DEMO_DIR)/eval/human
	$(PY) -m eval linguistic --torch_threads 1 --generations $(DEMO_DIR)/eval/generations/gm-dpo.jsonl $(DEMO_DIR)/eval/generations/base.jsonl --output_dir $(DEMO_DIR)/eval/linguistic
	$(PY) -m eval safety --generations $(DEMO_DIR)/eval/generations/gm-dpo.jsonl $(DEMO_DIR)/eval/generations/base.jsonl --output_dir $(DEMO_DIR)/eval/safety
	$(PY) -m eval report --output_dir $(DEMO_DIR)/eval/report --dataset $(DEMO_DIR)/redditess --judge $(DEMO_DIR)/eval/judge-classifier $(DEMO_DIR)/eval/judge-llm --classifier $(DEMO_DIR)/eval/classifier --linguistic $(DEMO_DIR)/eval/linguistic --safety $(DEMO_DIR)/eval/safety --runs $(DEMO_DIR)/runs/gm-sft $(DEMO_DIR)/runs/gm-dpo $(DEMO_DIR)/runs/classifier --note "Tiny demo models trained for seconds on synthetic data: the numbers are meaningless."
	@echo "== 4. assist (crisis screen first) and a publish dry run"
	$(PY) -m assist draft --adapter $(DEMO_DIR)/runs/gm-dpo --post assist/examples/post.txt --max_new_tokens 40
	$(PY) -m assist draft --adapter $(DEMO_DIR)/runs/gm-dpo --post assist/examples/crisis_post.txt --max_new_tokens 40
	$(PY) -m publish dataset $(DEMO_DIR)/redditess --repo YOUR_ORG/redditess --dry-run --dry-run-dir $(DEMO_DIR)/publish/dataset
	$(PY) -m publish adapter $(DEMO_DIR)/runs/gm-dpo --repo YOUR_ORG/redditess-gm --base-model YOUR_ORG/tiny-llama --tag v0.1.0-demo --dry-run --dry-run-dir $(DEMO_DIR)/publish/gm
	$(PY) -m cards validate $(DEMO_DIR)/redditess $(DEMO_DIR)/publish/gm/tree
	@echo "== 5. the writing assistant web app: start it on the demo adapters, check it answers, stop it"
	$(PY) -m assist.smoke --seconds 10 -- --gm $(DEMO_DIR)/runs/gm-dpo --im $(DEMO_DIR)/runs/im-sft --max_new_tokens 24
	@echo "Demo complete: see $(DEMO_DIR)/ (report: $(DEMO_DIR)/eval/report/); \`make app\` serves the assistant"

# The writing assistant on the demo adapters (run `make demo` first), on http://127.0.0.1:$(APP_PORT)/ until Ctrl-C.
app: $(STAMP)
	$(PY) -m assist serve $(APP_ARGS)

test: $(STAMP)
	$(PY) -m pytest -q

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

test-all: $(STAMP)
	$(PY) -m pytest -q -m "slow or not slow"

bench: $(STAMP)
	$(PY) benchmarks/bench_build.py
	$(PY) benchmarks/bench_spark.py
	$(PY) benchmarks/bench_reader.py
	$(PY) benchmarks/bench_normalize.py
	$(PY) benchmarks/bench_training.py
	$(PY) benchmarks/bench_scoring.py
	$(PY) benchmarks/bench_publish.py
	$(PY) benchmarks/label_audit/score.py --input ../shared/data/reddit-college --output bench-output/label_audit.json
	$(PY) benchmarks/bench_crisis.py
	$(PY) benchmarks/pair_audit/score.py --input ../shared/data/reddit-college --output bench-output/pair_audit.json

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(DEMO_DIR) build *.egg-info .pytest_cache
