"""The llm engine's cost over its server's own time, and its throughput at 1, 4 and 8 calls.

Run by hand, not in CI, and not while other tests run (it keeps both cores busy):

    .venv/bin/python bench/llm.py                            # transformers serve, tiny model
    .venv/bin/python bench/llm.py --articles 4 --concurrency 1 4  # a quick look
    .venv/bin/python bench/llm.py --base-url http://127.0.0.1:11434/v1 --model llama3.2:3b

What it does:
1. Server: by default ``transformers serve`` with the tests' tiny random-weight Llama
   (tests/chat_model.py: built here, nothing downloaded); or yours (--base-url, --model).
2. Articles: the first --articles with 150-700 words from ../shared/eval/summ_refs_news.jsonl
   (read at run time, never copied here); without it, numbered copies of the seed article.
3. Overhead: each article is briefed by the service in this process (BriefingService.brief,
   the llm engine, a fresh SQLite data dir: nothing is cached), one after another, while a
   recording transport keeps the requests the engine sent. Those requests are then sent
   again straight to the server, as the engine sends them (the short and the long one at
   once): the server's own time. Temperature is set to 0 in a copy of the prompts, so both
   runs ask the server for the same work. overhead = service - server, per briefing.
4. Throughput at each --concurrency C: all articles briefed from C threads with
   BRIEFING_LLM_CONCURRENCY=C (a fresh data dir again), against their recorded requests
   replayed from C threads: briefings per second, and service / server.

Random weights generate noise: this measures the service's overhead, not quality. A server
that runs one generation at a time (transformers serve without --continuous-batching) gains
nothing from concurrency; the ratio to the replay is the figure that belongs to the service.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service.briefing import BriefingService  # noqa: E402
from service.config import Settings  # noqa: E402
from service.engines import EngineChoice  # noqa: E402
from service.engines.llm import LlmEngine  # noqa: E402
from service.metrics import Metrics  # noqa: E402
from service.prompts import DEFAULT_PROMPTS, load_prompts  # noqa: E402
from service.storage import Database  # noqa: E402
from service.storage.articles import Article, ArticleStore  # noqa: E402
from service.storage.cache import DatabaseCache  # noqa: E402
from tests.chat_model import build_tiny_chat_model, running_server  # noqa: E402

ARTICLES_FILE = ROOT.parent / "shared" / "eval" / "summ_refs_news.jsonl"
SEED = ROOT / "tests" / "seed_article.txt"

Recorded = list[bytes]  # the request bodies of one briefing, in the order they were sent


class RecordingTransport(httpx.HTTPTransport):
    """Keeps each chat-completions request body, by the thread that sent it."""

    def __init__(self) -> None:
        super().__init__()
        self.bodies: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/chat/completions"):
            with self._lock:
                self.bodies.append((threading.current_thread().name, request.read()))
        return super().handle_request(request)


def load_articles(count: int) -> list[str]:
    articles: list[str] = []
    if ARTICLES_FILE.is_file():
        for line in ARTICLES_FILE.read_text(encoding="utf-8").splitlines():
            text = json.loads(line).get("article", "")
            if 150 <= len(text.split()) <= 700:
                articles.append(text)
            if len(articles) == count:
                return articles
    seed = SEED.read_text(encoding="utf-8")
    while len(articles) < count:
        articles.append(f"{seed}\n\nUpdate {len(articles) + 1}: the talks go on this week.")
    return articles


def greedy_prompts(workdir: Path) -> Path:
    """A copy of the shipped prompts with temperature 0 in the llm ones."""
    target = workdir / "prompts"
    shutil.copytree(Path(str(DEFAULT_PROMPTS)), target)
    for path in (target / "llm").glob("*.toml"):
        path.write_text(re.sub(r"(?m)^temperature = .*$", "temperature = 0.0",
                               path.read_text(encoding="utf-8")), encoding="utf-8")
    return target


@contextmanager
def service_for(base_url: str, model: str, prompts_dir: Path, concurrency: int,
                workdir: Path) -> Iterator[tuple[BriefingService, RecordingTransport]]:
    data_dir = Path(tempfile.mkdtemp(dir=workdir, prefix="data-"))
    settings = Settings(
        engine="llm", llm_base_url=base_url, llm_model=model, llm_concurrency=concurrency,
        llm_timeout_s=300, request_timeout_s=600, data_dir=data_dir, daily_cron="",
        prompts_dir=prompts_dir, max_queue=64,
    )
    prompts = load_prompts(prompts_dir, family="llm")
    transport = RecordingTransport()
    metrics = Metrics()
    engine = LlmEngine(settings, prompts, metrics=metrics, transport=transport)
    database = Database.open(settings)
    service = BriefingService(settings, EngineChoice(engine), prompts, DatabaseCache(database),
                              ArticleStore(database), metrics)
    try:
        yield service, transport
    finally:
        engine.close()
        database.close()


def brief(service: BriefingService, text: str) -> float:
    started = time.perf_counter()
    result = service.brief(Article(text=text))
    if result["engine"] != "llm":
        sys.exit(f"the service fell back: {result.get('fallback_reason')}")
    return time.perf_counter() - started


def replay(client: httpx.Client, bodies: Recorded) -> float:
    """The server's own time for one briefing: its requests sent as the engine sent them
    (at once, when the engine sent them at once: the short and the long one)."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        for response in pool.map(lambda b: client.post(
                "chat/completions", content=b,
                headers={"Content-Type": "application/json"}), bodies):
            response.raise_for_status()
    return time.perf_counter() - started


