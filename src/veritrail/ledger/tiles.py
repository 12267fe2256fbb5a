"""The C2SP tlog-tiles layout of Veritrail's transparency log.

Veritrail publishes its Merkle tree as C2SP tlog-tiles, so that any tlog
client can fetch and check it. A tile of level ``L`` holds up to 256
consecutive hashes of tree level ``8 * L`` (subtrees of ``256**L`` leaves);
the levels in between are recomputed by hashing within a tile. The rightmost
tile of each level is *partial* (fewer than 256 hashes) until it fills up,
and partial tiles are never hashed into the level above. Entry bundles hold
the entries themselves, 256 to a bundle, each prefixed by its length.

Everything here is pure: the store keeps the tiles, these functions say what
they are called, what they contain and how they change when the log grows.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from veritrail.errors import InputError, VerificationFailed
from veritrail.ledger.merkle import HASH_SIZE

TILE_HEIGHT = 8
TILE_WIDTH = 256

_TILE_BYTES = TILE_WIDTH * HASH_SIZE
_MAX_LEVEL = 63
_MAX_INDEX = 2**64 - 1
_MAX_GROUPS = 7  # 2**64 - 1 has 20 digits
_MAX_ENTRY = 0xFFFF
_PATH_FORMAT = "tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>], e.g. tile/0/x001/x234/067.p/8"
_LEVEL_RE = re.compile(r"0|[1-9][0-9]?")
_WIDTH_RE = re.compile(r"[1-9][0-9]{0,2}")
_GROUP_RE = re.compile(r"x[0-9]{3}")
_LAST_GROUP_RE = re.compile(r"[0-9]{3}")

_sha256 = hashlib.sha256

ReadTile = Callable[[int, int], bytes]


@dataclass(frozen=True)
class TileId:
    """One tile: a hash tile of ``level``, or an entry bundle when ``level`` is None."""

    level: int | None
    index: int
    width: int = TILE_WIDTH

    def __post_init__(self) -> None:
        if self.level is not None:
            _check_int(self.level, "tile level", 0, _MAX_LEVEL)
        _check_int(self.index, "tile index", 0, _MAX_INDEX)
        _check_int(self.width, "tile width", 1, TILE_WIDTH)

    @property
    def path(self) -> str:
        """The C2SP path, ``tile/<L>/<N>[.p/<W>]`` or ``tile/entries/<N>[.p/<W>]``."""
        head = "entries" if self.level is None else str(self.level)
        suffix = "" if self.width == TILE_WIDTH else f".p/{self.width}"
        return f"tile/{head}/{_encode_index(self.index)}{suffix}"

    @property
    def is_partial(self) -> bool:
        return self.width < TILE_WIDTH


def tile_path(level: int, index: int, width: int = TILE_WIDTH) -> str:
    """The C2SP path of hash tile ``index`` of ``level``, e.g. ``tile/0/x001/x234/067``."""
    return TileId(level, index, width).path


def entries_path(index: int, width: int = TILE_WIDTH) -> str:
    """The C2SP path of entry bundle ``index``, e.g. ``tile/entries/007.p/12``."""
    return TileId(None, index, width).path


def parse_tile_path(path: str) -> TileId:
    """Read a C2SP tile or entry-bundle path; refuse anything not in canonical form.

    Takes ``tile/…``, ``/tile/…`` or a path relative to ``tile/`` (``0/007``).
    """
    parts = path.removeprefix("/").removeprefix("tile/").split("/")
    if len(parts) < 2:
        raise _bad_path(path, "it has no tile index")
    head, groups = parts[0], parts[1:]
    level: int | None
    if head == "entries":
        level = None
    elif _LEVEL_RE.fullmatch(head) and int(head) <= _MAX_LEVEL:
        level = int(head)
    else:
        raise _bad_path(path, f"level {head!r} is not a number from 0 to {_MAX_LEVEL}")
    width = TILE_WIDTH
    if len(groups) >= 2 and groups[-2].endswith(".p"):
        if not _WIDTH_RE.fullmatch(groups[-1]) or int(groups[-1]) >= TILE_WIDTH:
            raise _bad_path(path, f"partial width {groups[-1]!r} is not a number from 1 to 255")
        width = int(groups[-1])
        groups = [*groups[:-2], groups[-2].removesuffix(".p")]
    index = _decode_index(path, groups)
    return TileId(level, index, width)


def tiles_for_size(size: int) -> list[TileId]:
    """Every hash tile of a tree of ``size``, level by level, partial ones included.

    Level ``L`` has ``size // 256**L`` hashes: full tiles of 256, then a
    partial tile for the rest. A tree of 256 thus has a full level-0 tile and
    a level-1 tile of width 1.
    """
    _check_int(size, "tree size", 0, None)
    tiles: list[TileId] = []
    level, count = 0, size
    while count:
        full, rest = divmod(count, TILE_WIDTH)
        tiles.extend(TileId(level, i) for i in range(full))
        if rest:
            tiles.append(TileId(level, full, rest))
        level, count = level + 1, count >> TILE_HEIGHT
    return tiles


def entry_tiles_for_size(size: int) -> list[TileId]:
    """Every entry bundle of a log of ``size``, the partial last one included."""
    _check_int(size, "tree size", 0, None)
    full, rest = divmod(size, TILE_WIDTH)
    tiles = [TileId(None, i) for i in range(full)]
    if rest:
        tiles.append(TileId(None, full, rest))
    return tiles


def encode_entry_bundle(entries: Sequence[bytes]) -> bytes:
    """An entry bundle: each entry as a big-endian uint16 length and its bytes."""
    if len(entries) > TILE_WIDTH:
        raise InputError(f"an entry bundle holds at most {TILE_WIDTH} entries, not {len(entries)}")
    for i, entry in enumerate(entries):
        if len(entry) > _MAX_ENTRY:
            raise InputError(
                f"entry {i} is {len(entry):,} bytes; a log entry can be at most {_MAX_ENTRY:,}",
                entry=i,
                size=len(entry),
            )
    return b"".join(len(entry).to_bytes(2, "big") + entry for entry in entries)


def decode_entry_bundle(data: bytes) -> list[bytes]:
    """The entries of an entry bundle; VerificationFailed when it is malformed."""
    return _walk_bundle(data, hashed=False)


def bundle_leaf_hashes(data: bytes) -> list[bytes]:
    """The RFC 9162 leaf hashes of an entry bundle's entries, without keeping the entries.

    The tight loop of a whole-log check: one slice and one hash per entry.
    """
    return _walk_bundle(data, hashed=True)


def _walk_bundle(data: bytes, *, hashed: bool) -> list[bytes]:
    items: list[bytes] = []
    append = items.append
    view = memoryview(data)
    leaf_prefix = _sha256(b"\x00")  # copied per entry: no concatenation of the entry bytes
    pos, end = 0, len(data)
    while pos < end:
        if pos + 2 > end:
            raise VerificationFailed(f"entry bundle ends inside the length of entry {len(items)}")
        start = pos + 2
        pos = start + ((data[pos] << 8) | data[pos + 1])
        if pos > end:
            raise VerificationFailed(
                f"entry bundle ends inside entry {len(items)}:"
                f" it announces {pos - start} bytes, {end - start} are left"
            )
        if hashed:
            leaf = leaf_prefix.copy()
            leaf.update(view[start:pos])
            append(leaf.digest())
        else:
            append(data[start:pos])
    if len(items) > TILE_WIDTH:
        raise VerificationFailed(
            f"entry bundle holds more than {TILE_WIDTH} entries ({len(items)})"
        )
    return items


def tiles_after_append(
    old_size: int, new_leaf_hashes: Sequence[bytes], read_tile: ReadTile
) -> dict[tuple[int, int], bytes]:
    """The new contents of every hash tile that changes when leaves are appended.

    ``read_tile(level, index)`` gives a tile's stored bytes for the tree of
    ``old_size`` (b"" for a tile not yet stored); it is called at most once
    per level, for the partial tile the new hashes continue. Cost: hashing
    the appended leaves' subtrees, plus reading one tile per level.
    """
    _check_int(old_size, "old size", 0, None)
    _check_hashes(new_leaf_hashes)
    changed: dict[tuple[int, int], bytes] = {}
    level, start, new = 0, old_size, list(new_leaf_hashes)
    while new:
        first_tile, offset = divmod(start, TILE_WIDTH)
        hashes = new
        if offset:
            head = bytes(read_tile(level, first_tile))
            if len(head) != offset * HASH_SIZE:
                path = tile_path(level, first_tile, offset)
                raise VerificationFailed(
                    f"the stored tile at {path} is {len(head)} bytes; in a tree of {old_size}"
                    f" it holds {offset} hashes, {offset * HASH_SIZE} bytes",
                    level=level,
                    index=first_tile,
                )
            hashes = _split_hashes(head) + new
        for pos in range(0, len(hashes), TILE_WIDTH):
            changed[(level, first_tile + pos // TILE_WIDTH)] = b"".join(
                hashes[pos : pos + TILE_WIDTH]
            )
        # The tiles completed here (all but a partial last one) hash into the level above.
        full = len(hashes) - len(hashes) % TILE_WIDTH
        level, start, new = level + 1, first_tile, _subtree_hashes(hashes[:full], TILE_HEIGHT)
    return changed


def build_tiles(leaf_hashes: Sequence[bytes]) -> dict[tuple[int, int], bytes]:
    """Every hash tile of the tree over ``leaf_hashes``, keyed by (level, index).

    Hashes whole levels at a time, so that checking a log of a million
    entries costs little more than hashing its leaves.
    """
    return tiles_after_append(0, leaf_hashes, _no_tile)


def _no_tile(level: int, index: int) -> bytes:
    return b""


class TileHashReader:
    """A :class:`~veritrail.ledger.merkle.HashReader` over the tiles of a tree of ``size``.

    ``read_tile(level, index)`` returns a tile's bytes; a tile stored for a
    larger tree is fine, since the hashes of the first ``size`` leaves never
    change. Subtrees between tile levels are hashed from the tile below.
    Tiles are read at most once per ``read_hashes`` call.
    """

    def __init__(self, size: int, read_tile: ReadTile) -> None:
        _check_int(size, "tree size", 0, None)
        self.size = size
        self._read_tile = read_tile

    def read_hashes(self, indexes: Sequence[tuple[int, int]]) -> list[bytes]:
        tiles: dict[tuple[int, int], bytes] = {}
        hashes: list[bytes] = []
        for level, index in indexes:
            if level < 0 or index < 0 or (index + 1) << level > self.size:
                raise InputError(
                    f"subtree ({level}, {index}) is not a complete subtree"
                    f" of the tree of {self.size}",
                    level=level,
                    index=index,
                )
            tile_level, height = divmod(level, TILE_HEIGHT)
            first = index << height  # first hash of tree level 8 * tile_level it spans
            tile_index, offset = divmod(first, TILE_WIDTH)
            key = (tile_level, tile_index)
            tile = tiles.get(key)
            if tile is None:
                tile = tiles[key] = self._read(tile_level, tile_index)
            end = (offset + (1 << height)) * HASH_SIZE
            if len(tile) < end:
                raise VerificationFailed(
                    f"the tile at {tile_path(tile_level, tile_index)} has {len(tile) // HASH_SIZE}"
                    f" hashes, the tree of {self.size} needs at least {end // HASH_SIZE}",
                    level=tile_level,
                    index=tile_index,
                )
            if len(tile) == _TILE_BYTES:
                hashes.append(_full_tile_levels(tile)[height][offset >> height])
            else:
                below = _split_hashes(tile[offset * HASH_SIZE : end])
                hashes.append(_subtree_hashes(below, height)[0])
        return hashes

    def _read(self, level: int, index: int) -> bytes:
        tile = bytes(self._read_tile(level, index))
        if len(tile) % HASH_SIZE or len(tile) > _TILE_BYTES:
            raise VerificationFailed(
                f"the tile at {tile_path(level, index)} is {len(tile)} bytes,"
                f" not up to {TILE_WIDTH} hashes of {HASH_SIZE} bytes",
                level=level,
                index=index,
            )
        return tile


def tile_root(hashes: Sequence[bytes]) -> bytes:
    """The hash of the subtree a full tile's 256 hashes make: one hash of the level above."""
    if len(hashes) != TILE_WIDTH:
        raise InputError(f"a full tile holds {TILE_WIDTH} hashes, not {len(hashes)}")
    return _subtree_hashes(list(hashes), TILE_HEIGHT)[0]


