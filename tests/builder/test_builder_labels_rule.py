"""Label rule 2.0 end to end on small invented threads: each systematic error of issue 8 as a kind."""

from __future__ import annotations

from pathlib import Path

import pytest
from crafted_threads import build_rows, comment, op_reply, post

from dataset_builder.config import LABEL_RULE_VERSION, BuildConfig
from dataset_builder.pipeline import BuildError, build

ADVICE = "Talk to your advisor this week, and ask the counseling center about a reduced course load."


def _filler(n: int, score: int = 3, pid: str = "p1") -> list[dict]:
    """Sibling comments without OP replies, to give reception something to rank against."""
    return [
        comment(f"{pid}f{i}", None, f"Another ordinary reply number {i} with enough words.", score, pid=pid)
        for i in range(n)
    ]


def test_rule_version_is_2() -> None:
    assert LABEL_RULE_VERSION == "2.0"
    assert BuildConfig().parameters()["label_rule_version"] == "2.0"


def test_sentiment_without_acknowledgement_never_labels(tmp_path: Path) -> None:
    comments = [
        comment("a", None, "Haha that show is the best, season two especially!", 50),
        op_reply("ar", "a", "Omg yes!! I love it so much, best show ever, amazing :)"),
        comment("b", None, "I'm sorry you're going through this, it sounds exhausting.", 50),
        op_reply("br", "b", "Aww I hope things get better for you too, you sound lovely."),
        *_filler(4),
    ]
    rows, _ = build_rows(tmp_path, [post()], comments)
    for cid in ("a", "b"):
        assert rows[cid]["op_evidence"] in ("other", "courtesy") and rows[cid]["op_signal"] == 0.5
        assert rows[cid]["label"] is None, cid  # good reception alone does not label either


def test_follow_up_question_is_engagement_not_benefit(tmp_path: Path) -> None:
    comments = [
        comment("a", None, ADVICE, 5),
        op_reply("ar", "a", "How do I find out who my advisor is? Is it on the portal?"),
        *_filler(2),
    ]
    rows, _ = build_rows(tmp_path, [post()], comments)
    assert rows["a"]["op_evidence"] == "question" and rows["a"]["label"] is None


def test_negativity_about_own_situation_is_not_rejection(tmp_path: Path) -> None:
    comments = [
        comment("a", None, ADVICE, 5),
        op_reply("ar", "a", "Thanks, it's just been a terrible, awful week and I hate everything."),
        comment("b", None, "Just do the reading, honestly everyone struggles like this at first.", 4),
        op_reply("br", "b", "I already tried that and you don't understand, it doesn't help."),
        *_filler(2),
    ]
    rows, _ = build_rows(tmp_path, [post()], comments)
    assert rows["a"]["op_evidence"] == "gratitude" and rows["a"]["label"] == 1
    assert rows["b"]["op_evidence"] == "rejection" and rows["b"]["label"] == 0
    assert rows["b"]["label_source"] == "op_signal"


@pytest.mark.parametrize(
    ("reply", "label"),
    [
        ("Thanks to my therapist I already knew about that.", 0),  # thanks to a third party + already knew
        ("thanks but my school does not offer that", None),
        ("No thanks.", None),
        ("Thanks for nothing.", 0),
        ("Thank you so much, this is really helpful!", 1),
    ],
)
def test_gratitude_contrast_and_negation(tmp_path: Path, reply: str, label: int | None) -> None:
    comments = [comment("a", None, ADVICE, 3), op_reply("ar", "a", reply), *_filler(2)]
    rows, _ = build_rows(tmp_path, [post()], comments)
    assert rows["a"]["label"] == label


def test_thread_wide_feedback_is_not_evidence_about_one_comment(tmp_path: Path) -> None:
    text = "I have been feeling low for weeks. What should I do?\n\nEDIT: thank you all so much, this helped a lot!"
    comments = [
        comment("a", None, ADVICE, 40, author="first_helper"),
        comment("b", None, "You could also try journaling for a few minutes every night.", 30),
        comment("c", None, "Going for walks helped me a lot during my worst semester.", 20),
        *_filler(3, score=1),
    ]
    rows, manifest = build_rows(tmp_path, [post(text=text)], comments)
    assert rows["a"]["post_feedback"] > 0.3  # strong, grateful feedback on the whole thread...
    assert all(r["label"] is None for r in rows.values())  # ...labels no single comment, even top-voted ones
    named = [
        comment(
            "op1",
            None,
            "Update: thank you u/first_helper, your advice worked wonders!",
            1,
            author="op_person",
        )
    ]
    rows, _ = build_rows(tmp_path / "named", [post()], comments + named)
    assert rows["a"]["label"] == 1 and "post_feedback" in rows["a"]["label_source"]
    assert rows["b"]["label"] is None


