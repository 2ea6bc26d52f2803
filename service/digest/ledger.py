"""Deliver a digest's Slack messages exactly once: a ledger in the database with a lease.

A digest is identified by ``(day, timezone, webhook_id)``; the webhook URL itself is a secret
and never stored (:func:`service.digest.slack_webhook.webhook_id` is a hash of it). One
ledger row per digest records its state, the planned payloads and how many of them Slack
accepted:

    (no row) ── claim ──> pending ── plan ──> sending ── last message ──> delivered
                             │                   │
                             └─── Slack error ───┴──> failed ── next run resumes ──┘

``deliver`` runs the whole protocol:
  1. claim — in one transaction holding the row's lock (PostgreSQL: ``SELECT … FOR
     UPDATE``; SQLite: ``BEGIN IMMEDIATE``, the file's write lock): a delivered row answers
     "already delivered" (unless ``force``); a row leased by another live holder answers
     "busy" (we wait for it, then look again); otherwise we take the lease (owner + expiry,
     in the `leases` table: service/storage/leases.py, in the same transaction).
     The lease, not a process lock, is what works across processes, replicas and the CLI
     sharing the database, and its expiry means a crashed holder blocks others for at most
     ``lease_s``.
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
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from sqlalchemy import Connection, select, update

from service.digest.slack_webhook import SlackDeliveryError, SlackWebhook
from service.errors import DeliveryBusy, DeliveryFailed, StorageError
from service.storage import Database
from service.storage.leases import DatabaseLeases, Lease, new_owner
from service.storage.schema import deliveries, leases

log = logging.getLogger(__name__)

Payload = Mapping[str, Any]
Status = Literal["already_delivered", "delivered"]


@dataclass(frozen=True)
class DeliveryKey:
    """What a delivery is unique by: the digest's name, its period (the local day; or
    ``alert:<article id>``), its time zone and the destination's id (``webhook_id``)."""

    day: str
    timezone: str
    webhook_id: str
    digest: str = "daily"

    def __str__(self) -> str:
        name = "" if self.digest == "daily" else f"digest {self.digest} "
        return f"{name}{self.day} ({self.timezone}) to webhook {self.webhook_id}"


class Sender(Protocol):
    """Where a delivery posts: a Slack webhook, or any destination
    (:mod:`service.digest.destinations`). ``send`` raises :class:`SlackDeliveryError` (or a
    subclass) when a payload could not be delivered."""

    redacted_url: str
    webhook_id: str

    def send(self, payload: Mapping[str, Any]) -> None: ...


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


def _now() -> datetime:
    return datetime.now(UTC)


