"""`python -m eval human export|ingest`: the human-evaluation kit.

Export writes blinded items (two replies to one post from two systems, sides and order randomized, system
names hidden) as one CSV sheet per rater and a self-contained offline HTML form; the mapping back to systems
stays in `key.json`, which raters never see. Ingest validates the filled sheets (known raters, known items,
ratings on the scale; every offending row is listed) and computes per-dimension means with CIs, pairwise
win-rates, inter-rater agreement and DPO2 preference pairs in the RedditESS `preference` format.

Every interval over human ratings is a bootstrap over posts (`eval.stats.bootstrap_over_clusters`): the
several raters of one item, and the several items of one post, are not independent evidence, so resampling
rating rows would make the intervals too narrow. Win rates are given with ties as half and with ties excluded,
ties counted separately. A DPO2 pair is kept only when a strict majority of *all* raters of the item (ties and
blank preferences count as not preferring) prefers the same reply.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import random
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

from eval.agreement import agreement_summary
from eval.io import atomic_path, format_rows, open_sheet, write_json, write_jsonl, write_text
from eval.judge import DIMENSIONS
from eval.runtime import RuntimeArguments
from eval.stats import bootstrap_over_clusters, win_rate_summary
from eval.systems import common_ids, load_systems
from eval.versions import provenance
from redditess_core.jsonfile import read_json

logger = logging.getLogger(__name__)
KEY_FILE = "key.json"
RATER_DIR = "for_raters"  # everything raters get; key.json stays outside it
PREFERENCE_VALUES = ("1", "2", "tie")
SIDES = ("1", "2")


def sheet_columns() -> list[str]:
    """Columns of a rater sheet (the HTML form saves the same columns)."""
    cols = ["rater", "item_id", "post", "reply_1", "reply_2", "preference"]
    cols += [f"reply_{s}_{d}" for s in SIDES for d in DIMENSIONS]
    return cols + ["comment"]


@dataclass
class HumanExportArguments(RuntimeArguments):
    """Export blinded items for human raters."""

    generations: list[str] = field(metadata={"help": "Two or more generation JSONL files (same prompt ids)."})
    raters: list[str] = field(
        metadata={"help": "Rater ids (pseudonyms); sheets from anyone else are rejected."}
    )
    output_dir: str = field(
        metadata={"help": "Receives for_raters/ (sheets/<rater>.csv, form.html, README.txt) and key.json."}
    )
    names: list[str] | None = field(
        default=None, metadata={"help": "System names (default: from the files)."}
    )
    max_prompts: int | None = field(default=None, metadata={"help": "Sample this many prompts (seeded)."})
    scale_min: int = field(default=1)
    scale_max: int = field(default=5)
    seed: int = field(default=0)


@dataclass
class HumanIngestArguments(RuntimeArguments):
    """Ingest filled rater sheets."""

    export_dir: str = field(metadata={"help": "The folder `human export` wrote (holds key.json)."})
    sheets: list[str] = field(
        metadata={"help": "Filled CSV sheets (from the CSV or saved from the HTML form)."}
    )
    output_dir: str = field(
        metadata={"help": "Receives human.json, dpo2_pairs.parquet and dpo2_pairs.jsonl."}
    )
    seed: int = field(default=0, metadata={"help": "Seed of the bootstrap over posts."})


def clustered_mean(values: list[float], clusters: list[str], seed: int = 0) -> dict[str, float | int]:
    """Mean with a 95% bootstrap interval over clusters (posts); n = ratings, n_clusters = posts."""
    if not values:
        return {
            "mean": float("nan"),
            "ci_low": float("nan"),
            "ci_high": float("nan"),
            "n": 0,
            "n_clusters": 0,
        }
    low, high = bootstrap_over_clusters(values, clusters, seed=seed)
    return {
        "mean": float(sum(values) / len(values)),
        "ci_low": low,
        "ci_high": high,
        "n": len(values),
        "n_clusters": len(set(clusters)),
    }


def run_export(args: HumanExportArguments) -> Path:
    """Write the blinded items; return the output folder."""
    raters = [r.strip() for r in args.raters if r.strip()]
    if len(set(raters)) != len(raters) or not raters:
        raise ValueError(f"--raters must be distinct non-empty ids, got {args.raters}")
    if args.scale_min >= args.scale_max:
        raise ValueError(f"scale {args.scale_min}..{args.scale_max} is empty")
    systems = load_systems(args.generations, args.names)
    if len(systems) < 2:
        raise ValueError("human export needs at least two generation files")
    ids = common_ids(systems)
    rng = random.Random(args.seed)
    if args.max_prompts is not None and args.max_prompts < len(ids):
        ids = sorted(rng.sample(ids, args.max_prompts), key=ids.index)
    items = []
    for rid in ids:
        for sa, sb in combinations(systems, 2):
            left, right = (sa, sb) if rng.random() < 0.5 else (sb, sa)
            items.append({"id": rid, "left": left, "right": right})
    rng.shuffle(items)
    export_id = hashlib.sha256(
        f"{args.seed}|{'|'.join(ids)}|{'|'.join(s.name for s in systems)}".encode()
    ).hexdigest()[:12]
    key: dict[str, Any] = {
        "export_id": export_id,
        "raters": raters,
        "dimensions": list(DIMENSIONS),
        "scale": [args.scale_min, args.scale_max],
        "systems": [s.name for s in systems],
        "seed": args.seed,
        "items": {},
        "provenance": provenance(
            systems={s.name: {"file": str(s.path), "generation": s.provenance} for s in systems}
        ),
    }
    public = []
    for n, it in enumerate(items, 1):
        item_id = f"{export_id}-{n:04d}"
        rec_l, rec_r = it["left"].records[it["id"]], it["right"].records[it["id"]]
        key["items"][item_id] = {
            "prompt_id": it["id"],
            "post_id": rec_l.get("post_id", it["id"]),
            "prompt": rec_l.get("prompt"),
            "systems": {"1": it["left"].name, "2": it["right"].name},
            "responses": {"1": rec_l["response"], "2": rec_r["response"]},
        }
        public.append(
            {
                "item_id": item_id,
                "post": rec_l["post"],
                "reply_1": rec_l["response"],
                "reply_2": rec_r["response"],
            }
        )
    out = Path(args.output_dir)
    orders = {}
    for rater in raters:
        order = list(range(len(public)))
        random.Random(f"{args.seed}|{rater}").shuffle(order)
        orders[rater] = order
        _write_sheet(out / RATER_DIR / "sheets" / f"{_safe(rater)}.csv", rater, [public[i] for i in order])
    form = _render_form(export_id, raters, public, orders, args.scale_min, args.scale_max)
    write_text(out / RATER_DIR / "form.html", form)
    write_text(out / RATER_DIR / "README.txt", _instructions(args.scale_min, args.scale_max))
    write_json(out / KEY_FILE, key)
    logger.info(
        "exported %d blinded items for %d raters: send %s to raters, keep %s",
        len(public),
        len(raters),
        out / RATER_DIR,
        out / KEY_FILE,
    )
    return out


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def _write_sheet(path: Path, rater: str, rows: list[dict[str, str]]) -> None:
    with atomic_path(path) as tmp, tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=sheet_columns())
        writer.writeheader()
        for row in rows:
            writer.writerow({**{c: "" for c in sheet_columns()}, **row, "rater": rater})


def _instructions(lo: int, hi: int) -> str:
    dims = "\n".join(f"  - {d}" for d in DIMENSIONS)
    return (
        "Human evaluation of replies to posts in mental-health communities.\n\n"
        "Each item shows a post and two replies. For each item:\n"
        "  preference: 1 if reply 1 is better overall, 2 if reply 2 is, tie if neither is.\n"
        f"  rate each reply from {lo} (poor) to {hi} (excellent) on:\n{dims}\n\n"
        "Open form.html in a browser (works offline), choose your rater id, fill in and press 'Save CSV';\n"
        "or fill in your CSV from sheets/ in a spreadsheet. Send the CSV back. Do not edit item_id or rater.\n"
        "Posts may contain distressing content, including self-harm; take breaks and stop whenever you need.\n"
    )


def form_template(name: str) -> Any:
    """The jinja2 template `name` of eval/templates/, HTML-autoescaped: the offline rating forms (this kit's
    and the label and pair audits')."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).resolve().parent / "templates"),
        autoescape=jinja2.select_autoescape(["html", "jinja"]),
    )
    return env.get_template(name)