@functools.lru_cache(maxsize=512)
def _full_tile_levels(tile: bytes) -> tuple[list[bytes], ...]:
    """Every subtree hash inside a full tile, by height: computed once per tile.

    Full tiles never change, and proofs keep asking for subtrees of the same
    upper tiles; the cache is keyed by the tile's bytes, so it cannot go stale.
    """
    levels = [_split_hashes(tile)]
    for _ in range(TILE_HEIGHT):
        levels.append(_subtree_hashes(levels[-1], 1))
    return tuple(levels)


def _subtree_hashes(hashes: list[bytes], height: int) -> list[bytes]:
    """The hashes of the perfect subtrees ``height`` levels above ``hashes``.

    ``hashes`` must hold a multiple of ``2**height`` hashes. One list
    comprehension per level, with no call per node, since this is the hot
    loop of checking a whole log.
    """
    sha256 = _sha256
    for _ in range(height):
        pairs = iter(hashes)
        hashes = [sha256(b"\x01" + a + b).digest() for a, b in zip(pairs, pairs, strict=True)]
    return hashes


def _split_hashes(data: bytes) -> list[bytes]:
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def _encode_index(index: int) -> str:
    digits = str(index)
    digits = digits.zfill(-(-len(digits) // 3) * 3)
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*("x" + g for g in groups[:-1]), groups[-1]])


