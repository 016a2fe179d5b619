"""Real SFT runs of the tiny Llama in 4-bit QLoRA: loss goes down, base layers stay 4-bit, outputs reload."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from transformers import TrainerCallback

from training import sft
from training.models import is_4bit_linear, load_tokenizer

DEMO_VERSION = "0.1.0-test"  # tests/conftest.py builds `demo_dataset` (the `mini_dataset` here) with it

PROBE = "I have been feeling anxious and alone."


class FourBitProbe(TrainerCallback):
    """Records, during training, how many base linear layers are packed 4-bit and what trains."""

    def __init__(self) -> None:
        self.seen: list[dict] = []

    def on_step_end(self, args, state, control, model=None, **kwargs):
        base_linears = [
            m
            for n, m in model.named_modules()
            if n.endswith(("_proj", "base_layer")) and hasattr(m, "weight")
        ]
        trainable = [n for n, p in model.named_parameters() if p.requires_grad]
        self.seen.append(
            {
                "four_bit": sum(is_4bit_linear(m) for m in base_linears),
                "packed_dtypes": {str(m.weight.dtype) for m in base_linears if is_4bit_linear(m)},
                "trainable_all_lora": all("lora_" in n for n in trainable) and len(trainable) > 0,
                "activation_checkpointing": bool(getattr(model, "is_gradient_checkpointing", False)),
            }
        )


class FinalLogits(TrainerCallback):
    """Logits of the trained model on a probe, taken in memory at the end of training."""

    def __init__(self, tokenizer) -> None:
        self.tokenizer, self.logits = tokenizer, None

    def on_train_end(self, args, state, control, model=None, **kwargs):
        # Train mode (dropout is 0 in the recipe): in eval mode bitsandbytes repacks 4-bit weights for its CPU
        # inference kernel, whose rounding differs; comparing like with like keeps the check exact.
        model.train()
        with torch.no_grad():
            ids = self.tokenizer(PROBE, return_tensors="pt")
            self.logits = model(**ids).logits.float().clone()


def test_gm_sft_qlora_learns_and_reloads(
    tiny_models: dict[str, Path], mini_dataset: Path, tmp_path: Path, recipe_argv
) -> None:
    llama = tiny_models["tiny-llama"]
    out = tmp_path / "gm-sft"
    probe, final = FourBitProbe(), FinalLogits(load_tokenizer(str(llama)))
    # One fixed batch: 4 training rows of the demo build, batch size 4, so every step sees the same examples.
    argv = recipe_argv(
        "gm-sft",
        model_name_or_path=llama,
        dataset_name=mini_dataset,
        output_dir=out,
        max_steps=12,
        logging_steps=1,
        eval_strategy="no",
        save_strategy="no",
        per_device_train_batch_size=4,
        dataset_train_split="train[:4]",
        learning_rate=1e-2,
    )
    sft.main(*sft.parse_recipe(sft.DATACLASSES, argv), callbacks=[probe, final])

    losses = [
        h["loss"] for h in json.loads((out / "trainer_state.json").read_text())["log_history"] if "loss" in h
    ]
    assert len(losses) == 12
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3 - 0.3, losses

    # 4-bit during training: all 14 base projections (2 layers x 7) packed, only LoRA weights trainable.
    assert probe.seen and all(s["four_bit"] == 14 for s in probe.seen), probe.seen[:1]
    assert all(s["packed_dtypes"] == {"torch.uint8"} and s["trainable_all_lora"] for s in probe.seen)
    assert all(s["activation_checkpointing"] for s in probe.seen)

    # Output layout and provenance.
    for name in (
        "adapter_config.json",
        "adapter_model.safetensors",
        "tokenizer.json",
        "chat_template.jinja",
        "train_results.json",
        "redditess_run.json",
        "redditess_config.yaml",
    ):
        assert (out / name).is_file(), name
    record = json.loads((out / "redditess_run.json").read_text())
    assert record["stage"] == "gm-sft" and record["dataset"]["version"] == DEMO_VERSION
    assert record["dataset"]["config"] == "sft" and record["base_model"] == str(llama)
    assert record["parent_adapter"] is None and record["world_size"] == 1

    # The saved adapter on a freshly quantized base gives the logits the trained model gave.
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    base = AutoModelForCausalLM.from_pretrained(
        llama,
        dtype=torch.float32,
        quantization_config=BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.float32,
        ),
    )
    with torch.no_grad():
        ids = load_tokenizer(str(out))(PROBE, return_tensors="pt")
        base_logits = base.train()(**ids).logits.float()
        reloaded = PeftModel.from_pretrained(base, str(out)).train()
        # TRL trains QLoRA adapters in bf16 (QLoRA paper); PEFT upcasts them on load. Match training numerics.
        for name, param in reloaded.named_parameters():
            if "lora_" in name:
                param.data = param.data.to(torch.bfloat16)
        logits = reloaded(**ids).logits.float()
    assert final.logits is not None
    torch.testing.assert_close(logits, final.logits, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(base_logits, logits, atol=1e-3), "the adapter changed nothing"


def test_im_sft_trains_on_improvement_prompt_to_chosen(
    tiny_models: dict[str, Path], mini_dataset: Path, tmp_path: Path, recipe_argv
) -> None:
    out = tmp_path / "im-sft"
    sft.cli(
        recipe_argv(
            "im-sft",
            model_name_or_path=tiny_models["tiny-llama"],
            dataset_name=mini_dataset,
            output_dir=out,
            max_steps=3,
            eval_steps=3,
            save_steps=3,
        )
    )
    record = json.loads((out / "redditess_run.json").read_text())
    assert record["stage"] == "im-sft" and record["dataset"]["config"] == "improvement"
    manifest = json.loads((mini_dataset / "manifest.json").read_text())
    validation = manifest["configs"]["improvement"]["splits"]["validation"]["num_rows"]
    assert json.loads((out / "eval_results.json").read_text())["eval_samples"] == validation


def test_completion_rows_end_with_eos_under_the_chat_template(
    tiny_models: dict[str, Path], mini_dataset: Path
):
    """What SFT trains on: the chat-formatted prompt, then the reply closed by EOS (so generation stops)."""
    from training.data import load_splits, to_sft_rows

    tok = load_tokenizer(str(tiny_models["tiny-llama"]))
    ds = load_splits(str(mini_dataset), "sft", ["train"])["train"]
    row = to_sft_rows(ds, "sft", sft_format="prompt_completion", fold_system=False)[0]
    full = tok.apply_chat_template(row["prompt"] + row["completion"], tokenize=False)
    prompt = tok.apply_chat_template(row["prompt"], tokenize=False, add_generation_prompt=True)
    assert full.startswith(prompt)
    assert full.endswith(row["completion"][0]["content"] + tok.eos_token)


def test_fallback_chat_template_when_tokenizer_has_none(tiny_models: dict[str, Path], tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    bare = AutoTokenizer.from_pretrained(str(tiny_models["tiny-llama"]))
    bare.chat_template = None
    bare.save_pretrained(tmp_path)
    (tmp_path / "chat_template.jinja").unlink(missing_ok=True)
    assert AutoTokenizer.from_pretrained(str(tmp_path)).chat_template is None
    tok = load_tokenizer(str(tmp_path))
    msgs = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    out = tok.apply_chat_template(msgs, return_dict=True, return_assistant_tokens_mask=True)
    assert tok.decode(out["input_ids"]).endswith("hello" + tok.eos_token)
    assert sum(out["assistant_masks"]) > 0  # {% generation %} markers present
