"""Which kept posts seek support: the post-level half of the label rule (version 2.0 on).

A comment can only be *effective support* if its post asked for support. Celebrations, guides, announcements,
memes, polls and "share your ..." prompts draw replies that are congratulations, thanks or banter; labeling them
with the OP's reactions measures something else. The rule reads the post's title and text (the texts as
ingested, before scrubbing) and gives every kept post exactly one `support_reason`, the first that applies:

Not support-seeking (format markers, whatever else the text says):
  1. `link_or_media_only`: fewer than `support_min_text_chars` characters left once URLs and markdown
     punctuation are removed (a link, an image, a video).
  2. `megathread`: a megathread / daily / weekly / discussion / official thread (title).
  3. `poll_or_survey`: a poll or survey in the title, or a poll/survey link or invitation in the text.
  4. `share_prompt`: a prompt for the community to share ("share your ...", "what's your favorite ...") (title).
  5. `announcement`: PSA, announcement, AMA, [meta]/mod post, "Reminder:" (title); or a title that addresses
     the community ("hello seniors, ...", "y'all are scaring people") and asks nothing (issue 16, third round).
  6. `meme`: meme, shitpost, circlejerk, starter pack (title: "not a shitpost" in a text says nothing).
  7. `discussion_prompt` (issue 16): an opinion or discussion prompt to the community ("would you rather",
     "what do you guys think of ...", "do you think schools should ...", "unpopular opinion", "is it just me
     or", "what's the weirdest ...", "what kind of people does X attract", "can we just talk about ...", "is anyone
     else thankful that ...") in title or text, unless the author
     also makes a first-person request ("should I", "how do I", "what should I do", "chance me", "any advice").
Support-seeking:
  8. `asks_for_help`: an explicit request for help, advice, reassurance, information or opinions anywhere in
     title or text ("any advice", "what should I do", "need help", "should I", "how do I", "is it normal",
     "thoughts?", "not sure whether", "can someone", "chance me").
Not support-seeking (when no explicit request was found):
  9. `celebration`: a title announcing an acceptance, admission, defense, graduation, offer, publication,
     congratulations or other good news, without a question mark.
  10. `guide_or_resource`: a title offering tips, a guide, resources, lessons learned, "things I wish I had
     known", without a question mark or "rant"/"vent", whose text shares ("wanted to share", "here are my",
     "hope this helps") or asks nothing.
Support-seeking:
  11. `expresses_distress`: the author says how *they* feel or that *they* struggle: a distress word ("I feel",
      struggling, anxious, overwhelmed, burned out, lonely, scared, failing, hate, rant/vent, ...) in a sentence
      that also speaks of the author (I, me, my; issue 16: "professors who hate students" in an opinion piece
      is not the author's distress), or a title the author marks as a vent or rant.
  12. `asks_question`: a question (a `?` in the title or text) by an author who speaks of their own situation
      (a first-person word: I, me, my; issue 16).
Not support-seeking:
  13. `impersonal_question` (issue 16): a question that never mentions the author (a trivia or general
      question to the community).
  14. `no_request_or_distress`: none of the above (a story, an opinion, a statement, news).

Curly apostrophes are read as straight ones ("What’s your favorite ...?" is a share prompt).

Comments on posts that do not seek support stay in `comments` with a null label when
`label_only_support_seeking` is set (the default); the manifest counts them. All of it is the portable step
`support` (`sql/support.sql`, lowercased text; the regexes below are bound as its parameters).
"""

from __future__ import annotations

import duckdb

from dataset_builder import steps
from dataset_builder.config import BuildConfig
from dataset_builder.sql import one

