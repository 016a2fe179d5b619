"""`python -m eval judge`: pairwise automatic judging of two systems on the same prompts.

Judges: the trained effective-support classifier (higher P(effective) wins), a reward model (higher reward
wins), or a local causal LM prompted with a rubric for each of LLUMI's five dimensions. The LLM judge sees
every pair twice, with system a shown first and then second; a verdict for a needs both orders to prefer a
(by more than the tie margin), and the same for b, anything else is a tie, so position bias cannot create
wins; its position consistency is reported. A pointwise judge (classifier, reward model) scores each reply
alone, so one comparison is all there is: a wins when its score exceeds b's by more than the margin.

Tie margin (documented defaults, `DEFAULT_TIE_MARGIN`): 0.02 in P(effective) for the classifier (on the
issue's real test posts a quarter of margin-0 verdicts rested on differences below 0.02), 0.1 in reward units
for a reward model, 0.1 nats of log P("A") - log P("B") for the LLM judge. Ties are reported separately and
the win rate is given with ties as half and with ties excluded.

Validity: with `--dataset`, before its verdicts are trusted the judge is checked on held-out human pairs of
the same data (`validity_check`): on each post of the split with both, one `effective` vs one
`not_effective` comment (the judge should prefer the effective one; CI by bootstrap over posts), and a canned
generic sympathetic reply vs the real `effective` comment (the judge should not prefer the canned one). A
judge whose human-pair agreement CI includes (or lies below) 0.5, or that prefers the canned reply more often
than not, is marked invalid (`valid: false` with the reasons) in judge.json and in the report.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from eval.io import write_json, write_jsonl
from eval.runtime import RuntimeArguments
from eval.stats import win_rate_summary
from eval.systems import common_ids, load_systems
from eval.versions import model_info, provenance
from redditess_core.chat import ChatFormat, chat_format_for, read_run_record
from redditess_core.prompts import JUDGE_DIMENSIONS, JUDGE_RUBRIC, judge_messages

logger = logging.getLogger(__name__)

DIMENSIONS = JUDGE_DIMENSIONS
RUBRIC = JUDGE_RUBRIC
JUDGES = ("classifier", "reward", "llm")
DEFAULT_TIE_MARGIN = {"classifier": 0.02, "reward": 0.1, "llm": 0.1}
# A warm, generic reply that fits any post and engages with none: a judge that prefers it to the comments
# the community found effective rewards sympathy boilerplate, not support.
CANNED_REPLY = (
    "I'm so sorry you're going through this. You're not alone, and it's okay to feel this way. "
    "Things will get better. Sending you hugs and lots of strength."
)


@dataclass
class JudgeArguments(RuntimeArguments):
    """Judge system a against system b."""

    a: str = field(metadata={"help": "Generation JSONL of system a."})
    b: str = field(metadata={"help": "Generation JSONL of system b (same prompt ids)."})
    judge: str = field(metadata={"help": "classifier, reward or llm."})
    judge_model: str = field(metadata={"help": "Judge model folder (or classifier adapter folder)."})
    output_dir: str = field(metadata={"help": "Writes verdicts.jsonl and judge.json here."})
    judge_adapter: str | None = field(default=None, metadata={"help": "PEFT adapter of the judge."})
    name_a: str | None = field(default=None)
    name_b: str | None = field(default=None)
    batch_size: int = field(default=16)
    max_length: int = field(default=512)
    tie_margin: float | None = field(
        default=None,
        metadata={
            "help": "Preferences within this margin count as ties (default per judge: classifier 0.02 in "
            "P(effective), reward 0.1, llm 0.1 nats)."
        },
    )
    ci_method: str = field(default="wilson", metadata={"help": "wilson or bootstrap."})
    dataset: str | None = field(
        default=None,
        metadata={
            "help": "RedditESS folder for the validity check (human effective vs not_effective pairs, canned "
            "reply). Without it the judge is reported as not validated."
        },
    )
    validity_split: str = field(
        default="test", metadata={"help": "Held-out split of `effective_support` the check uses."}
    )
    validity_max_posts: int | None = field(
        default=300, metadata={"help": "Use at most this many posts (seeded sample) for the check."}
    )
    seed: int = field(default=0, metadata={"help": "Seed of the validity sample and bootstrap."})


def decide_pointwise(pref: np.ndarray, margin: float) -> list[str]:
    """Verdicts of a pointwise judge: `pref` = score(a) - score(b); within the margin is a tie."""
    return ["a" if x > margin else "b" if x < -margin else "tie" for x in np.asarray(pref, dtype=float)]


def decide(pref_a_first: np.ndarray, pref_b_first: np.ndarray, margin: float) -> list[str]:
    """Verdicts from both orders. `pref_x_first` > 0 means the reply shown first was preferred.

    Order 1 shows a first, so a is preferred by pref_a_first; order 2 shows b first, so a is preferred by
    -pref_b_first. a wins only if both exceed the margin, b only if both fall below -margin.
    """
    s1, s2 = np.asarray(pref_a_first, dtype=float), -np.asarray(pref_b_first, dtype=float)
    out = []
    for x, y in zip(s1, s2, strict=True):
        out.append("a" if x > margin and y > margin else "b" if x < -margin and y < -margin else "tie")
    return out


class PointwiseJudge:
    """Scores each (post, reply) once; a preference is the score difference (order cannot matter)."""

    dims: tuple[str, ...] = ("overall",)
    pointwise = True

    def __init__(self, clf: Any, *, reward: bool, batch_size: int, max_length: int) -> None:
        self.clf, self.reward, self.batch_size, self.max_length = clf, reward, batch_size, max_length
        self.cache: dict[tuple[str, str], float] = {}

    def _score(self, posts: Sequence[str], replies: Sequence[str]) -> None:
        from eval.scoring import score_pairs

        todo = sorted({(p, r) for p, r in zip(posts, replies, strict=True)} - set(self.cache))
        if todo:
            scores = score_pairs(
                self.clf,
                [p for p, _ in todo],
                [r for _, r in todo],
                batch_size=self.batch_size,
                max_length=self.max_length,
                reward=self.reward,
            )
            self.cache.update(zip(todo, scores.tolist(), strict=True))

    def compare(self, posts: Sequence[str], firsts: Sequence[str], seconds: Sequence[str]) -> np.ndarray:
        self._score(list(posts) * 2, list(firsts) + list(seconds))
        diff = [
            self.cache[(p, f)] - self.cache[(p, s)] for p, f, s in zip(posts, firsts, seconds, strict=True)
        ]
        return np.asarray(diff)[:, None]


class LLMJudge:
    """A local causal LM asked, per dimension, which of two replies (A shown first, B second) is better.

    The preference is log P("A") - log P("B") for the next token after the prompt, read from the logits
    (no sampling, no parsing of free text). The question (`redditess_core.prompts.judge_messages`) is rendered
    in the judge model's chat format (`chat_format`; default: decided from its tokenizer's template).
    """

    dims = DIMENSIONS
    pointwise = False

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        batch_size: int,
        max_length: int,
        chat_format: ChatFormat | None = None,
    ) -> None:
        self.model, self.tokenizer, self.batch_size, self.max_length = (
            model,
            tokenizer,
            batch_size,
            max_length,
        )
        self.chat_format = chat_format or chat_format_for(tokenizer, None, where="judge")
        self.choice_ids = [self._token_ids(c) for c in ("A", "B")]

    def _token_ids(self, letter: str) -> list[int]:
        ids = set()
        for variant in (letter, f" {letter}"):
            enc = self.tokenizer.encode(variant, add_special_tokens=False)
            if len(enc) == 1:
                ids.add(enc[0])
        if not ids:
            raise ValueError(
                f"judge tokenizer has no single token for {letter!r}; choose another judge model"
            )
        return sorted(ids)

    def prompt(self, post: str, first: str, second: str, dim: str) -> str:
        return self.chat_format.render(self.tokenizer, judge_messages(post, first, second, dim))

    def compare(self, posts: Sequence[str], firsts: Sequence[str], seconds: Sequence[str]) -> np.ndarray:
        import torch

        from redditess_core.batching import run_batched, tokenize_texts

        texts = [
            self.prompt(p, f, s, d) for p, f, s in zip(posts, firsts, seconds, strict=True) for d in self.dims
        ]
        self.tokenizer.truncation_side = "left"
        feats = tokenize_texts(self.tokenizer, texts, max_length=self.max_length)
        ids_a, ids_b = self.choice_ids

        def last_logits(batch: dict[str, torch.Tensor]) -> torch.Tensor:
            logits = self.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
            last = batch["attention_mask"].sum(1) - 1
            logp = torch.log_softmax(logits[torch.arange(logits.shape[0]), last], dim=-1)
            return torch.stack([logp[:, ids_a].logsumexp(-1), logp[:, ids_b].logsumexp(-1)], dim=-1)

        self.tokenizer.padding_side = "right"
        scores = run_batched(last_logits, self.tokenizer, feats, batch_size=self.batch_size, desc="LLM judge")
        return (scores[:, 0] - scores[:, 1]).reshape(len(posts), len(self.dims))


def build_judge(args: JudgeArguments) -> tuple[Any, dict[str, Any]]:
    """The judge object and its provenance."""
    if args.judge not in JUDGES:
        raise ValueError(f"--judge must be one of {JUDGES}, got {args.judge!r}")
    if args.judge == "llm":
        from eval.models import load_causal_lm

        model, tokenizer, base, adapter = load_causal_lm(args.judge_model, args.judge_adapter)
        chat_format = chat_format_for(tokenizer, read_run_record(adapter or base), where="judge")
        judge: Any = LLMJudge(
            model, tokenizer, batch_size=args.batch_size, max_length=args.max_length, chat_format=chat_format
        )
    else:
        from eval.models import load_classifier

        clf = load_classifier(
            args.judge_model, args.judge_adapter, num_labels=1 if args.judge == "reward" else None
        )
        base, adapter = clf.base, clf.adapter
        judge = PointwiseJudge(
            clf, reward=args.judge == "reward", batch_size=args.batch_size, max_length=args.max_length
        )
    info = {"type": args.judge, "model": model_info(base), "adapter": model_info(adapter)}
    if isinstance(judge, LLMJudge):
        info["chat_format"] = judge.chat_format.to_record()
    return judge, info


def judge_pairs(
    judge: Any, posts: Sequence[str], ra: Sequence[str], rb: Sequence[str], margin: float
) -> dict:
    """Compare reply lists a and b on the same posts: verdicts overall and per dimension, raw preferences.

    Pointwise judges compare once (order cannot matter); pairwise judges compare in both orders.
    Returns {"overall": [...], "per_dim": {dim: [...]}, "a_first": (n, dims), "b_first": (n, dims) | None}.
    """
    a_first = judge.compare(posts, ra, rb)
    if getattr(judge, "pointwise", False):
        return {
            "overall": decide_pointwise(a_first.mean(1), margin),
            "per_dim": {d: decide_pointwise(a_first[:, j], margin) for j, d in enumerate(judge.dims)},
            "a_first": a_first,
            "b_first": None,
        }
    b_first = judge.compare(posts, rb, ra)
    return {
        "overall": decide(a_first.mean(1), b_first.mean(1), margin),
        "per_dim": {d: decide(a_first[:, j], b_first[:, j], margin) for j, d in enumerate(judge.dims)},
        "a_first": a_first,
        "b_first": b_first,
    }


def human_pairs(dataset: str, split: str, max_posts: int | None, seed: int) -> list[dict[str, str]]:
    """One (post, effective, not_effective) triple per post of `effective_support/split` that has both labels.

    The comments are drawn per post with a seeded RNG; posts are sampled down to `max_posts` (seeded). Labels
    are the dataset's own (community-derived); the check is as good as they are (see the label audit).
    """
    import random

    from eval.data import load_split
    from redditess_core.classifier import pair_texts
    from redditess_core.contract import LABEL_NAMES

    ds = load_split(dataset, "effective_support", split)
    names = list(getattr(ds.features["label"], "names", LABEL_NAMES))
    pos = names.index("effective")
    by_post: dict[str, dict[int, list[dict[str, Any]]]] = {}
    for r in ds:
        if r["label"] is None or not (r.get("comment_text") or "").strip():
            continue
        by_post.setdefault(str(r["post_id"]), {0: [], 1: []})[int(r["label"] == pos)].append(r)
    rng = random.Random(seed)
    eligible = sorted(p for p, g in by_post.items() if g[0] and g[1])
    if max_posts is not None and len(eligible) > max_posts:
        eligible = sorted(rng.sample(eligible, max_posts))
    triples = []
    for pid in eligible:
        good = rng.choice(sorted(by_post[pid][1], key=lambda r: str(r["comment_id"])))
        bad = rng.choice(sorted(by_post[pid][0], key=lambda r: str(r["comment_id"])))
        triples.append(
            {
                "post_id": pid,
                "post": pair_texts(good)[0],
                "effective": good["comment_text"],
                "not_effective": bad["comment_text"],
                "effective_id": str(good["comment_id"]),
                "not_effective_id": str(bad["comment_id"]),
            }
        )
    return triples


def validity_check(
    judge: Any, triples: list[dict[str, str]], margin: float, seed: int = 0, canned_reply: str = CANNED_REPLY
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Check a judge against held-out human pairs and a canned generic reply (see the module docstring).

    Agreement = win rate of the `effective` comment over the `not_effective` one (ties as half; one pair per
    post, so the bootstrap over posts is the bootstrap over items). Canned = win rate of `canned_reply` over the
    real `effective` comment. Returns (summary with `valid` and `reasons`, per-post rows with ids and verdicts,
    no texts). Needs at least 2 posts; fewer is reported as not validated.
    """
    posts = [t["post"] for t in triples]
    ids = [t["post_id"] for t in triples]
    if len(triples) < 2:
        return (
            {
                "checked": False,
                "valid": False,
                "reasons": [
                    f"only {len(triples)} post(s) with both an effective and a not_effective comment"
                ],
                "n_posts": len(triples),
            },
            [],
        )
    human = judge_pairs(
        judge, posts, [t["effective"] for t in triples], [t["not_effective"] for t in triples], margin
    )
    canned = judge_pairs(
        judge, posts, [canned_reply] * len(triples), [t["effective"] for t in triples], margin
    )
    agreement = win_rate_summary(human["overall"], method="bootstrap", seed=seed, clusters=ids)
    canned_wr = win_rate_summary(canned["overall"], method="bootstrap", seed=seed, clusters=ids)
    reasons = []
    if agreement["ci_low"] <= 0.5:
        reasons.append(
            f"agreement with human pairs {agreement['win_rate']:.1%} [{agreement['ci_low']:.1%}, "
            f"{agreement['ci_high']:.1%}]: the CI does not exclude chance (0.5)"
            if agreement["ci_high"] >= 0.5
            else f"agreement with human pairs {agreement['win_rate']:.1%} is below chance"
        )
    if canned_wr["win_rate"] > 0.5:
        reasons.append(
            f"prefers a canned generic reply to real effective comments {canned_wr['win_rate']:.1%} of the time"
        )
    summary = {
        "checked": True,
        "valid": not reasons,
        "reasons": reasons,
        "n_posts": len(triples),
        "human_pairs": {
            "task": "effective vs not_effective comment on the same post; win rate = judge agrees with the label",
            **agreement,
        },
        "canned_reply": {
            "task": "canned generic reply vs the real effective comment",
            "text": canned_reply,
            **canned_wr,
        },
        "rule": "invalid if the human-pair agreement CI includes or lies below 0.5, or the canned reply wins > 50%",
    }
    rows = [
        {
            "post_id": t["post_id"],
            "effective_id": t["effective_id"],
            "not_effective_id": t["not_effective_id"],
            "human_pair_verdict": {"a": "effective", "b": "not_effective"}.get(h, "tie"),
            "canned_verdict": {"a": "canned", "b": "effective"}.get(c, "tie"),
        }
        for t, h, c in zip(triples, human["overall"], canned["overall"], strict=True)
    ]
    return summary, rows


