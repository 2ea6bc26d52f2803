"""Issue 12's figures: real news pages through the service, extraction and leads.

Run by hand (about 2 minutes on 2 busy cores):

    .venv/bin/python bench/pages.py              # everything
    .venv/bin/python bench/pages.py --limit 20   # the first 20 pages only

Reads ``../shared/eval/pages/`` (or ``$BRIEFING_EVAL_DIR/pages``) at run time and copies
nothing from it: raw gzip HTML pages of news sites and the article body an annotator wrote
out for each (``ground-truth.json``; see SOURCES.md there).

1. API: every page POSTed to ``/v1/briefings`` as ``text/html`` without a charset (the bytes
   as the site sent them), default settings, extractive engine: the status codes.
2. Body extraction, measured as the benchmark the pages come from measures it: per page,
   the multisets of 4-word shingles (``\\w+`` tokens, case kept) of the extracted text and of
   the annotated body; precision and recall per page, their means over pages, F1 from the
   two means. The text is what preprocessing keeps (``preprocess(page, html=True)``, with
   the page's bytes decoded as the API decodes them); our extraction before cleaning
   (``extract_text``) and trafilatura alone (its defaults) are printed for reference. The
   pages with the lowest F1 are listed.
3. Leads: the short briefing the API returned for each page opens with one of the first
   three sentences of the annotated body ("a good lead": at least 80% of the word pairs of
   its first sentence are in those three sentences, or all of them for a first sentence of
   fewer than 4 words). The pages without one are listed with what the short opened with.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.evaldata import eval_dir  # noqa: E402
from service.config import Settings  # noqa: E402
from service.preprocess import preprocess, split_sentences  # noqa: E402
from service.preprocess.html import extract_text  # noqa: E402

_TOKEN = re.compile(r"\w+")
LEAD_SENTENCES = 3
LEAD_SHARE = 0.8


def load_pages(limit: int | None) -> list[dict]:
    """Every page: key, url, raw bytes, annotated body."""
    root = eval_dir() / "pages"
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for key in sorted(truth)[:limit]:
        raw = gzip.decompress((root / "html" / f"{key}.html.gz").read_bytes())
        pages.append({"key": key, "url": truth[key].get("url", ""), "raw": raw,
                      "body": truth[key].get("articleBody", "")})
    return pages


def shingles(text: str, n: int = 4) -> Counter:
    tokens = _TOKEN.findall(text or "")
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)))


def precision_recall(predicted: str, truth: str) -> tuple[float, float]:
    """Per-page precision and recall of 4-word shingles, counted as multisets."""
    pred, true = shingles(predicted), shingles(truth)
    common = sum((pred & true).values())
    p_total, t_total = sum(pred.values()), sum(true.values())
    if p_total == t_total == common:
        return 1.0, 1.0
    return (common / p_total if p_total else 0.0, common / t_total if t_total else 0.0)


def summary(rows: list[tuple[float, float]]) -> tuple[float, float, float]:
    p = statistics.mean(r[0] for r in rows)
    r = statistics.mean(r[1] for r in rows)
    return 2 * p * r / (p + r) if p + r else 0.0, p, r


def _bigrams(text: str) -> set[tuple[str, str]]:
    words = [w.casefold() for w in _TOKEN.findall(text)]
    return set(zip(words, words[1:], strict=False))


def good_lead(short: str, body: str) -> bool:
    """Whether ``short`` opens with one of the first sentences of the annotated body."""
    if not short:
        return False
    first = split_sentences(short)[0]
    lead = " ".join(split_sentences(body)[:LEAD_SENTENCES])
    words = [w.casefold() for w in _TOKEN.findall(first)]
    if len(words) < 4:
        return bool(words) and all(w in {x.casefold() for x in _TOKEN.findall(lead)}
                                   for w in words)
    pairs = _bigrams(first)
    return len(pairs & _bigrams(lead)) >= LEAD_SHARE * len(pairs)


def decode_page(raw: bytes) -> str:
    """The page's text as the API decodes a text/html body without a charset."""
    try:
        from service.preprocess.html import decode_html
    except ImportError:  # before issue 12: UTF-8 only (the API answered 400 otherwise)
        return raw.decode("utf-8", errors="replace")
    return decode_html(raw, None)


