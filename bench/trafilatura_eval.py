"""Issue 26's figures: trafilatura's evaluation set, and what each cleaning rule removed.

Run by hand, niced (about 5 minutes on 2 busy cores with ``--jobs 2``):

    nice .venv/bin/python bench/trafilatura_eval.py              # both dev sets
    nice .venv/bin/python bench/trafilatura_eval.py --limit 60   # the first 60 pages of each
    nice .venv/bin/python bench/trafilatura_eval.py --set trafilatura --lost

Reads ``../shared/eval/trafilatura/`` and ``../shared/eval/pages/`` (or under
``$BRIEFING_EVAL_DIR``) at run time and copies nothing from them (see SOURCES.md there).

1. trafilatura's set: web pages of many kinds and languages, each with snippets that a good
   extraction must contain (``with``) and must not contain (``without``). Scored as
   trafilatura scores itself: a ``with`` snippet found in the text (exact substring) is a
   true positive, one missed a false negative; a ``without`` snippet found is a false
   positive; precision, recall and F1 over all snippets of all pages. Three texts per page,
   in the same run, from the page's bytes decoded as the API decodes them: what
   preprocessing keeps (``preprocess(page, html=True).text``, what the engine sees), our
   extraction before cleaning (``doc.extraction.text``), and trafilatura alone
   (``trafilatura.extract``, its defaults). Overall and per language (the language of the
   page's ``with`` snippets, as the service detects it). A ``with`` snippet that the
   cleaned text misses only because repair changed its characters (curly quotes
   straightened, spaces collapsed) is counted as missed, as trafilatura counts it, and
   reported apart.
2. Per cleaning rule, on both sets: what it removed. On trafilatura's set, the ``with``
   snippets it lost (content: in the extraction, gone from the cleaned text, inside or
   overlapping a piece the rule removed) against the ``without`` snippets it removed
   (furniture). On the news pages (``pages/``, annotated article bodies), the removed
   pieces whose 4-word shingles are mostly in the annotated body (content) against the
   others (furniture), and the body's words they took. The not-prose gate (the service
   refuses a text that does not read as prose) is reported as the pages it would refuse.
   ``--lost`` lists each lost ``with`` snippet with the piece removed.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.evaldata import eval_dir  # noqa: E402

_TOKEN = re.compile(r"\w+")
# A removed piece "overlaps" a snippet when they share a run of this many characters.
_OVERLAP_CHARS = 24


# -- loading --------------------------------------------------------------------------


def load_trafilatura(limit: int | None) -> list[dict]:
    """Every entry of trafilatura's set: url, file, raw bytes, with, without."""
    root = eval_dir() / "trafilatura"
    data = json.loads((root / "evaldata.json").read_text(encoding="utf-8"))
    pages = []
    for url, item in list(data.items())[:limit]:
        raw = gzip.decompress((root / "pages" / f"{item['file']}.gz").read_bytes())
        pages.append({"url": url, "file": item["file"], "raw": raw,
                      "with": list(item.get("with") or []),
                      "without": list(item.get("without") or [])})
    return pages


# -- per page work (in worker processes) ----------------------------------------------


def _run_trafilatura_page(page: dict) -> dict:
    import trafilatura

    from service.preprocess import preprocess
    from service.preprocess.html import decode_html
    from service.preprocess.language import detect_language
    from service.preprocess.prose import assess

    html = decode_html(page["raw"], None)
    doc = preprocess(html, html=True)
    alone = trafilatura.extract(html) or ""
    language = detect_language(" ".join(page["with"])).code
    verdict = assess(doc.text)
    return {
        "ours": doc.text,
        "extracted": doc.extraction.text if doc.extraction else "",
        "alone": alone,
        "language": language,
        "removed": [(r.reason, r.text) for r in doc.removed],
        "prose": verdict.prose,
    }


def _run_news_page(page: dict) -> dict:
    from bench.pages import decode_page
    from service.preprocess import preprocess
    from service.preprocess.prose import assess

    doc = preprocess(decode_page(page["raw"]), html=True)
    return {"ours": doc.text, "removed": [(r.reason, r.text) for r in doc.removed],
            "prose": assess(doc.text).prose}


def _map(function, pages: list[dict], jobs: int) -> list[dict]:
    if jobs <= 1:
        return [function(page) for page in pages]
    with ProcessPoolExecutor(jobs) as pool:
        return list(pool.map(function, pages, chunksize=4))


# -- scoring --------------------------------------------------------------------------


