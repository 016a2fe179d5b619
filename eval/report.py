"""`python -m eval report`: one Markdown + HTML report from the outputs of the other eval commands.

Sections appear for the inputs given: papers comparison (a figure beside a paper's only from the same
procedure, else "not comparable" and why), dataset statistics beside the paper's, the label audit, judge
validity, win rates (automatic judges and humans; invalid judges struck through with the reason) with CIs,
five-dimension profile per system, human agreement, linguistic table, safety, classifier (model beside the
`majority` and `tfidf_logreg` baselines, per subreddit and per label_source, confusion matrix, ROC curve, PR
curve with the no-skill line) and training curves from `trainer_state.json` (one panel per run). The Markdown
is the source; the HTML is that Markdown rendered by markdown-it-py, with the figures embedded.
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

from eval.io import atomic_path, write_text
from eval.judge import DIMENSIONS
from eval.linguistic import markdown_table as linguistic_table
from eval.runtime import RuntimeArguments
from eval.versions import provenance
from redditess_core.jsonfile import read_json

logger = logging.getLogger(__name__)

# Published figures the report sets the user's numbers beside, each with the procedure that produced it: a
# figure of yours appears beside one only when it comes from the same procedure, else "not comparable" + why.
PAPER_FIGURES = [
    {
        "key": "classifier_f1",
        "figure": "Effective-support classifier F1",
        "paper": "84% (BERT) / 85% (RoBERTa)",
        "procedure": "BERT/RoBERTa on the paper's 8,507 labeled comments, 90/10 split; F1 averaging not stated",
        "source": "RedditESS, arXiv 2503.21888",
    },
    {
        "key": "win_rate",
        "figure": "Win rate, aligned model vs base (human preference)",
        "paper": "71.6%",
        "procedure": "human preference tests of the aligned model against the base model",
        "source": "RedditESS, arXiv 2503.21888",
    },
    {
        "key": "label_agreement",
        "figure": "Expert agreement with the `effective` label",
        "paper": "94.68%",
        "procedure": "experts rated 564 comments of 141 posts on a 1-4 scale; agreement with the label",
        "source": "RedditESS, arXiv 2503.21888",
    },
    {
        "key": "fleiss_kappa",
        "figure": "Fleiss' kappa among expert raters of dataset comments",
        "paper": "0.42 (experts, 1-4 scale)",
        "procedure": "the same expert ratings of dataset comments (1-4 scale)",
        "source": "RedditESS, arXiv 2503.21888",
    },
    {
        "key": "llumi_dpo2",
        "figure": "LLUMI DPO2 vs GPT-5-nano (human ratings, five dimensions)",
        "paper": "within ~1%",
        "procedure": "human ratings of DPO2 and GPT-5-nano replies on readability, empathy, connection, "
        "actionability, safety",
        "source": "LLUMI, arXiv 2605.30273",
    },
]
# The paper's dataset, beside a build's (RedditESS, arXiv 2503.21888; label balance is not reported there).
PAPER_DATASET = {
    "posts": 1689,
    "comments": 59666,
    "labeled comments": 8507,
    "comments per post": 59666 / 1689,
    "effective share of labeled comments": None,
}


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
    label_audit: str | None = field(
        default=None,
        metadata={
            "help": "The label audit's metrics.json (or its folder): expert agreement with the label and "
            "Fleiss' kappa, set beside the paper's 94.68%% / 0.42."
        },
    )
    dataset: str | None = field(
        default=None, metadata={"help": "RedditESS folder: its statistics are shown beside the paper's."}
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


NOT_COMPARABLE = "not comparable"


def _cell(x: Any) -> str:
    """A Markdown table cell: pipes escaped, newlines flattened."""
    return str(x).replace("|", "\\|").replace("\n", " ")


def _estimate(entry: Any) -> tuple[float | None, float | None, float | None]:
    """(value, ci_low, ci_high) from a number or a dict holding a value and CI fields (label audit output)."""
    if isinstance(entry, (int, float)):
        return float(entry), None, None
    if not isinstance(entry, dict):
        return None, None, None
    value = next(
        (entry[k] for k in ("value", "estimate", "kappa", "agreement", "rate", "mean") if k in entry), None
    )
    low = next((entry[k] for k in ("ci_low", "low", "lower") if k in entry), None)
    high = next((entry[k] for k in ("ci_high", "high", "upper") if k in entry), None)
    if low is None and isinstance(entry.get("ci"), (list, tuple)) and len(entry["ci"]) == 2:
        low, high = entry["ci"]
    return value, low, high


def _with_ci(entry: Any, fmt: Any = None) -> str:
    fmt = fmt or _pct
    value, low, high = _estimate(entry)
    if value is None:
        return "n/a"
    return fmt(value) + (f" [{fmt(low)}, {fmt(high)}]" if low is not None and high is not None else "")


def _judge_status(j: dict[str, Any]) -> tuple[bool, str]:
    """(valid, reason) of a judge summary; summaries without a validity block are not validated."""
    validity = j.get("validity")
    if not validity:
        return False, "validity not checked (judge.json predates the validity check)"
    if j.get("valid"):
        return True, "valid"
    return False, "; ".join(validity.get("reasons") or ["invalid"])


def paper_rows(
    clf: dict[str, Any] | None,
    human: dict[str, Any] | None,
    audit: dict[str, Any] | None,
) -> list[list[str]]:
    """figure | paper | yours | comparable | how measured / why not, for every PAPER_FIGURES entry."""
    yours: dict[str, tuple[str, str, str]] = {}
    if clf:
        m = clf["metrics"]
        maj = (clf.get("baselines") or {}).get("majority", {})
        yours["classifier_f1"] = (
            NOT_COMPARABLE,
            "no",
            f"a different dataset and split (yours: {clf['split']}, F1 {_pct(m['f1'])}, macro F1 "
            f"{_pct(m['f1_macro'])}, MCC {_num(m['mcc'])}; always-`effective` baseline F1 {_pct(maj.get('f1'))}); "
            "see the Classifier section",
        )
    else:
        yours["classifier_f1"] = (NOT_COMPARABLE, "no", "no classifier evaluation given (--classifier)")
    wins = (human or {}).get("win_rates") or []
    if wins:
        w = wins[0]
        yours["win_rate"] = (
            f"{_pct(w['win_rate'])} [{_pct(w['ci_low'])}, {_pct(w['ci_high'])}] (ties ½); "
            f"{_pct(w.get('win_rate_excluding_ties'))} without ties",
            "yes",
            f"human raters: {w['system_a']} vs {w['system_b']}, {w['n']} ratings, {w['ties']} ties; "
            f"{w['ci_method']}",
        )
    else:
        yours["win_rate"] = (
            NOT_COMPARABLE,
            "no",
            "no human ratings given (--human); an automatic judge's win rate is not a human preference",
        )
    if audit:
        yours["label_agreement"] = (
            _with_ci(audit.get("agreement_effective")),
            "yes",
            "label audit: share of `effective`-labeled comments the raters judge effective "
            f"(`not_effective`: {_with_ci(audit.get('agreement_not_effective'))})",
        )
        yours["fleiss_kappa"] = (
            _with_ci(audit.get("fleiss_kappa"), _num),
            "yes",
            "label audit: Fleiss' kappa among raters of dataset comments",
        )
    else:
        why = "needs the label audit (expert ratings of dataset comments, --label_audit)"
        yours["label_agreement"] = (NOT_COMPARABLE, "no", why)
        yours["fleiss_kappa"] = (
            NOT_COMPARABLE,
            "no",
            why + "; kappa over pairwise system preferences is a different quantity",
        )
    yours["llumi_dpo2"] = _llumi_row(human)
    return [
        [f["figure"], f["paper"], *yours[f["key"]][:2], f"{yours[f['key']][2]} (paper: {f['procedure']})"]
        for f in PAPER_FIGURES
    ]


def _llumi_row(human: dict[str, Any] | None) -> tuple[str, str, str]:
    """DPO2 vs GPT-5-nano from human five-dimension means, when both systems were rated."""
    means = (human or {}).get("dimension_means") or {}
    dpo2 = [s for s in means if "dpo2" in s.lower()]
    ref = [s for s in means if "gpt-5-nano" in s.lower()]
    if not (dpo2 and ref):
        return (
            NOT_COMPARABLE,
            "no",
            "needs human five-dimension ratings of a DPO2 system and GPT-5-nano on the same posts",
        )

    def overall(s: str) -> float:
        return sum(v["mean"] for v in means[s].values()) / len(means[s])

    diff = overall(dpo2[0]) / overall(ref[0]) - 1
    return (f"{100 * diff:+.1f}%", "yes", f"mean of the five dimension means, {dpo2[0]} vs {ref[0]}")


def dataset_statistics(folder: str | Path) -> dict[str, Any]:
    """Posts, comments, labeled comments, comments per post and label balance of a RedditESS folder (all
    splits, read from its parquet files). Posts and comments come from the `comments` config; a folder without
    it counts posts from `effective_support` and reports comments as None.

    Raises:
        FileNotFoundError: when the folder has no `effective_support` parquet files.
    """
    import pyarrow.parquet as pq

    root = Path(folder)

    def column(config: str, name: str) -> list[Any] | None:
        files = sorted((root / "data" / config).glob("*.parquet"))
        if not files:
            return None
        return [v for f in files for v in pq.read_table(f, columns=[name]).column(name).to_pylist()]

    labeled = column("effective_support", "label")
    if labeled is None:
        raise FileNotFoundError(f"{root}: no data/effective_support/*.parquet (is it a RedditESS folder?)")
    labels = [v for v in labeled if v is not None]
    comment_posts = column("comments", "post_id")
    posts = len(
        set(comment_posts if comment_posts is not None else column("effective_support", "post_id") or [])
    )
    comments = len(comment_posts) if comment_posts is not None else None
    return {
        "posts": posts,
        "comments": comments,
        "labeled comments": len(labels),
        "comments per post": comments / posts if comments is not None and posts else None,
        "effective share of labeled comments": sum(v == 1 for v in labels) / len(labels) if labels else None,
    }


def _win_row(label: str, judge: str, w: dict[str, Any], status: str, valid: bool) -> list[str]:
    cells = [
        w["n"],
        w["wins"],
        w["losses"],
        w["ties"],
        _pct(w["win_rate"]),
        f"[{_pct(w['ci_low'])}, {_pct(w['ci_high'])}]",
        _pct(w.get("win_rate_excluding_ties")),
        f"[{_pct(w.get('ci_low_excluding_ties'))}, {_pct(w.get('ci_high_excluding_ties'))}]",
        w["ci_method"],
    ]
    if not valid:  # greyed out (struck through) with the reason beside it
        cells = [f"~~{c}~~" for c in cells]
    return [label, judge, status, *cells]


def _metric_row(name: str, m: dict[str, Any]) -> list[str]:
    return [
        name,
        m["n"],
        _num(m["f1"]),
        _num(m["f1_macro"]),
        _num(m["mcc"]),
        _num(m.get("roc_auc")),
        _num(m.get("pr_auc")),
        _num(m.get("positive_rate")),
        _num(m.get("predicted_positive_rate")),
        _num(m["accuracy"]),
    ]


METRIC_HEADER = [
    "F1 (effective)",
    "macro F1",
    "MCC",
    "ROC-AUC",
    "PR-AUC",
    "positive rate (PR no-skill)",
    "predicted positive",
    "accuracy",
]


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
    audit, _ = _load(args.label_audit, "metrics.json")
    sections: list[dict[str, Any]] = []
    images: dict[str, Path] = {}

    sections.append(
        {
            "title": "Your figures beside the papers'",
            "text": "A figure of yours stands beside a paper's only when it comes from the same procedure; "
            "otherwise the row says *not comparable* and why.",
            "table": {
                "header": ["figure", "paper", "yours", "comparable", "how measured / why not"],
                "rows": paper_rows(clf, human, audit),
            },
        }
    )
    if args.dataset:
        stats = dataset_statistics(args.dataset)
        rows = [
            [
                k,
                "not reported" if PAPER_DATASET[k] is None else _stat(PAPER_DATASET[k]),
                "n/a" if v is None else _pct(v) if "share" in k else _stat(v),
            ]
            for k, v in stats.items()
        ]
        sections.append(
            {
                "title": "Dataset statistics beside the paper's",
                "text": f"Yours: {args.dataset} (all splits). Descriptive only: the paper kept edited posts "
                "with OP replies and no deleted comments from its own forums; your build's sources and filters "
                "are in its manifest.",
                "table": {"header": ["statistic", "paper (RedditESS)", "yours"], "rows": rows},
            }
        )
    if audit and audit.get("by_label_source"):
        rows = [
            [
                src,
                *(
                    _with_ci(v.get(k)) if isinstance(v, dict) else "n/a"
                    for k in ("agreement_effective", "agreement_not_effective")
                ),
            ]
            if isinstance(v, dict) and ("agreement_effective" in v or "agreement_not_effective" in v)
            else [src, _with_ci(v), ""]
            for src, v in audit["by_label_source"].items()
        ]
        sections.append(
            {
                "title": "Label audit by label source",
                "table": {
                    "header": ["label_source", "agreement (effective)", "agreement (not_effective)"],
                    "rows": rows,
                },
            }
        )

    # Judge validity, then win rates (invalid judges greyed out with the reason).
    status = [_judge_status(j) for j in judges]
    if judges:
        rows = []
        for j, (valid, reason) in zip(judges, status, strict=True):
            v = j.get("validity") or {}
            hp, cr = v.get("human_pairs") or {}, v.get("canned_reply") or {}
            rows.append(
                [
                    f"{j['judge']} ({j['system_a']} vs {j['system_b']})",
                    v.get("n_posts", "n/a"),
                    f"{_pct(hp.get('win_rate'))} [{_pct(hp.get('ci_low'))}, {_pct(hp.get('ci_high'))}]"
                    if hp
                    else "n/a",
                    _pct(cr.get("win_rate")) if cr else "n/a",
                    _num(j.get("tie_margin")),
                    "**valid**" if valid else f"**invalid**: {reason}",
                ]
            )
        sections.append(
            {
                "title": "Judge validity",
                "text": "Before its verdicts count, a judge must prefer the `effective` comment over the "
                "`not_effective` one on held-out posts (95% CI above 0.5) and must not prefer a canned generic "
                "reply to real effective comments. Invalid judges' win rates are struck through below.",
                "table": {
                    "header": [
                        "judge",
                        "posts",
                        "agrees with human pairs (CI)",
                        "canned reply wins",
                        "tie margin",
                        "status",
                    ],
                    "rows": rows,
                },
            }
        )
    wr_rows, plot_rows = [], []
    for j, (valid, reason) in zip(judges, status, strict=True):
        label = f"{j['system_a']} vs {j['system_b']}"
        wr_rows.append(
            _win_row(label, f"{j['judge']} judge", j, "valid" if valid else f"invalid: {reason}", valid)
        )
        plot_rows.append({"label": f"{label} ({j['judge']})", **j, "valid": valid})
    for w in (human or {}).get("win_rates", []):
        label = f"{w['system_a']} vs {w['system_b']}"
        wr_rows.append(_win_row(label, "human raters", w, "human", True))
        plot_rows.append({"label": f"{label} (human)", **w, "valid": True})
    if wr_rows:
        images["win_rates"] = win_rate_png(plot_rows, figs / "win_rates.png")
        sections.append(
            {
                "title": "Win rates",
                "text": "Win rate of the first system over the second, with ties as half and with ties excluded; "
                "ties counted separately. Human intervals resample posts (raters of one post are not "
                "independent). Invalid judges are struck through (grey in the figure).",
                "table": {
                    "header": [
                        "comparison",
                        "judge",
                        "status",
                        "n",
                        "wins",
                        "losses",
                        "ties",
                        "win rate (ties ½)",
                        "95% CI",
                        "win rate (ties excluded)",
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
                    "text": "Agreement among your raters of system replies (not the paper's expert rating of "
                    "dataset comments: see the first table).",
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
        llm = [(j, st) for j, st in zip(judges, status, strict=True) if j.get("per_dimension")]
        if llm:
            j, (valid, reason) = llm[0]
            profile = {
                f"{j['system_a']} over {j['system_b']}": {
                    d: v["win_rate"] for d, v in j["per_dimension"].items()
                }
            }
            images["profile"] = profile_png(
                profile, DIMENSIONS, figs / "profile.png", "LLM-judge win rate", (0, 1)
            )
            strike = (lambda c: c) if valid else (lambda c: f"~~{c}~~")
            rows = [
                [
                    d,
                    strike(_pct(v["win_rate"])),
                    strike(f"[{_pct(v['ci_low'])}, {_pct(v['ci_high'])}]"),
                    v["ties"],
                ]
                for d, v in j["per_dimension"].items()
            ]
            consistency = j.get("position_consistency")
            sections.append(
                {
                    "title": "Five-dimension profile (LLM judge)",
                    "text": (
                        f"Position consistency of the judge: {_pct(consistency)}. "
                        if consistency is not None
                        else ""
                    )
                    + ("" if valid else f"**Invalid judge** ({reason}): these win rates are not evidence."),
                    "table": {"header": ["dimension", "win rate (ties ½)", "95% CI", "ties"], "rows": rows},
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
        rows = [_metric_row(f"model (threshold {clf['threshold']:.3f})", clf["metrics"])]
        for name, b in (clf.get("baselines") or {}).items():
            rows.append(_metric_row(f"baseline: {name}", b))
        for name in ("confusion_matrix", "roc_curve", "pr_curve"):
            src = clf_dir / f"{name}.png"
            if src.is_file():
                figs.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, figs / f"{name}.png")
                images[name] = figs / f"{name}.png"
        tm = clf.get("threshold_metric")
        sections.append(
            {
                "title": "Classifier",
                "text": f"Split {clf['split']}; the model's threshold on P(effective) was tuned on validation"
                + (f" for {tm}" if tm else "")
                + ". Baselines on the same split: "
                + "; ".join(f"`{k}`: {v.get('method', '')}" for k, v in (clf.get("baselines") or {}).items())
                + ". The PR-AUC of a no-skill classifier equals the positive rate.",
                "table": {"header": ["system", "n", *METRIC_HEADER], "rows": rows},
                "images": [k for k in ("confusion_matrix", "roc_curve", "pr_curve") if k in images],
            }
        )
        for key, title in (("per_subreddit", "subreddit"), ("per_label_source", "label_source")):
            if clf.get(key):
                sections.append(
                    {
                        "title": f"Classifier by {title}",
                        "table": {
                            "header": [title, "n", *METRIC_HEADER],
                            "rows": [_metric_row(k, v) for k, v in clf[key].items()],
                        },
                    }
                )
    if args.runs:
        curves = {Path(r).name: trainer_curves(Path(r)) for r in args.runs}
        images["curves"] = curves_png(curves, figs / "training_curves.png")
        sections.append(
            {
                "title": "Training curves",
                "image": "curves",
                "text": "Loss per logged step from trainer_state.json, one panel per run (their losses are on "
                "different scales).",
            }
        )

    prov = provenance(
        inputs={
            "judge": args.judge,
            "human": args.human,
            "linguistic": args.linguistic,
            "safety": args.safety,
            "classifier": args.classifier,
            "label_audit": args.label_audit,
            "dataset": args.dataset,
            "runs": args.runs,
        },
        data_versions=sorted(_data_versions([*judges, human, ling, safety, clf])),
    )
    for sec in sections:
        if sec.get("table"):
            sec["table"] = {
                "header": [_cell(h) for h in sec["table"]["header"]],
                "rows": [[_cell(c) for c in row] for row in sec["table"]["rows"]],
            }
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
    body = render_markdown(env.get_template("report.md.jinja").render(**ctx, images=embedded))
    html = env.get_template("report.html.jinja").render(
        title=args.title, body=body, provenance_json=json.dumps(prov, indent=2)
    )
    write_text(out / "report.html", html)
    with atomic_path(out / "report.md") as tmp:
        tmp.write_text(md, encoding="utf-8")
    logger.info("report written to %s (%d sections)", out / "report.md", len(sections))
    return out / "report.md"


def render_markdown(text: str) -> str:
    """Markdown -> HTML with markdown-it-py (CommonMark + tables + strikethrough; raw HTML in the input is
    escaped, so names and texts from the inputs cannot inject markup)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"]).render(text)


def _stat(x: Any) -> str:
    return f"{x:,.1f}" if isinstance(x, float) else f"{x:,}"


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