def bench_api(pages: list[dict]) -> dict[str, dict]:
    """POST every page as text/html; the JSON answer (or the error) per key."""
    from fastapi.testclient import TestClient

    from service.app import create_app

    answers: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(engine="extractive", data_dir=Path(tmp), daily_cron="")
        with TestClient(create_app(settings)) as client:
            started = time.perf_counter()
            for page in pages:
                response = client.post("/v1/briefings", content=page["raw"],
                                       headers={"Content-Type": "text/html"})
                answers[page["key"]] = {"status": response.status_code, **response.json()}
            seconds = time.perf_counter() - started
    statuses = Counter(a["status"] for a in answers.values())
    print(f"== 1. API: {len(pages)} pages POSTed as text/html (no charset) ==")
    print(f"statuses: {dict(sorted(statuses.items()))}; "
          f"{seconds / len(pages) * 1000:.0f} ms a page (mean)")
    for page in pages:
        answer = answers[page["key"]]
        if answer["status"] != 200:
            error = answer.get("error", answer)
            print(f"- {page['key'][:10]} {len(page['raw']):>9,} bytes {answer['status']}: "
                  f"{str(error)[:150]}")
    languages = Counter((a.get("input") or {}).get("language") for a in answers.values())
    warned = sum(1 for a in answers.values() if a.get("warnings"))
    if any(languages):
        print(f"input.language: {dict(languages.most_common())}; answers with warnings: "
              f"{warned}")
    print()
    return answers


def bench_extraction(pages: list[dict]) -> None:
    print(f"== 2. Body extraction on {len(pages)} pages (4-word shingles, mean P and R per "
          "page) ==")
    ours, alone, fractions, modes = [], [], [], []
    htmls = [decode_page(page["raw"]) for page in pages]
    started = time.perf_counter()
    for page, html in zip(pages, htmls, strict=True):
        doc = preprocess(html, html=True)
        ours.append(precision_recall(doc.text, page["body"]))
        modes.append(doc.extraction.mode if doc.extraction else "?")
        fractions.append(doc.extraction.kept if doc.extraction else 1.0)
    prep_s = time.perf_counter() - started
    # The recall fallback's rule, measured: the pages where it chose the recall mode, with
    # and without it.
    fallback = [i for i, mode in enumerate(modes) if mode == "recall"]
    without = list(ours)
    if fallback:
        import service.preprocess.html as page_html

        saved = page_html.RECALL_BELOW
        page_html.RECALL_BELOW = 0.0
        try:
            for i in fallback:
                text = preprocess(htmls[i], html=True).text
                without[i] = precision_recall(text, pages[i]["body"])
        finally:
            page_html.RECALL_BELOW = saved
    import trafilatura

    extracted = []
    for page, html in zip(pages, htmls, strict=True):
        extracted.append(precision_recall(extract_text(html), page["body"]))
        alone.append(precision_recall(trafilatura.extract(html) or "", page["body"]))
    print("| text | F1 | precision | recall |\n|---|---|---|---|")
    for name, rows in (("preprocess (what the engine sees)", ours),
                       ("extraction only, before cleaning (extract_text)", extracted),
                       ("trafilatura alone (extract, its defaults)", alone)):
        f1, p, r = summary(rows)
        print(f"| {name} | {f1:.3f} | {p:.3f} | {r:.3f} |")
    f1_without = summary(without)[0]
    from service.preprocess.html import RECALL_BELOW

    tried = sum(1 for f, m in zip(fractions, modes, strict=True)
                if f < RECALL_BELOW or m == "recall")
    print(f"\nextraction modes: {dict(Counter(modes))}; the recall mode was tried on {tried} "
          f"pages (kept < {RECALL_BELOW}) and chosen on {len(fallback)}; F1 without it "
          f"{f1_without:.3f}")
    for i in fallback:
        print(f"- {pages[i]['key'][:10]} F1 {summary([without[i]])[0]:.3f} -> "
              f"{summary([ours[i]])[0]:.3f}")
    print(f"preprocess: {prep_s / len(pages) * 1000:.0f} ms a page (mean)")
    if fractions:
        print(f"input.extraction.kept: median {statistics.median(fractions):.2f}, "
              f"min {min(fractions):.2f}")
    worst = sorted(zip(pages, ours, strict=True),
                   key=lambda x: summary([x[1]])[0])[:10]
    print("\nLowest F1 (key, host, P, R):")
    for page, (p, r) in worst:
        host = re.sub(r"^https?://(www\.)?", "", page["url"]).split("/")[0]
        print(f"- {page['key'][:10]} {host:<28} P {p:.3f} R {r:.3f}")
    print()


def bench_leads(pages: list[dict], answers: dict[str, dict]) -> None:
    good = []
    failing = []
    for page in pages:
        short = answers[page["key"]].get("short") or ""
        if good_lead(short, page["body"]):
            good.append(page["key"])
        else:
            failing.append((page, short))
    print(f"== 3. Leads: the short briefing opens with one of the first {LEAD_SENTENCES} "
          f"body sentences on {len(good)} of {len(pages)} pages ==")
    for page, short in failing:
        first = split_sentences(page["body"])[:1]
        print(f"- {page['key'][:10]} short: {short[:110]!r}\n"
              f"  {'':10} body:  {(first[0] if first else '')[:110]!r}")
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="the first N pages only")
    args = parser.parse_args()
    pages = load_pages(args.limit)
    print(f"# pages bench: {len(pages)} pages from {eval_dir() / 'pages'}\n")
    answers = bench_api(pages)
    bench_extraction(pages)
    bench_leads(pages, answers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