def _decode_index(path: str, groups: list[str]) -> int:
    if len(groups) > _MAX_GROUPS:
        raise _bad_path(path, "the index does not fit in 64 bits")
    *upper, last = groups
    if not _LAST_GROUP_RE.fullmatch(last) or not all(_GROUP_RE.fullmatch(g) for g in upper):
        raise _bad_path(
            path, "the index is not in 3-digit groups, each but the last prefixed with 'x'"
        )
    if upper and upper[0] == "x000":
        raise _bad_path(path, "the index has leading zero groups")
    index = int("".join(g.removeprefix("x") for g in groups))
    if index > _MAX_INDEX:
        raise _bad_path(path, "the index does not fit in 64 bits")
    return index


def _bad_path(path: str, reason: str) -> InputError:
    return InputError(f"{path!r} is not a tile path: {reason}; expected {_PATH_FORMAT}", path=path)


def _check_int(value: int, name: str, low: int, high: int | None) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        bounds = f"from {low} to {high}" if high is not None else f"of {low} or more"
        raise InputError(f"{name} must be a whole number {bounds}, not {value!r}")


def _check_hashes(hashes: Sequence[bytes]) -> None:
    if hashes and set(map(len, hashes)) != {HASH_SIZE}:
        i = next(i for i, h in enumerate(hashes) if len(h) != HASH_SIZE)
        raise InputError(
            f"leaf hash {i} is {len(hashes[i])} bytes, not a {HASH_SIZE}-byte SHA-256 hash",
            index=i,
        )


__all__ = [
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "TileHashReader",
    "TileId",
    "build_tiles",
    "bundle_leaf_hashes",
    "decode_entry_bundle",
    "encode_entry_bundle",
    "entries_path",
    "entry_tiles_for_size",
    "parse_tile_path",
    "tile_path",
    "tile_root",
    "tiles_after_append",
    "tiles_for_size",
]
