"""`eval generate` on a real tiny Llama: records, provenance, resume, crisis notice, IM task.

The dataset is the shared `demo_dataset` (the real builder on the synthetic sample): its posts carry the
sample's crisis lines, so the crisis notice is checked against the sample's own texts.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dataset_builder.synthetic import CRISIS_LINES, SCREEN_LINES
from eval.generate import GenerateArguments, run_generate
from eval.io import read_jsonl
from redditess_core.loading import load_split
from redditess_core.prompts import last_user_text, post_turn

DEMO_VERSION = "0.1.0-test"  # tests/conftest.py builds `demo_dataset` with it
SPLIT = "train"  # the demo build's largest split: enough posts for crisis and ordinary ones


def _args(models: dict[str, Path], data: Path, out: Path, **kw) -> GenerateArguments:
    return GenerateArguments(
        model=str(models["tiny-llama"]),
        dataset=str(data),
        output=str(out),
        max_new_tokens=8,
        batch_size=3,
        **kw,
    )


def _first_posts(dataset: Path, n: int) -> list[tuple[str, str]]:
    """(post_id, user turn) of the first `n` distinct posts of the split's sft rows, read by the core loader."""
    posts: dict[str, str] = {}
    for row in load_split(str(dataset), "sft", SPLIT):
        posts.setdefault(row["post_id"], last_user_text(row["messages"][:-1]))
        if len(posts) == n:
            break
    return list(posts.items())


def test_generate_resume_and_provenance(
    tiny_models: dict[str, Path], demo_dataset: Path, tmp_path: Path
) -> None:
    out = tmp_path / "gm.jsonl"
    args = {"system_name": "base", "append_crisis_notice": True, "split": SPLIT, "max_samples": 8}
    run_generate(_args(tiny_models, demo_dataset, out, **args))
    recs = read_jsonl(out)
    posts = _first_posts(demo_dataset, 8)
    assert [r["id"] for r in recs] == [pid for pid, _ in posts]
    prov = recs[0]["provenance"]
    assert prov["dataset"]["version"] == DEMO_VERSION and prov["dataset"]["split"] == SPLIT
    assert prov["model"]["fingerprint"] and prov["adapter"] is None and prov["code"]["transformers"]
    assert recs[0]["prompt"][0]["role"] == "system" and recs[0]["reference"]
    # The sample's crisis lines get the notice; posts with neither a crisis line nor a screen test line never.
    crisis = {r["id"] for r in recs if r["crisis_notice_added"]}
    explicit = {pid for pid, text in posts if any(line in text for line in CRISIS_LINES)}
    ordinary = {pid for pid, text in posts if not any(line in text for line in CRISIS_LINES + SCREEN_LINES)}
    assert explicit and ordinary, "the first posts of the demo build should hold both kinds"
    assert explicit <= crisis and not crisis & ordinary
    assert all("988" in r["response"] for r in recs if r["id"] in crisis)
    assert not out.with_name(out.name + ".partial").exists()

    # Simulate an interrupted run: three records (marked) and a torn line in the .partial file, no output.
    partial = out.with_name(out.name + ".partial")
    kept = [dict(r, response=f"KEPT-{r['id']}") for r in recs[:3]]
    torn = json.dumps({"id": recs[3]["id"]})[:-5]
    partial.write_text("".join(json.dumps(r) + "\n" for r in kept) + torn)
    out.unlink()
    run_generate(_args(tiny_models, demo_dataset, out, **args))
    resumed = read_jsonl(out)
    assert [r["response"] for r in resumed[:3]] == [f"KEPT-{r['id']}" for r in recs[:3]]
    assert [r["id"] for r in resumed] == [r["id"] for r in recs] and not partial.exists()

    # A rerun with other settings must not mix records of two runs.
    with pytest.raises(ValueError, match="different run"):
        run_generate(_args(tiny_models, demo_dataset, out, **args, seed=7))


def test_generate_im_task_and_seed_determinism(
    tiny_models: dict[str, Path], demo_dataset: Path, tmp_path: Path
) -> None:
    kw = {"task": "im", "split": SPLIT, "max_samples": 4}
    a = run_generate(_args(tiny_models, demo_dataset, tmp_path / "a.jsonl", **kw))
    b = run_generate(_args(tiny_models, demo_dataset, tmp_path / "b.jsonl", **kw))
    ra, rb = read_jsonl(a), read_jsonl(b)
    assert len(ra) == 4 and all(r["draft"] and r["id"].startswith(r["post_id"] + ":") for r in ra)
    # `post` is the post alone (cut from the builder's IM turn), the draft is kept apart: it equals the GM
    # turn the builder renders from the same post's title and body.
    post = next(
        r
        for r in load_split(str(demo_dataset), "effective_support", SPLIT)
        if r["post_id"] == ra[0]["post_id"]
    )
    assert ra[0]["post"] == post_turn(post["post_title"], post["post_text"])
    assert ra[0]["draft"] not in ra[0]["post"] and ra[0]["draft"] in ra[0]["prompt"][1]["content"]
    assert [r["response"] for r in ra] == [r["response"] for r in rb]
    assert ra[0]["provenance"]["dataset"]["config"] == "improvement"


def test_generate_bad_inputs(tiny_models: dict[str, Path], demo_dataset: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no split 'nope'"):
        run_generate(_args(tiny_models, demo_dataset, tmp_path / "x.jsonl", split="nope"))
    with pytest.raises(FileNotFoundError, match="adapter folder not found"):
        run_generate(_args(tiny_models, demo_dataset, tmp_path / "x.jsonl", adapter=str(tmp_path / "nope")))


def test_rebuilt_folder_loads_its_own_rows(demo_dataset: Path, tmp_path: Path) -> None:
    """Two folders named `redditess` with the same README must not share datasets' cache."""
    import shutil

    import pyarrow.parquet as pq

    from eval.data import load_prompts

    first = shutil.copytree(demo_dataset, tmp_path / "a" / "redditess")
    reference = load_prompts(first, "gm", "test")[0].reference
    assert reference and not reference.startswith("CHANGED ")
    second = shutil.copytree(demo_dataset, tmp_path / "b" / "redditess")
    path = next((second / "data" / "sft").glob("test-*.parquet"))
    table = pq.read_table(path).to_pylist()
    for row in table:
        row["messages"][-1]["content"] = "CHANGED " + row["messages"][-1]["content"]
    pq.write_table(pq.read_table(path).from_pylist(table, schema=pq.read_schema(path)), path)
    assert load_prompts(second, "gm", "test")[0].reference == "CHANGED " + reference
