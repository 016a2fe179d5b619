"""`eval generate` on a real tiny Llama: records, provenance, resume, crisis notice, IM task."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.generate import GenerateArguments, run_generate
from eval.io import read_jsonl


def _args(models: dict[str, Path], data: Path, out: Path, **kw) -> GenerateArguments:
    return GenerateArguments(
        model=str(models["tiny-llama"]),
        dataset=str(data),
        output=str(out),
        max_new_tokens=8,
        batch_size=3,
        **kw,
    )


def test_generate_resume_and_provenance(
    tiny_models: dict[str, Path], eval_dataset: Path, tmp_path: Path
) -> None:
    out = tmp_path / "gm.jsonl"
    run_generate(_args(tiny_models, eval_dataset, out, system_name="base", append_crisis_notice=True))
    recs = read_jsonl(out)
    assert [r["id"] for r in recs] == [f"p0{i}" for i in range(1, 9)]
    prov = recs[0]["provenance"]
    assert prov["dataset"]["version"] == "0.1.0-evaltest" and prov["dataset"]["split"] == "test"
    assert prov["model"]["fingerprint"] and prov["adapter"] is None and prov["code"]["transformers"]
    assert recs[0]["prompt"][0]["role"] == "system" and recs[0]["reference"]
    crisis = {r["id"] for r in recs if r["crisis_notice_added"]}
    assert crisis == {"p03", "p07"}
    assert all("988" in r["response"] for r in recs if r["id"] in crisis)
    assert not out.with_name(out.name + ".partial").exists()

    # Simulate an interrupted run: three records (marked) and a torn line in the .partial file, no output.
    partial = out.with_name(out.name + ".partial")
    kept = [dict(r, response=f"KEPT-{r['id']}") for r in recs[:3]]
    partial.write_text("".join(json.dumps(r) + "\n" for r in kept) + '{"id": "p04", "resp')
    out.unlink()
    run_generate(_args(tiny_models, eval_dataset, out, system_name="base", append_crisis_notice=True))
    resumed = read_jsonl(out)
    assert [r["response"] for r in resumed[:3]] == ["KEPT-p01", "KEPT-p02", "KEPT-p03"]
    assert len(resumed) == 8 and not partial.exists()

    # A rerun with other settings must not mix records of two runs.
    with pytest.raises(ValueError, match="different run"):
        run_generate(_args(tiny_models, eval_dataset, out, system_name="base", seed=7))


def test_generate_im_task_and_seed_determinism(
    tiny_models: dict[str, Path], eval_dataset: Path, tmp_path: Path
) -> None:
    a = run_generate(_args(tiny_models, eval_dataset, tmp_path / "a.jsonl", task="im", max_samples=4))
    b = run_generate(_args(tiny_models, eval_dataset, tmp_path / "b.jsonl", task="im", max_samples=4))
    ra, rb = read_jsonl(a), read_jsonl(b)
    assert len(ra) == 4 and all(r["draft"] and r["id"].startswith(r["post_id"] + ":") for r in ra)
    # `post` is the post alone (cut from the builder's IM turn), the draft is kept apart
    assert ra[0]["post"] == "struggling\n\nI have panic attacks before every exam and I cannot sleep."
    assert ra[0]["draft"] not in ra[0]["post"] and ra[0]["draft"] in ra[0]["prompt"][1]["content"]
    assert [r["response"] for r in ra] == [r["response"] for r in rb]
    assert ra[0]["provenance"]["dataset"]["config"] == "improvement"


def test_generate_bad_inputs(tiny_models: dict[str, Path], eval_dataset: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no split 'validation'"):
        run_generate(_args(tiny_models, eval_dataset, tmp_path / "x.jsonl", split="validation"))
    with pytest.raises(FileNotFoundError, match="adapter folder not found"):
        run_generate(_args(tiny_models, eval_dataset, tmp_path / "x.jsonl", adapter=str(tmp_path / "nope")))


def test_rebuilt_folder_loads_its_own_rows(tmp_path: Path) -> None:
    """Two folders named `redditess` with the same README must not share datasets' cache."""
    from eval_helpers import write_redditess

    from eval.data import load_prompts

    first = write_redditess(tmp_path / "a" / "redditess")
    assert load_prompts(first, "gm", "test")[0].reference.startswith("It sounds like")
    second = write_redditess(tmp_path / "b" / "redditess")
    import pyarrow.parquet as pq

    path = next((second / "data" / "sft").glob("test-*.parquet"))
    table = pq.read_table(path).to_pylist()
    for row in table:
        row["messages"][-1]["content"] = "CHANGED " + row["messages"][-1]["content"]
    pq.write_table(pq.read_table(path).from_pylist(table, schema=pq.read_schema(path)), path)
    assert load_prompts(second, "gm", "test")[0].reference.startswith("CHANGED ")