class DeliveryLedger:
    """The ``deliveries`` table, its leases in the ``leases`` table (``delivery:<key>``);
    every change in a transaction of its own."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.leases = DatabaseLeases(database)

    @staticmethod
    def lease_name(key: DeliveryKey) -> str:
        name = "" if key.digest == "daily" else f"{key.digest}|"
        return f"delivery:{name}{key.day}|{key.timezone}|{key.webhook_id}"

    def _write(self, fn: Callable[[Connection], Any]) -> Any:
        """Run ``fn`` in a write transaction (SQLite: the write lock taken up front)."""
        with self.database.write("delivery ledger write failed") as conn:
            return fn(conn)

    @staticmethod
    def _where(key: DeliveryKey) -> tuple[Any, ...]:
        return (deliveries.c.digest == key.digest, deliveries.c.day == key.day,
                deliveries.c.timezone == key.timezone, deliveries.c.webhook_id == key.webhook_id)

    @classmethod
    def _row(cls, db: Connection, key: DeliveryKey, *, lock: bool = False) -> LedgerRow | None:
        lease = leases.c.name == cls.lease_name(key)
        query = select(
            deliveries.c.status, deliveries.c.payloads, deliveries.c.sent, leases.c.owner,
            leases.c.expires_at, deliveries.c.attempts, deliveries.c.last_error,
            deliveries.c.delivered_at,
        ).select_from(deliveries.outerjoin(leases, lease)).where(*cls._where(key))
        if lock:  # PostgreSQL: hold the row until commit (SQLite ignores it: the file's lock)
            query = query.with_for_update(of=deliveries)
        found = db.execute(query).first()
        if found is None:
            return None
        status, payloads, sent, owner, lease_until, attempts, last_error, delivered_at = found
        return LedgerRow(status, json.loads(payloads) if payloads else None, sent, owner,
                         lease_until, attempts, last_error,
                         delivered_at.isoformat() if delivered_at else None)

    def get(self, key: DeliveryKey) -> LedgerRow | None:
        with self.database.read("delivery ledger read failed") as conn:
            return self._row(conn, key)

    def count_since(self, digest: str, webhook_id: str, prefix: str, since: datetime) -> int:
        """How many deliveries of ``digest`` to ``webhook_id`` whose period starts with
        ``prefix`` were first claimed at or after ``since`` (the alerts of the last hour)."""
        from sqlalchemy import func

        with self.database.read("delivery ledger read failed") as conn:
            found = conn.execute(
                select(func.count()).select_from(deliveries).where(
                    deliveries.c.digest == digest, deliveries.c.webhook_id == webhook_id,
                    deliveries.c.day.startswith(prefix, autoescape=True),
                    deliveries.c.created_at >= since)
            ).scalar_one()
        return int(found)

    def claim(self, key: DeliveryKey, owner: str, *, lease_s: float, force: bool) -> Claim:
        """Take the lease unless delivered (and not ``force``) or leased by a live holder."""
        name = self.lease_name(key)

        def run(db: Connection) -> Claim:
            # The lease first, in the same transaction as the row: one holder at a time.
            if not self.leases.acquire(name, owner, lease_s, conn=db):
                return Claim("busy", self._row(db, key))
            row = self._row(db, key, lock=True)
            if row is None:
                # Two first claims at once: the lease let one through; the primary key
                # stays the last word.
                first = self.database.upsert(
                    deliveries, ["digest", "day", "timezone", "webhook_id"], update=[])
                db.execute(first.values(
                    digest=key.digest, day=key.day, timezone=key.timezone,
                    webhook_id=key.webhook_id,
                    status="pending", attempts=1, created_at=_now(), updated_at=_now(),
                ))
                return Claim("claimed", self._row(db, key))
            if row.status == "delivered" and not force:
                self.leases.release(name, owner, conn=db)
                return Claim("delivered", self._row(db, key))
            values: dict[str, Any] = {"attempts": deliveries.c.attempts + 1,
                                      "updated_at": _now()}
            if force:  # force re-plans and re-sends everything
                values.update(status="pending", payloads=None, total=None, sent=0,
                              delivered_at=None, last_error=None)
            db.execute(update(deliveries).where(*self._where(key)).values(**values))
            return Claim("claimed", self._row(db, key))

        result: Claim = self._write(run)
        return result

    def _update(self, key: DeliveryKey, holder: str, *, release: bool = False,
                **values: Any) -> bool:
        """Update our row only while ``holder`` (we) still owns its lease; ``release``: give
        the lease up in the same transaction."""
        name = self.lease_name(key)

        def run(db: Connection) -> bool:
            done = db.execute(
                update(deliveries)
                .where(*self._where(key), self.leases.held_by(name, holder))
                .values(**values, updated_at=_now())
            )
            if done.rowcount == 1 and release:
                self.leases.release(name, holder, conn=db)
            return done.rowcount == 1

        result: bool = self._write(run)
        return result

    def renew(self, key: DeliveryKey, owner: str, lease_s: float) -> bool:
        return self.leases.renew(self.lease_name(key), owner, lease_s)

    def plan(self, key: DeliveryKey, owner: str, payloads: Sequence[Payload]) -> bool:
        text = json.dumps(list(payloads), ensure_ascii=False, separators=(",", ":"))
        return self._update(key, owner, payloads=text, total=len(payloads), sent=0,
                            status="sending")

    def mark_sent(self, key: DeliveryKey, owner: str, sent: int, lease_s: float) -> bool:
        return self._update(key, owner, sent=sent) and self.renew(key, owner, lease_s)

    def finish(self, key: DeliveryKey, owner: str) -> bool:
        return self._update(key, owner, release=True, status="delivered",
                            delivered_at=_now(), last_error=None)

    def fail(self, key: DeliveryKey, owner: str, error: str) -> bool:
        return self._update(key, owner, release=True, status="failed",
                            last_error=error[:1000])

    def release(self, key: DeliveryKey, owner: str) -> bool:
        """Give the lease up without changing the state (an interrupted run)."""
        return self.leases.release(self.lease_name(key), owner)


def deliver(
    ledger: DeliveryLedger,
    key: DeliveryKey,
    plan: Callable[[], Sequence[Payload]],
    webhook: Sender,
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
    lease = Lease(ledger.leases, ledger.lease_name(key), owner, lease_s)
    try:
        with lease.kept(release=False) as beat:
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
        said = "Slack said" if isinstance(webhook, SlackWebhook) else "it said"
        raise DeliveryFailed(
            f"delivery of {key} stopped at message {done + 1}: {exc} ({said} "
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
    "Sender",
    "deliver",
    "new_owner",
]
