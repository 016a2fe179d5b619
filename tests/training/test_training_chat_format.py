"""The one system-turn policy (redditess_core.chat) and the prompts' round trips (redditess_core.prompts)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import jinja2
import pytest
from tiny_templates import MISTRAL_V02_TEMPLATE
from transformers import AutoTokenizer

from redditess_core import prompts
from redditess_core.chat import (
    RECORD_KEY,
    RUN_RECORD,
    ChatFormat,
    ChatFormatError,
    chat_format_for,
    decide_chat_format,
    read_run_record,
    system_turn_support,
)

# A template that renders user/assistant turns and silently skips any other role (the system text is lost).
DROPPING_TEMPLATE = (
    "{% for m in messages %}{% if m['role'] in ('user', 'assistant') %}"
    "{{ '<' + m['role'] + '>' + m['content'] + eos_token }}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<assistant>{% endif %}"
)
# Gemma-style: raises on a system role with its own message (not an alternation error).
NO_SYSTEM_ROLE_TEMPLATE = (
    "{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('System role not supported') }}"
    "{% endif %}{{ '<' + m['role'] + '>' + m['content'] + eos_token }}{% endfor %}"
    "{% if add_generation_prompt %}<assistant>{% endif %}"
)
CONVERSATION = prompts.draft_messages("Exams", "I cannot sleep.")


@pytest.fixture(scope="module")
def tokenizer(tiny_models: dict[str, Path]):
    return AutoTokenizer.from_pretrained(tiny_models["tiny-llama"])


def _with_template(tokenizer, template: str):
    tok = AutoTokenizer.from_pretrained(tokenizer.name_or_path)
    tok.chat_template = template
    return tok


@pytest.mark.parametrize(
    ("template", "support"),
    [
        (None, "accepts"),
        (MISTRAL_V02_TEMPLATE, "rejects"),
        (NO_SYSTEM_ROLE_TEMPLATE, "rejects"),
        (DROPPING_TEMPLATE, "drops"),
    ],
)
def test_the_template_decides_the_fold(tokenizer, template: str | None, support: str) -> None:
    tok = tokenizer if template is None else _with_template(tokenizer, template)
    assert system_turn_support(tok) == support
    fmt = decide_chat_format(tok, system_prompt="SYS")
    assert fmt == ChatFormat(support != "accepts", "template", "SYS")
    text = fmt.render(tok, CONVERSATION)  # renders whatever the template (no TemplateError)
    assert "SYS" in text and "I cannot sleep." in text


def test_mistral_template_really_rejects_the_raw_conversation(tokenizer) -> None:
    """The failure the policy avoids: the RedditESS prompt as is, on Mistral v0.2's template."""
    tok = _with_template(tokenizer, MISTRAL_V02_TEMPLATE)
    with pytest.raises(jinja2.TemplateError, match="alternate"):
        tok.apply_chat_template(CONVERSATION, tokenize=False, add_generation_prompt=True)
    folded = decide_chat_format(tok).render(tok, CONVERSATION)
    assert folded.startswith(
        tok.bos_token + "[INST] " + prompts.SYSTEM_PROMPT + "\n\nExams\n\nI cannot sleep."
    )


def test_recipe_flag_forces_and_cannot_keep_a_rejected_system_turn(tokenizer) -> None:
    assert decide_chat_format(tokenizer, forced=True) == ChatFormat(True, "recipe")
    assert decide_chat_format(tokenizer, forced=False) == ChatFormat(False, "recipe")
    with pytest.raises(ChatFormatError, match="fold_system_turn is false but the chat template rejects"):
        decide_chat_format(_with_template(tokenizer, MISTRAL_V02_TEMPLATE), forced=False)
    # A recipe's own chat_template (TRL's chat_template_path) is the one probed.
    assert system_turn_support(tokenizer, chat_template=MISTRAL_V02_TEMPLATE) == "rejects"


def test_a_template_that_cannot_render_a_conversation_is_an_error(tokenizer) -> None:
    broken = _with_template(tokenizer, "{{ raise_exception('no chat here') }}")
    with pytest.raises(ChatFormatError, match="cannot render a user/assistant exchange: no chat here"):
        system_turn_support(broken)