URL = r"(https?://|www\.)\S+|\[([^\]]*)\]\([^)]*\)"
MARKDOWN = r"[\s\*_#>~`\[\]\(\)|-]+"
MEGATHREAD = r"\b(megathread|mega thread|daily thread|weekly thread|monthly thread|discussion thread|official thread|q&a thread)\b"
POLL_TITLE = r"\b(poll|polls|survey|questionnaire|straw ?poll)\b"
POLL_TEXT = r"\b(strawpoll|straw poll|forms\.gle|docs\.google\.com/forms|surveymonkey|qualtrics|take (my|our|this|a short|a quick) (survey|poll|questionnaire)|fill out (my|our|this|a short|a quick) (survey|form|questionnaire))"
SHARE_PROMPT = r"(^|[^a-z])(share|post|drop|list|show us|tell us|show off) (your|yours|us your|all your)\b|\bwhat('s| is| are|re) your (favorite|favourite|best|worst|most)\b"
ANNOUNCEMENT = (
    r"(^|[\[(\s])(psa|announcement|announcing|ama|ask me anything)([\])\s:!.,-]|\z)|"
    r"\[(meta|mod|mod post|announcement)\]|^(meta|mod post|reminder)\s*:"
)
# A title addressed to the community ("hello seniors, ...", "y'all are scaring people"): a public-service post,
# when the title asks nothing (issue 16, third rule round).
COMMUNITY_ADDRESS = (
    r"^(hello|hey|hi|dear|attention|to all|calling all|psa to|reminder to|note to)\b[^?]*\b(seniors|juniors|"
    r"sophomores|freshmen|freshman|everyone|everybody|y'?all|guys|applicants|students|people|folks|class of)\b|"
    r"^(y'?all|you guys|you all|everyone|people) (are|need|should|have|stop|please|must)\b"
)
MEME = r"\b(meme|memes|shitpost|shitposting|shit post|circlejerk|starter pack)\b"
HELP_REQUEST = (
    r"\b(any advice|need (some |any |your )?(advice|help|input|guidance|opinions?|suggestions?)|"
    r"(looking for|seeking|want|would (love|like|appreciate)) (some |any |your )?(advice|help|input|guidance|opinions?|suggestions?|tips|feedback)|"
    r"advice (please|needed|wanted|on|for|about)|please help|help me|help!|can (someone|anyone|you) help|"
    r"what (should|do|can|would) (i|we) do|what would you do|(should|can|do) i\b|how (do|can|should) i\b|"
    r"any (tips|suggestions|recommendations|ideas|thoughts|input)|is (it|this) (normal|ok|okay|bad|too late|weird)|"
    r"am i (the only|overreacting|crazy|wrong|screwed|doomed|normal)|does anyone (else|have|know)|has anyone|"
    r"any ?one else|thoughts\?|opinions\?|chance me|chances\?|reassurance|words of (advice|encouragement|wisdom)|"
    r"any (solutions?|help|recommendations?)|how (should|would|do|can) (one|you|u|we)\b|(want|wanted|like) to know|"
    r"wondering|curious (if|whether|about|what|how)|not sure (if|whether|what|how|where|which)|"
    r"(don'?t|do not|didn'?t) know (what|how|if|whether|where|which)|idk|confused|unsure|which (one|is better|should)|"
    r"(give|send|requesting|request) (me )?(some |any )?(tips|advice|feedback|suggestions)|proofread|"
    r"(can|could|would|will) (someone|anyone|somebody|you guys|y'?all))"
)
CELEBRATION = (
    r"\b(i got in|got (in|accepted|admitted|the job|an offer|the offer|a scholarship|a full ride)|congrat\w*|"
    r"got (a|an|my|the) (\w+ )?(job|offer|position|internship|scholarship|acceptance|fellowship|grant)|"
    r"(was|were|got|been|am|is|i'?m) (accepted|admitted|published|approved|funded|awarded|hired)|"
    r"(i'?m|i am|we'?re) (accepted|admitted|committed)\b|accepted (to|into|at)|admitted (to|into)|"
    r"committed to|i did it|we did it|good news|great news|celebrat\w*|passed (my|the)|"
    r"(i|just|successfully) defended|i graduated|just graduated|finally graduated|finally (done|finished|over)|"
    r"so (happy|excited|proud)|dream school|thank you (all|everyone|r/)|"
    r"(a |an )?appreciation post|success story|shout ?out)"
)
SHARING = (
    r"\b((want|wanted|thought i'?d|going|like) to share|here (are|is) (my|some|a)|i('ve| have) (compiled|made|put "
    r"together|created|written)|hope (this|it) helps|for (anyone|those|people) (who|that|wondering|applying))"
)
VENT = r"\b(rant|ranting|vent|venting)\b"
GUIDE = (
    r"\b(guide|tips|tip:|resources?|lessons? (i )?learned|things i wish i (had )?known?|advice (to|for) "
    r"(incoming|new|future|prospective|anyone|those|all|freshmen|juniors|seniors)|how i (got|went|made|did|managed)|"
    r"a list of|master ?list|my experience with|review of|(free|useful|helpful) (tool|website|app|resource))"
)
DISTRESS_WORDS = (
    r"\b(i feel|i felt|(i'?m|i am|been|keep|still) feeling|feel(ing)? (so )?(low|down|sad|awful|terrible|bad|empty|"
    r"stuck|worthless|useless|numb|like a failure|like giving up)|sad|struggl\w*|anxious|anxiety|depress\w*|stress(ed|ful)?|overwhelm\w*|"
    r"burn(ed|t)? ?out|exhausted|lonely|alone|isolated|scared|afraid|terrified|worried|worry|panic\w*|"
    r"hopeless|helpless|lost|crying|cried|miserable|hate (my|myself|this)|can'?t (cope|handle|sleep|focus|"
    r"do this|take it)|failing|failed|rejected|vent|venting|rant|ranting|breaking down|falling apart|"
    r"give up|giving up|imposter|impostor|insecure|ashamed|embarrassed|heartbroken|devastated|upset|frustrat\w*|"
    r"guilt\w*|drop(ping)? out|hate|sucks|(having|have|had) (a )?(trouble|hard time|difficult time|rough time)|regret\w*|desperate|suicid\w*|mental health|therapy|therapist)\b"
)
# A first-person word (the author's own situation); apostrophes straight or curly.
FIRST_PERSON = r"\b(i|i'm|i’m|im|i've|i’ve|i'd|i’d|i'll|i’ll|me|my|mine|myself)\b"
# Distress about the author: a distress word in a sentence (no . ! ? or newline between) with a first-person word.
DISTRESS = (
    r"\bi (feel|felt)\b|\b(i'?m|i am|i’m) (so |still |always )?feeling\b|"
    f"{FIRST_PERSON}[^.!?\n]*{DISTRESS_WORDS}|{DISTRESS_WORDS}[^.!?\n]*{FIRST_PERSON}"
)
# Opinion and discussion prompts to the community (issue 16).
DISCUSSION = (
    r"\b(would you rather|unpopular opinion|hot take|change my (view|mind)|cmv|let'?s (talk|discuss)|"
    r"is it just me or|am i the only one (who|that) (thinks|finds|likes|loves|hates|enjoys)|"
    r"what (do|does) (you|u|y'?all|you guys|you all|everyone|people|redditors|this sub|reddit) (guys |all )?"
    r"(think|feel) (of|about|is|are|of the|about the)|"
    r"(do|does) (you|u|y'?all|anyone|everyone|people) (guys |all |else )?(think|agree|believe) (that )?(schools|"
    r"colleges|universities|professors|students|we|people|there|everyone|society)|"
    r"(what|which|who)('s| is| are|'re| was| were) (the|your|some of the|some) (strangest|weirdest|funniest|"
    r"craziest|best|worst|easiest|hardest|dumbest|coolest|biggest|most|least|favou?rite)|"
    r"what (type|kind|sort)s? of (people|students|person|professors|cranks|crazies)|"
    r"how (common|commonly|often) (is|are|do|does)|why (do|does|are|is) (so many|people|everyone|schools|"
    r"colleges|universities|professors|students|some people)|"
    r"should (schools|colleges|universities|professors|students|we|people|everyone|there) |"
    r"can we (just |all |please )?(talk|discuss|chat) about|"
    r"(is )?any ?one else (lowkey |low key |kinda |kind of |secretly |also |really )?(thankful|glad|grateful|"
    r"relieved|happy|excited|loving) (that|about|for|to|we|our|the))"
)
# A first-person request for help or advice: overrides a discussion marker (issue 16).
OWN_REQUEST = (
    r"\b((should|can|could|do|will|would|am|did|shall|must) i|how (do|can|should|would|will) i|"
    r"what (should|can|do|would|will) i|help me|chance me|my chances|any (advice|tips|suggestions|help)|"
    r"(need|want|looking for|seeking|appreciate) (some |any |your )?(advice|help|tips|suggestions|guidance)|"
    r"advice (please|needed)|please help|help|how to|i('m| am|’m) (struggling|worried|scared|stressed|lost|"
    r"desperate)|i feel like i|i('m| am|’m) not getting|"
    # a recommendation for the author's own use ("what's the best GRE book I can buy?")
    r"recommend\w*|i (can|could|should|need to) (buy|get|use|read|take|try|study|afford)|for me to)\b"
)


