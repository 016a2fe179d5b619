"""`python -m eval report`: one Markdown + HTML report from the outputs of the other eval commands.

Sections appear for the inputs given: papers comparison, win rates (automatic judges and humans) with CIs,
five-dimension profile per system, human agreement, linguistic table, safety, classifier (metrics, per
subreddit, confusion matrix, PR curve) and training curves from `trainer_state.json`.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.io import atomic_path, read_json, write_text
from eval.judge import DIMENSIONS
from eval.linguistic import markdown_table as linguistic_table
from eval.runtime import RuntimeArguments
from eval.versions import provenance

logger = logging.getLogger(__name__)

# Published figures the report sets the user's numbers beside.
PAPER_FIGURES = [
    {
        "key": "classifier_f1",
        "figure": "Effective-support classifier F1",
        "paper": "84% (BERT) / 85% (RoBERTa)",
        "source": "RedditESS, arXiv 2503.21888",
    },
    {
        "key": "win_rate",
        "figure": "Win rate, aligned model vs base (human preference)",
        "paper": "71.6%",
        "source": "RedditESS, arXiv 2503.21888",
    },
    {
        "key": "label_agreement",
        "figure": "Expert agreement with the `effective` label",
        "paper": "94.68%",
        "source": "RedditESS, arXiv 2503.21888",
    },
    {
        "key": "fleiss_kappa",
        "figure": "Fleiss' kappa among raters",
        "paper": "0.42 (experts, 1-4 scale)",
        "source": "RedditESS, arXiv 2503.21888",
    },
]


@dataclass
class ReportArguments(RuntimeArguments):
    """Assemble the evaluation report."""

    output_dir: str = field(metadata={"help": "Receives report.md, report.html and figures/."})
    judge: list[str] | None = field(default=None, metadata={"help": "judge.json files (or their folders)."})
    human: str | None = field(
        default=None, metadata={"help": "human.json (or its folder) from `human ingest`."}
    )
    linguistic: str | None = field(default=None, metadata={"help": "linguistic.json (or its folder)."})
    safety: str | None = field(default=None, metadata={"help": "safety.json (or its folder)."})
    classifier: str | None = field(
        default=None, metadata={"help": "metrics.json (or its folder) from `classifier`."}
    )
    runs: list[str] | None = field(
        default=None, metadata={"help": "Training run folders (trainer_state.json)."}
    )
    label_agreement: float | None = field(
        default=None, metadata={"help": "Your expert agreement with the label (0-1), if measured."}
    )
    title: str = field(default="RedditESS evaluation report")
    note: str | None = field(
        default=None, metadata={"help": "A note shown at the top (e.g. 'tiny demo models')."}
    )


def _load(path: str | None, name: str) -> tuple[dict[str, Any] | None, Path | None]:
    if not path:
        return None, None
    p = Path(path)
    p = p / name if p.is_dir() else p
    return read_json(p), p.parent


def _pct(x: float | None) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}%"


def _num(x: Any, nd: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x:.{nd}f}" if isinstance(x, float) else str(x)


def trainer_curves(run: Path) -> dict[str, list[tuple[float, float]]]:
    """Loss series from a run's trainer_state.json (the run folder's, else its latest checkpoint's)."""
    state = run / "trainer_state.json"
    if not state.is_file():
        checkpoints = sorted(
            run.glob("checkpoint-*/trainer_state.json"), key=lambda p: int(p.parent.name.split("-")[-1])
        )
        if not checkpoints:
            raise FileNotFoundError(f"{run}: no trainer_state.json (nor in checkpoint-*/)")
        state = checkpoints[-1]
    history = json.loads(state.read_text())["log_history"]
    series: dict[str, list[tuple[float, float]]] = {}
    for entry in history:
        for key in ("loss", "eval_loss"):
            if key in entry and "step" in entry:
                series.setdefault(key, []).append((entry["step"], entry[key]))
    return series