def test_run_record_round_trip_and_override(tokenizer, tmp_path: Path, caplog) -> None:
    fmt = ChatFormat(True, "recipe", "Custom system turn.")
    (tmp_path / RUN_RECORD).write_text(json.dumps({"stage": "gm-sft", RECORD_KEY: fmt.to_record()}))
    record = read_run_record(tmp_path)
    assert chat_format_for(tokenizer, record) == ChatFormat(True, "run record", "Custom system turn.")
    assert chat_format_for(tokenizer, None) == ChatFormat(
        False, "template"
    )  # no record: the template decides
    assert chat_format_for(tokenizer, {"stage": "old run"}) == ChatFormat(False, "template")
    # A record that keeps the system turn on a template that rejects it (tokenizer swapped): folded, warned.
    kept = {RECORD_KEY: ChatFormat(False, "template", "S").to_record()}
    with caplog.at_level(logging.WARNING, logger="redditess_core"):
        got = chat_format_for(_with_template(tokenizer, MISTRAL_V02_TEMPLATE), kept, where="m")
    assert got == ChatFormat(True, "template", "S")
    assert "run record keeps the system turn" in caplog.text
    assert read_run_record(tmp_path / "missing") is None
    (tmp_path / RUN_RECORD).write_text("{not json")
    with pytest.raises(ValueError, match=f"{RUN_RECORD} is not valid JSON"):
        read_run_record(tmp_path)


def test_conversation_applies_the_trained_system_turn_then_folds() -> None:
    fmt = ChatFormat(True, "run record", "Trained system turn.")
    assert fmt.conversation(CONVERSATION) == [
        {"role": "user", "content": "Trained system turn.\n\nExams\n\nI cannot sleep."}
    ]
    judge = prompts.judge_messages("post", "a", "b", "empathy")  # no system turn: nothing to replace or fold
    assert fmt.conversation(judge) == judge
    assert ChatFormat(False, "template").conversation(CONVERSATION) == CONVERSATION
    # The trained system turn replaces a prompt's only for the task it was trained for.
    improve = prompts.improve_messages("Exams", "I cannot sleep.", "You will be fine.")
    gm_model = ChatFormat(False, "run record", "Trained system turn.", task="gm")
    assert gm_model.conversation(improve, "im") == improve
    assert gm_model.conversation(CONVERSATION, "gm")[0]["content"] == "Trained system turn."
    assert gm_model.conversation(improve)[0]["content"] == "Trained system turn."  # task unknown: replaced


@pytest.mark.parametrize(
    ("title", "body", "draft"),
    [
        ("Exams", "I cannot sleep.", "You will be fine."),
        ("Multi\nline", "Body with\n\nblank lines and Post:\nmarkers", "Draft\n\nwith paragraphs"),
        ("", "", "d"),
        ("T", "A body quoting\n\nDraft reply to revise:\nitself", "the real draft"),
    ],
)
def test_improve_turn_parses_back(title: str, body: str, draft: str) -> None:
    post, parsed_draft = prompts.split_improve_turn(prompts.improve_turn(title, body, draft))
    assert post == prompts.post_turn(title, body)
    assert parsed_draft == draft
    assert prompts.split_improve_turn("a turn in another format") == ("a turn in another format", None)


def test_fold_system_turn_shapes() -> None:
    sys_user = [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}]
    assert prompts.fold_system_turn(sys_user) == [{"role": "user", "content": "S\n\nU"}]
    assert prompts.fold_system_turn(sys_user[1:]) == sys_user[1:]
    assert prompts.fold_system_turn([]) == []
    system_only = [{"role": "system", "content": "S"}, {"role": "assistant", "content": "A"}]
    assert prompts.fold_system_turn(system_only) == [
        {"role": "user", "content": "S"},
        {"role": "assistant", "content": "A"},
    ]


@pytest.mark.parametrize(("template", "folded"), [(None, False), (MISTRAL_V02_TEMPLATE, True)])
def test_prepared_rows_follow_the_template_without_a_recipe_flag(
    tokenizer, demo_dataset: Path, tmp_path: Path, template: str | None, folded: bool
) -> None:
    """`sft.prepare_rows` / `dpo.prepare_rows` (what the scripts and benchmarks/bench_training.py's bare
    trainers train on) fold the builder's system turn exactly when the template rejects it."""
    from training import RECIPES_DIR, dpo, sft
    from training.data import load_splits
    from training.recipe import parse_recipe

    tok = _with_template(tokenizer, template) if template else tokenizer
    for script, recipe, config in ((sft, "gm-sft", "sft"), (dpo, "gm-dpo", "preference")):
        argv = ["--config", str(RECIPES_DIR / "tiny" / f"{recipe}.yaml"), "--dataset_name", str(demo_dataset)]
        script_args, training_args, _ = parse_recipe(
            script.DATACLASSES, argv + ["--output_dir", str(tmp_path)]
        )
        assert script_args.fold_system_turn is None
        data = load_splits(str(demo_dataset), config, ["train"])
        extra = (None,) if script is dpo else ()
        rows, _, chat_format = script.prepare_rows(data, script_args, training_args, tok, *extra)
        assert chat_format.fold_system_turn is folded, recipe
        first = rows["train"][0]
        turns = first["messages"] if "messages" in first else first["prompt"]
        roles = [t["role"] for t in turns]
        assert ("system" in roles) is not folded, (recipe, roles)
        system = prompts.system_text(data["train"][0]["messages" if config == "sft" else "prompt"])
        assert system and (system in turns[0]["content"]), recipe