SEEKING_REASONS = ("asks_for_help", "expresses_distress", "asks_question")

# The rule's order of reasons lives in `sql/support.sql`; its regexes (RE2 in DuckDB, Java in Spark: only the
# syntax both read, see `steps.regex_problems`) and threshold are bound as parameters.
SUPPORT = steps.Step("support", inputs=("kept_posts",), outputs=("post_support",))
PATTERNS = {
    "url": URL,
    "markdown": MARKDOWN,
    "megathread": MEGATHREAD,
    "poll_title": POLL_TITLE,
    "poll_text": POLL_TEXT,
    "share_prompt": SHARE_PROMPT,
    "announcement": ANNOUNCEMENT,
    "community_address": COMMUNITY_ADDRESS,
    "meme": MEME,
    "discussion": DISCUSSION,
    "own_request": OWN_REQUEST,
    "help_request": HELP_REQUEST,
    "celebration": CELEBRATION,
    "guide": GUIDE,
    "vent": VENT,
    "sharing": SHARING,
    "distress": DISTRESS,
    "first_person": FIRST_PERSON,
}


def params(cfg: BuildConfig) -> dict[str, steps.Param]:
    """The `support` step's parameters: the regexes, the text threshold and the seeking reasons."""
    return {
        **PATTERNS,
        "min_text_chars": int(cfg.support_min_text_chars),
        "seeking_reasons": list(SEEKING_REASONS),
    }


def compute(con: duckdb.DuckDBPyConnection, cfg: BuildConfig) -> None:
    """Create `post_support(post_id, seeks_support, support_reason)`, one row per row of `kept_posts`."""
    steps.run(con, SUPPORT, params(cfg))


def summary(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """The manifest's `support_seeking` section: kept posts seeking support or not, kept top-level comments on
    posts that do not (left unlabeled when `label_only_support_seeking`), and posts by `support_reason`."""
    seeking, not_seeking, comments = one(
        con,
        """
        SELECT count(*) FILTER (WHERE seeks_support), count(*) FILTER (WHERE NOT seeks_support),
               (SELECT count(*) FROM top_comments c JOIN post_support s USING (post_id) WHERE NOT s.seeks_support)
        FROM post_support""",
    )
    reasons = con.sql("SELECT support_reason, count(*) FROM post_support GROUP BY 1 ORDER BY 1").fetchall()
    return {
        "posts_seeking_support": int(seeking),
        "posts_not_seeking_support": int(not_seeking),
        "comments_on_posts_not_seeking_support": int(comments),
        "posts_by_reason": {reason: int(n) for reason, n in reasons},
    }
