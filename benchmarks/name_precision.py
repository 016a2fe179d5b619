"""Precision of participant-name replacement for names that are also common words, on real data.

Builds `../shared/data/reddit-college` (or `--input`) and records every replacement the common-word
rule makes (`privacy.name_use_pattern`), with a window of text around it, into a private file for a
human to judge: each line gets a verdict (name / word). Real texts: the file stays on this machine
(default under the system temp folder) and must never be committed or quoted.

    python benchmarks/name_precision.py [--input DIR] [--sample 100] [--out /tmp/name-precision.tsv]
    # judge: put `name` or `word` in the first column of each line, then
    python benchmarks/name_precision.py --score /tmp/name-precision.tsv

Prints the number of replacements per rule and, with --score, precision = name / (name + word).
"""

from __future__ import annotations

import argparse
import random
import tempfile
from pathlib import Path

from dataset_builder import privacy
from dataset_builder.config import BuildConfig
from dataset_builder.pipeline import build

WINDOW = 60


def collect(inputs: Path, sample: int, out: Path) -> None:
    found: list[tuple[str, str]] = []
    original = privacy.replace_names_counted

    def recording(text, names, common=frozenset()):
        words = [n for n in names if n in common]
        if text and words:
            for match in privacy.name_use_pattern(words).finditer(text):
                start = match.start(match.lastgroup)
                context = text[max(0, start - WINDOW) : start + WINDOW].replace("\n", " ").replace("\t", " ")
                found.append((match.lastgroup, context))
        return original(text, names, common)

    privacy.replace_names_counted = recording
    try:
        with tempfile.TemporaryDirectory() as tmp:
            manifest = build(
                BuildConfig(inputs=[inputs], out=Path(tmp) / "redditess"), key=b"name-precision-key-0000"
            )
    finally:
        privacy.replace_names_counted = original
    print("replacements by rule:", manifest["scrub_replacements"])
    print(
        "participant names that are common words:",
        manifest["counts"].get("participant_names_that_are_common_words"),
    )
    by_context: dict[str, int] = {}
    for kind, _ in found:
        by_context[kind] = by_context.get(kind, 0) + 1
    print("common-word replacements by context:", by_context)
    chosen = random.Random(0).sample(found, min(sample, len(found)))
    out.write_text("".join(f"?\t{kind}\t{context}\n" for kind, context in chosen), encoding="utf-8")
    out.chmod(0o600)
    print(f"{len(chosen)} replacements to judge in {out}")


def score(path: Path) -> None:
    verdicts = [line.split("\t", 1)[0] for line in path.read_text(encoding="utf-8").splitlines()]
    names, words = verdicts.count("name"), verdicts.count("word")
    print(f"judged {names + words} of {len(verdicts)}: precision {names / max(1, names + words):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--input", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/reddit-college"
    )
    parser.add_argument("--sample", type=int, default=100)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "name-precision.tsv")
    parser.add_argument("--score", type=Path, default=None)
    args = parser.parse_args()
    if args.score:
        score(args.score)
    else:
        collect(args.input, args.sample, args.out)


if __name__ == "__main__":
    main()
