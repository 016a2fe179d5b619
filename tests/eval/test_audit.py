"""`python -m eval label-audit|pair-audit export|ingest` on a build of the builder's synthetic sample.

Ratings and judgments are invented here from the key (so the expected figures are known); kappa and
agreement are recomputed in the test straight from the filled CSVs with statsmodels.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import numpy as np
import pytest

from eval.__main__ import main
from eval.audit import share_with_interval
from eval.label_audit import sample_comments, stratum_targets
from eval.stats import bootstrap_mean_interval

SIGNAL_COLUMNS = {
    "label",
    "label_source",
    "label_confidence",
    "op_signal",
    "reception",
    "post_feedback",
    "comment_score",
    "comment_id",
    "post_id",
    "chosen_id",
    "rejected_id",
    "pair_source",
    "chosen_score",
    "rejected_score",
    "similarity",
}


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _fill(export: Path, out: Path, answer) -> list[Path]:
    """Fill every rater's sheet with answer(rater, item_id) -> {column: value}."""
    paths = []
    for sheet in sorted((export / "for_raters" / "sheets").glob("*.csv")):
        rows = _read(sheet)
        for row in rows:
            row.update(answer(row["rater"], row["item_id"]))
        paths.append(_write(out / sheet.name, rows))
    return paths


