"""The support-seeking rule (dataset_builder/support.py) on invented posts: one kind per reason, with variants."""

from __future__ import annotations

import duckdb
import pytest

from dataset_builder import support
from dataset_builder.config import BuildConfig


def _reasons(posts: list[tuple[str, str]], cfg: BuildConfig | None = None) -> list[tuple[bool, str]]:
    con = duckdb.connect()
    con.execute("CREATE TABLE kept_posts (post_id VARCHAR, title VARCHAR, selftext VARCHAR)")
    con.executemany(
        "INSERT INTO kept_posts VALUES (?, ?, ?)", [(str(i), t, s) for i, (t, s) in enumerate(posts)]
    )
    support.compute(con, cfg or BuildConfig())
    rows = con.execute(
        "SELECT seeks_support, support_reason FROM post_support ORDER BY post_id::INT"
    ).fetchall()
    assert con.execute("SELECT count(*) FROM post_support").fetchone()[0] == len(posts)
    return rows


BODY = "Some ordinary words that make this post long enough to count as a real text."

CASES = [
    # not support-seeking: format markers win over any request in the text
    ("Look at this", "https://i.example.com/abcdefghijkl.jpg", False, "link_or_media_only"),
    (
        "My campus",
        "[pic](https://example.com/a/very/long/path/to/image.png) \n\n **!!**",
        False,
        "link_or_media_only",
    ),
    ("Weekly thread: ask anything", "Post your questions below. Any advice welcome?", False, "megathread"),
    ("Official Decision Megathread", BODY, False, "megathread"),
    ("Quick poll for grad students", "What should I do? Vote below.", False, "poll_or_survey"),
    (
        "Help with my class project",
        "Please take my survey, it takes 5 minutes: link",
        False,
        "poll_or_survey",
    ),
    ("Share your first-week stories", BODY, False, "share_prompt"),
    ("What's your favorite study spot on campus?", BODY, False, "share_prompt"),
    ("PSA: the portal closes tonight", BODY, False, "announcement"),
    ("[Meta] New rules for the sub", BODY, False, "announcement"),
    ("Made a meme about finals week", "Any advice on better memes? " + BODY, False, "meme"),
    # support-seeking: explicit requests
    ("Any advice for a struggling transfer?", BODY, True, "asks_for_help"),
    (
        "Roommate situation",
        "I don't know what to do. What should I do about it? " + BODY,
        True,
        "asks_for_help",
    ),
    (
        "Got into two schools",
        "I got accepted to both but cannot decide, need some advice. " + BODY,
        True,
        "asks_for_help",
    ),
    ("Is it normal to have no friends in second year", BODY, True, "asks_for_help"),
    # not support-seeking when no request: celebrations and guides
    ("I GOT IN!!!", "Accepted to my dream school after three years of work. " + BODY, False, "celebration"),
    ("Successfully defended today", "Four years, done. " + BODY, False, "celebration"),
    ("Tips for incoming freshmen", "1. Go to office hours. 2. Sleep. " + BODY, False, "guide_or_resource"),
    ("Things I wish I had known before grad school", BODY, False, "guide_or_resource"),
    # support-seeking: distress and plain questions
    ("Feeling low", "I have been feeling low for weeks now.", True, "expresses_distress"),
    (
        "Rough semester",
        "I'm struggling with every class and I feel like a fraud. " + BODY,
        True,
        "expresses_distress",
    ),
    ("Need to vent", "Sorry, this is a rant. " + BODY, True, "expresses_distress"),
    ("Deadline for my transcripts", "When do they have to be in by? " + BODY, True, "asks_question"),
    ("Transcript deadline", "My school sends them late; when are they due? " + BODY, True, "asks_question"),
    # issue 16: a question that never mentions the author is not a request for support
    (
        "Deadline for transcripts",
        "When do transcripts have to be in by? " + BODY,
        False,
        "impersonal_question",
    ),
    (
        "How many colleges is everyone applying to?",
        "Is anyone applying to just one?",
        False,
        "impersonal_question",
    ),
    # issue 16: opinion and discussion prompts, unless the author also asks for help with their own case
    ("Would you rather have finals in May or December?", BODY, False, "discussion_prompt"),
    ("Cranks", "What kind of people does your discipline attract? " + BODY, False, "discussion_prompt"),
    (
        "Unpopular opinion: citation styles are all the same",
        "I think so anyway. " + BODY,
        False,
        "discussion_prompt",
    ),
    (
        "Big state schools",
        "What do you guys think about big state schools? I like them. " + BODY,
        False,
        "discussion_prompt",
    ),
    ("Is it just me or are 8am classes pointless", "I think they are. " + BODY, False, "discussion_prompt"),
    (
        "What's the weirdest thing a professor told you?",
        "Mine said I was a robot. " + BODY,
        False,
        "discussion_prompt",
    ),
    ("Do you think colleges should drop the SAT?", "I do. " + BODY, False, "discussion_prompt"),
    (
        "What do you guys think about big state schools?",
        "I got into two and should I pick the bigger one? " + BODY,
        True,
        "asks_for_help",
    ),
    (
        "Is it just me or",
        "I feel like I am not getting in anywhere and I am scared. " + BODY,
        True,
        "expresses_distress",
    ),
    # variants: the order of the rules matters
    ("Got accepted to two programs, which one?", BODY, True, "asks_for_help"),
    (
        "Accepted to my dream school!",
        "But my family cannot pay. I feel sick about it. " + BODY,
        False,
        "celebration",
    ),
    ("Got into my top choice. Now what?", BODY, True, "asks_question"),
    (
        "Roommate keeps eating my food",
        "This is not a shitpost, it happens daily. I feel ignored. " + BODY,
        True,
        "expresses_distress",
    ),
    (
        "Tips for surviving organic chemistry",
        "My exam is next week and I am lost. Where do I start? " + BODY,
        True,
        "asks_for_help",
    ),
    (
        "Rant: tips from advisors are useless",
        "Every meeting is the same. " + BODY,
        True,
        "expresses_distress",
    ),
    (
        "Tips for how to beat test anxiety",
        "I wanted to share what worked for me. Do you ever wonder why? " + BODY,
        False,
        "guide_or_resource",
    ),
    # issue 16: distress words count only about the author
    (
        "Professors who hate students",
        "Some professors hate their students and it sucks. " + BODY,
        False,
        "no_request_or_distress",
    ),
    (
        "This sub is toxic",
        "People here are depressed and stressed. Just an observation. " + BODY,
        False,
        "no_request_or_distress",
    ),
    (
        "Second semester",
        "My classes are fine. Honestly I hate my schedule though. " + BODY,
        True,
        "expresses_distress",
    ),
    (
        "Second semester",
        "Nothing new. Failing everything, it is all on me now. " + BODY,
        True,
        "expresses_distress",
    ),
    # issue 16, third rule round: curly apostrophes, public-service titles, discussion prompts
    (
        "What\u2019s your favorite \u201cfirst week\u201d story?",
        "Mine was the lab. " + BODY,
        False,
        "share_prompt",
    ),
    ("What\u2019s the weirdest thing a TA said to you", "Go. " + BODY, False, "discussion_prompt"),
    ("I\u2019m so lost, what should I do now", BODY, True, "asks_for_help"),
    (
        "Hello seniors, it is time for some emotional planning",
        "Waiting is stressful, I know. " + BODY,
        False,
        "announcement",
    ),  # fmt: skip
    ("Y'all are scaring people!!!", "Everyone here just flexes their scores. " + BODY, False, "announcement"),
    ("Hey everyone, should I drop calculus?", "I am failing it. " + BODY, True, "asks_for_help"),
    (
        "Can we just talk about the new parking fees",
        "They are absurd for us. " + BODY,
        False,
        "discussion_prompt",
    ),
    (
        "Is anyone else lowkey thankful that classes are online",
        "I like it more. " + BODY,
        False,
        "discussion_prompt",
    ),  # fmt: skip
    ("Is anyone else thankful for online classes? How do I keep focus", BODY, True, "asks_for_help"),
    (
        "Sorry if this is the wrong place, but what\u2019s the best GRE book I can buy?",
        "My professor says I should take the test seriously. " + BODY,
        True,
        "asks_question",
    ),
    ("What's the best study app you would recommend?", "Mine keeps crashing. " + BODY, True, "asks_question"),
    # neither
    (
        "My first day on campus",
        "Walked around, ate lunch, went to the library. " + BODY,
        False,
        "no_request_or_distress",
    ),
]


