"""Language: detected offline, reported in ``input.language``, warned about when the engine
is not meant for it, and used for the extractive engine's stop words."""

from __future__ import annotations

from collections.abc import Callable

from service.config import Settings
from service.engines.extractive import ENGLISH, ExtractiveEngine, vocabulary_for
from service.preprocess.language import UNDETERMINED, detect_language, stop_words
from service.storage.articles import Article
from tests.test_briefing import _service

ENGLISH_TEXT = ("The city council voted on Tuesday to build a new bridge across the river. "
                "The mayor said work would start in the spring and end by 2027.")
GERMAN_TEXT = ("Der Stadtrat hat am Dienstag beschlossen, eine neue Brücke über den Fluss zu "
               "bauen. Die Bürgermeisterin sagte, die Arbeiten würden im Frühjahr beginnen.")
PORTUGUESE_TEXT = ("A câmara municipal aprovou na terça-feira a construção de uma nova ponte "
                   "sobre o rio. O presidente disse que as obras começam na primavera.")
SWAHILI_TEXT = ("Serikali ya Kenya imetangaza mpango mpya wa kujenga barabara katika mikoa "
                "yote ya nchi. Waziri alisema kazi itaanza mwezi ujao na itakamilika baada ya "
                "miaka miwili. Wananchi wengi wamefurahia habari hiyo na wanasubiri kwa hamu.")


def test_languages_are_detected_offline() -> None:
    assert detect_language(ENGLISH_TEXT).code == "en"
    assert detect_language(GERMAN_TEXT).code == "de"
    assert detect_language(PORTUGUESE_TEXT).code == "pt"
    english = detect_language(ENGLISH_TEXT)
    assert english.known and 0.8 <= english.confidence <= 1.0


def test_too_little_text_is_undetermined() -> None:
    assert detect_language("Council votes.").code == UNDETERMINED
    assert not detect_language("").known


def test_stop_words_per_language() -> None:
    german = stop_words("de")
    assert german is not None and {"der", "die", "und"} <= german
    assert stop_words("xx") is None
    assert vocabulary_for(ENGLISH_TEXT) is ENGLISH
    vocabulary = vocabulary_for(GERMAN_TEXT)
    assert "der" in vocabulary.stop and not vocabulary.fold_endings


class PretendModel(ExtractiveEngine):
    """Stands in for a seq2seq model meant for English (only the name matters here)."""

    name = "seq2seq"
    model_id = "example/english-model"


def test_input_language_and_a_warning_when_the_model_is_not_meant_for_it(
    make_settings: Callable[..., Settings],
) -> None:
    service = _service(make_settings(), PretendModel())
    try:
        german = service.brief(Article(text=GERMAN_TEXT))
        english = service.brief(Article(text=ENGLISH_TEXT))
    finally:
        service.close()
    assert german["input"]["language"] == "de"
    assert len(german["warnings"]) == 1
    assert "German (de)" in german["warnings"][0]
    assert "BRIEFING_MODEL_LANGUAGES" in german["warnings"][0]
    assert english["input"]["language"] == "en" and english["warnings"] == []


def test_model_languages_setting_silences_the_warning(
    make_settings: Callable[..., Settings],
) -> None:
    service = _service(make_settings(model_languages="en,de"), PretendModel())
    try:
        assert service.brief(Article(text=GERMAN_TEXT))["warnings"] == []
    finally:
        service.close()


def test_the_extractive_engine_warns_only_without_stop_words(
    make_settings: Callable[..., Settings],
) -> None:
    service = _service(make_settings(), ExtractiveEngine())
    try:
        german = service.brief(Article(text=GERMAN_TEXT))
        swahili = service.brief(Article(text=SWAHILI_TEXT))
    finally:
        service.close()
    assert german["warnings"] == []
    assert swahili["input"]["language"] == "sw"
    assert "no stop words" in swahili["warnings"][0]
