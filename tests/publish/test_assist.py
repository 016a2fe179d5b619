"""`python -m assist`: crisis screening first, prompts as trained, local / Hub / offline / 4-bit loading."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hub_client import client_env, push_folder, run

from assist.__main__ import AssistArgs
from assist.__main__ import run as assist_run
from assist.output import RISK_NOTE, AssistResult, assess
from assist.prompts import Post, draft_messages, improve_messages, read_post
from redditess_core.safety import CrisisScreen

CALM = "Exams are crushing me\n\nI have three exams next week and I cannot sleep. How do you all cope?\n"
CRISIS = "I can't do this anymore\n\nHonestly I want to die. I keep thinking about ending my life tonight.\n"


def _result(reply: str, texts: dict) -> AssistResult:
    screen = CrisisScreen()
    high, sources, notice = assess(screen, texts)
    return AssistResult("draft", high, sources, notice, reply, "lab/gm", "base", screen.footer())


@pytest.mark.parametrize("reply", ["", "You should just get over it.", "Here is a kind reply."])
def test_high_risk_post_gets_note_and_resources_whatever_the_model_says(reply: str) -> None:
    text = _result(reply, {"post": CRISIS}).render_text()
    assert text.startswith(RISK_NOTE)
    assert "Call or text 988" in text and "Samaritans" in text and "findahelpline.com" in text
    assert text.index("988") < text.index("Draft reply")
    assert text.rstrip("\n").splitlines()[-1] == CrisisScreen().footer()


def test_calm_post_has_no_note_unless_the_reply_raises_risk() -> None:
    calm = _result("Sleep hygiene helped me.", {"post": CALM, "reply": "Sleep hygiene helped me."})
    assert not calm.high_risk and RISK_NOTE not in calm.render_text()
    assert calm.render_text().rstrip("\n").splitlines()[-1] == CrisisScreen().footer()  # footer always
    reply = "Honestly I want to die too."
    flagged = _result(reply, {"post": CALM, "reply": reply})
    assert (
        flagged.high_risk
        and flagged.risk_sources == ["reply"]
        and flagged.render_text().startswith(RISK_NOTE)
    )


def test_post_file_round_trips_to_the_dataset_user_turn(tmp_path: Path) -> None:
    path = tmp_path / "post.txt"
    path.write_text("\n  Title here \n\nBody line one.\nBody line two.\n\n")
    post = read_post(path)
    assert post == Post("Title here", "Body line one.\nBody line two.")
    assert post.text == "Title here\n\nBody line one.\nBody line two."
    (tmp_path / "empty.txt").write_text("  \n")
    with pytest.raises(ValueError, match="empty.txt: the post file is empty"):
        read_post(tmp_path / "empty.txt")


def test_prompts_match_the_built_dataset(demo_dataset: Path) -> None:
    """The assistant sends exactly the turns the GM / IM were trained on (rows of a real build)."""

    def rows(config: str) -> list[dict]:
        return [
            r
            for f in sorted((demo_dataset / "data" / config).glob("*.parquet"))
            for r in pq.read_table(f).to_pylist()
        ]

    posts = {r["post_id"]: Post(r["post_title"], r["post_text"]) for r in rows("comments")}
    sft = rows("sft")
    assert sft
    for row in sft[:50]:
        assert row["messages"][:2] == draft_messages(posts[row["post_id"]])
    improvement = rows("improvement")
    assert improvement
    for row in improvement[:50]:
        draft = row["rejected"][0]["content"]
        assert row["prompt"] == improve_messages(posts[row["post_id"]], draft)


def test_draft_and_improve_with_a_local_adapter(adapter_run: Path, tmp_path: Path) -> None:
    post = tmp_path / "post.txt"
    post.write_text(CALM)
    draft = tmp_path / "draft.txt"
    draft.write_text("hang in there, exams end")
    out = assist_run("draft", AssistArgs(adapter=str(adapter_run), post=str(post), max_new_tokens=6))
    assert out.reply and not out.high_risk and out.base_model.endswith("tiny-llama")
    again = assist_run("draft", AssistArgs(adapter=str(adapter_run), post=str(post), max_new_tokens=6))
    assert again.reply == out.reply  # greedy decoding is reproducible
    improved = assist_run(
        "improve", AssistArgs(adapter=str(adapter_run), post=str(post), draft=str(draft), max_new_tokens=6)
    )
    assert improved.mode == "improve" and improved.reply


def test_four_bit_loading_really_quantizes(adapter_run: Path) -> None:
    import bitsandbytes as bnb

    from assist.model import load

    loaded = load(str(adapter_run), load_in_4bit=True)
    packed = [m for m in loaded.model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert packed and all(m.weight.quant_state is not None for m in packed)


def test_cli_crisis_post_json_and_text(adapter_run: Path, tmp_path: Path) -> None:
    post = tmp_path / "post.txt"
    post.write_text(CRISIS)
    env = client_env("http://127.0.0.1:9", tmp_path / "home", token=None)
    env["HF_HUB_OFFLINE"] = "1"
    args = [
        "-m",
        "assist",
        "draft",
        "--adapter",
        str(adapter_run),
        "--post",
        str(post),
        "--max_new_tokens",
        "5",
    ]
    as_json = run([*args, "--format", "json"], env)
    assert as_json.returncode == 0, as_json.stderr[-2000:]
    data = json.loads(as_json.stdout)
    assert data["high_risk"] is True and "post" in data["risk_sources"] and "988" in data["notice"]
    assert data["risk_categories"] and data["footer"] == CrisisScreen().footer()
    out_file = tmp_path / "out.txt"
    as_text = run([*args, "--out", str(out_file)], env)
    assert as_text.returncode == 0 and out_file.read_text().startswith(RISK_NOTE)
    assert out_file.read_text().rstrip("\n").splitlines()[-1] == CrisisScreen().footer()
    # the missed post: an overdose in progress, no "suicide" word; the note comes first, on stdout
    post.write_text("update\n\nI took 30 of my sleeping pills an hour ago\n")
    printed = run(args, env)
    assert printed.returncode == 0 and printed.stdout.startswith(RISK_NOTE), printed.stderr[-2000:]
    assert printed.stdout.rstrip("\n").splitlines()[-1] == CrisisScreen().footer()
    assert "post is high-risk (plan_means)" in printed.stderr and "sleeping pills" not in printed.stderr
    missing = run(
        [
            "-m",
            "assist",
            "improve",
            "--adapter",
            str(adapter_run),
            "--post",
            str(post),
            "--draft",
            str(tmp_path / "nope.txt"),
        ],
        env,
    )
    assert missing.returncode == 2 and "draft file not found" in missing.stderr


@pytest.mark.slow
def test_released_adapter_from_the_hub_then_offline(
    hub, adapter_run: Path, tiny_llama: Path, tmp_path: Path
) -> None:
    env = client_env(hub.endpoint, tmp_path / "hf-home")
    push_folder(tiny_llama, "lab/tiny-llama", env)  # the card's base_model must be a model on the Hub
    published = run(
        [
            "-m",
            "publish",
            "adapter",
            str(adapter_run),
            "--repo",
            "lab/gm",
            "--tag",
            "v0.1.0",
            "--base-model",
            "lab/tiny-llama",
        ],
        env,
    )
    assert published.returncode == 0, published.stderr
    post = tmp_path / "post.txt"
    post.write_text(CALM)
    args = ["-m", "assist", "draft", "--adapter", "lab/gm", "--revision", "v0.1.0", "--post", str(post)]
    args += ["--max_new_tokens", "6", "--format", "json"]
    online = run(args, env)
    assert online.returncode == 0, online.stderr[-2000:]
    local = assist_run("draft", AssistArgs(adapter=str(adapter_run), post=str(post), max_new_tokens=6))
    assert json.loads(online.stdout)["reply"] == local.reply  # same weights, same greedy reply

    offline_env = {**env, "HF_HUB_OFFLINE": "1"}
    cached = run(args, offline_env)
    assert cached.returncode == 0, cached.stderr[-2000:]
    requests_before = len(hub.state.requests)
    cold = run(args, {**offline_env, "HF_HOME": str(tmp_path / "empty-home")})
    assert cold.returncode == 2 and "HF_HUB_OFFLINE=1" in cold.stderr
    assert len(hub.state.requests) == requests_before  # offline means no request at all


def test_bundled_examples_screen_as_documented() -> None:
    examples = Path(__file__).resolve().parents[2] / "assist" / "examples"
    screen = CrisisScreen()
    assert not screen.is_high_risk(read_post(examples / "post.txt").text)
    assert screen.is_high_risk(read_post(examples / "crisis_post.txt").text)
    assert (examples / "draft.txt").read_text().strip()