def _render_form(
    export_id: str,
    raters: list[str],
    items: list[dict[str, str]],
    orders: dict[str, list[int]],
    lo: int,
    hi: int,
) -> str:
    data = {
        "export_id": export_id,
        "raters": raters,
        "items": items,
        "orders": orders,
        "columns": sheet_columns(),
        "dimensions": list(DIMENSIONS),
        "scale": [lo, hi],
    }
    return form_template("human_form.html.jinja").render(data=data, instructions=_instructions(lo, hi))


# ---------------------------------------------------------------------------------------------- ingest


def read_sheets(paths: list[str], key: dict[str, Any]) -> list[dict[str, Any]]:
    """Parse and validate every sheet; raise once, listing every offending row as file:line."""
    lo, hi = key["scale"]
    raters, items = set(key["raters"]), key["items"]
    required = {"rater", "item_id", "preference"} | {
        f"reply_{s}_{d}" for s in SIDES for d in key["dimensions"]
    }
    problems: list[str] = []
    ratings: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], str] = {}
    for path in paths:
        p = Path(path)
        reader = open_sheet(p, required, problems)
        if reader is None:
            continue
        n_rows = 0
        for row in reader:
            n_rows += 1
            where = f"{p.name} row {n_rows + 1}"  # spreadsheet row (header = row 1)
            rater, item_id = (row.get("rater") or "").strip(), (row.get("item_id") or "").strip()
            errs = []
            if rater not in raters:
                errs.append(f"unknown rater {rater!r} (known: {sorted(raters)})")
            if item_id not in items:
                errs.append(f"unknown item_id {item_id!r} (not in this export)")
            pref = (row.get("preference") or "").strip().lower()
            if pref not in PREFERENCE_VALUES + ("",):
                errs.append(f"preference {pref!r} is not 1, 2, tie or empty")
            scores: dict[str, dict[str, int | None]] = {s: {} for s in SIDES}
            for s in SIDES:
                for d in key["dimensions"]:
                    raw = (row.get(f"reply_{s}_{d}") or "").strip()
                    if not raw:
                        scores[s][d] = None
                        continue
                    try:
                        value = float(raw)
                    except ValueError:
                        value = None
                    if value is None or not value.is_integer() or not lo <= value <= hi:
                        errs.append(f"reply_{s}_{d}={raw!r} outside the {lo}-{hi} scale")
                    else:
                        scores[s][d] = int(value)
            if not errs and (rater, item_id) in seen:
                errs.append(f"duplicate rating of {item_id} by {rater} (first at {seen[(rater, item_id)]})")
            if errs:
                problems.append(f"{where}: " + "; ".join(errs))
                continue
            seen[(rater, item_id)] = where
            ratings.append({"rater": rater, "item_id": item_id, "preference": pref or None, "scores": scores})
        if n_rows == 0:
            problems.append(f"{p}: no rating rows")
    if problems:
        raise ValueError(f"{len(problems)} problem(s) in the rater sheets:" + format_rows(problems, limit=50))
    return ratings


