"""Content the dumps mark as gone or not human, and text as the dumps store it (issue 11, items 9-11)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from builder_rows import read_rows

from dataset_builder.config import BuildConfig
from dataset_builder.ingest import clean_text
from dataset_builder.pipeline import build
from dataset_builder.threads import known_bots

KEY = b"content-test-key-0123456789"
BODY = "You are not alone in this, talking to someone really helped me."


def _post(pid: str, **extra) -> dict:
    return {
        "id": pid,
        "author": f"op_{pid}",
        "title": f"Feeling low {pid}",
        "selftext": "I have been feeling low for weeks now and do not know what to do.",
        "created_utc": 1000,
        "score": 20,
        "subreddit": "depression",
    } | extra


def _comment(cid: str, pid: str = "p1", author: str | None = None, body: str | None = None, **extra) -> dict:
    return {
        "id": cid,
        "link_id": f"t3_{pid}",
        "parent_id": f"t3_{pid}",
        "author": author or f"helper_{cid}",
        "body": body if body is not None else f"{BODY} ({cid})",
        "created_utc": 1100,
        "score": 3,
        "subreddit": "depression",
    } | extra


def _build(tmp_path: Path, posts: list[dict], comments: list[dict], raw_lines: list[bytes] = ()) -> tuple:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "RS_x.jsonl").write_text("".join(json.dumps(p) + "\n" for p in posts))
    lines = [json.dumps(c).encode() for c in comments] + list(raw_lines)
    (raw / "RC_x.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "out"
    manifest = build(BuildConfig(inputs=[raw], out=out, keep_reddit_ids=True), key=KEY)
    return manifest, {r["comment_id"]: r for r in read_rows(out, "comments")}


GONE_COMMENTS = {
    "by_reddit1": ({"body": "[ Removed by Reddit ]"}, "removed_by_reddit"),
    "by_reddit2": (
        {"body": "[ Removed by Reddit on account of violating the [content policy](/help/contentpolicy). ]"},
        "removed_by_reddit",
    ),
    "by_reddit3": ({"removed_by_category": "anti_evil_ops"}, "removed_by_reddit"),
    "by_reddit4": ({"_meta": {"removal_type": "removed by reddit"}}, "removed_by_reddit"),
    "mod1": ({"body": "[removed]"}, "removed"),
    "mod2": ({"body": " [Removed] "}, "removed"),
    "mod3": ({"banned_by": "some_moderator"}, "removed"),
    "mod4": ({"removed_by_category": "moderator"}, "removed"),
    "mod5": ({"_meta": {"removal_type": "removed"}}, "removed"),
    "mod6": ({"removed_by": "moderator"}, "removed"),
    "author1": ({"body": "[deleted]"}, "deleted"),
    "author2": ({"author": "[deleted]"}, "deleted"),
    "author3": ({"removed_by_category": "deleted"}, "deleted"),
    "author4": ({"_meta": {"removal_type": "deleted"}}, "deleted"),
    "author5": ({"_meta": {"was_deleted_later": True}}, "deleted"),
    "author6": ({"body": "[deleted by user]"}, "deleted"),
}


def test_removed_and_deleted_content_in_every_form(tmp_path: Path) -> None:
    comments = [_comment("keep1"), _comment("keep2", banned_by=None, removed_by_category=None)]
    comments += [_comment(cid, **extra) for cid, (extra, _) in GONE_COMMENTS.items()]
    posts = [
        _post("p1"),
        _post("p2", selftext="[ Removed by Reddit ]"),
        _post("p3", removed_by_category="reddit"),
        _post("p4", removed_by_category="moderator", selftext="text still there in the dump, long enough"),
        _post("p5", title="[deleted by user]", selftext="[deleted]"),
        _post("p6", removed_by_category="author"),
        _post("p7", _meta={"removal_type": "deleted"}),
        _post("p8", author="[deleted]"),
    ]
    comments += [_comment(f"c{p['id']}", pid=p["id"]) for p in posts[1:]]
    manifest, rows = _build(tmp_path, posts, comments)
    assert set(rows) == {"keep1", "keep2"}
    expected: dict[str, int] = {}
    for _, reason in GONE_COMMENTS.values():
        expected[reason] = expected.get(reason, 0) + 1
    drops = manifest["drops"]
    assert {k: v for k, v in drops["comment"].items() if k != "post_dropped"} == expected
    assert drops["submission"] == {"removed_by_reddit": 2, "removed": 1, "deleted": 4}
    assert "Removed by Reddit" not in json.dumps(manifest)


def test_html_entities_and_control_characters_cleaned(tmp_path: Path) -> None:
    comments = [
        _comment("a", body="Tom &amp; Jerry &gt; cats &lt;3, it gets better &amp;#x200B; honestly"),
        _comment("b", body="a NUL\u0000 here and a bell\u0007, but tabs\tand\nnewlines stay, friend"),
    ]
    half_emoji = (
        b'{"id": "s", "link_id": "t3_p1", "parent_id": "t3_p1", "author": "helper_s", "score": 3, '
        b'"created_utc": 1100, "subreddit": "depression", "body": "hugs \\ud83d you will get through this"}'
    )
    bad_utf8 = (
        b'{"id": "u", "link_id": "t3_p1", "parent_id": "t3_p1", "author": "helper_u", "score": 3, '
        b'"created_utc": 1100, "subreddit": "depression", "body": "caf\xe9 chats helped me a lot, honestly"}'
    )
    missing = b'{"id": "m", "link_id": "t3_p1", "parent_id": "t3_p1", "author": "x"}'
    post = _post(
        "p1", title="Q&amp;A: me &gt; everyone", selftext="I feel &lt;&lt; nothing &amp; it is hard."
    )
    manifest, rows = _build(tmp_path, [post], comments, [half_emoji, bad_utf8, missing])
    assert rows["a"]["comment_text"] == "Tom & Jerry > cats <3, it gets better \u200b honestly"
    assert rows["b"]["comment_text"] == "a NUL here and a bell, but tabs\tand\nnewlines stay, friend"
    assert rows["s"]["comment_text"] == "hugs \ufffd you will get through this"
    assert rows["u"]["comment_text"] == "caf\ufffd chats helped me a lot, honestly"
    assert rows["a"]["post_title"] == "Q&A: me > everyone"
    assert rows["a"]["post_text"] == "I feel << nothing & it is hard."
    rejected = manifest["rejected"]
    assert rejected["count"] == 1 and rejected["by_reason"] == {"missing field body for comments": 1}
    assert rejected["examples"][0]["line"] == 5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("&amp;&lt;&gt;&quot;&#39;", "&<>\"'"),
        ("&amp;nbsp;x", "\xa0x"),
        ("AT&T and R&D", "AT&T and R&D"),
        ("\u0000\u0001ok\r\n", "ok\r\n"),
        ("\ud83dx", "\ufffdx"),
    ],
)
def test_clean_text(text: str, expected: str) -> None:
    assert clean_text(text) == expected


BOT_NAMES = ["AutoModerator", "RemindMeBot", "WikiSummarizerBot", "helper_bot", "some-bot-2", "bot_tracker",
             "MAGIC_EYE_BOT", "SaveVideo", "sneakpeekbot"]  # fmt: skip
HUMAN_NAMES = ["i_am_not_a_robot", "Abbot_Costello", "robotics_fan", "bottle_of_tea", "TalbotFan", "ibotta"]
BOT_BODIES = [
    "I am a bot, and this action was performed automatically. Please contact the moderators.",
    "Beep boop, here is your reminder from three days ago.",
    "^(I'm) ^(a) ^(bot) ^(that fixes links)",
    "This is an automated message: your post is awaiting approval by a human.",
]
HUMAN_BODIES = [
    "I am not a bot, I promise, I just type fast when I am anxious.",
    "My robot vacuum is the only thing keeping my flat clean lately.",
]


def test_bots_dropped_humans_kept(tmp_path: Path) -> None:
    comments = [_comment(f"n{i}", author=name) for i, name in enumerate(BOT_NAMES + HUMAN_NAMES)]
    comments += [_comment(f"b{i}", body=body) for i, body in enumerate(BOT_BODIES + HUMAN_BODIES)]
    posts = [_post("p1"), _post("p2", author="i_am_not_a_robot"), _post("p3", author="RemindMeBot")]
    comments += [_comment("q2", pid="p2"), _comment("q3", pid="p3")]
    manifest, rows = _build(tmp_path, posts, comments)
    kept_authors = {r["comment_id"] for r in rows.values()}
    humans = {f"n{len(BOT_NAMES) + i}" for i in range(len(HUMAN_NAMES))}
    human_bodies = {f"b{len(BOT_BODIES) + i}" for i in range(len(HUMAN_BODIES))}
    assert kept_authors == humans | human_bodies | {"q2"}
    assert manifest["drops"]["comment"]["bot"] == len(BOT_NAMES) + len(BOT_BODIES)
    assert manifest["drops"]["submission"] == {"bot": 1}


def test_known_bots_list_is_lower_case_names() -> None:
    bots = known_bots()
    assert "automoderator" in bots and "savevideo" in bots
    assert all(b == b.lower() and " " not in b for b in bots)