def score(pages: list[dict], texts: list[str]) -> tuple[int, int, int, int]:
    """tp, fn, fp, tn over all snippets, as trafilatura's evaluation counts them."""
    tp = fn = fp = tn = 0
    for page, text in zip(pages, texts, strict=True):
        for snippet in page["with"]:
            if snippet in text:
                tp += 1
            else:
                fn += 1
        for snippet in page["without"]:
            if snippet in text:
                fp += 1
            else:
                tn += 1
    return tp, fn, fp, tn


def prf(counts: tuple[int, int, int, int]) -> tuple[float, float, float]:
    tp, fn, fp, _ = counts
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def _rule(reason: str) -> str:
    """The rule a removal's reason names, without the details ("near duplicate (92% …)")."""
    return re.sub(r"\s*\(\d+% [^)]*\)$", "", reason)


def _overlaps(snippet: str, piece: str) -> bool:
    if snippet in piece or (len(piece.strip()) >= 8 and piece.strip() in snippet):
        return True
    n = min(_OVERLAP_CHARS, len(snippet))
    return any(snippet[i : i + n] in piece for i in range(0, len(snippet) - n + 1, 4))


def _normalized(text: str) -> str:
    from service.preprocess.normalize import repair

    return " ".join(repair(text).text.split())


def blame(snippet: str, removed: list[tuple[str, str]]) -> str | None:
    """The rule of the first removed piece holding or overlapping ``snippet``."""
    for reason, piece in removed:
        if _overlaps(snippet, piece):
            return _rule(reason)
    return None


# -- reports --------------------------------------------------------------------------


def report_trafilatura(pages: list[dict], results: list[dict], lost: bool) -> None:
    print(f"== 1. trafilatura's set: {len(pages)} pages, "
          f"{sum(len(p['with']) for p in pages)} 'with' and "
          f"{sum(len(p['without']) for p in pages)} 'without' snippets ==")
    columns = (("preprocess (what the engine sees)", "ours"),
               ("extraction only, before cleaning", "extracted"),
               ("trafilatura alone (extract, its defaults)", "alone"))
    print("| text | F1 | precision | recall | with found | without found |")
    print("|---|---|---|---|---|---|")
    for name, field in columns:
        counts = score(pages, [r[field] for r in results])
        p, r, f1 = prf(counts)
        print(f"| {name} | {f1:.3f} | {p:.3f} | {r:.3f} | {counts[0]} | {counts[2]} |")
    ours = prf(score(pages, [r["ours"] for r in results]))
    alone = prf(score(pages, [r["alone"] for r in results]))
    print(f"\nours - trafilatura alone: F1 {ours[2] - alone[2]:+.3f} (goal >= +0.010), "
          f"recall {ours[1] - alone[1]:+.3f} (goal >= -0.005)")

    by_language: dict[str, list[int]] = defaultdict(list)
    for index, result in enumerate(results):
        by_language[result["language"]].append(index)
    print("\nPer language (of the 'with' snippets): F1 / precision / recall")
    print("| language | pages | ours | extraction | trafilatura alone |\n|---|---|---|---|---|")
    for language, indices in sorted(by_language.items(), key=lambda x: -len(x[1])):
        subset = [pages[i] for i in indices]
        cells = []
        for _, field in columns:
            p, r, f1 = prf(score(subset, [results[i][field] for i in indices]))
            cells.append(f"{f1:.3f} / {p:.3f} / {r:.3f}")
        print(f"| {language} | {len(indices)} | {' | '.join(cells)} |")

    # What cleaning did, per rule: 'with' snippets lost, 'without' snippets removed.
    lost_by: Counter[str] = Counter()
    furniture_by: Counter[str] = Counter()
    pieces_by: Counter[str] = Counter()
    pages_by: dict[str, set[int]] = defaultdict(set)
    listing: list[str] = []
    repaired_only = 0
    for index, (page, result) in enumerate(zip(pages, results, strict=True)):
        for reason, _ in result["removed"]:
            pieces_by[_rule(reason)] += 1
            pages_by[_rule(reason)].add(index)
        before, after = result["extracted"], result["ours"]
        normal_after = None
        for snippet in page["with"]:
            if snippet in before and snippet not in after:
                rule = blame(snippet, result["removed"])
                if rule is None:
                    normal_after = normal_after or _normalized(after)
                    rule = ("repair (characters changed, text kept)"
                            if _normalized(snippet) in normal_after else "(not attributed)")
                    repaired_only += rule.startswith("repair")
                lost_by[rule] += 1
                listing.append(f"- [{rule}] {page['file']}: {snippet[:90]!r}")
        for snippet in page["without"]:
            if snippet in before and snippet not in after:
                furniture_by[blame(snippet, result["removed"]) or "(not attributed)"] += 1
    prose_refused = [i for i, r in enumerate(results) if not r["prose"]]
    refused_with = sum(sum(s in results[i]["ours"] for s in pages[i]["with"])
                       for i in prose_refused)
    print("\nPer cleaning rule on trafilatura's set: pieces removed (pages), 'with' snippets "
          "lost (content), 'without' snippets removed (furniture)")
    print("| rule | pieces | pages | with lost | without removed |\n|---|---|---|---|---|")
    rules = set(pieces_by) | set(lost_by) | set(furniture_by)
    for rule in sorted(rules, key=lambda x: (-lost_by[x], -furniture_by[x], -pieces_by[x])):
        print(f"| {rule} | {pieces_by[rule]} | {len(pages_by[rule])} | {lost_by[rule]} | "
              f"{furniture_by[rule]} |")
    print(f"| **all cleaning** | {sum(pieces_by.values())} | | {sum(lost_by.values())} | "
          f"{sum(furniture_by.values())} |")
    print(f"\n'with' snippets missed only because repair changed characters: {repaired_only}")
    print(f"not-prose gate: {len(prose_refused)} of {len(pages)} cleaned pages would be "
          f"refused (holding {refused_with} 'with' snippets)")
    if lost:
        print("\nLost 'with' snippets:")
        print("\n".join(listing) or "(none)")
    print()


