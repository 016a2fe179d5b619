"""assist.service: models loaded once, draft and improve, the crisis screen first, input limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from assist.output import RISK_NOTE
from assist.service import MAX_POST_CHARS, MAX_REPLY_CHARS, AssistService, InputError, Sampling, check_text

CALM = "Exams are crushing me\n\nI have three exams next week and I cannot sleep. How do you all cope?"
CRISIS = "I can't do this anymore\n\nHonestly I want to die. I keep thinking about ending my life tonight."
FAST = Sampling(max_new_tokens=6)


@pytest.fixture(scope="module")
def service(adapter_run: Path, im_adapter_run: Path) -> AssistService:
    return AssistService({"draft": str(adapter_run), "improve": str(im_adapter_run)})


def test_models_load_once_and_share_the_base(service: AssistService, adapter_run: Path) -> None:
    assert service.loads == 1 and service.modes == ["draft", "improve"]
    gm, im = service.models["draft"], service.models["improve"]
    assert gm.model is im.model  # one base model in memory, two adapters
    assert {gm.adapter_name, im.adapter_name} == {"default", "improve"}
    for _ in range(3):
        service.draft(CALM, FAST)
    assert service.loads == 1


def test_draft_is_the_cli_reply_and_greedy_is_reproducible(
    service: AssistService, adapter_run: Path, tmp_path
):
    from assist.__main__ import AssistArgs, run

    first = service.draft(CALM, FAST)
    assert first.mode == "draft" and first.reply and not first.high_risk
    assert service.draft(CALM, FAST).reply == first.reply
    post = tmp_path / "post.txt"
    post.write_text(CALM)
    cli = run("draft", AssistArgs(adapter=str(adapter_run), post=str(post), max_new_tokens=6))
    assert cli.reply == first.reply  # the CLI goes through the same service


def test_improve_uses_the_im_adapter(service: AssistService) -> None:
    reply = "hang in there, exams end"
    improved = service.improve(CALM, reply, FAST)
    drafted = service.draft(CALM, FAST)
    assert improved.mode == "improve" and improved.reply
    assert improved.adapter == str(service.models["improve"].adapter)
    assert service.models["draft"].model.active_adapter == "default"  # switched back for the draft
    assert improved.reply != drafted.reply
    sampled = service.improve(CALM, reply, Sampling(max_new_tokens=6, do_sample=True, seed=3))
    assert (
        sampled.reply
        == service.improve(CALM, reply, Sampling(max_new_tokens=6, do_sample=True, seed=3)).reply
    )


def test_crisis_screen_runs_first_and_heads_the_output(service: AssistService, monkeypatch) -> None:
    import assist.service as module

    events: list[str] = []
    real_generate, real_screen = module.generate, service.screen.screen_many

    def generate(*args, **kwargs):
        events.append("generate")
        return real_generate(*args, **kwargs)

    def screen_many(texts):
        events.append("screen")
        return real_screen(texts)

    monkeypatch.setattr(module, "generate", generate)
    monkeypatch.setattr(service.screen, "screen_many", screen_many)
    result = service.draft(CRISIS, FAST)
    assert events[0] == "screen" and events.index("generate") > 0
    assert result.high_risk and "post" in result.risk_sources
    text = result.render_text()
    assert text.startswith(RISK_NOTE) and text.index("988") < text.index("Draft reply")
    assert text.rstrip().endswith(service.screen.footer())  # the resources pointer comes last, always
    # A calm post whose human reply carries crisis language is flagged too (the reply is screened).
    assert service.improve(CALM, "sometimes I want to die too", FAST).risk_sources[:1] == ["draft"]


@pytest.mark.parametrize(
    ("post", "reply", "message"),
    [
        ("", None, "The post is empty"),
        ("   \n\t  ", None, "The post is empty"),
        (None, None, "The post is empty"),
        ("x" * (MAX_POST_CHARS + 1), None, f"The post is too long: {MAX_POST_CHARS + 1:,} characters"),
        (CALM, "", "The reply is empty"),
        (CALM, "y" * (MAX_REPLY_CHARS + 1), "The reply is too long"),
    ],
)
def test_input_limits_are_messages_not_crashes(service: AssistService, post, reply, message) -> None:
    mode = "draft" if reply is None else "improve"
    with pytest.raises(InputError, match=message):
        service.run(mode, post, reply, FAST)


def test_sampling_limits_and_missing_mode(adapter_run: Path) -> None:
    for bad, message in (
        (Sampling(max_new_tokens=0), "Reply length"),
        (Sampling(max_new_tokens=10_000), "Reply length"),
        (Sampling(do_sample=True, temperature=0), "Temperature"),
        (Sampling(do_sample=True, top_p=0), "Top-p"),
    ):
        with pytest.raises(InputError, match=message):
            bad.checked()
    assert check_text("  a post \n", "post", 100) == "a post"
    assert check_text("x" * MAX_POST_CHARS, "post", MAX_POST_CHARS)  # the limit itself is accepted
    only_gm = AssistService({"draft": str(adapter_run)})
    with pytest.raises(InputError, match="no model for `improve`"):
        only_gm.improve(CALM, "a reply", FAST)


def test_word_diff_marks_added_and_removed_words() -> None:
    from assist.app import word_diff

    diff = word_diff("hang in there, exams end", "hang in there, exams end soon. You can do this")
    assert "".join(t for t, _ in diff if _ != "removed") == "hang in there, exams end soon. You can do this"
    assert any(label == "added" and "soon" in t for t, label in diff)
    assert not any(label == "removed" for _, label in diff)
    swapped = word_diff("you are weak", "you are strong")
    assert ("weak", "removed") in swapped and ("strong", "added") in swapped
    assert word_diff("same", "same") == [("same", None)]


def test_serve_refuses_to_start_without_a_model(tmp_path: Path, capsys, monkeypatch) -> None:
    """A model that fails to load stops the server before it starts, with one line saying why."""
    from assist.app import is_loopback, serve_main

    assert serve_main(["--gm", str(tmp_path / "no-such-adapter")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("assist serve: cannot load the adapter")
    with pytest.raises(SystemExit):
        serve_main([])  # neither --gm nor --im
    monkeypatch.delenv("ASSIST_LOGIN", raising=False)
    with pytest.raises(SystemExit):
        serve_main(["--gm", "x", "--auth", "ASSIST_LOGIN"])  # the variable is not set
    assert "set that environment variable to USER:PASSWORD" in capsys.readouterr().err
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.0.2.7") and not is_loopback("example.org")
