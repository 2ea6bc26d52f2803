"""The language a briefing is written in: asked for per request (``"language"``), else
``BRIEFING_OUTPUT_LANGUAGE``; ``auto`` is the article's own language.

What each engine can write:

* ``llm``: any language (its prompts have a ``{language}`` slot);
* ``seq2seq``: the article's language, when the model covers it (``BRIEFING_MODEL_LANGUAGES``):
  it summarizes, it does not translate;
* ``extractive``: the article's language (it picks the article's own sentences).

A language asked for in the request that the serving engine cannot write is refused (422
``language_not_supported``, naming the engines that can). One that comes from the setting
(digests, feeds, requests that ask for nothing) is not refused: the briefing is written in
the article's language, ``language_out`` says so and a warning says why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from service.errors import LanguageNotSupported

AUTO = "auto"
UNDETERMINED = "und"
# BCP 47 as readers write it: a language (ISO 639-1 or -3), then a script or region at most.
_CODE = re.compile(r"^([A-Za-z]{2,3})(?:[-_]([A-Za-z]{4}|[A-Za-z]{2}|\d{3}))?$")

LANGUAGE_NAMES = {
    "en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian",
    "pt": "Portuguese", "nl": "Dutch", "ru": "Russian", "pl": "Polish", "tr": "Turkish",
    "ja": "Japanese", "zh": "Chinese", "ko": "Korean", "ar": "Arabic", "id": "Indonesian",
    "sv": "Swedish", "da": "Danish", "no": "Norwegian", "nb": "Norwegian Bokmål",
    "nn": "Norwegian Nynorsk", "fi": "Finnish", "uk": "Ukrainian", "cs": "Czech",
    "el": "Greek", "he": "Hebrew", "hi": "Hindi", "hu": "Hungarian", "ro": "Romanian",
    "vi": "Vietnamese", "th": "Thai", "fa": "Persian", "ca": "Catalan", "bg": "Bulgarian",
    "hr": "Croatian", "sk": "Slovak", "sl": "Slovenian", "sr": "Serbian", "lt": "Lithuanian",
    "lv": "Latvian", "et": "Estonian", "ms": "Malay", "bn": "Bengali", "ta": "Tamil",
    "ur": "Urdu", "sw": "Swahili", "is": "Icelandic", "ga": "Irish", "eu": "Basque",
    "gl": "Galician", "cy": "Welsh",
}


def parse_language(value: str, what: str = "language") -> str:
    """``auto`` or a language code, normalized (``DE`` -> ``de``, ``pt_br`` -> ``pt-BR``);
    ValueError naming ``what`` otherwise."""
    value = value.strip()
    if value.lower() == AUTO:
        return AUTO
    match = _CODE.match(value)
    if match is None:
        raise ValueError(f"{what} must be 'auto' or a language code such as 'de', 'fr' or "
                         f"'pt-BR', not {value[:40]!r}")
    primary, sub = match.group(1).lower(), match.group(2)
    if sub is None:
        return primary
    sub = sub.upper() if len(sub) != 4 else sub.capitalize()
    return f"{primary}-{sub}"


def primary(code: str) -> str:
    """The language of a code without its script or region (``pt-BR`` -> ``pt``)."""
    return code.split("-", 1)[0]


def language_name(code: str) -> str:
    """``German`` for ``de``, ``Portuguese (pt-BR)`` for ``pt-BR``; the code itself when the
    name is not known here."""
    name = LANGUAGE_NAMES.get(primary(code))
    if name is None:
        return f"the language with the code {code!r}"
    return name if "-" not in code else f"{name} ({code})"


@dataclass(frozen=True)
class OutputLanguage:
    """What a briefing is written in (``code``: ``language_out``; ``und`` when ``auto``
    met an article whose language was not told), and what the prompt's ``{language}``
    says (empty: "the language of the article")."""

    code: str
    prompt: str = ""
    warning: str | None = None


def choose(
    asked: str, *, from_request: bool, article: str, engine: str, model_languages: list[str],
) -> OutputLanguage:
    """The output language for one briefing by ``engine`` of an article detected as
    ``article`` (a code, or ``und``). Raises LanguageNotSupported for a language
    ``from_request`` that the engine cannot write (see the module docstring)."""
    known = article != UNDETERMINED
    as_article = OutputLanguage(article, f"{language_name(article)}, the language of the "
                                "article") if known else OutputLanguage(UNDETERMINED)
    if asked == AUTO:
        return as_article
    if engine == "llm":
        return OutputLanguage(asked, language_name(asked))
    if not known:  # nothing says it is not the article's language: written as the article is
        return OutputLanguage(asked, warning=(
            f"the article's language could not be told; the {engine} engine writes in the "
            f"article's own language, taken to be {language_name(asked)} as asked"))
    same = primary(asked) == primary(article)
    covered = engine != "seq2seq" or primary(article) in {primary(c) for c in model_languages}
    if same and covered:
        return as_article
    able = ("llm", "extractive") if same else ("llm",)
    if same:
        what = (f"the seq2seq model is meant for {', '.join(model_languages) or 'no language'}"
                f" (BRIEFING_MODEL_LANGUAGES), not {language_name(asked)}")
    else:
        what = (f"the {engine} engine writes a briefing in the article's own language "
                f"({language_name(article)}, {article}), not {language_name(asked)}")
    if not from_request:
        return OutputLanguage(article, warning=(
            f"{what} (BRIEFING_OUTPUT_LANGUAGE={asked}): written in {language_name(article)}, "
            "the language of the article"))
    can = " and ".join(f"the {e} engine" for e in able)
    raise LanguageNotSupported(
        f"cannot write this briefing in {language_name(asked)} ({asked}): {what}. {can[:1].upper()}"
        f"{can[1:]} can (BRIEFING_ENGINE); or ask for \"language\": \"auto\", the article's "
        "language",
        language=asked, engines=able,
    )