def run_ingest(args: HumanIngestArguments) -> dict[str, Any]:
    """Validate sheets, compute the statistics and DPO2 pairs; return the summary written to human.json."""
    key = read_json(Path(args.export_dir) / KEY_FILE)
    ratings = read_sheets(args.sheets, key)
    items, raters, dims, systems = key["items"], key["raters"], key["dimensions"], key["systems"]
    rated_items = sorted({r["item_id"] for r in ratings})
    by_item: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for r in ratings:
        by_item[r["item_id"]][r["rater"]] = r

    # Per-dimension means with CIs (bootstrap over posts), per system.
    def post_of(item_id: str) -> str:
        return str(items[item_id].get("post_id") or items[item_id]["prompt_id"])

    values: dict[str, dict[str, list[int]]] = {s: {d: [] for d in dims} for s in systems}
    value_posts: dict[str, dict[str, list[str]]] = {s: {d: [] for d in dims} for s in systems}
    for r in ratings:
        for side in SIDES:
            system = items[r["item_id"]]["systems"][side]
            for d in dims:
                if r["scores"][side][d] is not None:
                    values[system][d].append(r["scores"][side][d])
                    value_posts[system][d].append(post_of(r["item_id"]))
    dimension_means = {
        s: {d: clustered_mean(values[s][d], value_posts[s][d], args.seed) for d in dims} for s in systems
    }

    # Pairwise win rates over all rater judgements, system order as exported; CI by bootstrap over posts.
    verdicts: dict[tuple[str, str], list[str]] = defaultdict(list)
    verdict_posts: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in ratings:
        if r["preference"] is None:
            continue
        sides = items[r["item_id"]]["systems"]
        a, b = sorted(sides.values(), key=systems.index)
        winner = None if r["preference"] == "tie" else sides[r["preference"]]
        verdicts[(a, b)].append("tie" if winner is None else "a" if winner == a else "b")
        verdict_posts[(a, b)].append(post_of(r["item_id"]))
    win_rates = [
        {
            "system_a": a,
            "system_b": b,
            "basis": "rater judgements (n = ratings; CI resamples posts)",
            "n_posts": len(set(verdict_posts[(a, b)])),
            **win_rate_summary(v, method="bootstrap", seed=args.seed, clusters=verdict_posts[(a, b)]),
        }
        for (a, b), v in verdicts.items()
    ]

    # Agreement: preference as a nominal label (the preferred system or tie); ratings as ordinal per reply.
    agreement: dict[str, Any] = {}
    if len(raters) >= 2:
        pref_rows = []
        for item_id in rated_items:
            row = []
            for rater in raters:
                r = by_item[item_id].get(rater)
                pref = r and r["preference"]
                row.append(None if not pref else "tie" if pref == "tie" else items[item_id]["systems"][pref])
            pref_rows.append(row)
        agreement["preference"] = agreement_summary(pref_rows, level="nominal")
        for d in dims:
            rows = [
                [by_item[i][rt]["scores"][s][d] if rt in by_item[i] else None for rt in raters]
                for i in rated_items
                for s in SIDES
            ]
            agreement[d] = agreement_summary(rows, level="ordinal")

    pairs = dpo2_pairs(key, by_item)
    out = Path(args.output_dir)
    _write_pairs(out, pairs)
    summary = {
        "n_ratings": len(ratings),
        "n_items_rated": len(rated_items),
        "n_items_exported": len(items),
        "raters": {rt: sum(r["rater"] == rt for r in ratings) for rt in raters},
        "scale": key["scale"],
        "dimension_means": dimension_means,
        "dimension_ci_method": "percentile bootstrap 95% over posts (all ratings of a drawn post kept)",
        "win_rates": win_rates,
        "agreement": agreement,
        "dpo2_pairs": {
            "n": len(pairs),
            "rule": "kept when more than half of all raters of the item prefer the same reply (tie and blank "
            "preferences count against); other items dropped",
        },
        "provenance": provenance(
            export_id=key["export_id"],
            systems=key["provenance"].get("systems"),
            sheets={str(p): hashlib.sha256(Path(p).read_bytes()).hexdigest()[:16] for p in args.sheets},
        ),
    }
    write_json(out / "human.json", summary)
    logger.info("ingested %d ratings on %d items; %d DPO2 pairs", len(ratings), len(rated_items), len(pairs))
    return summary


