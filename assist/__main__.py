"""`python -m assist draft --adapter ORG/GM-or-path --post FILE`,
`python -m assist improve --adapter ORG/IM-or-path --post FILE --draft FILE`,
`python -m assist serve --gm ADAPTER [--im ADAPTER] [--api] ...` (the web app, assist/app.py) and
`python -m assist screen --input POSTS.jsonl --output SCREENED.jsonl`.

Every post is screened for crisis language before any model is loaded; a high-risk post gets a visible
note and the crisis resources at the top of the output whatever the model writes, and every output ends
with a one-line pointer to the resources. `screen` runs the same crisis screen over a JSONL file.
Exit status: 0 done, 2 bad input or a model that cannot be loaded (explained on stderr).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from transformers import HfArgumentParser

from assist.output import AssistResult, assess_categories
from assist.prompts import read_draft, read_post
from redditess_core.logs import LogLevelArguments

if TYPE_CHECKING:
    from redditess_core.safety import CrisisScreen

logger = logging.getLogger("assist")


@dataclass
class AssistArgs(LogLevelArguments):
    adapter: str = field(metadata={"help": "Released adapter: Hub id (ORG/NAME) or a local run directory."})
    post: str = field(metadata={"help": "Post file: first line the title, the rest the body."})
    draft: str | None = field(default=None, metadata={"help": "Your draft reply (improve only)."})
    revision: str | None = field(
        default=None, metadata={"help": "Adapter revision on the Hub, e.g. a tag v0.1.0."}
    )
    base_model: str | None = field(
        default=None, metadata={"help": "Base model id or path (default: the one named by the adapter)."}
    )
    load_in_4bit: bool = field(
        default=False, metadata={"help": "Load the base model in 4-bit NF4 (bitsandbytes)."}
    )
    max_new_tokens: int = field(default=200, metadata={"help": "Length limit of the reply in tokens."})
    do_sample: bool = field(default=False, metadata={"help": "Sample instead of greedy decoding."})
    temperature: float = field(default=0.7, metadata={"help": "Sampling temperature (with --do_sample)."})
    top_p: float = field(default=0.9, metadata={"help": "Nucleus sampling mass (with --do_sample)."})
    seed: int = field(default=0, metadata={"help": "Random seed."})
    format: Literal["text", "json"] = field(default="text", metadata={"help": "Output format."})
    out: str | None = field(
        default=None, metadata={"help": "Write the output to this file instead of stdout."}
    )
    crisis_model: str | None = field(
        default=None,
        metadata={
            "help": "Optional text-classification model (path or Hub id) added to the rule-based crisis "
            "screen: a post is high-risk when either flags it."
        },
    )
    crisis_model_label: str | None = field(
        default=None, metadata={"help": "The crisis model's positive label (default: a known risk label)."}
    )
    crisis_model_threshold: float = field(
        default=0.5, metadata={"help": "Positive-label probability from which the crisis model flags."}
    )


def run(mode: str, args: AssistArgs) -> AssistResult:
    """One request through the same loaded-model service the web app uses (assist/service.py)."""
    from assist.service import AssistService, Sampling

    post = read_post(args.post)
    draft = read_draft(args.draft) if mode == "improve" else None
    screen = crisis_screen(args)
    pre_sources, pre_categories = assess_categories(screen, {"post": post.text, "draft": draft})
    if pre_sources:
        logger.warning(
            "the %s is high-risk (%s): crisis resources will head the output",
            " and ".join(pre_sources),
            ", ".join(pre_categories),
        )
    service = AssistService(
        {mode: args.adapter},
        base_model=args.base_model,
        revision=args.revision,
        load_in_4bit=args.load_in_4bit,
        screen=screen,
    )
    sampling = Sampling(args.max_new_tokens, args.do_sample, args.temperature, args.top_p, args.seed)
    return service.run(mode, post.text, draft, sampling)


def crisis_screen(args: AssistArgs | ScreenArgs) -> CrisisScreen:
    """The rule-based screen, plus the model scorer when --crisis_model is given."""
    from redditess_core.safety import CrisisScreen
    from redditess_core.safety.model import ModelScorer

    model = None
    if args.crisis_model:
        model = ModelScorer.load(args.crisis_model, args.crisis_model_label, args.crisis_model_threshold)
    return CrisisScreen(model=model)


@dataclass
class ScreenArgs(LogLevelArguments):
    input: str = field(metadata={"help": 'JSONL file, one {"id", "text"} object a line.'})
    output: str = field(
        metadata={"help": 'JSONL file receiving one {"id", "high_risk", "categories"} a line.'}
    )
    skip_bad_lines: bool = field(
        default=False,
        metadata={"help": "Skip (and count) malformed lines instead of stopping at the first one."},
    )
    crisis_model: str | None = field(default=None, metadata={"help": "Optional crisis model (see draft)."})
    crisis_model_label: str | None = field(default=None, metadata={"help": "Its positive label."})
    crisis_model_threshold: float = field(default=0.5, metadata={"help": "Its decision threshold."})


def read_screen_input(
    path: str | os.PathLike[str], skip_bad_lines: bool = False
) -> tuple[list[dict], list[int]]:
    """The {"id", "text"} records of a JSONL file and the numbers of the lines skipped as malformed.
    Blank lines are ignored. Raises ValueError naming the file and line unless `skip_bad_lines`."""
    records, bad = [], []
    try:
        handle = open(path, encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"input file not found: {path}") from None
    with handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise ValueError("not a JSON object")
                if not isinstance(record.get("id"), (str, int)) or isinstance(record.get("id"), bool):
                    raise ValueError('needs an "id" (string or integer)')
                if not isinstance(record.get("text"), str):
                    raise ValueError('needs a "text" string')
            except ValueError as err:
                if not skip_bad_lines:
                    raise ValueError(f"{path}:{number}: {err}") from None
                bad.append(number)
                continue
            records.append({"id": record["id"], "text": record["text"]})
    return records, bad


def run_screen(args: ScreenArgs, batch_size: int = 10_000) -> dict[str, int]:
    """Screen every record of `args.input` into `args.output` (written whole or not at all); returns counts."""
    records, bad = read_screen_input(args.input, args.skip_bad_lines)
    screen = crisis_screen(args)
    lines, n_high = [], 0
    for start in range(0, len(records), batch_size):
        batch = records[start : start + batch_size]
        for record, result in zip(batch, screen.screen_many([r["text"] for r in batch]), strict=True):
            out = {"id": record["id"], "high_risk": result.high_risk, "categories": list(result.categories)}
            if result.model_score is not None:
                out["model_score"] = result.model_score
            lines.append(json.dumps(out, ensure_ascii=False) + "\n")
            n_high += result.high_risk
    _write("".join(lines), args.output)
    counts = {"screened": len(records), "high_risk": n_high, "skipped": len(bad)}
    logger.info(
        "screened %(screened)d records: %(high_risk)d high-risk, %(skipped)d malformed lines skipped", counts
    )
    if bad:
        shown = ", ".join(map(str, bad[:20])) + (" ..." if len(bad) > 20 else "")
        logger.warning("skipped malformed lines of %s: %s", args.input, shown)
    return counts


def _write(text: str, out: str | None) -> None:
    if out is None:
        sys.stdout.write(text)
        return
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


COMMANDS = ("draft", "improve", "serve", "screen")
USAGE = """usage: python -m assist {draft,improve} --adapter ORG/NAME --post FILE [--draft FILE] ...
       python -m assist serve --gm ADAPTER [--im ADAPTER] [--base MODEL] [--load_in_4bit] [--host 127.0.0.1]
                              [--port 7860] [--api]
       python -m assist screen --input POSTS.jsonl --output SCREENED.jsonl
