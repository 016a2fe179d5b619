"""A seeded synthetic dump in Pushshift format that exercises every path of the builder.

Every record carries `"synthetic": true`, an id starting with `syn`, and synthetic usernames; no text
comes from Reddit. It contains: OP thanks and OP disagreement, edited posts with EDIT/UPDATE text,
deleted and removed content, bots, a moderator sticky, an NSFW post, nested reply chains, orphan
comments, duplicates (the later `retrieved_on` wins), crisis language, emails / URLs / phone numbers /
u/ mentions / plain usernames to scrub, the real dumps' type quirks (string `created_utc`, null
`score`, missing `is_submitter`), paraphrased draft/revision comments, comments retrieved twice with
edited text (self-edits), and one malformed line.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import zstandard

SUBREDDITS = ("depression", "anxiety", "ptsd", "mentalhealth", "stress")
TOPICS = {
    "depression": [
        "getting out of bed",
        "feeling empty every day",
        "losing interest in everything",
        "sleeping all day",
    ],
    "anxiety": [
        "panic attacks at work",
        "constant worrying",
        "social anxiety in class",
        "racing thoughts at night",
    ],
    "ptsd": [
        "flashbacks after the accident",
        "nightmares every night",
        "being triggered by loud noises",
        "feeling on edge",
    ],
    "mentalhealth": ["starting therapy", "telling my family", "burnout from school", "feeling alone"],
    "stress": ["exam stress", "money problems", "too much work", "caring for a sick parent"],
}
POST_OPENERS = [
    "I have been struggling with {topic} for months and I don't know what to do anymore.",
    "Lately {topic} has been taking over my life and I feel like nobody understands.",
    "Does anyone else deal with {topic}? It is getting harder every week.",
    "I need some advice about {topic}. I have tried a few things but nothing sticks.",
]
POST_DETAILS = [
    "My friends say I should just relax but it is not that simple.",
    "I started a new job recently and it made everything worse.",
    "Some days are okay but most days I can barely function.",
    "I feel guilty for even posting this because others have it worse.",
]
CRISIS_LINES = [
    "Honestly some nights I think about ending it all.",
    "I have been having thoughts of suicide and it scares me.",
]
# Deterministic extra lines (no random draw, so the rest of the sample is unchanged): crisis language as
# people type it, and benign lines with trigger-looking words, for the crisis screen's build tests.
SCREEN_LINES = [
    "I don’t want to live anymore.",
    "been saving up my pills, kms",
    "This exam is killing me lol.",
    "I volunteer for a suicide prevention hotline.",
    "quiero morir.",
    "I'd kill for a coffee right now.",
    "sh relapse last night.",
    "I'm dying to see the new movie.",
]
SUPPORTIVE = [
    "I am really sorry you are going through {topic}. What helped me was breaking the day into tiny steps "
    "and celebrating each one. You reached out here, and that already takes courage.",
    "That sounds exhausting, and your feelings make complete sense. Have you been able to talk to a "
    "counselor or your doctor about {topic}? Writing down what triggers it helped me a lot.",
    "You are not alone in this. When I dealt with {topic}, a short walk every morning and a regular sleep "
    "time made a real difference. Be gentle with yourself, progress is not a straight line.",
    "Thank you for sharing this. It is okay to not be okay. One thing that worked for me with {topic} was "
    "the 5-4-3-2-1 grounding exercise, and I still use it when things get bad.",
]
DISMISSIVE = [
    "Just stop overthinking it, everyone has problems and most people deal with them without posting online.",
    "This happens to everybody, you will get over it. I don't see why this needs a whole post, honestly.",
    "Have you tried just being more positive? It is all in your head and you are making it worse for yourself.",
    "Sounds like you are making it a bigger deal than it is. Plenty of people have it harder and cope fine.",
]
DRAFTS = [
    ("Have you tried talking to someone about the {topic}? I know it is hard to start, but it can help more "
     "than you expect.",
     "Have you tried talking to someone about the {topic}? I know it is hard to start, but a counselor helped "
     "me a lot when mine started, and breathing exercises helped too. You deserve support with this."),
    ("Maybe write down your thoughts about {topic} before bed. It sounds simple, but it gave my worries "
     "somewhere to go.",
     "Maybe write down your thoughts about {topic} before bed. It sounds simple, but journaling gave my worries "
     "somewhere to go, and I slept better after a couple of weeks. Sending you strength."),
]  # fmt: skip
CLOSINGS = [
    "Hang in there.", "Take care of yourself.", "Wishing you well.", "Sending a hug.", "One day at a time.",
    "You've got this.", "Hope this helps.", "Rooting for you.", "Be kind to yourself today.", "Stay safe.",
]  # fmt: skip
OP_THANKS = [
    "Thank you so much, this really helps. I will try that tomorrow.",
    "Thanks, that means a lot. I feel a bit better reading this.",
    "I appreciate it, this is great advice and I am grateful you took the time.",
]
OP_DISAGREE = [
    "No, that is not helpful at all. You clearly did not read my post.",
    "That is easy to say, but it is wrong and it makes me feel worse.",
    "I hate when people say that. It is not true and it hurts.",
]
OP_NEUTRAL = ["What do you mean by that?", "How long did it take for you?", "Did you do it every day?"]
EDITS = [
    "\n\nEDIT: thank you all so much, I read every comment and I feel a lot less alone.",
    "\n\nUPDATE: I talked to my doctor like many of you suggested. Thanks everyone, this helped.",
    "\n\nEdit: honestly these replies made me feel worse, people here do not get it.",
]
BASE_TIME = 1_600_000_000


class _Writer:
    """Collects records and writes them as Pushshift-style NDJSON compressed with zstd."""

    def __init__(self) -> None:
        self.submissions: list[str] = []
        self.comments: list[str] = []

    def add(self, kind: str, record: dict[str, Any]) -> None:
        record["synthetic"] = True
        getattr(self, kind).append(json.dumps(record, ensure_ascii=False))


def _user(i: int) -> str:
    return f"syn_user_{i:03d}"


def write_sample(out: Path, seed: int = 0, n_posts: int = 120) -> list[Path]:
    """Write `synthetic_submissions.zst` and `synthetic_comments.zst` into `out`."""
    rng = random.Random(seed)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    writer = _Writer()
    comment_seq = 0

    def comment(
        post_id: str, parent: str, author: str, body: str, created: int, score: int | None, **extra: Any
    ) -> str:
        nonlocal comment_seq
        comment_seq += 1
        cid = f"syc{comment_seq:05d}"
        record = {
            "id": cid, "name": f"t1_{cid}", "author": author, "body": body, "created_utc": created,
            "score": score, "link_id": f"t3_{post_id}", "parent_id": parent, "subreddit": sub,
            "permalink": f"/r/{sub}/comments/{post_id}/_/{cid}/", "retrieved_on": created + 86_400,
        }  # fmt: skip
        record.update(extra)
        writer.add("comments", record)
        return cid

    for p in range(n_posts):
        sub = SUBREDDITS[p % len(SUBREDDITS)]
        topic = rng.choice(TOPICS[sub])
        post_id = f"syp{p:04d}"
        op = _user(p % 40)
        created = BASE_TIME + p * 3_600
        text = rng.choice(POST_OPENERS).format(topic=topic) + " " + rng.choice(POST_DETAILS)
        if p % 4 == 0:
            text += " " + rng.choice(CRISIS_LINES)
        if p % 4 == 2:
            text += " " + SCREEN_LINES[(p // 4) % len(SCREEN_LINES)]
        if p % 11 == 0:
            text += (
                " You can reach me at syn.person" + str(p) + "@example.com or 555-201-" + f"{1000 + p}" + "."
            )
        edited: Any = False
        if p % 4 == 0:
            text += rng.choice(EDITS)
            edited = created + 7_200
        submission = {
            "id": post_id, "name": f"t3_{post_id}", "author": op, "title": f"Struggling with {topic}",
            "selftext": text, "created_utc": str(created) if p % 7 == 0 else created,
            "score": rng.randint(1, 60), "upvote_ratio": 0.9, "over_18": p == 5, "is_self": True,
            "num_comments": 0, "subreddit": sub, "permalink": f"/r/{sub}/comments/{post_id}/_/",
            "edited": edited, "retrieved_on": created + 86_400,
        }  # fmt: skip
        if p == 3:
            submission["author"], submission["selftext"] = "[deleted]", "[deleted]"
        if p == 4:
            submission["selftext"], submission["removed_by_category"] = "[removed]", "moderator"
        if p == 6:
            submission["author"], submission["distinguished"], submission["stickied"] = (
                "syn_mod",
                "moderator",
                True,
            )
        writer.add("submissions", submission)
        if p % 10 == 1:  # a later retrieval of the same post with a higher score: it must win
            writer.add(
                "submissions",
                submission | {"score": submission["score"] + 100, "retrieved_on": created + 10 * 86_400},
            )

        n_comments = rng.randint(4, 10)
        for c in range(n_comments):
            author = _user(40 + (p * 7 + c) % 160)
            t = created + 600 * (c + 1)
            good = rng.random() < 0.55
            legacy = p % 5 == 2  # old dumps: no is_submitter, decided against the post author
            extra = {} if legacy else {"is_submitter": False}
            if c == 0 and p % 3 == 0:
                draft, revision = rng.choice(DRAFTS)
                d = comment(post_id, f"t3_{post_id}", author, draft.format(topic=topic), t, 1, **extra)
                r = comment(post_id, f"t3_{post_id}", _user(200 + p % 50), revision.format(topic=topic), t + 900,
                            rng.randint(8, 30), **extra)  # fmt: skip
                if (
                    p % 6 == 0
                ):  # an earlier retrieval of the revision, before its author edited it: a self-edit
                    first = json.loads(writer.comments[-1])
                    writer.comments.insert(len(writer.comments) - 1, json.dumps(first | {
                        "body": draft.format(topic=topic), "score": 1, "retrieved_on": t + 1_000}))  # fmt: skip
                comment(
                    post_id,
                    f"t1_{r}",
                    op,
                    rng.choice(OP_THANKS),
                    t + 1_800,
                    2,
                    **({} if legacy else {"is_submitter": True}),
                )
                del d
                continue
            body = (
                rng.choice(SUPPORTIVE if good else DISMISSIVE).format(topic=topic)
                + " "
                + rng.choice(CLOSINGS)
            )
            if c == 1 and p % 8 == 0:
                body += f" Also, u/{_user(p % 40)} check out https://example.org/coping-{p} for more."
            score: int | None = rng.randint(5, 40) if good else rng.randint(-3, 2)
            if c == 2 and p % 13 == 0:
                score = None
            cid = comment(post_id, f"t3_{post_id}", author, body, t, score, **extra)
            if rng.random() < 0.6:  # the OP answers this comment directly
                reply = (
                    rng.choice(OP_THANKS if good else OP_DISAGREE)
                    if rng.random() < 0.85
                    else rng.choice(OP_NEUTRAL)
                )
                if good and rng.random() < 0.3:
                    reply = reply + f" Thanks {author}!"
                op_reply = comment(post_id, f"t1_{cid}", op, reply, t + 1_200, rng.randint(1, 5),
                                   **({} if legacy else {"is_submitter": True}))  # fmt: skip
                # a nested chain below the OP's reply; the OP's deeper reply is not a direct reply
                deeper = comment(
                    post_id, f"t1_{op_reply}", author, "Glad to hear it, take care.", t + 1_500, 1, **extra
                )
                if rng.random() < 0.5:
                    comment(post_id, f"t1_{deeper}", op, "You too, thank you.", t + 1_700, 1, **extra)
        # noise every thread can have
        comment(post_id, f"t3_{post_id}", "[deleted]", "[deleted]", created + 50, None)
        if p % 2 == 0:
            comment(post_id, f"t3_{post_id}", _user(300), "[removed]", created + 60, 1)
        if p % 3 == 0:
            comment(post_id, f"t3_{post_id}", "AutoModerator", "Please remember the rules of this community. "
                    "I am a bot, and this action was performed automatically.", created + 5, 1,
                    distinguished="moderator", stickied=True)  # fmt: skip
        if p % 6 == 0:
            comment(
                post_id,
                f"t3_{post_id}",
                "RemindMeBot",
                "I will be messaging you in 2 days to remind you.",
                created + 70,
                1,
            )
        if p % 5 == 0:
            comment(post_id, f"t3_{post_id}", op, "Thank you everyone for being so kind, I feel less alone.", created + 9_000, 3,
                    is_submitter=True)  # fmt: skip
        if p % 10 == 0:
            comment(post_id, f"t3_{post_id}", _user(301), "ok", created + 80, 1)  # too short

    for o in range(5):  # comments whose submission is not in the dump
        sub = "depression"
        comment(f"sypmissing{o}", f"t3_sypmissing{o}", _user(400 + o), "This comment's post is not in the dump.",
                BASE_TIME - 1000, 2)  # fmt: skip
    writer.comments.insert(
        len(writer.comments) // 2, '{"id": "sycbroken", "body": "this line is not valid JSON'
    )

    paths = []
    for name, lines in (
        ("synthetic_submissions.zst", writer.submissions),
        ("synthetic_comments.zst", writer.comments),
    ):
        path = out / name
        path.write_bytes(
            zstandard.ZstdCompressor(level=3).compress(("\n".join(lines) + "\n").encode("utf-8"))
        )
        paths.append(path)
    (out / "README.md").write_text(
        "# Synthetic RedditESS sample\n\nSeeded synthetic data in Pushshift NDJSON format (zstd). "
        'No record comes from Reddit; every record carries `"synthetic": true`.\n',
        encoding="utf-8",
    )
    return paths