def dpo2_pairs(key: dict[str, Any], by_item: dict[str, dict[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """One preference pair per item where a strict majority of *all* its raters prefer the same side.

    Ties and blank preferences count as raters who did not prefer that side: with three raters, one vote for
    reply 1 and two ties is no majority and gives no pair (a single rater's vote is not a consensus).

    Columns follow the RedditESS `preference` config (same types, so the pairs concatenate with it), with
    pair_source="human", chosen/rejected_score = votes, seconds_difference null, plus the systems and item.
    """
    from redditess_core.safety import screen_text

    pairs = []
    for item_id, ratings in sorted(by_item.items()):
        votes = {s: sum(r["preference"] == s for r in ratings.values()) for s in SIDES}
        majority = [s for s in SIDES if 2 * votes[s] > len(ratings)]
        if not majority:
            continue
        win = majority[0]
        lose = "2" if win == "1" else "1"
        item = key["items"][item_id]
        prompt = item.get("prompt")
        if not prompt:
            raise ValueError(
                f"key item {item_id}: the generation record had no prompt; cannot build a DPO pair"
            )
        pairs.append(
            {
                "prompt": prompt,
                "chosen": [{"role": "assistant", "content": item["responses"][win]}],
                "rejected": [{"role": "assistant", "content": item["responses"][lose]}],
                "post_id": item["post_id"],
                "chosen_id": f"{item['systems'][win]}:{item['prompt_id']}",
                "rejected_id": f"{item['systems'][lose]}:{item['prompt_id']}",
                "chosen_score": votes[win],
                "rejected_score": votes[lose],
                "score_ratio": votes[win] / max(votes[lose], 1),
                "seconds_difference": None,
                "pair_source": "human",
                "is_sensitive": screen_text(
                    " ".join(m["content"] for m in prompt if m.get("role") == "user")
                ),
                "chosen_system": item["systems"][win],
                "rejected_system": item["systems"][lose],
                "n_raters": len(ratings),
                "item_id": item_id,
            }
        )
    return pairs


def _write_pairs(out: Path, pairs: list[dict[str, Any]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from redditess_core.contract import arrow_schema

    # The `preference` config's columns and features (so the pairs concatenate with it), then who voted.
    schema = arrow_schema(
        "preference",
        extra=[
            ("chosen_system", pa.string()),
            ("rejected_system", pa.string()),
            ("n_raters", pa.int64()),
            ("item_id", pa.string()),
        ],
    )
    table = pa.Table.from_pylist(pairs, schema=schema)
    with atomic_path(out / "dpo2_pairs.parquet") as tmp:
        pq.write_table(table, tmp)
    write_jsonl(out / "dpo2_pairs.jsonl", pairs)
