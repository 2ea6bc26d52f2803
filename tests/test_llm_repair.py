"""No unsupported fact delivered, and briefings in the reader's language (issue 22, items 2
and 3), through the API against the fake server on loopback (tests/chat_fake.py): an
invented number or name is repaired by asking once more, or its sentence is replaced by the
article's closest one or dropped; ``language`` reaches the prompt and ``language_out``; an
engine that cannot write the language asked for answers 422 ``language_not_supported``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.briefing import BriefingService
from service.checks import find_unsupported
from service.checks.repair import closest_sentence, repair_text
from service.errors import LanguageNotSupported
from service.output_language import choose, parse_language
from service.prompts import load_prompts
from tests.chat_fake import Answer, FakeChatServer

ARTICLE = {
    "title": "Tram depot becomes a market",
    "text": "The city council of Drammel voted on Tuesday to turn the old tram depot on Dock "
            "Street into a covered market with sixty stalls. Construction starts in June and "
            "is expected to cost 12 million euros, the mayor said. Traders from the harbour "
            "district will get the first choice of stalls, the council added.",
}
CLEAN = "The council of Drammel voted on Tuesday to turn the old tram depot into a market."
INVENTED = ("The council of Drammel voted on Tuesday to turn the old tram depot into a market."
            " It will cost 40 million euros, the mayor said.")
KEEPS_INVENTING = ("The council of Drammel voted to turn the old tram depot on Dock Street into "
                   "a covered market. The mayor said it is expected to cost 40 million euros. "
                   "Critics in Valdora called it a waste.")


def asked_again(body: dict[str, Any]) -> bool:
    """The request repeats the conversation: the earlier answer, then the repair message."""
    return len(body.get("messages", [])) > 3


def test_an_invented_number_is_repaired_by_asking_once_more(
    llm_client: Callable[..., TestClient], fake: FakeChatServer
) -> None:
    fake.default = lambda body: Answer(CLEAN if asked_again(body) else INVENTED)
    client = llm_client()
    answer = client.post("/v1/briefings", json=ARTICLE)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "40" not in body["short"] and "40" not in body["long"]
    assert body["short"] == CLEAN and body["long"] == CLEAN
    assert body["checks"]["unsupported"] == []
    repaired = body["checks"]["repaired"]
    assert {r["briefing"] for r in repaired} == {"short", "long"}
    assert all(r["action"] == "asked_again" and r["resolved"]
               and r["missing"] == ["40 million euros"] for r in repaired)
    retries = [p.body for p in fake.posts() if asked_again(p.body or {})]
    assert len(retries) == 2 and len(fake.posts()) == 4
    for retry in retries:
        assert retry is not None
        assert retry["messages"][-2] == {"role": "assistant", "content": INVENTED}
        assert '"40 million euros"' in retry["messages"][-1]["content"]
    assert body["input"]["model_passes"] == 4
    metrics = client.get("/metrics").text
    assert 'briefing_unsupported_sentences_total{action="asked_again",briefing="short"} 1.0' \
        in metrics


def test_a_model_that_keeps_inventing_has_the_sentences_replaced_or_dropped(
    llm_client: Callable[..., TestClient], fake: FakeChatServer
) -> None:
    fake.default = Answer(KEEPS_INVENTING)
    body = llm_client().post("/v1/briefings", json={**ARTICLE, "lengths": ["long"]}).json()
    long = body["long"]
    assert "40" not in long and "Valdora" not in long
    assert long.startswith("The council of Drammel voted")
    # the invented cost gave way to the article's own sentence about the cost
    assert "Construction starts in June and is expected to cost 12 million euros" in long
    assert body["checks"]["unsupported"] == []
    actions = [(r["action"], r.get("resolved")) for r in body["checks"]["repaired"]]
    assert actions == [("asked_again", False), ("replaced", None), ("dropped", None)]
    replaced = body["checks"]["repaired"][1]
    assert replaced["missing"] == ["40 million euros"] and "12 million" in replaced["replacement"]
    assert body["checks"]["repaired"][2]["missing"] == ["Valdora"]
    assert len(fake.posts()) == 2  # asked once more, once


def test_flag_keeps_what_the_llm_wrote_and_reports_it(
    llm_client: Callable[..., TestClient], fake: FakeChatServer
) -> None:
    fake.default = Answer(INVENTED)
    body = llm_client(unsupported="flag").post("/v1/briefings", json=ARTICLE).json()
    assert "40 million" in body["short"] and len(fake.posts()) == 2
    assert "repaired" not in body["checks"]
    assert {u["briefing"] for u in body["checks"]["unsupported"]} == {"short", "long"}


def test_german_asked_for_reaches_the_prompt_and_language_out(
    llm_client: Callable[..., TestClient], fake: FakeChatServer
) -> None:
    german = ("Der Stadtrat von Drammel hat am Dienstag beschlossen, das alte Straßenbahndepot "
              "in einen Markt mit sechzig Ständen umzuwandeln; er soll 12 Millionen Euro kosten.")
    fake.default = Answer(german)
    client = llm_client()
    body = client.post("/v1/briefings", json={**ARTICLE, "language": "de"}).json()
    assert body["language_out"] == "de" and body["input"]["language"] == "en"
    assert body["short"] == german
    # a translated briefing is checked for numbers and dates, not for (capitalized) names
    assert body["checks"]["unsupported"] == [] and body["checks"]["repaired"] == []
    systems = [p.body["messages"][0]["content"] for p in fake.posts() if p.body]
    assert len(systems) == 2 and all("Write in German." in s for s in systems)
    # the same article in the article's language is another briefing (another cache key)
    fake.default = Answer(CLEAN)
    auto = client.post("/v1/briefings", json=ARTICLE).json()
    assert auto["language_out"] == "en" and not auto["cached"] and auto["id"] != body["id"]
    assert "Write in English" in (fake.posts()[-1].body or {})["messages"][0]["content"]
    again = client.post("/v1/briefings", json={**ARTICLE, "language": "DE"}).json()
    assert again["cached"] and again["id"] == body["id"]


def test_the_setting_is_the_default_language(
    llm_client: Callable[..., TestClient], fake: FakeChatServer
) -> None:
    client = llm_client(output_language="fr")
    body = client.post("/v1/briefings", json=ARTICLE).json()
    assert body["language_out"] == "fr"
    assert "Write in French." in (fake.posts()[0].body or {})["messages"][0]["content"]
    auto = client.post("/v1/briefings", json={**ARTICLE, "language": "auto"}).json()
    assert auto["language_out"] == "en"


def test_extractive_asked_for_a_foreign_language_is_422(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(engine="extractive")
    answer = client.post("/v1/briefings", json={**ARTICLE, "language": "de"})
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "language_not_supported"
    assert error["engines"] == ["llm"] and error["language"] == "de"
    assert "German" in error["message"] and "llm" in error["message"]
    same = client.post("/v1/briefings", json={**ARTICLE, "language": "en"})
    assert same.status_code == 200 and same.json()["language_out"] == "en"
    bad = client.post("/v1/briefings", json={**ARTICLE, "language": "German!"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"


def test_extractive_with_the_setting_writes_the_articles_language_and_says_so(
    make_client: Callable[..., TestClient],
) -> None:
    body = make_client(engine="extractive", output_language="de").post(
        "/v1/briefings", json=ARTICLE).json()
    assert body["language_out"] == "en"
    assert any("BRIEFING_OUTPUT_LANGUAGE=de" in w for w in body["warnings"])


def test_the_cache_key_differs_by_output_language(
    make_settings: Callable[..., Any],
) -> None:
    service = BriefingService.__new__(BriefingService)
    service.settings = make_settings(engine="extractive")

    class Engine:
        name, model_id, model_revision = "llm", "m", "r"

    service.engine = Engine()  # type: ignore[assignment]
    service.prompts = load_prompts(family="llm")
    keys = {service._key("text", ("short",), language=code) for code in ("en", "de", "auto")}
    assert len(keys) == 3


def test_output_language_choice_by_engine() -> None:
    assert parse_language(" pt_br ") == "pt-BR" and parse_language("AUTO") == "auto"
    with pytest.raises(ValueError):
        parse_language("deutsch")
    llm = choose("de", from_request=True, article="en", engine="llm", model_languages=["en"])
    assert llm.code == "de" and llm.prompt == "German"
    seq = choose("auto", from_request=False, article="fr", engine="seq2seq",
                 model_languages=["en"])
    assert seq.code == "fr"
    with pytest.raises(LanguageNotSupported) as refused:
        choose("fr", from_request=True, article="fr", engine="seq2seq", model_languages=["en"])
    assert refused.value.engines == ("llm", "extractive")
    ok = choose("fr", from_request=True, article="fr", engine="seq2seq",
                model_languages=["en", "fr"])
    assert ok.code == "fr"


def test_repair_replaces_with_the_closest_sentence_or_drops() -> None:
    source = ARTICLE["text"]
    sentences = [s.strip() + "." for s in source.split(".") if s.strip()]
    best, score = closest_sentence("The mayor said the market will cost 40 million euros.",
                                   sentences)
    assert best is not None and "12 million" in best and score > 0.35
    text = "Drammel will build a market. It will cost 40 million euros, the mayor said."
    found = find_unsupported(text, source)
    fixed, done = repair_text(text, source, found, source_sentences=sentences, replace=False)
    assert fixed == "Drammel will build a market." and [d.action for d in done] == ["dropped"]
    assert not find_unsupported(fixed, source)
