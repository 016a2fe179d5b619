"""The crisis screen: each category as people type it, benign trigger-looking posts, sentence-local context,
normalization, the lexicon file's validation, and one result whether texts are screened alone or in bulk.

The phrasings below are written for these tests (not copied from benchmarks/crisis/posts.jsonl) so they
check kinds of phrasing: curly apostrophes, missing apostrophes, misspellings, leetspeak, repeated letters,
no punctuation, other languages.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import yaml

from redditess_core.safety import CATEGORIES, CrisisScreen, ScreenResult, screen, screen_text, screen_texts
from redditess_core.safety.lexicon import load_lexicon, parse_lexicon
from redditess_core.safety.normalize import normalize

ROOT = Path(__file__).resolve().parents[2]

HIGH_RISK = {
    "explicit_intent": [
        "I want to kill myself",
        "i wanna kil myself tbh",
        "I’m going to end my life tonight",
        "im gonna end it all this weekend",
        "been really suicidal lately",
        "keep thinking about sucide",
        "i want to dieeee so bad",
        "I have been having thoughts of suicide",
        "honestly i just want to be dead",
        "ich will sterben",
    ],
    "passive_ideation": [
        "everyone would be better off without me",
        "I won’t be around much longer",
        "i dont see the point anymore",
        "I don't see the point in living",
        "I wish I could fall asleep and never wake up",
        "i'm so tired of being alive",
        "what's even the point of living",
        "no one would notice if I was gone",
        "todos estarían mejor sin mí",
        "je n’ai plus envie de vivre",
    ],
    "plan_means": [
        "I took 30 of my sleeping pills an hour ago",
        "been saving up my pills",
        "i already took the whole bottle",
        "I’ve been stockpiling my meds",
        "tried to overdose last night",
        "bought a rope today",
        "I'm going to jump off the bridge near my house",
        "looked up how many pills it would take",
        "tomei todos os comprimidos",
        "ich habe alle Tabletten genommen",
    ],
    "farewell": [
        "I wrote the note last night",
        "this is my goodbye. thank you all",
        "I’m giving away my stuff, I won’t need it anymore",
        "by the time you read this i'll be gone",
        "letters for my family for when I'm gone",
        "goodbye everyone, I'm sorry",
        "C’est mon dernier message. Adieu à tous.",
        "das ist mein Abschiedsbrief",
    ],
    "self_harm": [
        "I'm cutting again",
        "sh relapse last night",
        "i relapsed on self harm after 90 days",
        "I cut myself again tonight",
        "i cutt myself again",
        "the urge to cut is so strong",
        "I burned myself on purpose",
        "me corté otra vez",
        "je me suis encore scarifiée",
        "ich habe mich wieder geritzt",
    ],
    "slang": [
        "kms",
        "i wanna kms fr",
        "thinking about unaliving myself",
        "planning to ctb soon",
        "sewerslide is looking good",
        "i want to k1ll mys3lf",
        "su1c1dal again",
        "i'm going to k*ll myself",
    ],
}

LOW_RISK = {
    "idiom": [
        "This exam is killing me",
        "I'd kill for a coffee",
        "I’m dying to see it",
        "my feet are killing me",
        "I could die of embarrassment",
        "that cake is to die for",
        "I'd rather die than sit through that lecture again",
        "end things on a good note",
        "I'm killing myself laughing",
        "este examen me está matando",
    ],
    "prevention": [
        "volunteering for suicide prevention hotlines",
        "self-harm prevention training for RAs",
        "September is suicide prevention awareness month",
        "how can I help my friend who is cutting again?",
        "Setembro Amarelo: prevenção ao suicídio",
    ],
    "media_games_cooking": [
        "the documentary about suicide was hard to watch",
        "in the novel the hero writes a suicide note",
        "I keep dying on the second boss",
        "ctb is a cheap team buff in this game",
        "cut the onions and let them sweat",
        "I burned myself on the oven again",
    ],
    "resolved_sadness_negation": [
        "I used to self harm but I've been clean for 4 years",
        "I was suicidal in high school, but therapy helped and I'm doing well",
        "I'm so sad and tired today",
        "I don't want to live with my parents anymore",
        "I'm not suicidal, just stressed",
        "I don't want to die, I want things to change",
        "I'm giving away my old clothes before the move",
    ],
}


@pytest.mark.parametrize(
    ("category", "text"), [(c, t) for c, texts in HIGH_RISK.items() for t in texts], ids=lambda v: str(v)[:40]
)
def test_high_risk_phrasings_flag_with_their_category(category: str, text: str) -> None:
    result = screen(text)
    assert result.high_risk and result.risk_level == "high", text
    if category != "slang":  # masked and slang spellings map onto the plain categories too
        assert category in result.categories, (text, result.categories)


@pytest.mark.parametrize("text", [t for texts in LOW_RISK.values() for t in texts], ids=lambda v: str(v)[:40])
def test_benign_trigger_words_do_not_flag(text: str) -> None:
    result = screen(text)
    assert not result.high_risk and result.categories == () and result.risk_level == "low", text


def test_context_is_local_to_the_sentence() -> None:
    long_post = (
        "I volunteer for a suicide prevention hotline and we had training on Tuesday. My semester is fine, "
        "my grades are okay. Honestly I just want to kill myself. Anyway, what should I cook this week?"
    )
    assert screen(long_post).categories == ("explicit_intent",)
    # the same prevention sentence alone is low-risk, and it records which context silenced the match
    alone = screen("I did self harm prevention training at work")
    assert not alone.high_risk and "prevention" in alone.suppressed_by
    # "but" separates clauses: a negation in one clause does not silence the other
    assert screen("I'm not suicidal but I don't want to live anymore").high_risk
    assert not screen("I don't want to die, honestly").high_risk


def test_apostrophes_case_punctuation_and_repeats() -> None:
    for text in [
        "I DON’T WANT TO LIVE ANYMORE",
        "I don't want to live anymore",
        "i dont want to live anymore",
        "I don`t want to live anymore",
        "i dont want to live anymoreeee",
        "I...don't...want...to...live...anymore",
    ]:
        assert screen(text).categories == ("passive_ideation",), text


def test_normalization() -> None:
    got = normalize(["I DON’T want... to LIVE!! ok", "k1ll mys3lf", "Não aguento", "sooooo", None, "a but b"])
    assert got.to_pylist() == ["i dont want to live | ok", "kill myself", "nao aguento", "so", "", "a | b"]
    flat = normalize(["Don't. Stop, now!"], clauses=False).to_pylist()
    assert flat == ["dont stop now "]


def test_screen_results_never_hold_the_text_and_compat_names_work() -> None:
    result = screen("i want to die")
    assert isinstance(result, ScreenResult)
    assert set(result.as_dict()) == {"high_risk", "categories", "suppressed_by", "model_score"}
    assert "die" not in json.dumps(result.as_dict())
    assert screen_text("i want to die") is True and screen_text(None) is False and screen_text("") is False
    crisis = CrisisScreen()
    assert crisis.is_high_risk("been saving up my pills") and not crisis.is_high_risk(
        "saving up for a laptop"
    )
    assert "988" in crisis.notice() and "988" in crisis.footer() and "\n" not in crisis.footer()


def test_bulk_and_single_screens_agree_on_the_test_set() -> None:
    rows = [json.loads(line) for line in (ROOT / "benchmarks/crisis/posts.jsonl").read_text().splitlines()]
    texts = [r["text"] for r in rows] + [None, "", "   "]
    bulk = screen_texts(texts)
    arrow = screen_texts(pa.chunked_array([texts[:100], texts[100:]], pa.large_string()))
    assert bulk == arrow
    for text, result in zip(texts[::7], bulk[::7], strict=True):
        assert screen(text) == result


def test_every_category_and_language_is_in_the_lexicon() -> None:
    lexicon = load_lexicon()
    assert {e.category for e in lexicon.entries} == set(CATEGORIES)
    assert {"en", "es", "pt", "fr", "de"} <= set(lexicon.languages())
    for category in CATEGORIES:  # the core categories exist in every language but the slang
        if category != "slang":
            langs = {e.lang for e in lexicon.entries if e.category == category}
            assert len(langs) >= 4, (category, langs)


def test_lexicon_errors_name_the_entry(tmp_path: Path) -> None:
    base = yaml.safe_load((ROOT / "redditess_core/safety/lexicon.yaml").read_text())
    bad_category = {**base, "patterns": [*base["patterns"], {"category": "nope", "pattern": "x"}]}
    with pytest.raises(ValueError, match=r"patterns\[\d+\]: needs `pattern` and a `category`"):
        parse_lexicon(bad_category, "test.yaml")
    bad_regex = {**base, "patterns": [*base["patterns"], {"category": "slang", "pattern": "(unclosed"}]}
    with pytest.raises(ValueError, match=r"test.yaml: patterns\[\d+\]: invalid RE2 pattern"):
        parse_lexicon(bad_regex, "test.yaml")
    bad_macro = {**base, "patterns": [{"category": "slang", "pattern": "{NOPE} x"}]}
    with pytest.raises(ValueError, match=r"unknown macro \{NOPE\}"):
        parse_lexicon(bad_macro, "test.yaml")
    bad_context = {**base, "contexts": [{"kind": "x", "pattern": "y", "suppresses": ["nope"]}]}
    with pytest.raises(ValueError, match=r"contexts\[0\]: `suppresses` must list categories"):
        parse_lexicon(bad_context, "test.yaml")


# More phrasings of each kind (written after the lexicon, as a regression set of kinds, not tuning data).
MORE_HIGH_RISK = [
    "I can't keep going like this, I'm going to end it",
    "I've been thinking about killing myself a lot lately",
    "I just want to sleep forever",
    "nobody would care if i died",
    "I'm planning my suicide",
    "I'm done. I can't do this anymore. Goodbye.",
    "I want to disappear.",
    "I hate myself and want to die",
    "life is pointless and I want out",
    "i'm going to hang myself",
    "I have a bottle of vodka and my pills ready",
    "I took everything in my medicine cabinet",
    "I cut my wrists",
    "i keep scratching my arms till they bleed",
    "The only way out is to end it",
    "my family will be better off when i'm gone",
    "I want to stop living",
    "Please don't try to talk me out of it.",
    "I can't stop thinking about dying",
    "i want to end my suffering",
    "I'm going to take all my pills tonight",
    "i want to od",
    "i'll be dead by tomorrow",
    "i'm not going to be here tomorrow",
    "sometimes I think about just driving off a cliff",
    "i wish i could just not exist",
    "Estoy pensando en quitarme la vida",
    "não quero mais estar aqui",
    "vou acabar com tudo",
    "ich bringe mich um",
    "ich will nicht mehr.",
    "me voy a suicidar",
    "I started cutting again",
    "i've been cutting for months",
    "I bang my head against the wall until it hurts",
    "My dog died and I want to die too",
    "I want to go to sleep and never wake up",
    "I'm scared of what I might do to myself tonight",
    "I've been cutting myself",
    "i don't wanna be alive",
    "i just wanna end it",
    "wanna die",
    "no point in living anymore",
    "I'm so close to ending it",
    "i'm gonna off myself",
    "I want to jump in front of a train",
    "j'ai envie de me tuer",
    "Ich habe keine Lust mehr zu leben",
    "quiero dejar de existir",
    "estou pensando em me matar",
]
MORE_LOW_RISK = [
    "My grandma died last year and I still miss her",
    "I'm literally dead 💀",
    "This heat wave will be the death of me",
    "killing time before my flight",
    "I'm cutting back on sugar",
    "She cut herself while cooking",
    "My character overdosed in the game",
    "I'd never hurt myself",
    "The pills I take for anxiety make me sleepy",
    "goodbye summer, hello fall",
    "I'm giving away my old textbooks, DM me",
    "In Hamlet, Ophelia drowns herself",
    "Suicide rates are rising among teens",
    "I used to be suicidal, now I'm thriving",
    "Remember: if you're feeling suicidal, call a helpline",
    "if you're feeling suicidal please reach out",
    "Ask them directly: are you thinking about killing yourself?",
    "My brother tried to kill himself last year",
    "Is it normal to think about death a lot?",
    "I'd jump off a bridge for you",
    "my plants are dying",
    "that movie slaps, I'm dead",
    "my battery is about to die",
    "I could sleep forever after this week",
    "I want to disappear into a good book this weekend",
    "I'm ending my gym membership",
    "ending it with my boyfriend tonight",
    "I want out of this group chat",
    "we should end this meeting",
    "this class makes me want to die lol",
    "I died laughing",
    "that test murdered me",
    "I hate mondays, kill me",
    "I've been burning the candle at both ends",
    "I keep hurting my back at the gym",
    "I'm going to end the day with a bath",
    "killing it at work lately",
    "the deadline is killing me",
    "me muero de risa",
    "ich sterbe vor Lachen",
    "estou morta de cansaço",
]


@pytest.mark.parametrize("text", MORE_HIGH_RISK, ids=lambda v: v[:40])
def test_more_high_risk_phrasings(text: str) -> None:
    assert screen(text).high_risk, text


@pytest.mark.parametrize("text", MORE_LOW_RISK, ids=lambda v: v[:40])
def test_more_benign_phrasings(text: str) -> None:
    assert not screen(text).high_risk, text


def test_candidate_stage_loses_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cheap whole-text stage is a superset: screening every text in full gives the same results."""
    from redditess_core.safety.crisis import RuleScreen

    rows = [json.loads(line) for line in (ROOT / "benchmarks/crisis/posts.jsonl").read_text().splitlines()]
    texts = [r["text"] for r in rows] + MORE_HIGH_RISK + MORE_LOW_RISK
    texts += [t for group in (*HIGH_RISK.values(), *LOW_RISK.values()) for t in group]
    texts += ["I don`t want to live anymore", "KILL.MYSELF", "i want to die... but whatever", "Relapsed."]
    rules = RuleScreen()
    staged = rules.results(texts)
    assert sum(r.high_risk for r in staged) > 200
    monkeypatch.setattr(RuleScreen, "candidates", lambda self, arr: np.arange(len(arr)))
    assert RuleScreen().results(texts) == staged


@pytest.mark.parametrize(
    ("text", "high"),
    [
        ("I hope I die in my sleep", True),
        ("Everyone would be happier if I was dead", True),
        ("I can't live like this anymore", True),
        ("there's no point anymore", True),
        ("I feel like a burden to everyone", True),
        ("I drank bleach", True),
        ("I relapsed and cut", True),
        ("pienso en el suicidio todo el tiempo", True),
        ("je pense au suicide", True),
        ("I hope I pass", False),
        ("there is no point in arguing", False),
        ("I drank some water", False),
    ],
)
def test_passive_wishes_burdens_and_poison(text: str, high: bool) -> None:
    assert screen(text).high_risk is high, text
