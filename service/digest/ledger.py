"""Deliver a digest's Slack messages exactly once: a ledger in SQLite with a lease.

A digest is identified by ``(day, timezone, webhook_id)``; the webhook URL itself is a secret
and never stored (:func:`service.digest.slack_webhook.webhook_id` is a hash of it). One
ledger row per digest records its state, the planned payloads and how many of them Slack
accepted:

    (no row) ── claim ──> pending ── plan ──> sending ── last message ──> delivered
                             │                   │
                             └─── Slack error ───┴──> failed ── next run resumes ──┘

``deliver`` runs the whole protocol:
  1. claim — in one ``BEGIN IMMEDIATE`` transaction: a delivered row answers "already
     delivered" (unless ``force``); a row leased by another live holder answers "busy" (we
     wait for it, then look again); otherwise we take the lease (owner + expiry). The lease,
     not a process lock, is what works across processes and machines sharing the file, and
     its expiry means a crashed holder blocks others for at most ``lease_s``.
  2. plan — when the row has no payloads yet, build them (this may generate briefings, so a
     heartbeat thread renews the lease meanwhile) and store them with the row: a resumed run
     sends exactly the messages the first run planned, numbered the same.
  3. send — message by message from the recorded position; after each one Slack accepted,
     the position is committed, so a crash resumes with the next unsent message.
  4. finish — mark delivered and release the lease; on a Slack error mark failed, keep the
     position, release the lease and raise :class:`DeliveryFailed`.

The one message that can be sent twice is one Slack accepted in the milliseconds before the
process died and before the position was committed: an incoming webhook takes no idempotency
key, so no sender can close that window completely.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from service.db import open_sqlite, storage_errors
from service.digest.slack_webhook import SlackDeliveryError, SlackWebhook
from service.errors import DeliveryBusy, DeliveryFailed, StorageError

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    day TEXT NOT NULL, timezone TEXT NOT NULL, webhook_id TEXT NOT NULL,
    status TEXT NOT NULL, payloads TEXT, total INTEGER, sent INTEGER NOT NULL DEFAULT 0,
    owner TEXT, lease_until REAL, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, delivered_at TEXT,
    PRIMARY KEY (day, timezone, webhook_id)
);
"""

Payload = Mapping[str, Any]
Status = Literal["already_delivered", "delivered"]


@dataclass(frozen=True)
class DeliveryKey:
    """What a delivery is unique by: the local day, its time zone and the webhook's id."""

    day: str
    timezone: str
    webhook_id: str

    def __str__(self) -> str:
        return f"{self.day} ({self.timezone}) to webhook {self.webhook_id}"


@dataclass(frozen=True)
class LedgerRow:
    status: str
    payloads: list[dict[str, Any]] | None
    sent: int
    owner: str | None
    lease_until: float | None
    attempts: int
    last_error: str | None
    delivered_at: str | None


@dataclass(frozen=True)
class Claim:
    """The outcome of trying to take a delivery's lease."""

    state: Literal["claimed", "delivered", "busy"]
    row: LedgerRow | None


@dataclass(frozen=True)
class DeliveryOutcome:
    """What a ``deliver`` call did; safe to log and to return from the API."""

    status: Status
    messages: int  # planned messages of the digest (0 when unknown)
    sent_now: int  # messages this call posted
    resumed_from: int  # index of the first message this call posted (0 when fresh)
    webhook: str  # the redacted URL
    webhook_id: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _now_text() -> str:
    return datetime.now(UTC).isoformat()