(add --help after the command for every option)"""


def main(argv: list[str] | None = None) -> int:
    from assist.model import AssistLoadError

    argv = list(sys.argv[1:] if argv is None else argv)
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    if argv[:1] in (["-h"], ["--help"]):
        print(USAGE)
        return 0
    if not argv or argv[0] not in COMMANDS:
        print(USAGE, file=sys.stderr)
        return 2
    if argv[0] == "screen":
        return _main_screen(argv[1:])
    if argv[0] == "serve":
        from assist.app import serve_main

        return serve_main(argv[1:])
    mode = argv[0]
    parser = HfArgumentParser(AssistArgs, prog=f"python -m assist {mode}")
    (args,) = parser.parse_args_into_dataclasses(args=argv[1:])
    args.configure_logging()
    if mode == "improve" and not args.draft:
        parser.error("improve needs --draft FILE")
    if mode == "draft" and args.draft:
        parser.error("--draft belongs to `improve`")
    try:
        result = run(mode, args)
    except (FileNotFoundError, ValueError, AssistLoadError) as err:  # InputError is a ValueError
        print(f"assist: {err}", file=sys.stderr)
        return 2
    _write(result.render_json() if args.format == "json" else result.render_text(), args.out)
    return 0


def _main_screen(argv: list[str]) -> int:
    parser = HfArgumentParser(ScreenArgs, prog="python -m assist screen")
    (args,) = parser.parse_args_into_dataclasses(args=argv)
    args.configure_logging()
    try:
        run_screen(args)
    except (FileNotFoundError, ValueError) as err:
        print(f"assist screen: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    status = main()
    if sys.argv[1:2] == ["serve"]:
        # The server is closed and nothing is left to write. Interpreter finalization after a Gradio server
        # with torch loaded was once seen spinning in the garbage collector (gc_collect_main under
        # finalize_modules, for 30+ minutes), so a stopped server exits without it.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)