def run_judge(args: JudgeArguments) -> dict[str, Any]:
    """Check the judge's validity (with --dataset), judge the systems, write verdicts and the summary."""
    names = [args.name_a, args.name_b] if args.name_a and args.name_b else None
    sys_a, sys_b = load_systems([args.a, args.b], names)
    ids = common_ids([sys_a, sys_b])
    margin = DEFAULT_TIE_MARGIN.get(args.judge, 0.0) if args.tie_margin is None else args.tie_margin
    if margin < 0:
        raise ValueError(f"--tie_margin must be >= 0, got {margin}")
    triples = (
        human_pairs(args.dataset, args.validity_split, args.validity_max_posts, args.seed)
        if args.dataset
        else None
    )
    judge, judge_info = build_judge(args)
    posts = [sys_a.records[i]["post"] for i in ids]
    ra = [sys_a.records[i]["response"] for i in ids]
    rb = [sys_b.records[i]["response"] for i in ids]
    judged = judge_pairs(judge, posts, ra, rb, margin)
    overall, per_dim, a_first, b_first = (
        judged["overall"],
        judged["per_dim"],
        judged["a_first"],
        judged["b_first"],
    )
    if triples is None:
        validity: dict[str, Any] = {
            "checked": False,
            "valid": False,
            "reasons": ["validity not checked (run `eval judge` with --dataset)"],
        }
        validity_rows: list[dict[str, Any]] = []
    else:
        validity, validity_rows = validity_check(judge, triples, margin, seed=args.seed)
        validity["dataset"] = {"path": str(args.dataset), "split": args.validity_split}
    verdicts = []
    for k, rid in enumerate(ids):
        row: dict[str, Any] = {
            "id": rid,
            "verdict": overall[k],
            "winner": {"a": sys_a.name, "b": sys_b.name}.get(overall[k], "tie"),
            "pref_a_shown_first": a_first[k].tolist(),
        }
        if b_first is not None:
            row["pref_b_shown_first"] = b_first[k].tolist()
        if len(judge.dims) > 1:
            row["dimensions"] = {d: per_dim[d][k] for d in judge.dims}
        verdicts.append(row)
    pointwise = b_first is None
    summary: dict[str, Any] = {
        "system_a": sys_a.name,
        "system_b": sys_b.name,
        "judge": args.judge,
        "valid": bool(validity["valid"]),
        "validity": validity,
        "dimensions": list(judge.dims),
        "tie_margin": margin,
        "tie_margin_default": args.tie_margin is None,
        "rule": (
            "pointwise judge: each reply scored alone; a wins when score(a) - score(b) > tie_margin"
            if pointwise
            else "each pair judged with a shown first and with b shown first; a win needs both orders to agree"
        ),
        "position_consistency": None if pointwise else float(np.mean(np.sign(a_first) == -np.sign(b_first))),
        **win_rate_summary(overall, method=args.ci_method),
    }
    if len(judge.dims) > 1:
        summary["per_dimension"] = {d: win_rate_summary(v, method=args.ci_method) for d, v in per_dim.items()}
    summary["provenance"] = provenance(
        judge=judge_info,
        system_a={"name": sys_a.name, "file": str(sys_a.path), "generation": sys_a.provenance},
        system_b={"name": sys_b.name, "file": str(sys_b.path), "generation": sys_b.provenance},
    )
    out = Path(args.output_dir)
    write_jsonl(out / "verdicts.jsonl", verdicts)
    if validity_rows:
        write_jsonl(out / "validity.jsonl", validity_rows)
    write_json(out / "judge.json", summary)
    logger.info(
        "%s vs %s (%s judge%s): win rate %.3f [%.3f, %.3f], %d ties, over %d prompts",
        sys_a.name,
        sys_b.name,
        args.judge,
        "" if summary["valid"] else ", INVALID: " + "; ".join(validity["reasons"]),
        summary["win_rate"],
        summary["ci_low"],
        summary["ci_high"],
        summary["ties"],
        len(ids),
    )
    return summary
