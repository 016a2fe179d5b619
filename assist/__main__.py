"""`python -m assist draft --adapter ORG/GM-or-path --post FILE`,
`python -m assist improve --adapter ORG/IM-or-path --post FILE --draft FILE` and
`python -m assist serve --gm ADAPTER [--im ADAPTER] [--api] ...` (the web app, assist/app.py).

Every post is screened for crisis language before any model is loaded; a high-risk post gets a visible
note and the crisis resources at the top of the output whatever the model writes.
Exit status: 0 done, 2 bad input or a model that cannot be loaded (explained on stderr).
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from transformers import HfArgumentParser

from assist.output import AssistResult, assess
from assist.prompts import read_draft, read_post

logger = logging.getLogger("assist")


@dataclass
class AssistArgs:
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


def run(mode: str, args: AssistArgs) -> AssistResult:
    """One request through the same loaded-model service the web app uses (assist/service.py)."""
    from assist.service import AssistService, Sampling
    from safety import CrisisScreen

    post = read_post(args.post)
    draft = read_draft(args.draft) if mode == "improve" else None
    screen = CrisisScreen()
    pre_risk, _, _ = assess(screen, {"post": post.text, "draft": draft})
    if pre_risk:
        logger.warning("the post is high-risk: crisis resources will head the output")
    service = AssistService(
        {mode: args.adapter},
        base_model=args.base_model,
        revision=args.revision,
        load_in_4bit=args.load_in_4bit,
        screen=screen,
    )
    sampling = Sampling(args.max_new_tokens, args.do_sample, args.temperature, args.top_p, args.seed)
    return service.run(mode, post.text, draft, sampling)


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


COMMANDS = ("draft", "improve", "serve")
USAGE = """usage: python -m assist {draft,improve} --adapter ORG/NAME --post FILE [--draft FILE] ...
       python -m assist serve --gm ADAPTER [--im ADAPTER] [--base MODEL] [--load_in_4bit] [--host 127.0.0.1]
                              [--port 7860] [--api]
(add --help after the command for every option)"""


def main(argv: list[str] | None = None) -> int:
    from assist.model import AssistLoadError

    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s", level=logging.INFO, stream=sys.stderr)
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    if argv[:1] in (["-h"], ["--help"]):
        print(USAGE)
        return 0
    if not argv or argv[0] not in COMMANDS:
        print(USAGE, file=sys.stderr)
        return 2
    if argv[0] == "serve":
        from assist.app import serve_main

        return serve_main(argv[1:])
    mode = argv[0]
    parser = HfArgumentParser(AssistArgs, prog=f"python -m assist {mode}")
    (args,) = parser.parse_args_into_dataclasses(args=argv[1:])
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
