"""The transparency log kept in the database: entries, tiles and signed checkpoints.

Appending happens inside the transaction that writes the record, so a record
version and its entry are committed together or not at all. Integration runs
after commit: it hashes the new entries into tiles and signs a checkpoint. If
the process dies between the two, the entries are already durable and the next
integration (the next write, the server's background integrator or
``veritrail ledger integrate``) takes them in.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from veritrail.errors import InputError, NotFound, StorageError
from veritrail.ledger import merkle, tiles
from veritrail.ledger.checkpoint import Checkpoint
from veritrail.ledger.note import Signer, sign_note
from veritrail.store.models import LedgerCheckpoint, LedgerEntry, LedgerState, LedgerTile

STATE_ID = 1


@dataclass(frozen=True)
class PendingEntry:
    entry: bytes
    record_type: str
    record_id: str
    version: int | None


def append(session: Session, entries: Sequence[PendingEntry]) -> int:
    """Give the entries the next leaf indexes, in the caller's transaction; the first index.

    The counter is bumped before anything is read, so its lock orders every
    append on both databases.
    """
    if not entries:
        raise InputError("nothing to append to the log")
    new_size = session.execute(
        update(LedgerState)
        .where(LedgerState.id == STATE_ID)
        .values(size=LedgerState.size + len(entries))
        .returning(LedgerState.size)
    ).scalar_one_or_none()
    if new_size is None:
        raise StorageError("the log has no state row; run `veritrail db upgrade`")
    first = new_size - len(entries)
    session.execute(
        insert(LedgerEntry),
        [
            {
                "idx": first + offset,
                "entry": item.entry,
                "record_type": item.record_type,
                "record_id": item.record_id,
                "version": item.version,
            }
            for offset, item in enumerate(entries)
        ],
    )
    return first


class TileCache:
    """A bounded cache of tiles (one per Context).

    Hashes in a tile never change once written; a tile only grows. So a cached
    tile serves any tree it already covers, and is read again only when a
    larger tree needs more of it.
    """

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._tiles: OrderedDict[tuple[int, int], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[int, int], need: int) -> bytes | None:
        with self._lock:
            found = self._tiles.get(key)
            if found is None or len(found) < need:
                return None
            self._tiles.move_to_end(key)
            return found

    def put(self, key: tuple[int, int], data: bytes) -> None:
        with self._lock:
            self._tiles[key] = data
            self._tiles.move_to_end(key)
            while len(self._tiles) > self.capacity:
                self._tiles.popitem(last=False)


_TILE_QUERY = select(LedgerTile.hashes).where(
    LedgerTile.level == bindparam("level"), LedgerTile.idx == bindparam("idx")
)


def tile_bytes_needed(size: int, level: int, index: int) -> int:
    """How many bytes of tile (level, index) a tree of ``size`` uses."""
    hashes_at_level = size >> (tiles.TILE_HEIGHT * level)
    width = min(tiles.TILE_WIDTH, max(0, hashes_at_level - index * tiles.TILE_WIDTH))
    return width * merkle.HASH_SIZE


class TileReader:
    """Reads tiles from the database, with the tiles written in this integration on top."""

    def __init__(
        self, session: Session, cache: TileCache | None = None, size: int | None = None
    ) -> None:
        self._session = session
        self._cache = cache
        self._size = size
        self.overlay: dict[tuple[int, int], bytes] = {}

    def __call__(self, level: int, index: int) -> bytes:
        key = (level, index)
        if key in self.overlay:
            return self.overlay[key]
        cache = self._cache if self._size is not None else None
        if cache is not None and self._size is not None:
            cached = cache.get(key, tile_bytes_needed(self._size, level, index))
            if cached is not None:
                return cached
        data = self._session.execute(_TILE_QUERY, {"level": level, "idx": index}).scalar()
        found = bytes(data) if data else b""
        if cache is not None and found:
            cache.put(key, found)
        return found


def counters(session: Session) -> tuple[int, int]:
    """(entries appended, entries integrated)."""
    query = select(LedgerState.size, LedgerState.integrated).where(LedgerState.id == STATE_ID)
    row = session.execute(query).one_or_none()
    if row is None:
        raise StorageError("the log has no state row; run `veritrail db upgrade`")
    return int(row[0]), int(row[1])


def lock(session: Session) -> None:
    """Take the log's lock for the rest of the transaction (a write to its state row)."""
    result = session.execute(
        update(LedgerState).where(LedgerState.id == STATE_ID).values(size=LedgerState.size)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise StorageError("the log has no state row; run `veritrail db upgrade`")


def integrate(session: Session, *, signer: Signer, origin: str, batch: int = 65536) -> int:
    """Hash committed entries into tiles and sign a checkpoint; the new integrated size.

    Takes the state row's lock first, so concurrent integrators queue and the
    log never signs two checkpoints that disagree. Does nothing when up to date.
    """
    lock(session)  # before reading, on both databases
    size, integrated = counters(session)
    if integrated >= size:
        return integrated
    reader = TileReader(session)
    done = integrated
    while done < size:
        upto = min(size, done + batch)
        rows = session.execute(
            select(LedgerEntry.idx, LedgerEntry.entry)
            .where(LedgerEntry.idx >= done, LedgerEntry.idx < upto)
            .order_by(LedgerEntry.idx)
        ).all()
        if len(rows) != upto - done:
            # The counter and the entries are written in one transaction, and the
            # counter's lock is held until commit: a gap means the tables were edited.
            raise StorageError(
                f"the log's entries {done}..{upto - 1} are incomplete; "
                "run `veritrail audit` and restore from backup"
            )
        leaves = [merkle.leaf_hash(bytes(row[1])) for row in rows]
        reader.overlay.update(tiles.tiles_after_append(done, leaves, reader))
        done = upto
    for (level, index), data in reader.overlay.items():
        tile = session.get(LedgerTile, (level, index))
        if tile is None:
            session.add(LedgerTile(level=level, idx=index, hashes=data))
        else:
            tile.hashes = data
    root = merkle.tree_root(done, tiles.TileHashReader(done, reader))
    body = Checkpoint(origin=origin, size=done, root_hash=root).body()
    session.add(LedgerCheckpoint(size=done, root=root, note=sign_note(body, [signer])))
    session.execute(update(LedgerState).where(LedgerState.id == STATE_ID).values(integrated=done))
    return done


def latest_checkpoint(session: Session) -> LedgerCheckpoint | None:
    return session.scalars(
        select(LedgerCheckpoint).order_by(LedgerCheckpoint.size.desc()).limit(1)
    ).first()


def hash_reader(
    session: Session, size: int, cache: TileCache | None = None
) -> tiles.TileHashReader:
    return tiles.TileHashReader(size, TileReader(session, cache, size))


def read_tile(session: Session, tile: tiles.TileId, integrated: int) -> bytes:
    """The bytes of a hash tile or entry bundle, if the integrated log covers it."""
    if tile.level is None:
        first = tile.index * tiles.TILE_WIDTH
        if first + tile.width > integrated:
            raise NotFound(f"the log has no {tile.path} yet (size {integrated})")
        entries = session.scalars(
            select(LedgerEntry.entry)
            .where(LedgerEntry.idx >= first, LedgerEntry.idx < first + tile.width)
            .order_by(LedgerEntry.idx)
        ).all()
        return tiles.encode_entry_bundle([bytes(e) for e in entries])
    data = TileReader(session)(tile.level, tile.index)
    wanted = tile.width * merkle.HASH_SIZE
    if len(data) < wanted:
        raise NotFound(f"the log has no {tile.path} yet (size {integrated})")
    return data[:wanted]


def entries_of(
    session: Session, record_type: str, record_id: str, version: int | None = None
) -> list[LedgerEntry]:
    query = select(LedgerEntry).where(
        LedgerEntry.record_type == record_type, LedgerEntry.record_id == record_id
    )
    if version is not None:
        query = query.where(LedgerEntry.version == version)
    return list(session.scalars(query.order_by(LedgerEntry.idx)))


def entry_at(session: Session, index: int) -> LedgerEntry:
    found = session.get(LedgerEntry, index)
    if found is None:
        raise NotFound(f"the log has no entry {index}")
    return found


__all__ = [
    "TileCache",
    "PendingEntry",
    "TileReader",
    "append",
    "counters",
    "entries_of",
    "entry_at",
    "hash_reader",
    "integrate",
    "latest_checkpoint",
    "lock",
    "read_tile",
]
