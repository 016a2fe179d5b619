"""End to end on the real built demo dataset: generate (base and base + LoRA adapter) -> judge -> human
export/ingest -> DPO2 pairs that the training kit's loader accepts -> linguistic -> safety -> report."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from eval.generate import GenerateArguments, run_generate
from eval.human import HumanExportArguments, HumanIngestArguments, run_export, run_ingest, sheet_columns
from eval.judge import DIMENSIONS, JudgeArguments, run_judge
from eval.linguistic import LinguisticArguments, run_linguistic
from eval.report import ReportArguments, run_report
from eval.safety_audit import SafetyArguments, run_safety


def _lora_adapter(base: Path, out: Path) -> Path:
    """A real PEFT LoRA adapter on the tiny Llama (seeded non-zero B, so it changes the outputs)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    model = get_peft_model(
        AutoModelForCausalLM.from_pretrained(str(base)),
        LoraConfig(r=4, target_modules="all-linear", task_type="CAUSAL_LM"),
    )
    for name, p in model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(p, std=0.5)
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(str(base)).save_pretrained(out)
    return out


@pytest.mark.slow
def test_demo_pipeline(
    demo_dataset: Path, tiny_models: dict[str, Path], classifier_run: Path, tmp_path: Path
) -> None:
    from training.data import load_splits

    adapter = _lora_adapter(tiny_models["tiny-llama"], tmp_path / "adapter")
    gens = {}
    for name, kw in (("base", {}), ("tuned", {"adapter": str(adapter), "append_crisis_notice": True})):
        gens[name] = run_generate(
            GenerateArguments(
                model=str(tiny_models["tiny-llama"]),
                dataset=str(demo_dataset),
                output=str(tmp_path / f"{name}.jsonl"),
                split="train",
                max_samples=12,
                max_new_tokens=16,
                system_name=name,
                **kw,
            )
        )
    recs = [json.loads(line) for line in gens["tuned"].read_text().splitlines()]
    assert len(recs) == 12 and recs[0]["provenance"]["adapter"]["base_model"] == str(
        tiny_models["tiny-llama"]
    )
    assert recs[0]["provenance"]["dataset"]["version"] == "0.1.0-test"
    base_recs = [json.loads(line) for line in gens["base"].read_text().splitlines()]
    assert [r["response"] for r in recs] != [r["response"] for r in base_recs]  # the adapter is applied

    judge = run_judge(
        JudgeArguments(
            a=str(gens["tuned"]),
            b=str(gens["base"]),
            judge="classifier",
            judge_model=str(classifier_run),
            output_dir=str(tmp_path / "judge"),
            dataset=str(demo_dataset),
        )
    )
    assert judge["n"] == 12
    assert judge["validity"]["checked"] and judge["validity"]["n_posts"] >= 2  # the check ran on the build

    export = run_export(
        HumanExportArguments(
            generations=[str(gens["tuned"]), str(gens["base"])],
            raters=["ann", "bo"],
            output_dir=str(tmp_path / "human"),
        )
    )
    key = json.loads((export / "key.json").read_text())
    sheets = []
    for rater in ("ann", "bo"):
        rows = list(csv.DictReader((export / "for_raters" / "sheets" / f"{rater}.csv").open()))
        for k, row in enumerate(rows):
            tuned_side = "1" if key["items"][row["item_id"]]["systems"]["1"] == "tuned" else "2"
            row["preference"] = tuned_side if (k % 3 or rater == "ann") else "tie"
            for s in "12":
                for d in DIMENSIONS:
                    row[f"reply_{s}_{d}"] = "4" if s == tuned_side else "3"
        path = tmp_path / f"{rater}.csv"
        with path.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=sheet_columns())
            w.writeheader()
            w.writerows(rows)
        sheets.append(str(path))
    human = run_ingest(
        HumanIngestArguments(export_dir=str(export), sheets=sheets, output_dir=str(tmp_path / "ingest"))
    )
    assert human["win_rates"][0]["system_a"] == "tuned" and human["win_rates"][0]["losses"] == 0
    pairs = load_splits(
        str(tmp_path / "ingest" / "dpo2_pairs.jsonl"), None, ["train"], expected_config="preference"
    )["train"]
    assert len(pairs) == human["dpo2_pairs"]["n"] > 0 and set(pairs["pair_source"]) == {"human"}
    assert all(cid.startswith("tuned:") for cid in pairs["chosen_id"])

    run_linguistic(
        LinguisticArguments(
            generations=[str(gens["tuned"]), str(gens["base"])], output_dir=str(tmp_path / "ling")
        )
    )
    safety = run_safety(
        SafetyArguments(
            generations=[str(gens["tuned"]), str(gens["base"])], output_dir=str(tmp_path / "safety")
        )
    )
    if safety["systems"]["base"]["n_high_risk_posts"]:
        assert safety["systems"]["tuned"]["missing_resources"] == 0  # the crisis notice was appended
    md = run_report(
        ReportArguments(
            output_dir=str(tmp_path / "report"),
            judge=[str(tmp_path / "judge")],
            human=str(tmp_path / "ingest"),
            linguistic=str(tmp_path / "ling"),
            safety=str(tmp_path / "safety"),
            dataset=str(demo_dataset),
        )
    ).read_text()
    assert "0.1.0-test" in md and "## Inter-rater agreement" in md
    assert "## Judge validity" in md and "## Dataset statistics beside the paper's" in md