def test_not_effective_needs_evidence_not_a_missing_reply(tmp_path: Path) -> None:
    comments = [
        comment("a", None, ADVICE, 30),
        op_reply("ar", "a", "Thank you, this really helps."),
        comment("quiet", None, "Maybe consider a gap year if nothing else works out for you.", 1),
        comment("down", None, "Honestly just stop complaining, college is easy for everyone.", -6),
        *_filler(3, score=4),
    ]
    rows, _ = build_rows(tmp_path, [post()], comments)
    assert rows["quiet"]["op_replied"] is False and rows["quiet"]["label"] is None  # silence is not evidence
    assert rows["down"]["label"] == 0 and rows["down"]["label_source"] == "reception"  # clearly negative
    rows, _ = build_rows(tmp_path / "strict", [post()], comments, negative_reception_max_score=-10)
    assert rows["down"]["label"] is None  # the threshold is a parameter


def test_label_confidence_follows_the_strength_of_evidence(tmp_path: Path) -> None:
    comments = [
        comment("strong", None, ADVICE, 50),
        op_reply("sr", "strong", "Thank you so much, this really helped, I feel so much better now!"),
        comment("plain", None, "Try making a weekly schedule with breaks built in.", 3),
        op_reply("pr", "plain", "thanks"),
        comment("grim", None, "Maybe ask your professor for an extension this week.", 3),
        op_reply("gr", "grim", "thanks. honestly everything is terrible and I'm miserable"),
        comment("no", None, "Just study more, it's that simple, nobody else struggles with this.", 3),
        op_reply("nr", "no", "I already tried that."),
        *_filler(4, score=3),
    ]
    rows, manifest = build_rows(tmp_path, [post()], comments)
    conf = {cid: rows[cid]["label_confidence"] for cid in ("strong", "plain", "grim", "no")}
    assert [rows[c]["label"] for c in conf] == [1, 1, 1, 0]
    assert conf["strong"] > conf["plain"] > conf["grim"] > 0
    assert 0 < conf["no"] < 1
    dist = manifest["stats"]["label_confidence"]
    assert dist["effective"]["n"] == 3 and dist["not_effective"]["n"] == 1
    assert sum(dist["effective"]["bins"].values()) == 3
    assert dist["effective"]["p10"] <= dist["effective"]["median"] <= dist["effective"]["p90"]
    assert manifest["stats"]["label_sources"] == {
        "op_signal -> effective": 2,
        "op_signal+reception -> effective": 1,
        "op_signal -> not_effective": 1,
    }


def test_paper_preset_counts_edit_markers_when_the_flag_is_missing(tmp_path: Path) -> None:
    posts = [
        post("p1", text="I have been feeling low for weeks now.\n\nEDIT: thanks, I talked to my advisor."),
        post("p2", text="I have been feeling low for weeks now, what should I do?", edited=1600000000),
        post("p3", text="I have been feeling low for weeks now, what should I do?"),
    ]
    comments = []
    for pid in ("p1", "p2", "p3"):
        comments += [
            comment(f"{pid}a", None, ADVICE, 5, pid=pid),
            op_reply(f"{pid}r", f"{pid}a", "Thank you!", pid=pid),
        ]
    cfg = BuildConfig(preset="paper").with_preset()
    rows, manifest = build_rows(
        tmp_path,
        posts,
        comments,
        preset="paper",
        **{k: getattr(cfg, k) for k in ("require_edited", "require_op_reply", "drop_threads_with_deleted")},
    )
    assert {r["post_id"] for r in rows.values()} == {"p1", "p2"}
    assert manifest["counts"]["edited_by_flag"] == 1 and manifest["counts"]["edited_by_marker"] == 1
    assert manifest["drops"]["submission"] == {"not_edited": 1}


def test_paper_preset_that_keeps_nothing_names_the_requirement(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    from crafted_threads import KEY, write_zst

    write_zst(
        raw / "RS_x.zst", [post("p1"), post("p2", text="Feeling low, what should I do?\n\nEdit: thanks")]
    )
    write_zst(raw / "RC_x.zst", [comment("a", None, ADVICE, 5), comment("b", None, ADVICE, 5, pid="p2")])
    cfg = BuildConfig(inputs=[raw], out=tmp_path / "out", preset="paper").with_preset()
    with pytest.raises(
        BuildError,
        match=r"require_edited removed 1 posts \(not_edited\); .*require_op_reply removed 1 posts \(no_op_reply\)",
    ):
        build(cfg, key=KEY)
