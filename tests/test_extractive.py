"""The extractive engine: what it picks, what it never picks, and that it keeps the budgets.

The texts are our own, written for these tests. ROUGE against Lead-3 is bench/quality.py's
job; here each rule of the ranking gets a small article where the right answer is plain.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.engines import GenerationRequest, extractive, select_engine
from service.engines.extractive import (
    DEFAULT_BUDGETS,
    MAX_SENTENCE_WORDS,
    Budget,
    ExtractiveEngine,
    rank,
    rank_sentences,
    select,
    sentences_of,
)
from service.lengths import fit_length
from service.preprocess import preprocess, split_sentences
from service.prompts import load_prompts

PROMPTS = load_prompts()

# A news story of our own: lede first, then detail, a quote, an aside and a repeat.
STORY = [
    "The city of Harlow will close its Victoria Street bridge for repairs from Monday, after "
    "engineers found cracks in two of its steel supports.",  # 0 lede
    "The bridge carries about 12,000 cars a day across the river Stort.",  # 1
    "Engineers said the cracks in the steel supports were found during a routine inspection "
    "in March.",  # 2
    "Drivers will be sent on a diversion through the town centre, adding up to 20 minutes to "
    "journeys across the river.",  # 3
    "'We know this is hard for drivers,' said council leader Ann Mills.",  # 4
    "The repairs to the bridge are expected to cost £4 million and take six months.",  # 5
    "The weather on Sunday was mild and sunny.",  # 6 aside: nothing to do with the story
    "Buses will keep using the bridge on a single lane while the steel supports are repaired.",
    "Harlow's Victoria Street bridge will close on Monday for repairs to cracks in its steel "
    "supports, the city said.",  # 8 repeats the lede
]


def words(text: str) -> int:
    return len(text.split())


def extract(sentences: list[str], kind: str) -> str:
    """The engine's output for an article given as one sentence per paragraph, as the request
    path hands it over."""
    return ExtractiveEngine().extract("\n\n".join(sentences), kind)


def test_sentences_are_cut_as_the_splitter_cuts_them() -> None:
    raw = (
        "Bridge to close\n\n" + " ".join(STORY[:4]) + "\n\nThe repairs were, the mayor "
        "said,\nlong overdue.\r\n\r\nShe added: 'Mr. Smith agreed.' Work starts at 9 a.m. "
        "on Monday.\n \n\u201cNo,\u201d he said.\u2028Then he left."
    )
    for text in (raw, "\n\n".join(STORY), "\n\n".join(split_sentences(raw)), "", "\n \n"):
        assert sentences_of(text) == split_sentences(text)
    # The one known difference: pysbd cuts a run-in list without punctuation; here it stays
    # whole (preprocessing has already cut it in the request path).
    assert sentences_of("1) The first item 2) The second item") == [
        "1) The first item 2) The second item"
    ]


def test_the_lede_ranks_first_and_leads_the_short_briefing() -> None:
    ranking = rank_sentences(STORY)
    assert ranking[0] == 0
    assert extract(STORY, "short").startswith(STORY[0])


def test_an_aside_sharing_no_word_with_the_story_ranks_last() -> None:
    assert rank_sentences(STORY)[-1] == 6
    # behind, not out: it is the one left when the budget holds all sentences but one
    room = sum(words(s) for s in STORY) - words(STORY[6])
    assert 6 not in select(STORY, Budget(max_words=room))
    assert select(STORY, Budget(max_words=room + words(STORY[6]))) == list(range(len(STORY)))


def test_a_sentence_repeating_earlier_ones_loses_to_new_facts() -> None:
    # Sentence 8 says again what the lede said; sentence 5 (cost, duration) is news.
    ranking = rank_sentences(STORY)
    assert ranking.index(5) < ranking.index(8)
    # Swap the two: a repeat moved earlier still loses to the facts it displaced.
    swapped = STORY[:5] + [STORY[8], STORY[6], STORY[7], STORY[5]]
    ranking = rank_sentences(swapped)
    assert ranking.index(8) < ranking.index(5)


def test_a_sentence_the_article_goes_on_to_develop_beats_a_one_off_before_it() -> None:
    article = [
        "Harlow council met on Tuesday evening for its monthly meeting at the town hall.",
        "Councillors first approved longer Saturday opening hours for the public library.",
        "The council then voted to close the Victoria Street bridge for six months of repairs "
        "to its cracked steel supports.",
        "Engineers found the cracks in the steel supports during an inspection in March.",
        "The bridge repairs will cost £4 million, paid from the roads budget.",
        "During the closure, drivers will follow a diversion that avoids the bridge.",
        "Buses will use one lane of the bridge while the steel supports are repaired.",
    ]
    ranking = rank_sentences(article)
    assert ranking.index(2) < ranking.index(1)
    assert "Victoria Street bridge" in extract(article, "short")


def test_headlines_captions_fragments_and_bare_quotes_are_not_picked() -> None:
    headline = "Victoria Street bridge to close for six months"
    caption = (
        "The Victoria Street bridge in Harlow, pictured on Sunday, carries 12,000 cars a day "
        "and will close on Monday Engineers found cracks in two of its steel supports during "
        "a routine inspection in March and say the bridge must close while the supports are "
        "replaced, which will take six months and cost the city about four million pounds."
    )
    assert words(caption) > MAX_SENTENCE_WORDS
    fragment = "No surprise."
    bare_quote = "'It is the only way across for most of us.'"
    article = [headline, STORY[0], caption, fragment, bare_quote, *STORY[1:6]]
    ranking = rank(article)
    unusable = {headline, caption, fragment, bare_quote}
    # they go behind every usable sentence (not out), and the lede leads
    assert {article[i] for i in ranking.order[-4:]} == unusable
    usable_words = sum(words(s) for s in article if s not in unusable)
    chosen = {article[i] for i in select(article, Budget(max_words=usable_words), ranking)}
    assert article[ranking.order[0]] == STORY[0]  # the lede, not the headline before it
    assert not chosen & unusable
    # The quote with a speaker is a sentence like any other.
    assert ranking.usable[article.index(STORY[4])]


def test_the_lede_after_a_headline_is_not_a_repeat_of_it() -> None:
    headline = "Harlow to close Victoria Street bridge for repairs after cracks found"
    assert rank_sentences([headline, *STORY])[0] == 1


def test_short_and_long_keep_their_budgets_in_article_order() -> None:
    article = STORY + [s.replace("Harlow", town) for town in ("Epping", "Ware") for s in STORY]
    short = extract(article, "short")
    long = extract(article, "long")
    assert 1 <= len(split_sentences(short)) <= 2 and words(short) <= 50
    assert 100 < words(long) <= 200
    for kind, briefing in (("short", short), ("long", long)):
        chosen = select(article, DEFAULT_BUDGETS[kind])
        assert chosen == sorted(chosen)  # article order
        assert briefing == " ".join(article[i] for i in chosen)  # whole sentences
    # The article repeats sentences (the towns' stories share some); none is taken twice.
    assert len(set(split_sentences(long))) == len(split_sentences(long))
    # The length rules downstream have nothing left to cut.
    assert fit_length(short, max_words=50, max_sentences=2) == short
    assert fit_length(long, max_words=200) == long


def test_a_long_sentence_is_skipped_for_a_shorter_one_that_fits() -> None:
    budget = Budget(max_words=30, max_sentences=2)
    article = [STORY[0], STORY[1], STORY[2]]  # 22, 12 and 16 words
    assert select(article, budget) == [0]
    assert select(article, Budget(max_words=40, max_sentences=2)) == [0, 1]


def test_the_long_ends_on_a_clause_of_the_next_sentence_not_a_jump_down_the_article() -> None:
    article = [
        "The city council voted on Tuesday to build a new bridge across the river, ending "
        "years of debate.",  # 18 words
        "The mayor said the work would start in the spring, and that the bridge would open "
        "to traffic in 2027.",  # 20 words, a clause of 10
        "Tolls were ruled out entirely.",  # 5 words, much further from the lead's story
    ]
    long = ExtractiveEngine({"long": dataclasses.replace(DEFAULT_BUDGETS["long"],
                                                         max_words=30)})
    briefing = long.extract(" ".join(article), "long")
    # cut, and saying so: a clause closed with a stop would read as the whole sentence
    assert briefing == article[0] + " The mayor said the work would start in the spring…"
    assert "Tolls" not in briefing


def test_an_article_of_one_overlong_sentence_still_gets_it() -> None:
    # Nothing fits: the lead alone, shortened visibly (no clause boundary to cut at).
    run_on = " ".join(["the council met again on Monday and talked for hours"] * 8) + "."
    short = extract([run_on], "short")
    assert short.endswith("…") and words(short) == 50 and run_on.startswith(short[:-1])


def test_edge_inputs() -> None:
    assert rank_sentences([]) == []
    assert extract([], "short") == ""
    assert rank_sentences(["Only one sentence here, about nothing."]) == [0]
    # Nothing shares a word with anything: isolation says nothing, position ranks.
    unrelated = ["Cats sleep all afternoon in summer.", "Rain fell in Leeds overnight again.",
                 "Prices rose across Europe last month."]
    assert rank_sentences(unrelated) == [0, 1, 2]


def test_generate_answers_each_kind_like_extract_and_is_deterministic() -> None:
    engine = ExtractiveEngine()
    text = "\n\n".join(STORY)
    requests = [GenerationRequest(text, PROMPTS[k]) for k in ("short", "long", "reduce")]
    outputs = engine.generate(requests)
    assert outputs == [engine.extract(text, k) for k in ("short", "long", "reduce")]
    assert engine.generate(requests) == outputs
    assert len(split_sentences(outputs[2])) <= 4


def test_budgets_can_be_set_per_engine() -> None:
    terse = ExtractiveEngine({"long": Budget(max_words=30)})
    assert words(terse.extract("\n\n".join(STORY), "long")) <= 30


def test_the_engine_the_service_selects_follows_the_length_settings(make_settings) -> None:
    """BRIEFING_LONG_MAX_WORDS=400 gives a longer long briefing than the 200-word default,
    and a one-sentence short limit is chosen by the engine, not cut afterwards."""
    piers = [f"Inspectors checked pier {n} of the Victoria Street bridge and logged the state "
             f"of its {n + 2} steel supports." for n in range(1, 30)]
    text = "\n\n".join(STORY + piers)
    default = select_engine(make_settings(), load_prompts()).engine
    roomy = select_engine(
        make_settings(long_max_words=400, short_max_sentences=1), load_prompts()
    ).engine
    assert words(default.extract(text, "long")) <= 200 < words(roomy.extract(text, "long")) <= 400
    assert len(split_sentences(roomy.extract(text, "short"))) == 1


def test_a_cleaned_article_through_preprocessing() -> None:
    raw = "Bridge to close for repairs\n\n" + "\n\n".join(STORY) + "\n\nShare this article"
    doc = preprocess(raw)
    short = extract(doc.sentences, "short")
    assert short.startswith(STORY[0])


def test_ranking_a_long_input_compares_at_most_the_capped_sentences(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 40 copies of the story with varied names: ~2,000 sentences, past the centrality cap
    # that keeps the similarity matrix (quadratic) small; bench/quality.py measures speed.
    article = [s.replace("Harlow", f"Town{n}").replace("12,000", f"{n},000")
               for n in range(40) for s in STORY * 6]
    compared: list[int] = []
    similarities = extractive._similarities

    def counting(sentences: list[str], *args: Any, **kwargs: Any) -> Any:
        compared.append(len(sentences))
        return similarities(sentences, *args, **kwargs)

    monkeypatch.setattr(extractive, "_similarities", counting)
    ranking = rank_sentences(article)
    assert sorted(ranking) == list(range(len(article)))
    assert compared == [extractive.MAX_CENTRAL_SENTENCES] < [len(article)]


sentence_text = st.text(
    alphabet=st.sampled_from("abcdefgh ,.'\"!?XYZ"), min_size=0, max_size=80
)


@settings(max_examples=60, deadline=None)
@given(st.lists(sentence_text, max_size=25), st.integers(1, 80), st.integers(1, 4))
def test_rank_is_a_permutation_and_select_keeps_any_budget(
    sentences: list[str], max_words: int, max_sentences: int
) -> None:
    ranking = rank_sentences(sentences)
    assert sorted(ranking) == list(range(len(sentences)))
    assert rank_sentences(sentences) == ranking
    chosen = select(sentences, Budget(max_words, max_sentences))
    assert chosen == sorted(set(chosen))
    assert len(chosen) <= max(1, max_sentences)
    if len(chosen) > 1:
        assert sum(words(sentences[i]) for i in chosen) <= max_words
    assert bool(chosen) == bool(sentences)


def test_the_lead_stays_however_short_long_or_alone() -> None:
    rest = STORY[1:]
    short_lead = "Harlow is cut in two."
    assert extract([short_lead, *rest], "short").startswith(short_lead)
    aside_lead = "Nobody saw it coming."  # shares no word with the rest
    assert extract([aside_lead, *rest], "short").startswith(aside_lead)
    long_lead = (
        "Harlow's Victoria Street bridge, which carries twelve thousand cars a day across the "
        "river and the railway and which engineers say has cracks in two of its steel "
        "supports, will close on Monday for six months of repairs, the city said on Sunday "
        "after a meeting of the council that lasted most of the afternoon."
    )
    assert words(long_lead) > 50
    short = extract([long_lead, *rest], "short")
    # cut at a clause boundary within the budget, ending in "…": the sentence goes on
    assert short.startswith("Harlow's Victoria Street bridge, which carries")
    first = split_sentences(short)[0]
    assert words(first) <= 50 and first.endswith("repairs…") and long_lead.startswith(first[:-1])


def test_the_short_is_never_padded_from_the_tail() -> None:
    tail = "Harlow's bridge repairs will cost the city four million pounds, officials said."
    filler = [f"Residents of street number {n} gave their views at the meeting." for n in
              range(12)]
    article = [STORY[0], *filler, tail]
    short = extract(article, "short")
    assert short.startswith(STORY[0]) and tail not in short


def test_the_short_takes_whole_sentences_never_a_clause_of_one() -> None:
    # The second sentence does not fit the short's words: it is not cut to a clause
    # ("Engineers found the cracks during a routine inspection in March this year."), which
    # would read as the whole of it; a whole sentence near the lead that fits is taken.
    lead = ("Harlow's Victoria Street bridge will close on Monday for six months of repairs to "
            "cracks in its steel supports, the city council said on Sunday evening.")
    second = ("Engineers found the cracks during a routine inspection in March this year, and "
              "the repairs will cost the city about four million pounds from the roads budget, "
              "officials said.")
    assert words(lead) + words(second) > 50
    short = extract([lead, second, *STORY[2:]], "short")
    assert short == f"{lead} {STORY[2]}"
    assert fit_length(short, max_words=50, max_sentences=2) == short
    # nothing whole fits beside the lead: the lead alone
    assert extract([lead, second], "short") == lead


def test_without_a_lead_in_the_first_sentences_the_first_usable_one_leads() -> None:
    teasers = ["Bridge Week 2024", "More Harlow News Today", "Roads And Rivers Special"]
    tail = "Harlow's bridge repairs will cost the city four million pounds, officials said."
    filler = [f"Residents of street number {n} gave their views at the meeting." for n in
              range(12)]
    short = extract([*teasers, STORY[0], *filler, tail], "short")
    assert short.startswith(STORY[0]) and tail not in short


def test_briefings_drop_the_bullets_of_list_items() -> None:
    items = [
        "- The council voted on Tuesday to build a new bridge across the river in Harlow.",
        "- The bridge will cost the town about 40 million pounds over the next six years.",
        "• Work on the bridge starts in the spring, the council said in a statement.",
    ]
    for kind in ("short", "long"):
        briefing = extract(items, kind)
        assert briefing.startswith("The council voted on Tuesday"), briefing
        assert " - " not in briefing and "•" not in briefing


def test_a_sentence_is_not_cut_inside_a_quotation() -> None:
    from service.engines.extractive import trim

    quoted = ('Hege said the campaign was bold. "When a group is trying to reach a very '
              'specific audience, it may look odd to everyone else," she said, adding more.')
    cut = trim(quoted, 25)
    assert cut.count('"') % 2 == 0, cut
    assert trim('"We will build it, and soon," the mayor said, to cheers from the crowd.', 12) \
        == '"We will build it, and soon," the mayor said…'


_word = st.sampled_from("bridge council river repairs Harlow engineers cracks steel mayor".split())
_clause = st.lists(_word, min_size=2, max_size=9).map(" ".join)
prose_sentence = st.lists(_clause, min_size=1, max_size=5).map(
    lambda clauses: (", ".join(clauses) + ".").capitalize()
)


@settings(max_examples=80, deadline=None)
@given(st.lists(prose_sentence, min_size=1, max_size=8), st.integers(4, 60),
       st.sampled_from(["short", "long", "reduce"]))
def test_a_briefing_holds_whole_sentences_and_cut_ones_end_in_an_ellipsis(
    sentences: list[str], max_words: int, kind: str
) -> None:
    # Whatever the budget, each piece of a briefing is one of the article's sentences, or
    # the start of one ending in "…"; never a clause closed with a stop as if it were whole.
    engine = ExtractiveEngine({kind: dataclasses.replace(DEFAULT_BUDGETS[kind],
                                                         max_words=max_words)})
    briefing = engine.extract("\n\n".join(sentences), kind)
    for piece in re.split(r"(?<=[.…]) ", briefing):
        assert piece in sentences or (
            piece.endswith("…") and any(s.startswith(piece[:-1]) for s in sentences)
        ), (piece, briefing)
