"""Checking a whole log from its public files, trusting nothing but the verifier key.

Fetch the checkpoint and check its signature; fetch every entry bundle and
every hash tile; rebuild all tiles from the entries and compare byte for byte;
compare the rebuilt root with the signed one. Against the checkpoint seen last
time, a smaller size is a rollback and a different root at the old size is a
fork; both are named.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from veritrail.errors import LogInconsistent, VerificationFailed
from veritrail.ledger import merkle, tiles
from veritrail.ledger.checkpoint import Checkpoint, open_checkpoint
from veritrail.ledger.note import Verifier

Fetch = Callable[[str], bytes]
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class LogCheck:
    checkpoint: Checkpoint
    note: str
    entries: int
    tiles: int
    grew_by: int | None  # entries since the checkpoint seen last time, if any


def check_log(
    fetch: Fetch,
    verifier: Verifier,
    *,
    last_seen: Checkpoint | None = None,
    progress: Progress | None = None,
) -> LogCheck:
    """Verify a log end to end; raise VerificationFailed or LogInconsistent, naming what."""
    note = fetch("checkpoint").decode("utf-8", errors="strict")
    checkpoint, _opened = open_checkpoint(note, verifier)
    if last_seen is not None:
        if last_seen.origin != checkpoint.origin:
            raise VerificationFailed(
                f"the log now calls itself {checkpoint.origin!r}, not {last_seen.origin!r}"
            )
        if checkpoint.size < last_seen.size:
            raise LogInconsistent(
                f"the log was rolled back: it now has {checkpoint.size} entries, "
                f"but it showed {last_seen.size} before",
                previous_size=last_seen.size,
                size=checkpoint.size,
            )
    size = checkpoint.size
    verified: dict[tuple[int, int], bytes] = {}
    # Level 0, bundle by bundle: each entry bundle's leaf hashes must be its hash tile;
    # each full tile's subtree hash is one hash of the level above.
    parents: list[bytes] = []
    for bundle in tiles.entry_tiles_for_size(size):
        hashes = tiles.bundle_leaf_hashes(fetch(bundle.path))
        if len(hashes) != bundle.width:
            raise VerificationFailed(
                f"{bundle.path} holds {len(hashes)} entries, not {bundle.width}"
            )
        path = tiles.tile_path(0, bundle.index, bundle.width)
        rebuilt = b"".join(hashes)
        if fetch(path) != rebuilt:
            raise VerificationFailed(f"{path} does not match the hashes of the entries")
        verified[(0, bundle.index)] = rebuilt
        if bundle.width == tiles.TILE_WIDTH:
            parents.append(tiles.tile_root(hashes))
        if progress is not None:
            progress(bundle.index * tiles.TILE_WIDTH + bundle.width, size)
    # The levels above are the tiles of the tree over those hashes, one level up.
    upper = tiles.build_tiles(parents)
    wanted = tiles.tiles_for_size(size)
    for tile_id in wanted:
        level = tile_id.level or 0
        if level == 0:
            continue
        rebuilt = upper.get((level - 1, tile_id.index), b"")[: tile_id.width * merkle.HASH_SIZE]
        if fetch(tile_id.path) != rebuilt:
            raise VerificationFailed(f"{tile_id.path} does not match the hashes of the entries")
        verified[(level, tile_id.index)] = rebuilt

    def read_tile(level: int, index: int) -> bytes:
        return verified.get((level, index), b"")

    root = merkle.tree_root(size, tiles.TileHashReader(size, read_tile))
    if root != checkpoint.root_hash:
        raise VerificationFailed(
            "the entries do not hash to the signed root: the log's files were altered"
        )
    grew_by = None
    if last_seen is not None:
        old_root = merkle.tree_root(last_seen.size, tiles.TileHashReader(last_seen.size, read_tile))
        if old_root != last_seen.root_hash:
            raise LogInconsistent(
                f"the log forked: its first {last_seen.size} entries now hash to a different "
                "root than the checkpoint seen before; keep both checkpoints as evidence",
                size=last_seen.size,
            )
        grew_by = checkpoint.size - last_seen.size
    return LogCheck(checkpoint, note, checkpoint.size, len(wanted), grew_by)


__all__ = ["Fetch", "LogCheck", "Progress", "check_log"]
