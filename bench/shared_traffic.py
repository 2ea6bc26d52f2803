"""What one request costs the shared services: PostgreSQL statements and bytes, Redis bytes.

Run by hand: ``.venv/bin/python bench/shared_traffic.py [--n 50]`` on a machine with
PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379), as the tests use them. The service
runs in this process (extractive engine) and reaches both through loopback proxies that
count the bytes each way (tests/tcp_proxy.py); SQLAlchemy's cursor events count statements.

For PostgreSQL alone and for PostgreSQL + Redis, per request of each kind:
  - new: a new article (stored, generated, cached);
  - repeat: the same text again (a cache hit by raw-text alias; the article is stored);
  - get: GET /v1/briefings/{id} (a cache read).
docs/scaling.md sizes connection pools, Redis memory and the article table from these.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient  # noqa: E402

from service.app import create_app  # noqa: E402
from service.config import Settings  # noqa: E402
from tests.servers import postgres_database, redis_prefix  # noqa: E402
from tests.tcp_proxy import TcpProxy  # noqa: E402
from tests.test_briefing import story  # noqa: E402


def measure(client: TestClient, pg: TcpProxy, redis: TcpProxy | None, counter: dict[str, int],
            kind: str, n: int, offset: int) -> dict[str, float]:
    ids = []
    if kind != "new":  # the articles exist and are cached before counting starts
        for i in range(n):
            ids.append(client.post("/v1/briefings", json={"text": story(offset + i)}).json()["id"])
    time.sleep(0.2)
    before = (pg.bytes_up, pg.bytes_down, counter["statements"],
              redis.bytes_up + redis.bytes_down if redis else 0)
    started = time.perf_counter()
    for i in range(n):
        if kind == "get":
            answer = client.get(f"/v1/briefings/{ids[i]}")
        else:
            answer = client.post("/v1/briefings", json={"text": story(offset + i)})
        assert answer.status_code == 200, answer.text
        assert answer.json()["cached"] is (kind != "new")
    elapsed = time.perf_counter() - started
    time.sleep(0.2)
    return {
        "ms": elapsed / n * 1000,
        "statements": (counter["statements"] - before[2]) / n,
        "pg_up": (pg.bytes_up - before[0]) / n,
        "pg_down": (pg.bytes_down - before[1]) / n,
        "redis": ((redis.bytes_up + redis.bytes_down - before[3]) / n) if redis else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50, help="requests of each kind")
    args = parser.parse_args()
    print(f"{'setup':<22}{'kind':<8}{'ms/req':>8}{'stmts':>7}{'PG up B':>9}{'PG down B':>10}"
          f"{'Redis B':>9}")
    for with_redis in (False, True):
        with postgres_database() as url, redis_prefix() as (redis_url, prefix):
            pg = TcpProxy("127.0.0.1", 5432)
            rd = TcpProxy("127.0.0.1", 6379) if with_redis else None
            proxied = url.replace("127.0.0.1:5432", f"127.0.0.1:{pg.port}")
            extra: dict[str, Any] = {}
            if rd is not None:
                extra = {"redis_url": f"redis://127.0.0.1:{rd.port}/0", "redis_prefix": prefix}
            settings = Settings(data_dir=Path("/tmp/briefing-shared-traffic"),
                                engine="extractive", daily_cron="", retention_days=0,
                                database_url=proxied, **extra)
            counter = {"statements": 0}
            with TestClient(create_app(settings)) as client:
                engine = client.app.state.service.database.engine  # type: ignore[attr-defined]

                def count(*_: Any, counter: dict[str, int] = counter) -> None:
                    counter["statements"] += 1

                event.listen(engine, "before_cursor_execute", count)

                for k, kind in enumerate(("new", "repeat", "get")):
                    row = measure(client, pg, rd, counter, kind, args.n, 70_000 + k * 1000)
                    label = "PostgreSQL + Redis" if with_redis else "PostgreSQL"
                    print(f"{label:<22}{kind:<8}{row['ms']:>8.2f}{row['statements']:>7.1f}"
                          f"{row['pg_up']:>9.0f}{row['pg_down']:>10.0f}{row['redis']:>9.0f}")
            pg.close()
            if rd is not None:
                rd.close()


if __name__ == "__main__":
    main()
