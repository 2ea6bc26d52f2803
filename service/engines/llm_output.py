"""What a chat model says, cleaned down to the briefing (pure functions, no I/O).

Chat models dress an answer up even when told not to. ``clean(text)`` takes off, in order:

  1. thinking — ``<think>…</think>`` (and ``<thinking>``, ``<reasoning>``) blocks; an answer
     that opens inside one (the template wrote ``<think>`` into the prompt) loses everything
     up to its ``</think>``; an unclosed block is thinking to the end (nothing is left);
     gpt-oss's analysis channel, where a server passes its channels through
  2. a code fence around the whole answer
  3. preambles and sign-offs — "Sure! Here is a summary of the article:", "Summary:",
     "**Briefing:**", "I hope this helps." — only at the very start or end, and a preamble
     only when it is short and ends in a colon or stands on its own line: a first sentence
     that starts "Here is…" and goes on to say what happened is kept
  4. markdown — headings (a heading that is a label, "## Summary", goes; one that is a
     sentence keeps its words), bullets and numbered items (each becomes a sentence),
     bold, italics, inline code, links (their text stays)
  5. one paragraph — lines joined, spaces collapsed, quotes around the whole answer removed

The reasoning a server returns beside the content (``reasoning_content``, ``reasoning``) is
never read at all (:mod:`service.engines.llm`). Length rules and fact checks come after this,
in the request path, as for every engine.
"""

from __future__ import annotations

import re

# Bumped when the rules change: part of the llm engine's model_revision (the cache key).
CLEANING_VERSION = "1"

_THINK_TAGS = "think|thinking|reasoning"
_THINK_BLOCK = re.compile(rf"<({_THINK_TAGS})>.*?</\1>", re.IGNORECASE | re.DOTALL)
_THINK_CLOSE = re.compile(rf"</({_THINK_TAGS})>", re.IGNORECASE)
_THINK_OPEN = re.compile(rf"<({_THINK_TAGS})>", re.IGNORECASE)
# gpt-oss's channels, when the server passes them through: the final channel is the answer.
_HARMONY_FINAL = re.compile(r"<\|channel\|>\s*final\s*<\|message\|>")
_SPECIAL_TOKEN = re.compile(r"<\|[a-z_]{1,20}\|>")
_FENCE = re.compile(r"^```[\w-]*\s*\n(.*?)\n?```\s*$", re.DOTALL)

# A courtesy opener: "Sure!", "Certainly.", "Of course,", "Okay -" (then more follows).
_COURTESY = re.compile(
    r"^(?:sure(?: thing)?|certainly|of course|absolutely|okay|ok|alright|great|got it)"
    r"\s*[!.,:;–—-]+\s*",
    re.IGNORECASE,
)
_PREAMBLE_START = re.compile(
    r"^(?:here(?:'s|’s| is| are)|below is|the following is|i(?:'ve| have) "
    r"(?:written|summari[sz]ed|prepared))\b",
    re.IGNORECASE,
)
# A label before the briefing: "Summary:", "**Short briefing:**", "TL;DR -".
_LABEL = re.compile(
    r"^[*_#\s]*(?:(?:short|long|brief|one[- ]sentence|two[- ]sentence|news|article)\s+)?"
    r"(?:summary|briefing|brief|tl;?dr|in short|answer|condensed(?: text)?)"
    r"(?:\s+of the (?:article|text))?[*_]*(?:[ \t]*[:：][*_\s]*|[ \t]+[–—-][ \t]+|[*_ \t]*\n)",
    re.IGNORECASE,
)
_SIGN_OFF = re.compile(
    r"(?:^|\n|(?<=[.!?])\s+)(?:i hope (?:this|that|it) helps|let me know if|"
    r"feel free to (?:ask|let me know|reach out)|would you like me to|do you want me to|"
    r"is there anything else)"
    r"[^\n]*$",
    re.IGNORECASE,
)
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s*(?:[-*+•·]|\d{1,2}[.)])\s+")
_SETEXT = re.compile(r"^\s*(?:=+|-{2,})\s*$")  # the underline of a heading, or a rule
_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1", re.DOTALL)
_ITALIC_STAR = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_ITALIC_UNDERSCORE = re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")
_CODE = re.compile(r"`([^`\n]+)`")
_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\s]*(?:\s+\"[^\"]*\")?\)")
_ENDS_SENTENCE = re.compile(r"[.!?…:;][\"'”’»)\]]*$")
_WRAPPING_QUOTES = (('"', '"'), ("“", "”"), ("'", "'"), ("«", "»"))
# A preamble is this short (in words) at most; a longer first sentence is content.
PREAMBLE_MAX_WORDS = 16