def run_concurrently(jobs: list[Callable[[], object]], concurrency: int) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for _ in pool.map(lambda job: job(), jobs):
            pass
    return time.perf_counter() - started


def measure(base_url: str, model: str, articles: list[str], levels: list[int],
            workdir: Path) -> None:
    prompts_dir = greedy_prompts(workdir)
    client = httpx.Client(base_url=base_url + "/", timeout=600, trust_env=False,
                          limits=httpx.Limits(max_connections=max(levels) * 2))
    # 1. overhead, one briefing at a time
    groups: list[Recorded] = []
    with service_for(base_url, model, prompts_dir, 4, workdir) as (service, transport):
        brief(service, "Warm-up. " + articles[0])
        transport.bodies.clear()
        service_s = []
        for text in articles:
            service_s.append(brief(service, text))
            groups.append([body for _, body in transport.bodies])
            transport.bodies.clear()
    replay(client, groups[0])  # warm the server's path too
    server_s = [replay(client, group) for group in groups]
    calls = sum(len(g) for g in groups)
    overhead = [s - r for s, r in zip(service_s, server_s, strict=True)]
    print(f"\noverhead per briefing ({len(articles)} articles, one at a time, {calls} calls)")
    print(f"  server alone (replay)  median {statistics.median(server_s) * 1000:8.1f} ms")
    print(f"  service                median {statistics.median(service_s) * 1000:8.1f} ms")
    print(f"  overhead               median {statistics.median(overhead) * 1000:8.1f} ms "
          f"(mean {statistics.mean(overhead) * 1000:.1f} ms); service / server = "
          f"{statistics.median(service_s) / statistics.median(server_s):.3f}")
    # 2. throughput
    print(f"\nthroughput ({len(articles)} briefings)")
    print("  concurrency   server/s   service/s   service/server   service vs c=1")
    first: float | None = None
    for level in levels:
        with service_for(base_url, model, prompts_dir, level, workdir) as (service, _):
            service_wall = run_concurrently(
                [lambda t=text: brief(service, t) for text in articles], level)
        server_wall = run_concurrently(
            [lambda g=group: replay(client, g) for group in groups], level)
        service_rate = len(articles) / service_wall
        server_rate = len(articles) / server_wall
        first = first or service_rate
        print(f"  {level:11d}   {server_rate:8.2f}   {service_rate:9.2f}   "
              f"{service_rate / server_rate:14.3f}   {service_rate / first:14.2f}")
    client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base-url", help="your server's API base (default: start "
                        "transformers serve with the tiny test model)")
    parser.add_argument("--model", help="the model's name on your server")
    parser.add_argument("--articles", type=int, default=8)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 8])
    args = parser.parse_args()
    articles = load_articles(args.articles)
    with tempfile.TemporaryDirectory(prefix="bench-llm-") as tmp:
        workdir = Path(tmp)
        if args.base_url:
            if not args.model:
                sys.exit("--model names the model on your server")
            print(f"server: {args.base_url}, model {args.model}")
            measure(args.base_url.rstrip("/"), args.model, articles, args.concurrency, workdir)
            return
        model_dir = build_tiny_chat_model(workdir / "tiny-chat-llama")
        print("server: transformers serve, tiny random-weight Llama (tests/chat_model.py)")
        with running_server(model_dir, workdir) as server:
            measure(server.base_url, server.model, articles, args.concurrency, workdir)


if __name__ == "__main__":
    main()