@pytest.mark.parametrize(
    ("title", "text", "seeks", "reason"), CASES, ids=[c[3] + "-" + c[0][:24] for c in CASES]
)
def test_support_reason(title: str, text: str, seeks: bool, reason: str) -> None:
    assert _reasons([(title, text)]) == [(seeks, reason)]


def test_min_text_chars_is_a_parameter() -> None:
    post = ("Short one", "Help me please now")  # 15 characters left without spaces
    assert _reasons([post])[0][1] == "link_or_media_only"
    assert _reasons([post], BuildConfig(support_min_text_chars=5))[0] == (True, "asks_for_help")


def test_null_text_and_title_do_not_fail() -> None:
    assert _reasons([(None, None)]) == [(False, "link_or_media_only")]


def test_comments_on_posts_not_seeking_support_stay_unlabeled(tmp_path) -> None:
    from crafted_threads import build_rows, comment, op_reply, post

    posts = [
        post(
            "p1",
            "Any advice? I failed my exam",
            "I have been feeling low since I failed it, what should I do?",
        ),
        post("p2", "I GOT IN!!!", "Accepted to my dream school after two gap years, cannot believe it."),
    ]
    comments = []
    for pid in ("p1", "p2"):
        comments += [
            comment(
                f"{pid}a", None, "Talk to your professor, it really helped me when I was there.", 30, pid=pid
            ),
            op_reply(f"{pid}ar", f"{pid}a", "Thank you so much, this really helps.", pid=pid),
            comment(f"{pid}b", None, "Something else entirely that is long enough to be kept.", 2, pid=pid),
        ]
    rows, manifest = build_rows(tmp_path, posts, comments)
    assert rows["p1a"]["seeks_support"] is True and rows["p1a"]["label"] == 1
    assert rows["p2a"]["seeks_support"] is False and rows["p2a"]["label"] is None
    assert (
        rows["p2a"]["op_signal"] == rows["p1a"]["op_signal"]
    )  # signals are kept; only the label is withheld
    assert manifest["support_seeking"] == {
        "posts_seeking_support": 1,
        "posts_not_seeking_support": 1,
        "comments_on_posts_not_seeking_support": 2,
        "posts_by_reason": {"asks_for_help": 1, "celebration": 1},
    }
    assert manifest["stats"]["comments_on_posts_not_seeking_support"] == 2
    rows, _ = build_rows(tmp_path / "all", posts, comments, label_only_support_seeking=False)
    assert rows["p2a"]["label"] == 1
