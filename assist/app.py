"""The writing assistant in a browser: a Gradio app over `assist.service.AssistService`.

`python -m assist serve --gm ADAPTER [--im ADAPTER] [--base MODEL] [--load_in_4bit] [--host 127.0.0.1]
[--port 7860] [--api]` loads the models once, then serves two tabs:

- **Draft**: `Post` -> `Draft reply` -> `Draft` (the Generation Model's reply);
- **Improve**: `Post` + `Your reply` -> `Improve reply` -> `Improved reply`, beside a word diff of the changes.

Every request runs the crisis screen first (the same `redditess_core.safety.CrisisScreen` as the command line): a high-risk
post shows the crisis note and resources above the draft. Privacy: Gradio analytics and run history are
off, no text is logged, nothing is written to disk (no flagging, no file components), and the server binds
to loopback unless told otherwise. Gradio's API routes exist only with `--api`. Requests queue with a
small concurrency limit (`--concurrency`, default 1) instead of running side by side on one model.
"""

from __future__ import annotations

import difflib
import ipaddress
import logging
import os
import re
import signal
import sys
from dataclasses import dataclass, field
from typing import Any

# Before gradio is imported anywhere: no usage statistics leave the machine.
os.environ["GRADIO_RUN_HISTORY"] = "False"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

from assist.output import DRAFT_HEADER, RISK_NOTE  # noqa: E402
from assist.service import (  # noqa: E402
    MAX_NEW_TOKENS,
    AssistService,
    InputError,
    Sampling,
)
from redditess_core.logs import LogLevelArguments  # noqa: E402

logger = logging.getLogger(__name__)

TITLE = "RedditESS writing assistant"
INTRO = (
    "Paste a post (its title on the first line). The assistant drafts a supportive reply, or improves yours. "
    "**Every reply here is a draft written by a model: read it, edit it and take responsibility for it; "
    "never post it as is.** Posts that mention suicide or self-harm get the crisis resources first."
)
NO_TEXT = "(the model produced no text)"


@dataclass
class ServeArgs(LogLevelArguments):
    gm: str | None = field(
        default=None,
        metadata={"help": "Generation Model adapter (Draft tab): Hub id or local run directory."},
    )
    im: str | None = field(
        default=None,
        metadata={"help": "Improvement Model adapter (Improve tab): Hub id or local run directory."},
    )
    base: str | None = field(
        default=None, metadata={"help": "Base model id or path (default: the one the adapters name)."}
    )
    revision: str | None = field(default=None, metadata={"help": "Adapter revision on the Hub, e.g. v0.1.0."})
    load_in_4bit: bool = field(
        default=False, metadata={"help": "Load the base model in 4-bit NF4 (bitsandbytes)."}
    )
    host: str = field(
        default="127.0.0.1",
        metadata={"help": "Address to bind. Loopback by default; any other address is reachable by others."},
    )
    port: int = field(default=7860, metadata={"help": "Port to listen on."})
    api: bool = field(
        default=False, metadata={"help": "Expose Gradio's API routes (/draft, /improve) for gradio_client."}
    )
    concurrency: int = field(
        default=1, metadata={"help": "Requests generated at the same time (the rest queue)."}
    )
    max_queue: int = field(default=16, metadata={"help": "Requests waiting at most; more are refused."})
    max_new_tokens: int = field(
        default=200, metadata={"help": "Default reply length in tokens (a page control)."}
    )
    auth: str | None = field(
        default=None,
        metadata={
            "help": "Name of an environment variable holding USER:PASSWORD for Gradio's login page "
            "(for real deployments prefer the organisation's login in a reverse proxy)."
        },
    )


def _crisis_markdown(result: Any) -> str:
    return f"### {RISK_NOTE}\n\n{result.notice or ''}".replace("\n", "  \n") if result.high_risk else ""