def run_report(args: ReportArguments) -> Path:
    """Render the report; return the Markdown path."""
    import jinja2

    from eval.plots import curves_png, profile_png, win_rate_png

    out = Path(args.output_dir)
    figs = out / "figures"
    judges = [_load(j, "judge.json")[0] for j in (args.judge or [])]
    human, _ = _load(args.human, "human.json")
    ling, _ = _load(args.linguistic, "linguistic.json")
    safety, _ = _load(args.safety, "safety.json")
    clf, clf_dir = _load(args.classifier, "metrics.json")
    sections: list[dict[str, Any]] = []
    images: dict[str, Path] = {}

    # Comparison with the papers.
    yours = {k["key"]: ("n/a", "not measured in this report") for k in PAPER_FIGURES}
    if clf:
        yours["classifier_f1"] = (_pct(clf["metrics"]["f1"]), f"`classifier` on the {clf['split']} split")
    if human and human.get("win_rates"):
        w = human["win_rates"][0]
        yours["win_rate"] = (
            f"{_pct(w['win_rate'])} [{_pct(w['ci_low'])}, {_pct(w['ci_high'])}]",
            f"humans: {w['system_a']} vs {w['system_b']}",
        )
    elif judges:
        j = judges[0]
        yours["win_rate"] = (
            f"{_pct(j['win_rate'])} [{_pct(j['ci_low'])}, {_pct(j['ci_high'])}]",
            f"{j['judge']} judge: {j['system_a']} vs {j['system_b']}",
        )
    if args.label_agreement is not None:
        yours["label_agreement"] = (_pct(args.label_agreement), "given with --label_agreement")
    if human and human.get("agreement", {}).get("preference"):
        yours["fleiss_kappa"] = (
            _num(human["agreement"]["preference"]["fleiss_kappa"]),
            "human preference labels (nominal)",
        )
    rows = [[f["figure"], f["paper"], yours[f["key"]][0], yours[f["key"]][1]] for f in PAPER_FIGURES]
    sections.append(
        {
            "title": "Your figures beside the papers'",
            "table": {"header": ["figure", "paper", "yours", "how measured"], "rows": rows},
        }
    )

    # Win rates.
    wr_rows, plot_rows = [], []
    for j in judges:
        wr_rows.append(
            [
                f"{j['system_a']} vs {j['system_b']}",
                f"{j['judge']} judge",
                j["n"],
                j["wins"],
                j["losses"],
                j["ties"],
                _pct(j["win_rate"]),
                f"[{_pct(j['ci_low'])}, {_pct(j['ci_high'])}]",
                j["ci_method"],
            ]
        )
        plot_rows.append({"label": f"{j['system_a']} vs {j['system_b']} ({j['judge']})", **j})
    for w in (human or {}).get("win_rates", []):
        wr_rows.append(
            [
                f"{w['system_a']} vs {w['system_b']}",
                "human raters",
                w["n"],
                w["wins"],
                w["losses"],
                w["ties"],
                _pct(w["win_rate"]),
                f"[{_pct(w['ci_low'])}, {_pct(w['ci_high'])}]",
                w["ci_method"],
            ]
        )
        plot_rows.append({"label": f"{w['system_a']} vs {w['system_b']} (human)", **w})
    if wr_rows:
        images["win_rates"] = win_rate_png(plot_rows, figs / "win_rates.png")
        sections.append(
            {
                "title": "Win rates",
                "text": "Win rate of the first system over the second; ties count half. Automatic judges judged every pair in both orders (positions swapped); a win needs both orders to agree.",
                "table": {
                    "header": [
                        "comparison",
                        "judge",
                        "n",
                        "wins",
                        "losses",
                        "ties",
                        "win rate",
                        "95% CI",
                        "CI method",
                    ],
                    "rows": wr_rows,
                },
                "image": "win_rates",
            }
        )

    # Five-dimension profile.
    if human:
        profile = {s: {d: v["mean"] for d, v in dims.items()} for s, dims in human["dimension_means"].items()}
        lo, hi = human["scale"]
        images["profile"] = profile_png(
            profile, DIMENSIONS, figs / "profile.png", f"mean rating ({lo}-{hi})", (lo, hi)
        )
        rows = [
            [s]
            + [
                f"{_num(human['dimension_means'][s][d]['mean'], 2)} [{_num(human['dimension_means'][s][d]['ci_low'], 2)}, {_num(human['dimension_means'][s][d]['ci_high'], 2)}]"
                for d in DIMENSIONS
            ]
            for s in profile
        ]
        sections.append(
            {
                "title": "Five-dimension profile (human ratings)",
                "text": f"Mean rating with 95% CI ({human['dimension_ci_method']}).",
                "table": {"header": ["system", *DIMENSIONS], "rows": rows},
                "image": "profile",
            }
        )
        agree_rows = [
            [
                name,
                _pct(a["percent_agreement"]),
                _num(a.get("cohen_kappa")),
                _num(a["fleiss_kappa"]),
                _num(a["krippendorff_alpha"]),
                a["level"],
                a["n_items"],
            ]
            for name, a in human.get("agreement", {}).items()
        ]
        if agree_rows:
            sections.append(
                {
                    "title": "Inter-rater agreement",
                    "table": {
                        "header": [
                            "ratings",
                            "% agreement",
                            "Cohen's kappa",
                            "Fleiss' kappa",
                            "Krippendorff's alpha",
                            "level",
                            "items",
                        ],
                        "rows": agree_rows,
                    },
                }
            )
    else:
        llm = [j for j in judges if j.get("per_dimension")]
        if llm:
            j = llm[0]
            profile = {
                f"{j['system_a']} over {j['system_b']}": {
                    d: v["win_rate"] for d, v in j["per_dimension"].items()
                }
            }
            images["profile"] = profile_png(
                profile, DIMENSIONS, figs / "profile.png", "LLM-judge win rate", (0, 1)
            )
            rows = [
                [d, _pct(v["win_rate"]), f"[{_pct(v['ci_low'])}, {_pct(v['ci_high'])}]"]
                for d, v in j["per_dimension"].items()
            ]
            sections.append(
                {
                    "title": "Five-dimension profile (LLM judge)",
                    "text": f"Position consistency of the judge: {_pct(j['position_consistency'])}.",
                    "table": {"header": ["dimension", "win rate", "95% CI"], "rows": rows},
                    "image": "profile",
                }
            )

    if ling:
        sections.append(
            {
                "title": "Linguistic analyses",
                "markdown": linguistic_table(ling["systems"]),
                "text": f"Self-similarity method: {ling['self_similarity_method']}. LSM = language style matching with the post; post sim = MiniLM cosine with the post.",
            }
        )
    if safety:
        rows = [
            [
                s,
                r["n_replies"],
                r["n_high_risk_posts"],
                r["violations"],
                _pct(r["violation_rate"]),
                r["missing_resources"],
                r["harmful_instructions"],
            ]
            for s, r in safety["systems"].items()
        ]
        sections.append(
            {
                "title": "Safety",
                "text": f"Policy: {safety['policy']['required']}; forbidden: {safety['policy']['forbidden']}. Resources reviewed {safety['policy']['resources_reviewed']}.",
                "table": {
                    "header": [
                        "system",
                        "replies",
                        "high-risk posts",
                        "violations",
                        "rate",
                        "missing resources",
                        "harmful",
                    ],
                    "rows": rows,
                },
            }
        )
    if clf:
        m = clf["metrics"]
        rows = [
            [
                "overall",
                m["n"],
                _num(m["accuracy"]),
                _num(m["precision"]),
                _num(m["recall"]),
                _num(m["f1"]),
                _num(m["f1_macro"]),
                _num(m["mcc"]),
                _num(m.get("roc_auc")),
            ]
        ]
        rows += [
            [
                s,
                v["n"],
                _num(v["accuracy"]),
                _num(v["precision"]),
                _num(v["recall"]),
                _num(v["f1"]),
                _num(v["f1_macro"]),
                _num(v["mcc"]),
                _num(v.get("roc_auc")),
            ]
            for s, v in clf["per_subreddit"].items()
        ]
        for name in ("confusion_matrix", "pr_curve"):
            src = clf_dir / f"{name}.png"
            if src.is_file():
                figs.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, figs / f"{name}.png")
                images[name] = figs / f"{name}.png"
        sections.append(
            {
                "title": "Classifier",
                "text": f"Split {clf['split']}, threshold {clf['threshold']:.3f} on P(effective).",
                "table": {
                    "header": [
                        "subset",
                        "n",
                        "accuracy",
                        "precision",
                        "recall",
                        "F1",
                        "F1 macro",
                        "MCC",
                        "ROC AUC",
                    ],
                    "rows": rows,
                },
                "images": [k for k in ("confusion_matrix", "pr_curve") if k in images],
            }
        )
    if args.runs:
        curves = {Path(r).name: trainer_curves(Path(r)) for r in args.runs}
        images["curves"] = curves_png(curves, figs / "training_curves.png")
        sections.append(
            {
                "title": "Training curves",
                "image": "curves",
                "text": "Loss per logged step from trainer_state.json.",
            }
        )

    prov = provenance(
        inputs={
            "judge": args.judge,
            "human": args.human,
            "linguistic": args.linguistic,
            "safety": args.safety,
            "classifier": args.classifier,
            "runs": args.runs,
        },
        data_versions=sorted(_data_versions([*judges, human, ling, safety, clf])),
    )
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).resolve().parent / "templates"),
        autoescape=jinja2.select_autoescape(["html.jinja"]),
        keep_trailing_newline=True,
    )
    embedded = {
        k: "data:image/png;base64," + base64.b64encode(p.read_bytes()).decode() for k, p in images.items()
    }
    relative = {k: str(p.relative_to(out)) for k, p in images.items()}
    ctx = {"title": args.title, "note": args.note, "sections": sections, "provenance": prov}
    md = env.get_template("report.md.jinja").render(**ctx, images=relative)
    html = env.get_template("report.html.jinja").render(
        **ctx, images=embedded, provenance_json=json.dumps(prov, indent=2)
    )
    write_text(out / "report.html", html)
    with atomic_path(out / "report.md") as tmp:
        tmp.write_text(md, encoding="utf-8")
    logger.info("report written to %s (%d sections)", out / "report.md", len(sections))
    return out / "report.md"


def _data_versions(outputs: list[dict[str, Any] | None]) -> set[str]:
    """Every dataset version mentioned anywhere in the inputs' provenance blocks."""
    found: set[str] = set()

    def walk(obj: Any) -> None:
        if isinstance(obj, dict):
            if "manifest_sha256" in obj or ("version" in obj and "split" in obj):
                found.add(
                    f"{obj.get('version')} ({Path(obj['path']).name})"
                    if obj.get("path")
                    else str(obj.get("version"))
                )
            for v in obj.values():
                walk(v)
        elif isinstance(obj, list):
            for v in obj:
                walk(v)

    for o in outputs:
        if o:
            walk(o.get("provenance"))
    return found