def _shingles(text: str, n: int = 4) -> Counter:
    tokens = _TOKEN.findall(text or "")
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)))


def report_news(pages: list[dict], results: list[dict], lost: bool) -> None:
    from bench.pages import precision_recall, summary

    rows = [precision_recall(r["ours"], p["body"]) for p, r in zip(pages, results, strict=True)]
    f1, p, r = summary(rows)
    print(f"== 2. News pages: {len(pages)} pages, preprocess F1 {f1:.3f} (P {p:.3f}, "
          f"R {r:.3f}; bench/pages.py has the leads and the other columns) ==")
    content_by: Counter[str] = Counter()
    furniture_by: Counter[str] = Counter()
    words_by: Counter[str] = Counter()
    listing: list[str] = []
    for page, result in zip(pages, results, strict=True):
        body = _shingles(page["body"])
        kept = _shingles(result["ours"])
        for reason, piece in result["removed"]:
            rule = _rule(reason)
            mine = _shingles(piece)
            inside = [s for s in mine if s in body]
            # Content: most of the piece is the body's, and the kept text lacks it (a copy
            # removed while another stays is a repeat, not content lost).
            if mine and len(inside) >= 0.5 * len(mine) and sum(s not in kept for s in inside) \
                    >= 0.5 * len(inside):
                content_by[rule] += 1
                words_by[rule] += len(piece.split())
                listing.append(f"- [{rule}] {page['key'][:10]}: {piece[:100]!r}")
                continue
            furniture_by[rule] += 1
    refused = sum(1 for r in results if not r["prose"])
    print("Per cleaning rule: removed pieces most of whose word shingles are the annotated "
          "body's and missing from the kept text (content lost), and the others (furniture, "
          "or copies of text kept)")
    print("| rule | content pieces | content words | other pieces |\n|---|---|---|---|")
    for rule in sorted(set(content_by) | set(furniture_by),
                       key=lambda x: (-content_by[x], -furniture_by[x])):
        print(f"| {rule} | {content_by[rule]} | {words_by[rule]} | {furniture_by[rule]} |")
    print(f"| **all cleaning** | {sum(content_by.values())} | {sum(words_by.values())} | "
          f"{sum(furniture_by.values())} |")
    print(f"\nnot-prose gate: {refused} of {len(pages)} cleaned pages would be refused")
    if lost:
        print("\nContent removed:")
        print("\n".join(listing) or "(none)")
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="the first N pages of each set")
    parser.add_argument("--set", choices=("both", "trafilatura", "pages"), default="both")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--lost", action="store_true", help="list every piece of content lost")
    args = parser.parse_args()
    print(f"# trafilatura_eval: load average {os.getloadavg()[0]:.2f} "
          f"{os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}, {args.jobs} jobs\n")
    started = time.perf_counter()
    if args.set in ("both", "trafilatura"):
        pages = load_trafilatura(args.limit)
        results = _map(_run_trafilatura_page, pages, args.jobs)
        report_trafilatura(pages, results, args.lost)
    if args.set in ("both", "pages"):
        from bench.pages import load_pages

        news = load_pages(args.limit)
        results = _map(_run_news_page, news, args.jobs)
        report_news(news, results, args.lost)
    seconds = time.perf_counter() - started
    print(f"# {seconds:.0f} s; load average now {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