def word_diff(before: str, after: str) -> list[tuple[str, str | None]]:
    """`after` as (token, label) pairs for gr.HighlightedText: "added", "removed", or None (kept)."""
    a, b = re.findall(r"\S+|\s+", before), re.findall(r"\S+|\s+", after)
    out: list[tuple[str, str | None]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op in ("delete", "replace"):
            out.append(("".join(a[i1:i2]), "removed"))
        if op in ("insert", "replace"):
            out.append(("".join(b[j1:j2]), "added"))
        if op == "equal":
            out.append(("".join(a[i1:i2]), None))
    return out


def build_app(service: AssistService, *, api: bool = False, default_max_new_tokens: int = 200) -> Any:
    """The Blocks app over `service`. `api=False` makes every event private (no API routes, no API page)."""
    import gradio as gr

    visibility = "public" if api else "private"

    def sampling_controls(prefix: str) -> list[Any]:
        with gr.Accordion("Sampling", open=False):
            do_sample = gr.Checkbox(
                False,
                label="Sample (off: the most likely reply, the same every time)",
                elem_id=f"{prefix}-sample",
            )
            temperature = gr.Slider(0.05, 2.0, value=0.7, step=0.05, label="Temperature")
            top_p = gr.Slider(0.05, 1.0, value=0.9, step=0.05, label="Top-p")
            max_new = gr.Slider(
                16, MAX_NEW_TOKENS, value=default_max_new_tokens, step=8, label="Reply length (tokens)"
            )
            seed = gr.Number(0, precision=0, label="Seed", elem_id=f"{prefix}-seed")
        return [do_sample, temperature, top_p, max_new, seed]

    def call(mode: str, post: str, reply: str | None, do_sample, temperature, top_p, max_new, seed):
        """(crisis block, reply text, message, result or None) for one request; input problems as messages."""
        try:
            sampling = Sampling(
                int(max_new), bool(do_sample), float(temperature), float(top_p), int(seed or 0)
            )
            result = service.run(mode, post, reply, sampling)
        except InputError as err:
            return gr.Markdown("", visible=False), "", f"**{err}**", None
        crisis = _crisis_markdown(result)
        return gr.Markdown(crisis, visible=bool(crisis)), result.reply or NO_TEXT, "", result

    def regenerate_settings(seed):
        """Regenerate = sample again with the next seed (greedy decoding would repeat the same reply)."""
        return True, int(seed or 0) + 1

    with gr.Blocks(title=TITLE, analytics_enabled=False) as app:
        gr.Markdown(f"# {TITLE}\n\n{INTRO}")
        with gr.Tabs():
            with gr.Tab("Draft", id="draft", visible="draft" in service.modes):
                post = gr.Textbox(
                    label="Post",
                    lines=8,
                    max_lines=30,
                    placeholder="Title on the first line, then the post.",
                    elem_id="draft-post",
                )
                controls = sampling_controls("draft")
                with gr.Row():
                    go = gr.Button("Draft reply", variant="primary", elem_id="draft-go")
                    again = gr.Button("Regenerate", elem_id="draft-regenerate")
                message = gr.Markdown(elem_id="draft-message")
                crisis = gr.Markdown(visible=False, elem_id="draft-crisis", elem_classes=["crisis"])
                out = gr.Textbox(
                    label="Draft",
                    info=DRAFT_HEADER["draft"],
                    lines=8,
                    buttons=["copy"],
                    interactive=True,
                    elem_id="draft-out",
                )

                def draft(post_text, *settings):
                    block, text, msg, _ = call("draft", post_text, None, *settings)
                    return block, text, msg

                go.click(
                    draft,
                    [post, *controls],
                    [crisis, out, message],
                    api_name="draft",
                    api_visibility=visibility,
                )
                again.click(
                    regenerate_settings,
                    [controls[-1]],
                    [controls[0], controls[-1]],
                    api_visibility="private",
                    queue=False,
                ).then(draft, [post, *controls], [crisis, out, message], api_visibility="private")

            with gr.Tab("Improve", id="improve", visible="improve" in service.modes):
                ipost = gr.Textbox(
                    label="Post",
                    lines=6,
                    max_lines=30,
                    placeholder="Title on the first line, then the post.",
                    elem_id="improve-post",
                )
                mine = gr.Textbox(label="Your reply", lines=5, max_lines=20, elem_id="improve-mine")
                icontrols = sampling_controls("improve")
                with gr.Row():
                    igo = gr.Button("Improve reply", variant="primary", elem_id="improve-go")
                    iagain = gr.Button("Regenerate", elem_id="improve-regenerate")
                imessage = gr.Markdown(elem_id="improve-message")
                icrisis = gr.Markdown(visible=False, elem_id="improve-crisis", elem_classes=["crisis"])
                with gr.Row():
                    iout = gr.Textbox(
                        label="Improved reply",
                        info=DRAFT_HEADER["improve"],
                        lines=8,
                        buttons=["copy"],
                        interactive=True,
                        elem_id="improve-out",
                    )
                    changes = gr.HighlightedText(
                        label="Changes from your reply",
                        color_map={"added": "green", "removed": "red"},
                        show_legend=True,
                        elem_id="improve-changes",
                    )

                def improve(post_text, my_reply, *settings):
                    block, text, msg, result = call("improve", post_text, my_reply, *settings)
                    diff = word_diff(my_reply.strip(), result.reply) if result is not None else []
                    return block, text, diff, msg

                outputs = [icrisis, iout, changes, imessage]
                igo.click(
                    improve, [ipost, mine, *icontrols], outputs, api_name="improve", api_visibility=visibility
                )
                iagain.click(
                    regenerate_settings,
                    [icontrols[-1]],
                    [icontrols[0], icontrols[-1]],
                    api_visibility="private",
                    queue=False,
                ).then(improve, [ipost, mine, *icontrols], outputs, api_visibility="private")
        # Always shown, whatever the screen says: the one-line pointer to the crisis resources.
        gr.Markdown(service.screen.footer(), elem_id="resources-footer")
    return app


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve_main(argv: list[str]) -> int:
    """`python -m assist serve ...`: load the models (one line and exit 2 if that fails), then serve."""
    from transformers import HfArgumentParser

    from assist.model import AssistLoadError

    logging.getLogger("httpx").setLevel(logging.WARNING)  # Gradio's own start-up probes: noise
    parser = HfArgumentParser(ServeArgs, prog="python -m assist serve")
    (args,) = parser.parse_args_into_dataclasses(args=argv)
    args.configure_logging()
    if not args.gm and not args.im:
        parser.error("give --gm ADAPTER (Draft tab), --im ADAPTER (Improve tab), or both")
    auth = None
    if args.auth:
        user, _, password = os.environ.get(args.auth, "").partition(":")
        if not user or not password:
            parser.error(f"--auth {args.auth}: set that environment variable to USER:PASSWORD")
        auth = (user, password)
    if not is_loopback(args.host):
        logger.warning(
            "serving on %s, not loopback: anyone who can reach this address can use the assistant. Keep it "
            "inside a protected network and behind your organisation's login (README: assist app).",
            args.host,
        )
    adapters = {mode: a for mode, a in (("draft", args.gm), ("improve", args.im)) if a}
    try:
        service = AssistService(
            adapters, base_model=args.base, revision=args.revision, load_in_4bit=args.load_in_4bit
        )
    except AssistLoadError as err:
        print(f"assist serve: {err}", file=sys.stderr)
        return 2
    app = build_app(service, api=args.api, default_max_new_tokens=args.max_new_tokens)
    app.queue(default_concurrency_limit=args.concurrency, max_size=args.max_queue, api_open=args.api)
    # SIGTERM (make, systemd, docker stop) stops the server like Ctrl-C: Gradio closes it cleanly.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    app.launch(
        prevent_thread_lock=True,
        server_name=args.host,
        server_port=args.port,
        auth=auth,
        share=False,
        footer_links=["api"] if args.api else [],
        run_history=False,
        enable_monitoring=False,
        mcp_server=False,
        ssr_mode=False,
        inbrowser=False,
        show_error=False,
        quiet=True,
    )
    print(
        f"assist serve: {app.local_url} (API {'on' if args.api else 'off'}; Ctrl-C to stop)", file=sys.stderr
    )
    try:
        app.block_thread()  # returns on Ctrl-C / SIGTERM after closing the server
    except KeyboardInterrupt:
        app.close()
    print("assist serve: stopped", file=sys.stderr)
    return 0
