"""Text helpers shared by the checker's stages: same-length normalisation, accent folding,
sentence splitting.
"""

from __future__ import annotations

import logging
import re
import unicodedata

from service.preprocess.sentences import split_sentences

log = logging.getLogger(__name__)

# Same-length replacements only, so offsets into the original text stay valid.
_SAME_LENGTH_FIXES = str.maketrans({"’": "'", "‘": "'", "\u00a0": " ", "–": "-", "—": "-"})
_MOJIBAKE = (("Â£", " £"), ("â‚¬", "  €"))


def _prepare(text: str) -> str:
    """Normalize quotes, dashes and common mojibake without changing the text's length."""
    text = text.translate(_SAME_LENGTH_FIXES)
    for bad, good in _MOJIBAKE:
        if bad in text:
            text = text.replace(bad, good)
    return text


def _fold(token: str) -> str:
    """Lower-case and strip accents: ``Jyväskylä`` -> ``jyvaskyla``."""
    token = token.lower()
    if token.isascii():
        return token
    decomposed = unicodedata.normalize("NFKD", token)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _split_sentences(text: str) -> list[str]:
    """Sentences of ``text``, split the same way as everywhere else in the service."""
    try:
        parts = split_sentences(text)
    except Exception:  # noqa: BLE001 - a splitter bug must not turn a check into a 500
        log.exception("sentence splitting failed; the check splits at stops instead")
        parts = re.split(r"(?<=[.!?])\s+", text)
    return [p.strip() for p in parts if p and p.strip()]