def new_owner() -> str:
    """A lease owner id that differs between processes, hosts and calls."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class DeliveryLedger:
    """The ``deliveries`` table; one connection per instance, transactions made explicit."""

    def __init__(self, path: Path, *, timeout_s: float = 5.0) -> None:
        self.path = path
        # open_sqlite waits out concurrent first opens racing to switch a new file to WAL.
        self._db = open_sqlite(path, _SCHEMA, what="delivery ledger", timeout_s=timeout_s)
        self._db.isolation_level = None  # we issue BEGIN IMMEDIATE / COMMIT ourselves
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _write(self, fn: Callable[[sqlite3.Connection], Any]) -> Any:
        """Run ``fn`` in a write transaction taken up front (so no two writers interleave)."""
        with storage_errors(f"delivery ledger at {self.path}"):
            with self._lock:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    result = fn(self._db)
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
                return result

    @staticmethod
    def _row(db: sqlite3.Connection, key: DeliveryKey) -> LedgerRow | None:
        found = db.execute(
            "SELECT status, payloads, sent, owner, lease_until, attempts, last_error,"
            " delivered_at FROM deliveries WHERE day = ? AND timezone = ? AND webhook_id = ?",
            (key.day, key.timezone, key.webhook_id),
        ).fetchone()
        if found is None:
            return None
        status, payloads, sent, owner, lease_until, attempts, last_error, delivered_at = found
        return LedgerRow(status, json.loads(payloads) if payloads else None, sent, owner,
                         lease_until, attempts, last_error, delivered_at)

    def get(self, key: DeliveryKey) -> LedgerRow | None:
        with storage_errors(f"delivery ledger at {self.path}"):
            with self._lock:
                return self._row(self._db, key)

    def claim(self, key: DeliveryKey, owner: str, *, lease_s: float, force: bool) -> Claim:
        """Take the lease unless delivered (and not ``force``) or leased by a live holder."""

        def run(db: sqlite3.Connection) -> Claim:
            now = time.time()
            row = self._row(db, key)
            args = (key.day, key.timezone, key.webhook_id)
            if row is None:
                db.execute(
                    "INSERT INTO deliveries (day, timezone, webhook_id, status, owner,"
                    " lease_until, attempts, created_at, updated_at)"
                    " VALUES (?, ?, ?, 'pending', ?, ?, 1, ?, ?)",
                    (*args, owner, now + lease_s, _now_text(), _now_text()),
                )
                return Claim("claimed", self._row(db, key))
            if row.owner and row.owner != owner and (row.lease_until or 0) > now:
                return Claim("busy", row)
            if row.status == "delivered" and not force:
                return Claim("delivered", row)
            reset = force  # force re-plans and re-sends everything
            db.execute(
                "UPDATE deliveries SET owner = ?, lease_until = ?, attempts = attempts + 1,"
                " updated_at = ?"
                + (", status = 'pending', payloads = NULL, total = NULL, sent = 0,"
                   " delivered_at = NULL, last_error = NULL" if reset else "")
                + " WHERE day = ? AND timezone = ? AND webhook_id = ?",
                (owner, now + lease_s, _now_text(), *args),
            )
            return Claim("claimed", self._row(db, key))

        result: Claim = self._write(run)
        return result

    def _update(self, key: DeliveryKey, owner: str, sets: str, values: Sequence[Any]) -> bool:
        """``UPDATE … SET <sets>`` on our row only while we still own its lease."""

        def run(db: sqlite3.Connection) -> bool:
            cursor = db.execute(
                f"UPDATE deliveries SET {sets}, updated_at = ? WHERE day = ? AND timezone = ?"
                " AND webhook_id = ? AND owner = ?",
                (*values, _now_text(), key.day, key.timezone, key.webhook_id, owner),
            )
            return cursor.rowcount == 1

        result: bool = self._write(run)
        return result

    def renew(self, key: DeliveryKey, owner: str, lease_s: float) -> bool:
        return self._update(key, owner, "lease_until = ?", (time.time() + lease_s,))

    def plan(self, key: DeliveryKey, owner: str, payloads: Sequence[Payload]) -> bool:
        text = json.dumps(list(payloads), ensure_ascii=False, separators=(",", ":"))
        return self._update(key, owner, "payloads = ?, total = ?, sent = 0, status = 'sending'",
                            (text, len(payloads)))

    def mark_sent(self, key: DeliveryKey, owner: str, sent: int, lease_s: float) -> bool:
        return self._update(key, owner, "sent = ?, lease_until = ?",
                            (sent, time.time() + lease_s))

    def finish(self, key: DeliveryKey, owner: str) -> bool:
        return self._update(
            key, owner,
            "status = 'delivered', delivered_at = ?, owner = NULL, lease_until = NULL,"
            " last_error = NULL",
            (_now_text(),),
        )

    def fail(self, key: DeliveryKey, owner: str, error: str) -> bool:
        return self._update(
            key, owner, "status = 'failed', last_error = ?, owner = NULL, lease_until = NULL",
            (error[:1000],),
        )

    def release(self, key: DeliveryKey, owner: str) -> bool:
        """Give the lease up without changing the state (an interrupted run)."""
        return self._update(key, owner, "owner = NULL, lease_until = NULL", ())


class _Heartbeat:
    """Renews a lease every third of its length until stopped."""

    def __init__(self, ledger: DeliveryLedger, key: DeliveryKey, owner: str, lease_s: float):
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(ledger, key, owner, lease_s), name="delivery-lease",
            daemon=True,
        )
        self.lost = False

    def _run(self, ledger: DeliveryLedger, key: DeliveryKey, owner: str, lease_s: float) -> None:
        while not self._stop.wait(lease_s / 3):
            try:
                if not ledger.renew(key, owner, lease_s):
                    self.lost = True
                    log.error("delivery of %s: the lease was taken over", key)
                    return
            except StorageError as exc:  # try again at the next beat; expiry is the limit
                log.warning("delivery of %s: could not renew the lease: %s", key, exc.message)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def deliver(
    ledger: DeliveryLedger,
    key: DeliveryKey,
    plan: Callable[[], Sequence[Payload]],
    webhook: SlackWebhook,
    *,
    force: bool = False,
    lease_s: float = 60.0,
    wait_s: float | None = None,
    interval_s: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    on_sent: Callable[[], None] | None = None,
) -> DeliveryOutcome:
    """Post the digest's messages once (see the module docstring for the steps).

    ``plan`` is called only when no plan is recorded yet; ``on_sent`` is called after each
    message Slack accepted. A run that finds another holder
    waits up to ``wait_s`` (default: three lease lengths) for it, then raises
    :class:`DeliveryBusy`. Slack errors raise :class:`DeliveryFailed` after the ledger
    recorded how far it got.
    """
    owner = new_owner()
    wait_s = 3 * lease_s if wait_s is None else wait_s
    deadline = time.monotonic() + wait_s
    shown = {"webhook": webhook.redacted_url, "webhook_id": webhook.webhook_id}
    # 1. claim
    while True:
        claim = ledger.claim(key, owner, lease_s=lease_s, force=force)
        if claim.state != "busy":
            break
        if time.monotonic() >= deadline:
            holder = claim.row.owner if claim.row else "?"
            raise DeliveryBusy(
                f"the digest {key} is being delivered by another run ({holder}); "
                f"its lock lasts up to {lease_s:g}s after its last sign of life",
                retry_after_s=max(1, int(lease_s)),
            )
        log.info("delivery of %s: another run holds the lock; waiting", key)
        time.sleep(max(0.01, min(0.5, lease_s / 10, deadline - time.monotonic())))
    row = claim.row
    assert row is not None
    if claim.state == "delivered":
        total = len(row.payloads or [])
        log.info("delivery of %s: already delivered at %s; nothing to do (force re-sends)",
                 key, row.delivered_at)
        return DeliveryOutcome("already_delivered", total, 0, total, **shown,
                               detail=f"already delivered at {row.delivered_at}; "
                                      "nothing sent (force re-sends)")
    try:
        with _Heartbeat(ledger, key, owner, lease_s) as beat:
            # 2. plan
            payloads = row.payloads
            start = row.sent
            if payloads is None:
                payloads = [dict(p) for p in plan()]
                if not ledger.plan(key, owner, payloads):
                    raise DeliveryBusy(f"the delivery lock of {key} was taken over while "
                                       "planning; the other run delivers it")
                start = 0
            elif start:
                log.info("delivery of %s: resuming at message %d of %d", key, start + 1,
                         len(payloads))
            # 3. send
            for index in range(start, len(payloads)):
                if beat.lost:
                    raise DeliveryBusy(f"the delivery lock of {key} was taken over")
                if index > start and interval_s > 0:
                    sleep(interval_s)
                webhook.send(payloads[index])
                if on_sent is not None:
                    on_sent()
                if not ledger.mark_sent(key, owner, index + 1, lease_s):
                    raise DeliveryBusy(f"the delivery lock of {key} was taken over after "
                                       f"message {index + 1}")
            # 4. finish
            ledger.finish(key, owner)
    except SlackDeliveryError as exc:
        ledger.fail(key, owner, str(exc))
        sent = ledger.get(key)
        done = sent.sent if sent else 0
        raise DeliveryFailed(
            f"delivery of {key} stopped at message {done + 1}: {exc} (Slack said "
            f"{exc.slack_error or 'nothing'!r}); {done} sent, the next run resumes"
        ) from None
    except BaseException:
        try:
            ledger.release(key, owner)
        except StorageError:  # the lease expires on its own
            pass
        raise
    sent_now = len(payloads) - start
    log.info("delivery of %s: delivered %d message(s)%s", key, sent_now,
             f" (resumed at {start + 1})" if start else "")
    return DeliveryOutcome(
        "delivered", len(payloads), sent_now, start, **shown,
        detail=f"posted {sent_now} of {len(payloads)} message(s)"
               + (f", resuming after {start} sent earlier" if start else ""),
    )


__all__ = [
    "Claim",
    "DeliveryKey",
    "DeliveryLedger",
    "DeliveryOutcome",
    "deliver",
    "new_owner",
]
