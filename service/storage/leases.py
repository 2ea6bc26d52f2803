"""Leases: the one way the service holds something across threads, processes and replicas.

A lease is a name (``feed:<url>``, ``entry:<key>``, ``host:<host>``, ``delivery:<…>``,
``flight:<key>``) with an owner and an expiry. Whoever takes it first holds it until it
releases it or stops renewing it; nobody else takes it before then, and only the owner can
renew or release it (a holder that stalled past its expiry and was replaced cannot release the
new holder's lease). Two stores keep them:

  :class:`DatabaseLeases`  the ``leases`` table, with ``INSERT … ON CONFLICT DO NOTHING`` and
                           owner-fenced ``UPDATE``/``DELETE``: the record, on every setup
  :class:`RedisLeases`     ``SET NX PX`` and owner-checked scripts: fast, for replicas
                           sharing Redis; answers ``None`` when Redis is away, so the caller
                           can fall back (:class:`FallbackLeases`)

:class:`Lease` is a held lease: :meth:`Lease.kept` renews it every third of its length while
the work runs, and ``max_s`` bounds the work: past :attr:`Lease.deadline` the lease is no
longer renewed and :attr:`Lease.over` tells the work to stop, so a lease never hides work that
outlives it. A release may keep the name taken for ``hold_s`` more seconds with no owner (a
host's pause between two requests).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

from sqlalchemy import Connection, and_, delete, or_, select, update

from service.errors import StorageError
from service.storage.database import Database
from service.storage.redis_link import RedisLink
from service.storage.schema import leases

log = logging.getLogger(__name__)

__all__ = [
    "DatabaseLeases", "FallbackLeases", "Lease", "LeaseStore", "RedisLeases", "new_owner",
]


def new_owner() -> str:
    """A lease owner id that differs between processes, hosts and calls."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class LeaseStore(Protocol):
    """Where leases live. ``None`` from a method: the store is away (Redis only)."""

    def acquire(self, name: str, owner: str, ttl_s: float) -> bool | None: ...

    def renew(self, name: str, owner: str, ttl_s: float) -> bool | None: ...

    def release(self, name: str, owner: str, *, hold_s: float = 0.0) -> bool | None: ...

    def holder(self, name: str) -> str | None: ...