@pytest.fixture(scope="module")
def label_export(demo_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("label-audit") / "export"
    main(
        [
            "label-audit",
            "export",
            "--dataset",
            str(demo_dataset),
            "--n_posts",
            "30",
            "--raters",
            "r1",
            "r2",
            "r3",
        ]
        + ["--seed", "0", "--output_dir", str(out)]
    )
    return out


def _invented_rating(key: dict, rater: str, item_id: str) -> str:
    """Raters mostly follow the label, with rater- and item-seeded disagreement."""
    rng = random.Random(f"{rater}|{item_id}")
    base = [3, 4] if key["items"][item_id]["label"] == "effective" else [1, 2]
    if rng.random() < 0.25:
        base = [1, 2, 3, 4]
    return str(rng.choice(base))


def test_label_audit_layout_and_blinding(label_export: Path, demo_dataset: Path) -> None:
    key = json.loads((label_export / "key.json").read_text())
    rater_dir = label_export / "for_raters"
    assert sorted(p.name for p in label_export.iterdir()) == ["for_raters", "key.json"]
    assert not list(rater_dir.rglob("key.json"))
    assert sorted(p.name for p in (rater_dir / "sheets").iterdir()) == ["r1.csv", "r2.csv", "r3.csv"]
    assert (rater_dir / "form.html").is_file() and (rater_dir / "README.txt").is_file()
    readme = (rater_dir / "README.txt").read_text()
    for value, anchor in key["anchors"].items():  # the 1-4 anchors are written out
        assert f"{value} = {anchor}" in readme
    assert list(key["anchors"]) == ["1", "2", "3", "4"]
    # Sheets: exactly the blinded columns; every rater gets every item once, grouped by post.
    for sheet in (rater_dir / "sheets").glob("*.csv"):
        rows = _read(sheet)
        assert list(rows[0]) == [
            "rater",
            "item_id",
            "group",
            "post",
            "comment",
            "op_replies",
            "rating",
            "note",
        ]
        assert not SIGNAL_COLUMNS & set(rows[0])
        assert sorted(r["item_id"] for r in rows) == sorted(key["items"])
        runs = [g for n, g in enumerate(r["group"] for r in rows) if n == 0 or rows[n - 1]["group"] != g]
        assert len(runs) == len(set(runs))  # the comments of one post follow each other
        assert {r["rating"] for r in rows} == {""}
    # Nothing that unblinds reaches the raters' folder: no ids, no label sources.
    material = "".join(p.read_text() for p in rater_dir.rglob("*") if p.is_file())
    for meta in key["items"].values():
        assert meta["comment_id"] not in material and meta["post_id"] not in material
        assert meta["label_source"] not in material
    # The OP's replies sit in their own field, taken from the dataset's op_reply_text.
    import pyarrow.parquet as pq

    table = pq.read_table(demo_dataset / "data" / "effective_support").to_pylist()
    by_comment = {r["comment_id"]: r for r in table}
    rows = {r["item_id"]: r for r in _read(rater_dir / "sheets" / "r1.csv")}
    for item_id, meta in key["items"].items():
        src = by_comment[meta["comment_id"]]
        assert rows[item_id]["comment"] == src["comment_text"]
        assert rows[item_id]["op_replies"] == (src["op_reply_text"] or "")
        assert src["post_text"] in rows[item_id]["post"]
        assert meta["label"] == ("effective" if src["label"] == 1 else "not_effective")
        assert meta["label_source"] == src["label_source"]


def test_label_audit_stratified_sample(label_export: Path, demo_dataset: Path) -> None:
    key = json.loads((label_export / "key.json").read_text())
    strata = key["sampling"]["strata"]
    assert key["sampling"]["n_posts"] == 30 == len({m["post_id"] for m in key["items"].values()})
    per_post: dict[str, int] = {}
    for meta in key["items"].values():
        per_post[meta["post_id"]] = per_post.get(meta["post_id"], 0) + 1
    assert max(per_post.values()) <= 4
    counted: dict[str, int] = {}
    for meta in key["items"].values():
        counted[meta["stratum"]] = counted.get(meta["stratum"], 0) + 1
    assert counted == {s: v["sample"] for s, v in strata.items() if v["sample"]}
    assert {s.split("/")[0] for s in counted} == {"effective", "not_effective"}
    for stratum in strata.values():  # every stratum reaches the floor when it has that many comments
        assert stratum["sample"] >= min(5, stratum["population"])


def test_sample_comments_floor_and_proportions() -> None:
    """Invented population: 200 posts x 4 comments, one rare stratum of 8 comments on 8 posts."""
    rows = []
    for p in range(200):
        for c in range(4):
            rare = p % 25 == 0 and c == 0
            source = "op_signal" if c % 2 == 0 else "reception"
            rows.append(
                {
                    "post_id": f"p{p}",
                    "comment_id": f"p{p}c{c}",
                    "label": "not_effective" if rare else "effective",
                    "label_source": "op_signal" if rare else source,
                }
            )
    sample, strata = sample_comments(rows, n_posts=20, per_post=2, min_per_stratum=5, seed=1)
    assert len(sample) == 40 and len({r["post_id"] for r in sample}) == 20
    assert strata["not_effective/op_signal"] == {"population": 8, "target": 5, "sample": 5}
    # The rest is proportional: the two effective strata are the same size, so they split the rest evenly.
    assert strata["effective/op_signal"]["sample"] + strata["effective/reception"]["sample"] == 35
    assert abs(strata["effective/op_signal"]["sample"] - strata["effective/reception"]["sample"]) <= 1
    again, _ = sample_comments(rows, n_posts=20, per_post=2, min_per_stratum=5, seed=1)
    other, _ = sample_comments(rows, n_posts=20, per_post=2, min_per_stratum=5, seed=2)
    assert [r["comment_id"] for r in again] == [r["comment_id"] for r in sample]
    assert {r["comment_id"] for r in other} != {r["comment_id"] for r in sample}
    assert stratum_targets({"a": 90, "b": 10}, 20, 0) == {"a": 18, "b": 2}
    assert stratum_targets({"a": 90, "b": 3}, 20, 5) == {"a": 17, "b": 3}


def test_label_audit_round_trip(label_export: Path, tmp_path: Path) -> None:
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

    key = json.loads((label_export / "key.json").read_text())
    sheets = _fill(label_export, tmp_path / "filled", lambda r, i: {"rating": _invented_rating(key, r, i)})
    out = tmp_path / "ingest"
    metrics = main(
        ["label-audit", "ingest", "--key", str(label_export / "key.json"), "--output_dir", str(out)]
        + ["--sheets", *map(str, sheets)]
    )
    assert json.loads((out / "metrics.json").read_text())["fleiss_kappa"] == metrics["fleiss_kappa"]
    assert {"fleiss_kappa", "agreement_effective", "agreement_not_effective", "by_label_source"} <= set(
        metrics
    )

    # Independently from the filled CSVs: statsmodels' kappa and the majority-agreement shares.
    ratings: dict[str, dict[str, int]] = {}
    for sheet in sheets:
        for row in _read(sheet):
            ratings.setdefault(row["item_id"], {})[row["rater"]] = int(row["rating"])
    items = sorted(ratings)
    matrix = np.array([[ratings[i][r] for r in ("r1", "r2", "r3")] for i in items])
    table, _ = aggregate_raters(matrix)
    assert metrics["fleiss_kappa"]["value"] == pytest.approx(fleiss_kappa(table, method="fleiss"), abs=1e-12)
    assert metrics["fleiss_kappa"]["n_raters"] == 3 and metrics["fleiss_kappa"]["n_items"] == len(items)
    for label, wanted in (("effective", (3, 4)), ("not_effective", (1, 2))):
        agree = [
            sum(v in wanted for v in ratings[i].values()) >= 2
            for i in items
            if key["items"][i]["label"] == label
        ]
        entry = metrics[f"agreement_{label}"]
        assert entry["n"] == len(agree) > 0
        assert entry["value"] == pytest.approx(sum(agree) / len(agree))
        assert entry["ci_low"] <= entry["value"] <= entry["ci_high"]
    for source, entry in metrics["by_label_source"].items():
        mine = [i for i in items if key["items"][i]["label_source"] == source]
        assert entry["n"] == len(mine)
        assert entry["by_label"]["effective"]["n"] + entry["by_label"]["not_effective"]["n"] == len(mine)
    # The invented raters mostly follow the label: agreement is high and kappa positive, and the report
    # sets the figures beside the paper's.
    assert metrics["agreement_effective"]["value"] > 0.8 and metrics["fleiss_kappa_binary"]["value"] > 0.5
    report = (out / "report.md").read_text()
    assert "94.68%" in report and "0.42" in report and "3 here" in report


def test_label_audit_perfect_raters(label_export: Path, tmp_path: Path) -> None:
    """Raters who rate exactly by the label: agreement 100% with a degenerate interval, kappa on 1-2 vs 3-4 = 1."""
    key = json.loads((label_export / "key.json").read_text())
    perfect = {"effective": "4", "not_effective": "1"}
    sheets = _fill(label_export, tmp_path / "f", lambda r, i: {"rating": perfect[key["items"][i]["label"]]})
    m = main(
        [
            "label-audit",
            "ingest",
            "--key",
            str(label_export / "key.json"),
            "--output_dir",
            str(tmp_path / "o"),
        ]
        + ["--sheets", *map(str, sheets)]
    )
    assert m["agreement_effective"]["value"] == 1.0 == m["agreement_effective"]["ci_low"]
    assert m["agreement_not_effective"]["value"] == 1.0
    assert m["fleiss_kappa_binary"]["value"] == pytest.approx(1.0)


def test_label_audit_bad_sheets(label_export: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    key_path = label_export / "key.json"
    key = json.loads(key_path.read_text())
    good = _fill(label_export, tmp_path / "good", lambda r, i: {"rating": _invented_rating(key, r, i)})
    rows = _read(good[0])

    def ingest(*sheets: Path) -> str:
        with pytest.raises(SystemExit) as exc:
            main(
                ["label-audit", "ingest", "--key", str(key_path), "--output_dir", str(tmp_path / "out")]
                + ["--sheets", *map(str, sheets)]
            )
        assert exc.value.code == 2
        assert not (tmp_path / "out").exists()  # nothing half-written
        return capsys.readouterr().err

    bad = [dict(r) for r in rows]
    bad[0]["rating"] = "5"
    bad[1]["rating"] = ""
    bad[2]["rating"] = "2.5"
    bad[3]["item_id"] = "deadbeef0000-9999"
    bad[4]["rater"] = "r9"
    err = ingest(_write(tmp_path / "bad" / "r1.csv", bad))
    assert "r1.csv row 2: field rating: '5' is not one of 1, 2, 3, 4" in err
    assert "r1.csv row 3: field rating: missing answer" in err
    assert "r1.csv row 4: field rating: '2.5' is not one of" in err
    assert "r1.csv row 5: field item_id: unknown item 'deadbeef0000-9999'" in err
    assert "r1.csv row 6: field rater: unknown rater 'r9'" in err
    # Wrong columns.
    renamed = [{("score" if k == "rating" else k): v for k, v in r.items()} for r in rows]
    assert "missing column(s) ['rating']" in ingest(_write(tmp_path / "cols" / "r1.csv", renamed))
    # A duplicated row and a left-out item.
    dup = rows[:-1] + [rows[0]]
    err = ingest(_write(tmp_path / "dup" / "r1.csv", dup))
    assert f"row {len(rows) + 1}: field item_id: {rows[0]['item_id']} rated twice by r1" in err
    assert f"rater r1 has no answer for 1 item(s): ['{rows[-1]['item_id']}']" in err
    # A pair-audit key is refused; a spreadsheet's "3.0" counts as 3.
    floats = [{**r, "rating": f"{r['rating']}.0"} for r in rows]
    m = main(
        ["label-audit", "ingest", "--key", str(key_path), "--output_dir", str(tmp_path / "ok")]
        + ["--sheets", str(_write(tmp_path / "floats" / "r1.csv", floats))]
    )
    assert m["raters"] == ["r1"] and m["fleiss_kappa"]["value"] is None  # one rater: no kappa


def test_export_refuses_to_overwrite(
    label_export: Path, demo_dataset: Path, capsys: pytest.CaptureFixture
) -> None:
    before = (label_export / "key.json").read_bytes()
    with pytest.raises(SystemExit):
        main(
            [
                "label-audit",
                "export",
                "--dataset",
                str(demo_dataset),
                "--raters",
                "r1",
                "--output_dir",
                str(label_export),
            ]
        )
    assert "not empty" in capsys.readouterr().err
    assert (label_export / "key.json").read_bytes() == before


@pytest.mark.parametrize("config", ["preference", "improvement"])
def test_pair_audit_round_trip(config: str, demo_dataset: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    export = tmp_path / "export"
    main(
        ["pair-audit", "export", "--dataset", str(demo_dataset), "--config", config, "--n_per_source", "10"]
        + ["--raters", "ann", "bo", "cy", "--output_dir", str(export)]
    )
    key = json.loads((export / "key.json").read_text())
    assert not list((export / "for_raters").rglob("key.json"))
    source = pq.read_table(demo_dataset / "data" / config).to_pylist()
    sheet = _read(export / "for_raters" / "sheets" / "ann.csv")
    assert list(sheet[0]) == ["rater", "item_id", "group", "post", "reply_a", "reply_b"] + (
        ["better", "note"] if config == "preference" else ["same_intent", "better", "note"]
    )
    assert not SIGNAL_COLUMNS & set(sheet[0])
    rows = {r["item_id"]: r for r in sheet}
    counts: dict[str, int] = {}
    for item_id, meta in key["items"].items():
        counts[meta["pair_source"]] = counts.get(meta["pair_source"], 0) + 1
        if config == "preference":
            src = next(
                r
                for r in source
                if r["chosen_id"] == meta["chosen_id"] and r["rejected_id"] == meta["rejected_id"]
            )
            side_of_chosen = "reply_a" if meta["sides"]["A"] == "chosen" else "reply_b"
            assert rows[item_id][side_of_chosen] == src["chosen"][0]["content"]
        else:
            src = next(
                r
                for r in source
                if r["draft_id"] == meta["draft_id"] and r["revision_id"] == meta["revision_id"]
            )
            assert rows[item_id]["reply_a"] == src["rejected"][0]["content"]
            assert rows[item_id]["reply_b"] == src["chosen"][0]["content"]
            assert rows[item_id]["post"] and "Draft reply to revise" not in rows[item_id]["post"]
    available: dict[str, int] = {}
    for r in source:
        available[r["pair_source"]] = available.get(r["pair_source"], 0) + 1
    # 10 per source, or all of a source's pairs when it has fewer (the demo build's vote pairs are few since
    # issue 16's label-evidence rule)
    assert counts == {s: min(10, n) for s, n in available.items()}
    material = "".join(p.read_text() for p in (export / "for_raters").rglob("*") if p.is_file())
    for meta in key["items"].values():  # no dataset ids (they would unblind via the dataset) reach raters
        ids = [
            meta[k] for k in ("chosen_id", "rejected_id", "draft_id", "revision_id", "post_id") if k in meta
        ]
        assert ids and not any(i in material for i in ids)
    if config == "preference":
        assert set(counts) == {"votes", "label"}
        assert {m["sides"]["A"] for m in key["items"].values()} == {"chosen", "rejected"}  # sides randomized

    # Invented judgments: on even items everyone agrees with the pair; on odd items ann and bo call it
    # "same" (preference) / not revision-like (improvement), cy disagrees with everyone.
    order = sorted(key["items"])

    def answer(rater: str, item_id: str) -> dict[str, str]:
        odd = order.index(item_id) % 2
        if config == "preference":
            chosen_side = next(s for s, v in key["items"][item_id]["sides"].items() if v == "chosen")
            other = "B" if chosen_side == "A" else "A"
            if not odd:
                return {"better": chosen_side if rater != "cy" else other}
            return {"better": "same" if rater != "cy" else "not_comparable"}
        if not odd:
            return {"same_intent": "yes", "better": "yes" if rater != "cy" else "no"}
        return {"same_intent": "no" if rater != "cy" else "yes", "better": "yes"}

    sheets = _fill(export, tmp_path / "filled", answer)
    out = tmp_path / "ingest"
    m = main(
        [
            "pair-audit",
            "ingest",
            "--key",
            str(export / "key.json"),
            "--output_dir",
            str(out),
            "--sheets",
            *map(str, sheets),
        ]
    )
    assert m["config"] == config and m["n_items"] == len(order)
    for source, entry in m["by_pair_source"].items():
        mine = [i for i in order if key["items"][i]["pair_source"] == source]
        n_even = sum(order.index(i) % 2 == 0 for i in mine)
        assert entry["n"] == len(mine)
        assert entry["agreement"]["value"] == pytest.approx(n_even / len(mine))
        assert entry["agreement"]["ci_low"] <= entry["agreement"]["value"] <= entry["agreement"]["ci_high"]
        if config == "preference":
            assert entry["same"]["value"] == pytest.approx(1 - n_even / len(mine))
            assert entry["rejected_better"]["value"] == 0 == entry["not_comparable"]["value"]
        else:
            assert entry["revision_like"]["value"] == pytest.approx(n_even / len(mine))
            assert entry["better"]["value"] == 1.0
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

    question = "better" if config == "preference" else "same_intent"
    answers = {i: [answer(r, i)[question] for r in ("ann", "bo", "cy")] for i in order}
    if config == "preference":  # kappa is over chosen/rejected, not screen sides
        answers = {i: [key["items"][i]["sides"].get(v, v) for v in vs] for i, vs in answers.items()}
    cats = sorted({v for vs in answers.values() for v in vs})
    table, _ = aggregate_raters(np.array([[cats.index(v) for v in answers[i]] for i in order]))
    assert m["fleiss_kappa"][question]["value"] == pytest.approx(fleiss_kappa(table, method="fleiss"))
    assert "| all sources |" in (out / "report.md").read_text()


def test_pair_audit_bad_sheet_and_key(demo_dataset: Path, label_export: Path, tmp_path: Path, capsys) -> None:
    export = tmp_path / "export"
    main(
        [
            "pair-audit",
            "export",
            "--dataset",
            str(demo_dataset),
            "--config",
            "preference",
            "--n_per_source",
            "3",
        ]
        + ["--raters", "ann", "--output_dir", str(export)]
    )
    rows = _read(export / "for_raters" / "sheets" / "ann.csv")
    rows[1]["better"] = "C"
    sheet = _write(tmp_path / "ann.csv", rows)
    with pytest.raises(SystemExit):
        main(
            [
                "pair-audit",
                "ingest",
                "--key",
                str(export / "key.json"),
                "--output_dir",
                str(tmp_path / "o"),
                "--sheets",
                str(sheet),
            ]
        )
    err = capsys.readouterr().err
    assert "ann.csv row 3: field better: 'C' is not one of A, B, same, not_comparable" in err
    assert "ann.csv row 2: field better: missing answer" in err
    with pytest.raises(SystemExit):  # a label-audit key is not a pair-audit key
        main(
            [
                "pair-audit",
                "ingest",
                "--key",
                str(label_export / "key.json"),
                "--output_dir",
                str(tmp_path / "o"),
                "--sheets",
                str(sheet),
            ]
        )
    assert "not a pair-audit key" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(
            [
                "pair-audit",
                "export",
                "--dataset",
                str(demo_dataset),
                "--config",
                "sft",
                "--raters",
                "a",
                "--output_dir",
                str(tmp_path / "x"),
            ]
        )
    assert "--config must be one of" in capsys.readouterr().err


def test_share_intervals_resample_posts() -> None:
    """Comments of one post that move together: the interval is the post-level one, wider than an
    item-level bootstrap would give; weights reweight the share and its interval."""
    hits = np.repeat([1, 1, 0, 1, 0, 1, 1, 0, 1, 1], 10).astype(bool)  # 10 posts of 10 identical items
    posts = np.repeat(np.arange(10), 10).tolist()
    entry = share_with_interval(hits, posts, n_resamples=4000)
    assert entry["value"] == pytest.approx(0.7) and (entry["n"], entry["n_posts"]) == (100, 10)
    ref_low, ref_high = bootstrap_mean_interval(hits.reshape(10, 10).mean(1), n_resamples=4000, seed=1)
    assert entry["ci_low"] == pytest.approx(ref_low, abs=0.11) and entry["ci_high"] == pytest.approx(
        ref_high, abs=0.11
    )
    item_low, item_high = bootstrap_mean_interval(hits.astype(float), n_resamples=4000)
    assert entry["ci_high"] - entry["ci_low"] > 2 * (item_high - item_low)
    weights = np.where(hits, 1.0, 3.0)  # misses count three times: 70 / (70 + 90)
    assert share_with_interval(hits, posts, weights=weights)["value"] == pytest.approx(70 / 160)
    one_post = share_with_interval([True] * 5, ["a"] * 5)
    assert (one_post["value"], one_post["ci_low"], one_post["ci_high"]) == (1.0, 1.0, 1.0)
    assert share_with_interval([], [])["value"] is None


NODE_DOM_SHIM = """
const elements = {};
class El {
  constructor(tag) { this.tag = tag; this.children = []; this.listeners = {}; this.textContent = "";
                     this.value = ""; this.checked = false; this.classList = {toggle() {}}; }
  setAttribute(k, v) { if (k === "id") elements[v] = this; if (k === "value") this.value = v; }
  appendChild(c) { this.children.push(c); return c; }
  addEventListener(type, f) { (this.listeners[type] = this.listeners[type] || []).push(f); }
  fire(type) { (this.listeners[type] || []).forEach(f => f()); }
  click() { this.fire("click"); }
  remove() {}
  set innerHTML(v) { this.children = []; }
}
const store = {};
globalThis.localStorage = {getItem: k => store[k] || null, setItem: (k, v) => { store[k] = v; }};
let saved = null;
globalThis.Blob = class { constructor(parts) { saved = parts.join(""); } };
globalThis.URL = {createObjectURL: () => "blob:"};
globalThis.document = {
  body: new El("body"),
  createElement: tag => new El(tag),
  createTextNode: text => new El("#text"),
  getElementById: id => elements[id] || (elements[id] = Object.assign(new El("div"), id === "data" ? {textContent: DATA_TEXT} : {})),
};
"""
NODE_DRIVER = """
const raterSelect = document.getElementById("rater");
raterSelect.value = RATER; raterSelect.fire("change");
for (const [itemId, answers] of Object.entries(ANSWERS))
  for (const [question, value] of Object.entries(answers)) elements["q-" + itemId + "-" + question + "-" + value].fire("change");
document.getElementById("save").click();
process.stdout.write(saved);
"""


def test_form_saves_a_sheet_that_ingests(label_export: Path, tmp_path: Path) -> None:
    """Run the form's own script in node (a minimal DOM stand-in): answering every item and pressing
    'Save CSV' gives the rater's sheet with the answers filled in, and ingest accepts it."""
    import re
    import shutil
    import subprocess

    node = shutil.which("node")
    if node is None:
        pytest.skip("node not installed")
    html = (label_export / "for_raters" / "form.html").read_text()
    assert not re.search(r"(src|href)=\"https?:", html)  # self-contained, works offline
    data = re.search(r'<script id="data" type="application/json">(.*?)</script>', html, flags=re.S).group(1)
    parsed = json.loads(data)
    sheet = _read(label_export / "for_raters" / "sheets" / "r2.csv")
    assert parsed["columns"] == list(sheet[0])
    assert all(set(item) <= {"item_id", "group", "post", "comment", "op_replies"} for item in parsed["items"])
    key = json.loads((label_export / "key.json").read_text())
    answers = {i: {"rating": _invented_rating(key, "r2", i)} for i in key["items"]}
    (script,) = re.findall(r"<script>(.*?)</script>", html, flags=re.S)
    program = (
        f"const DATA_TEXT = {json.dumps(data)};\nconst RATER = 'r2';\nconst ANSWERS = {json.dumps(answers)};\n"
        + NODE_DOM_SHIM
        + script
        + NODE_DRIVER
    )
    (tmp_path / "form.js").write_text(program)
    proc = subprocess.run([node, str(tmp_path / "form.js")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    (tmp_path / "r2.csv").write_bytes(proc.stdout.encode())
    saved = _read(tmp_path / "r2.csv")
    assert [r["item_id"] for r in saved] == [r["item_id"] for r in sheet]  # the rater's order
    for row, original in zip(saved, sheet, strict=True):
        assert {k: v for k, v in row.items() if k != "rating"} == {
            k: v for k, v in original.items() if k != "rating"
        }
        assert row["rating"] == answers[row["item_id"]]["rating"]
    m = main(
        [
            "label-audit",
            "ingest",
            "--key",
            str(label_export / "key.json"),
            "--output_dir",
            str(tmp_path / "o"),
        ]
        + ["--sheets", str(tmp_path / "r2.csv")]
    )
    assert m["n_items"] == len(key["items"]) and m["raters"] == ["r2"]


@pytest.mark.slow
def test_label_audit_export_on_reddit_college(
    shared_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """On a real build the paper's design comes out (nearly) whole: 141 posts of up to 4 comments, strata on
    target. Label rule 2.0 labels fewer comments per post, so a rare stratum's floor may take a post with
    fewer than 4 labeled comments: almost every post still gives 4."""
    from collections import Counter

    from dataset_builder.config import BuildConfig
    from dataset_builder.pipeline import build

    out = tmp_path_factory.mktemp("college") / "redditess"
    build(
        BuildConfig(
            inputs=[shared_data / "reddit-college"],
            out=out,
            version="0.0.0-audit",
            seed=0,
            similarity="lexical",  # the audit reads labels only; the lexical pairs keep the build fast
        ),
        key=b"k-0123456789abcdef",
    )
    export = tmp_path_factory.mktemp("college-audit") / "export"
    main(
        [
            "label-audit",
            "export",
            "--dataset",
            str(out),
            "--raters",
            "r1",
            "r2",
            "r3",
            "--output_dir",
            str(export),
        ]
    )
    key = json.loads((export / "key.json").read_text())
    per_post = Counter(m["post_id"] for m in key["items"].values())
    assert len(per_post) == 141 and max(per_post.values()) == 4
    assert sum(n == 4 for n in per_post.values()) >= 0.95 * 141 and len(key["items"]) >= 0.97 * 564
    for stratum, s in key["sampling"]["strata"].items():
        # the rare strata's floors are taken from the large ones, and whole posts of 4 are drawn: a few comments
        # off their target (the largest stratum, effective/op_signal, is 10 of 276 short under the stricter
        # support-seeking rule of issue 16)
        assert abs(s["sample"] - s["target"]) <= max(2, 0.05 * s["target"]), stratum
        assert s["sample"] >= min(5, s["population"]), stratum
    material = "".join(p.read_text() for p in (export / "for_raters").rglob("*") if p.is_file())
    assert not any(m["comment_id"] in material for m in key["items"].values())