def clean(text: str) -> str:
    """The briefing in ``text``, as one paragraph of plain sentences ("" if none is left)."""
    # 1. thinking
    text = strip_thinking(text)
    # 2. a fence around the whole answer
    fenced = _FENCE.match(text.strip())
    if fenced:
        text = fenced.group(1)
    # 3. preambles and sign-offs
    text = _strip_preamble(text.strip())
    text = _SIGN_OFF.sub("", text).strip()
    # 4. markdown, 5. one paragraph
    return _one_paragraph(_plain_lines(text))


def strip_thinking(text: str) -> str:
    """``text`` without its thinking blocks (see the module docstring)."""
    finals = list(_HARMONY_FINAL.finditer(text))
    if finals:
        text = text[finals[-1].end():]
    text = _SPECIAL_TOKEN.sub(" ", text)
    text = _THINK_BLOCK.sub(" ", text)
    closes = list(_THINK_CLOSE.finditer(text))
    if closes:  # opened in the prompt: everything before the last close was thinking
        text = text[closes[-1].end():]
    opened = _THINK_OPEN.search(text)
    if opened:  # never closed: cut off while thinking
        text = text[: opened.start()]
    return text.strip()


def _strip_preamble(text: str) -> str:
    for _ in range(3):  # "Sure! Here is the summary: Summary: …" at most
        before = text
        text = _COURTESY.sub("", text, count=1)
        text = _LABEL.sub("", text, count=1).lstrip()
        if _PREAMBLE_START.match(text):
            text = _drop_lead_in(text)
        if text == before:
            break
    return text


def _drop_lead_in(text: str) -> str:
    """Without its "Here is a summary of the article:" lead-in, when it is one: short, and
    ending in a colon or at the end of its line (else the sentence is content, and stays)."""
    first_line, newline, rest = text.partition("\n")
    colon = first_line.find(":")
    if 0 <= colon and len(first_line[:colon].split()) <= PREAMBLE_MAX_WORDS:
        return (first_line[colon + 1:] + newline + rest).strip()
    if newline and rest.strip() and len(first_line.split()) <= PREAMBLE_MAX_WORDS:
        return rest.strip()
    return text


def _plain_lines(text: str) -> list[str]:
    """Each line without markdown; label headings and rules dropped, items made sentences."""
    lines = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or _SETEXT.match(line):
            continue
        heading = _HEADING.match(line)
        item = _BULLET.match(line)
        if heading:
            line = heading.group(1)
            if not _ENDS_SENTENCE.search(_inline(line)):
                continue  # "## Summary", "# NATO and munitions": a label, not the briefing
        elif item:
            line = line[item.end():]
        line = _inline(line).strip()
        if not line:
            continue
        if item and not _ENDS_SENTENCE.search(line):
            line += "."  # an item is a sentence in a paragraph
        lines.append(line)
    return lines


def _inline(line: str) -> str:
    line = _LINK.sub(r"\1", line)
    line = _CODE.sub(r"\1", line)
    line = _BOLD.sub(r"\2", line)
    line = _ITALIC_STAR.sub(r"\1", line)
    line = _ITALIC_UNDERSCORE.sub(r"\1", line)
    return line


def _one_paragraph(lines: list[str]) -> str:
    text = " ".join(" ".join(lines).split())
    for opening, closing in _WRAPPING_QUOTES:
        inner = text[len(opening):-len(closing)]
        if (len(text) > 2 and text.startswith(opening) and text.endswith(closing)
                and opening not in inner and closing not in inner):
            text = inner.strip()
            break
    # A label left at the start once markdown is gone ("**Summary:** text" → "Summary: text").
    return _LABEL.sub("", text, count=1).strip()


__all__ = ["CLEANING_VERSION", "PREAMBLE_MAX_WORDS", "clean", "strip_thinking"]