class DatabaseLeases:
    """Leases in the ``leases`` table. Times are the wall clock (``time.time()``), the one
    clock replicas share; an expired row is taken over by the next ``acquire``."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def acquire(self, name: str, owner: str, ttl_s: float, *,
                conn: Connection | None = None) -> bool:
        """Take ``name`` when it is free or expired; True when we hold it now."""
        with self._tx(conn, "could not take a lease") as db:
            now = time.time()
            taken = db.execute(
                update(leases)
                .where(leases.c.name == name,
                       or_(leases.c.expires_at <= now, leases.c.owner == owner))
                .values(owner=owner, expires_at=now + ttl_s)
            ).rowcount
            if taken:
                return True
            # No row yet (or a live one): the primary key lets exactly one insert win.
            made = db.execute(
                self.database.upsert(leases, ["name"], update=[]).returning(leases.c.name),
                {"name": name, "owner": owner, "expires_at": now + ttl_s},
            ).first()
            return made is not None

    def renew(self, name: str, owner: str, ttl_s: float, *,
              conn: Connection | None = None) -> bool:
        with self._tx(conn, "could not renew a lease") as db:
            return bool(db.execute(
                update(leases).where(leases.c.name == name, leases.c.owner == owner)
                .values(expires_at=time.time() + ttl_s)
            ).rowcount)

    def release(self, name: str, owner: str, *, hold_s: float = 0.0,
                conn: Connection | None = None) -> bool:
        with self._tx(conn, "could not release a lease") as db:
            mine = and_(leases.c.name == name, leases.c.owner == owner)
            if hold_s > 0:
                return bool(db.execute(update(leases).where(mine).values(
                    owner=None, expires_at=time.time() + hold_s)).rowcount)
            return bool(db.execute(delete(leases).where(mine)).rowcount)

    def holder(self, name: str) -> str | None:
        with self.database.read("could not read a lease") as db:
            row = db.execute(select(leases.c.owner).where(
                leases.c.name == name, leases.c.expires_at > time.time())).first()
        return row[0] if row is not None else None

    def held_by(self, name: str, owner: str) -> object:
        """A WHERE clause: ``owner`` holds ``name`` (fences another table's update)."""
        return select(leases.c.name).where(
            leases.c.name == name, leases.c.owner == owner).exists()

    @contextmanager
    def _tx(self, conn: Connection | None, what: str) -> Iterator[Connection]:
        if conn is not None:  # inside the caller's transaction
            yield conn
            return
        with self.database.write(what) as db:
            yield db


# Owner-checked renew and release: a GET then a write in one script, so a lease that
# expired and was taken by another owner between the two is never touched.
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  if tonumber(ARGV[2]) > 0 then
    redis.call('set', KEYS[1], '', 'PX', ARGV[2])
  else
    redis.call('del', KEYS[1])
  end
  return 1
end
return 0
"""


class RedisLeases:
    """Leases as Redis keys ``<prefix>lease:<name>`` holding the owner, expiring by PX."""

    def __init__(self, link: RedisLink) -> None:
        self.link = link
        self._renew = link.client.register_script(_RENEW)
        self._release = link.client.register_script(_RELEASE)

    def _key(self, name: str) -> str:
        return self.link.key("lease", name)

    def acquire(self, name: str, owner: str, ttl_s: float) -> bool | None:
        key, ms = self._key(name), _ms(ttl_s)
        # SET NX answers None when the key exists: made a bool, so None means Redis is away.
        return self.link.call("lease_acquire",
                              lambda r: bool(r.set(key, owner, nx=True, px=ms)))

    def renew(self, name: str, owner: str, ttl_s: float) -> bool | None:
        done = self.link.call("lease_renew", lambda _r: self._renew(
            keys=[self._key(name)], args=[owner, _ms(ttl_s)]))
        return None if done is None else bool(done)

    def release(self, name: str, owner: str, *, hold_s: float = 0.0) -> bool | None:
        hold = _ms(hold_s) if hold_s > 0 else 0
        done = self.link.call("lease_release", lambda _r: self._release(
            keys=[self._key(name)], args=[owner, hold]))
        return None if done is None else bool(done)

    def holder(self, name: str) -> str | None:
        value = self.link.call("lease_holder", lambda r: r.get(self._key(name)))
        if not value:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)


class FallbackLeases:
    """Redis first; the database for each call Redis cannot answer. While Redis is away two
    replicas may each hold a name once (one in Redis, one in the database): acceptable for
    politeness, where the price is one extra request to a host."""

    def __init__(self, primary: RedisLeases, fallback: DatabaseLeases) -> None:
        self.primary = primary
        self.fallback = fallback

    def acquire(self, name: str, owner: str, ttl_s: float) -> bool:
        taken = self.primary.acquire(name, owner, ttl_s)
        return self.fallback.acquire(name, owner, ttl_s) if taken is None else taken

    def renew(self, name: str, owner: str, ttl_s: float) -> bool:
        done = self.primary.renew(name, owner, ttl_s)
        return self.fallback.renew(name, owner, ttl_s) if not done else True

    def release(self, name: str, owner: str, *, hold_s: float = 0.0) -> bool:
        # Whichever store holds it (it may have been taken in the database while Redis was
        # away): the owner check makes the other a no-op.
        done = self.primary.release(name, owner, hold_s=hold_s)
        return self.fallback.release(name, owner, hold_s=hold_s) or bool(done)

    def holder(self, name: str) -> str | None:
        return self.primary.holder(name) or self.fallback.holder(name)


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


class Lease:
    """A lease held by this process: renewed while its work runs, bounded by ``max_s``.

    Take one with :meth:`take` (None when another owner holds the name) or :meth:`wait`.
    ``with lease.kept():`` renews it every third of ``ttl_s`` until the block ends, then
    releases it. :attr:`over` turns true when the work must stop: past ``max_s``, or the lease
    was lost (a renewal found another owner).
    """

    def __init__(self, store: LeaseStore, name: str, owner: str, ttl_s: float,
                 max_s: float | None = None) -> None:
        self.store = store
        self.name = name
        self.owner = owner
        self.ttl_s = ttl_s
        self.deadline = time.monotonic() + max_s if max_s is not None else None
        self.lost = False
        self.released = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def take(cls, store: LeaseStore, name: str, *, ttl_s: float, max_s: float | None = None,
             owner: str | None = None) -> Lease | None:
        """The lease when ``name`` is free now (None: held by another, or the store away)."""
        owner = owner or new_owner()
        return cls(store, name, owner, ttl_s, max_s) if store.acquire(name, owner,
                                                                      ttl_s) else None

    @classmethod
    def wait(cls, store: LeaseStore, name: str, *, ttl_s: float, until: float,
             max_s: float | None = None, cancelled: Callable[[], bool] | None = None,
             poll_s: float = 0.02) -> Lease | None:
        """Take ``name`` as soon as it is free, before the monotonic time ``until`` (None:
        not free in time, or ``cancelled()`` said stop)."""
        owner = new_owner()
        pause = poll_s
        while True:
            if store.acquire(name, owner, ttl_s):
                return cls(store, name, owner, ttl_s, max_s)
            left = until - time.monotonic()
            if left <= 0 or (cancelled is not None and cancelled()):
                return None
            time.sleep(min(pause, left))
            pause = min(pause * 1.5, 0.25)

    def remaining(self) -> float | None:
        """Seconds of work left before ``max_s`` (None: unbounded)."""
        return None if self.deadline is None else self.deadline - time.monotonic()

    @property
    def over(self) -> bool:
        """Stop the work: the lease was lost, or its ``max_s`` has run out."""
        left = self.remaining()
        return self.lost or (left is not None and left <= 0)

    def renew(self) -> bool:
        """Extend the lease by ``ttl_s`` now; False (and :attr:`lost`) when another owns it."""
        done = self.store.renew(self.name, self.owner, self.ttl_s)
        if done is False:
            self.lost = True
            log.warning("lease %s was taken over by another owner", self.name)
        return bool(done)

    def release(self, *, hold_s: float = 0.0) -> None:
        """Give the lease up (only ours: a lease taken over is left to its new owner)."""
        if self.released:
            return
        self.released = True
        self._stop_renewal()
        try:
            self.store.release(self.name, self.owner, hold_s=hold_s)
        except StorageError as exc:  # it expires on its own
            log.warning("lease %s: could not release it: %s", self.name, exc.message)

    @contextmanager
    def kept(self, *, release: bool = True) -> Iterator[Lease]:
        """Renew the lease in the background while the block runs; release it after."""
        self._thread = threading.Thread(target=self._renewal, name="lease-renewal",
                                        daemon=True)
        self._thread.start()
        try:
            yield self
        finally:
            self._stop_renewal()
            if release:
                self.release()

    def _renewal(self) -> None:
        while not self._stop.wait(self.ttl_s / 3):
            left = self.remaining()
            if left is not None and left <= 0:
                return  # bounded: the work stops (``over``) and the lease runs out
            try:
                if not self.renew() and self.lost:
                    return
            except StorageError as exc:  # try again at the next beat; expiry is the limit
                log.warning("lease %s: could not renew it: %s", self.name, exc.message)

    def _stop_renewal(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join()
