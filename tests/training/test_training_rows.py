"""Training-side row handling (issue 16): over-long rows lose the post's start, never the reply; a seeded
subset instead of `train[:N]`; the DPO `pair_source` filter. Real tiny tokenizer (training/tiny.py)."""

from __future__ import annotations

from pathlib import Path

import datasets
import pytest

from redditess_core.prompts import DRAFT_SEPARATOR, improve_turn, post_turn
from training.data import (
    DatasetContractError,
    fit_row,
    fit_to_length,
    select_pair_sources,
    train_subset,
)
from training.models import load_tokenizer

SYSTEM = "You help peer supporters write replies."
BODY = " ".join(f"sentence {i} about how hard this semester has been for me." for i in range(60))
POST = post_turn("Title", BODY)  # the builder's GM user turn
REPLY = "You are not alone in this, and it is okay to ask your advisor for a lighter load next term."
DRAFT = "Maybe ask your advisor for a lighter load."


@pytest.fixture(scope="module")
def tok(tiny_models: dict[str, Path]):
    return load_tokenizer(str(tiny_models["tiny-llama"]))


def _n(tok, messages) -> int:
    return len(tok.apply_chat_template(messages, tokenize=True, return_dict=False))


def _prompt(user: str = POST) -> list[dict[str, str]]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def _reply(text: str = REPLY) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


@pytest.mark.parametrize("shape", ["prompt_completion", "messages"])
def test_long_post_is_cut_from_the_left_and_the_reply_is_kept(tok, shape: str) -> None:
    row = (
        {"prompt": _prompt(), "completion": _reply()}
        if shape == "prompt_completion"
        else {"messages": [*_prompt(), *_reply()]}
    )
    full = _n(tok, [*_prompt(), *_reply()])
    max_length = full // 3
    fitted, status = fit_row(row, tok, max_length, "truncate_prompt")
    assert status == "truncated"
    messages = fitted["messages"] if shape == "messages" else [*fitted["prompt"], *fitted["completion"]]
    assert _n(tok, messages) <= max_length
    assert messages[-1] == _reply()[0] and messages[0]["content"] == SYSTEM
    user = messages[1]["content"]
    assert user.startswith("…") and POST.endswith(user[1:].strip()[-200:])  # the post's end survives
    text = tok.apply_chat_template(messages, tokenize=False)
    assert text.endswith(REPLY + tok.eos_token)  # every reply token is still there


def test_improvement_prompt_keeps_the_draft_and_dpo_rows_fit_both_replies(tok) -> None:
    user = improve_turn("Title", BODY, DRAFT)  # the builder's IM user turn
    row = {"prompt": _prompt(user), "chosen": _reply(), "rejected": _reply(DRAFT)}
    max_length = _n(tok, [*_prompt(user), *_reply()]) // 2
    fitted, status = fit_row(row, tok, max_length, "truncate_prompt")
    assert status == "truncated"
    assert fitted["prompt"][1]["content"].endswith(DRAFT_SEPARATOR + DRAFT)
    assert fitted["chosen"] == row["chosen"] and fitted["rejected"] == row["rejected"]
    assert max(_n(tok, [*fitted["prompt"], *fitted[s]]) for s in ("chosen", "rejected")) <= max_length


def test_rows_that_cannot_fit_are_dropped_counted_and_short_rows_untouched(tok) -> None:
    short = {"prompt": _prompt("Exams next week."), "completion": _reply()}
    long = {"prompt": _prompt(), "completion": _reply()}
    huge_reply = {"prompt": _prompt("hi"), "completion": _reply(REPLY * 20)}
    ds = datasets.Dataset.from_list([short, long, huge_reply])
    max_length = _n(tok, [*_prompt(), *_reply()]) // 3
    assert _n(tok, [*short["prompt"], *short["completion"]]) <= max_length
    out, counts = fit_to_length(ds, tok, max_length, "truncate_prompt", where="train")
    assert counts == {"rows": 3, "kept": 1, "truncated": 1, "dropped": 1}
    assert len(out) == 2 and out[0] == short and out[1]["completion"] == long["completion"]
    out, counts = fit_to_length(ds, tok, max_length, "drop", where="train")
    assert counts == {"rows": 3, "kept": 1, "truncated": 0, "dropped": 2} and out.to_list() == [short]
    same, counts = fit_to_length(ds, tok, None, "drop", where="train")
    assert same is ds and counts["kept"] == 3
    with pytest.raises(ValueError, match="overlong_rows"):
        fit_to_length(ds, tok, 64, "keep_start", where="train")


def test_seeded_subset_is_random_not_the_oldest_posts() -> None:
    ds = datasets.Dataset.from_dict({"post_id": [f"p{i:04d}" for i in range(200)]})
    a = train_subset(ds, 20, seed=3)
    assert len(a) == 20 and a["post_id"] == train_subset(ds, 20, seed=3)["post_id"]
    assert a["post_id"] != ds["post_id"][:20] and a["post_id"] != train_subset(ds, 20, seed=4)["post_id"]
    assert train_subset(ds, None, seed=0) is ds and train_subset(ds, 500, seed=0) is ds
    with pytest.raises(ValueError):
        train_subset(ds, 0, seed=0)


def test_pair_source_filter() -> None:
    ds = datasets.Dataset.from_dict({"pair_source": ["votes", "label", "label", "votes"], "i": [0, 1, 2, 3]})
    assert select_pair_sources(ds, ["label"], where="x")["i"] == [1, 2]
    assert select_pair_sources(ds, None, where="x") is ds
    with pytest.raises(DatasetContractError, match="pair_source"):
        select_pair_sources(ds.remove_columns("pair_source"), ["label"], where="x")


def test_dpo_pair_sources_on_data_without_the_column_is_named(
    mini_dataset: Path, tmp_path: Path, recipe_argv
) -> None:
    import shutil

    import pyarrow.parquet as pq

    from training import dpo

    folder = tmp_path / "redditess"
    shutil.copytree(mini_dataset, folder)
    for path in (folder / "data" / "preference").glob("*.parquet"):
        pq.write_table(pq.read_table(path).drop_columns(["pair_source"]), path)
    parent = tmp_path / "parent"
    parent.mkdir()
    argv = recipe_argv(
        "gm-dpo",
        dataset_name=folder,
        parent_run=parent,
        output_dir=tmp_path / "out",
        pair_sources="label",
    )
    with pytest.raises(DatasetContractError, match="pair_sources=\\['label'\\] needs a `pair_source` column"):
        dpo.cli(argv)
