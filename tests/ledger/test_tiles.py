"""Veritrail's C2SP tlog-tiles layout: paths, tile sets, appends and reading proofs from tiles."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from veritrail.errors import InputError, VerificationFailed
from veritrail.ledger.merkle import (
    MemoryTree,
    consistency_proof,
    inclusion_proof,
    root_from_leaf_hashes,
    tree_root,
    verify_consistency,
    verify_inclusion,
)
from veritrail.ledger.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    TileHashReader,
    TileId,
    build_tiles,
    decode_entry_bundle,
    encode_entry_bundle,
    entries_path,
    entry_tiles_for_size,
    parse_tile_path,
    tile_path,
    tiles_after_append,
    tiles_for_size,
)

Tiles = dict[tuple[int, int], bytes]


@cache
def _hashes(n: int) -> list[bytes]:
    """Cheap, distinct leaf hashes."""
    return [hashlib.sha256(i.to_bytes(8, "big")).digest() for i in range(n)]


@cache
def _big_tree() -> MemoryTree:
    return MemoryTree(_hashes(65_537))


# Paths.


@pytest.mark.parametrize(
    ("tile", "path"),
    [
        (TileId(0, 1_234_067), "tile/0/x001/x234/067"),  # the spec's example
        (TileId(0, 7), "tile/0/007"),
        (TileId(0, 0), "tile/0/000"),
        (TileId(2, 1000), "tile/2/x001/000"),
        (TileId(1, 7, 12), "tile/1/007.p/12"),
        (TileId(63, 999, 255), "tile/63/999.p/255"),
        (TileId(0, 2**64 - 1), "tile/0/x018/x446/x744/x073/x709/x551/615"),
        (TileId(None, 1_234_067, 8), "tile/entries/x001/x234/067.p/8"),
        (TileId(None, 5), "tile/entries/005"),
    ],
)
def test_paths_round_trip(tile: TileId, path: str) -> None:
    assert tile.path == path
    if tile.level is None:
        assert entries_path(tile.index, tile.width) == path
    else:
        assert tile_path(tile.level, tile.index, tile.width) == path
    assert parse_tile_path(path) == tile
    assert parse_tile_path("/" + path) == tile
    assert parse_tile_path(path.removeprefix("tile/")) == tile


@settings(deadline=None, max_examples=200)
@given(
    level=st.none() | st.integers(0, 63),
    index=st.integers(0, 2**64 - 1),
    width=st.integers(1, TILE_WIDTH),
)
def test_any_tile_path_round_trips(level: int | None, index: int, width: int) -> None:
    tile = TileId(level, index, width)
    assert parse_tile_path(tile.path) == tile
    assert tile.is_partial == (width < TILE_WIDTH)


@pytest.mark.parametrize(
    "path",
    [
        "",
        "tile",
        "tile/0",
        "tile/entries",
        "tiles/0/000",
        "tile/tile/0/000",
        "tile//000",
        "tile/0/000/",
        "tile/0/7",
        "tile/0/0007",
        "tile/0/x007",
        "tile/0/001/234",
        "tile/0/x1/000",
        "tile/0/x000/007",
        "tile/0/+07",
        "tile/0/\u0660\u0660\u0667",  # Arabic-Indic digits are not ASCII digits
        "tile/00/000",
        "tile/01/000",
        "tile/64/000",
        "tile/-1/000",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/007",
        "tile/0/000.p/",
        "tile/0/000.p",
        "tile/0/000.p/5/6",
        "tile/0/.p/5",
        "tile/0/x018/x446/x744/x073/x709/x551/616",  # 2**64
        "tile/0/x001/x000/x000/x000/x000/x000/x000/000",
        "tile/0/" + "x999/" * 2000 + "999",
    ],
)
def test_malformed_paths_are_refused(path: str) -> None:
    with pytest.raises(InputError, match="not a tile path"):
        parse_tile_path(path)


@pytest.mark.parametrize(
    ("level", "index", "width"),
    [(64, 0, 256), (-1, 0, 256), (0, -1, 256), (0, 2**64, 256), (0, 0, 0), (0, 0, 257)],
)
def test_tile_ids_out_of_range_are_refused(level: int, index: int, width: int) -> None:
    with pytest.raises(InputError):
        tile_path(level, index, width)


# Which tiles a tree has.


def test_tiles_of_the_specs_examples() -> None:
    tiles = tiles_for_size(70_000)
    assert [t for t in tiles if t.level == 0] == [TileId(0, i) for i in range(273)] + [
        TileId(0, 273, 112)
    ]
    assert [t for t in tiles if t.level] == [TileId(1, 0), TileId(1, 1, 17), TileId(2, 0, 1)]
    assert tiles_for_size(256) == [TileId(0, 0), TileId(1, 0, 1)]
    assert tiles_for_size(255) == [TileId(0, 0, 255)]
    assert tiles_for_size(0) == []
    assert entry_tiles_for_size(70_000) == [TileId(None, i) for i in range(273)] + [
        TileId(None, 273, 112)
    ]
    assert entry_tiles_for_size(512) == [TileId(None, 0), TileId(None, 1)]


@pytest.mark.parametrize("size", [1, 255, 256, 257, 511, 512, 65_535, 65_536, 65_537])
def test_build_tiles_makes_exactly_the_tiles_of_the_size(size: int) -> None:
    hashes = _hashes(size)
    tiles = build_tiles(hashes)
    expected = tiles_for_size(size)
    assert list(tiles) == [(t.level, t.index) for t in expected]
    for t in expected:
        assert t.level is not None
        assert len(tiles[(t.level, t.index)]) == 32 * t.width
    assert tiles[(0, 0)] == b"".join(hashes[:TILE_WIDTH])
    if size >= TILE_WIDTH:  # a level-1 hash is the root of a full level-0 tile
        assert tiles[(1, 0)][:32] == root_from_leaf_hashes(hashes[:TILE_WIDTH])


def test_build_tiles_refuses_a_leaf_hash_of_the_wrong_size() -> None:
    with pytest.raises(InputError, match="leaf hash 2 is 31 bytes"):
        build_tiles([*_hashes(2), b"x" * 31])


# Growing the tiles batch by batch.


class TileStore:
    """A dict of tiles that counts reads, standing in for the log's table."""

    def __init__(self) -> None:
        self.tiles: Tiles = {}
        self.reads: list[tuple[int, int]] = []

    def read_tile(self, level: int, index: int) -> bytes:
        self.reads.append((level, index))
        return self.tiles.get((level, index), b"")

    def append(self, old_size: int, leaf_hashes: Sequence[bytes]) -> Tiles:
        self.reads.clear()
        changed = tiles_after_append(old_size, leaf_hashes, self.read_tile)
        self.tiles.update(changed)
        return changed


@settings(deadline=None, max_examples=40)
@given(batches=st.lists(st.integers(0, 700), min_size=1, max_size=8))
def test_appending_in_batches_gives_the_tiles_of_the_whole(batches: list[int]) -> None:
    store, size = TileStore(), 0
    for batch in batches:
        hashes = _hashes(size + batch)
        changed = store.append(size, hashes[size:])
        size += batch
        assert store.tiles == build_tiles(hashes)
        assert len(store.reads) <= 2  # at most the partial tile of each level it continues
        if not batch:
            assert changed == {}


def test_appending_across_level_two_gives_the_tiles_of_the_whole() -> None:
    rng = random.Random(9162)
    store, size, total = TileStore(), 0, 65_537 + 300
    while size < total:
        batch = min(rng.choice([1, 7, 255, 256, 1000, 4099, 9000]), total - size)
        store.append(size, _hashes(total)[size : size + batch])
        assert len(store.reads) <= 3
        size += batch
    assert store.tiles == build_tiles(_hashes(total))


def test_appending_changes_only_the_tiles_it_touches() -> None:
    store = TileStore()
    store.append(0, _hashes(300))
    changed = store.append(300, _hashes(301)[300:])
    assert set(changed) == {(0, 1)}
    assert store.reads == [(0, 1)]
    changed = store.append(301, _hashes(512)[301:])
    assert set(changed) == {(0, 1), (1, 0)}
    assert len(changed[(1, 0)]) == 64


def test_appending_refuses_a_stored_tile_that_does_not_match_the_size() -> None:
    store = TileStore()
    store.append(0, _hashes(10))
    with pytest.raises(VerificationFailed, match="stored tile at tile/0/000.p/12 is 320 bytes"):
        tiles_after_append(12, _hashes(13)[12:], store.read_tile)
    with pytest.raises(InputError):
        tiles_after_append(10, [b"short"], store.read_tile)


# Reading hashes and proofs from tiles.


@pytest.mark.parametrize("size", [1, 255, 256, 257, 65_535, 65_536, 65_537])
def test_tiles_give_the_same_roots_and_proofs_as_a_memory_tree(size: int) -> None:
    tree = _big_tree()  # its perfect subtrees are those of every smaller tree too
    tiles = build_tiles(_hashes(size))
    reader = TileHashReader(size, lambda level, index: tiles[(level, index)])
    root = tree_root(size, reader)
    assert root == tree_root(size, tree)
    rng = random.Random(size)
    for index in {0, size // 2, size - 1, rng.randrange(size)}:
        proof = inclusion_proof(index, size, reader)
        assert proof == inclusion_proof(index, size, tree)
        verify_inclusion(_hashes(size)[index], index, size, proof, root)
    for old in {1, 255, 256, 257, size - 1, rng.randrange(1, size + 1)}:
        if 0 < old <= size:
            proof = consistency_proof(old, size, reader)
            assert proof == consistency_proof(old, size, tree)
            verify_consistency(old, size, tree_root(old, tree), root, proof)


def test_a_tile_reader_reads_each_tile_once_per_call() -> None:
    tiles = build_tiles(_hashes(1000))
    reads: list[tuple[int, int]] = []

    def read_tile(level: int, index: int) -> bytes:
        reads.append((level, index))
        return tiles[(level, index)]

    reader = TileHashReader(1000, read_tile)
    wanted = [(0, 5), (1, 3), (7, 0), (8, 0), (8, 2), (9, 0), (3, 124)]
    assert reader.read_hashes(wanted) == _big_tree().read_hashes(wanted)
    assert sorted(reads) == [(0, 0), (0, 3), (1, 0)]


def test_a_tile_stored_for_a_larger_tree_serves_a_smaller_one() -> None:
    tiles = build_tiles(_hashes(600))
    reader = TileHashReader(300, lambda level, index: tiles[(level, index)])
    assert tree_root(300, reader) == root_from_leaf_hashes(_hashes(300))


def test_a_tile_reader_refuses_short_or_malformed_tiles() -> None:
    tiles = build_tiles(_hashes(300))
    short = TileHashReader(300, lambda level, index: tiles[(level, index)][:-32])
    with pytest.raises(
        VerificationFailed,
        match="tile at tile/1/000 has 0 hashes, the tree of 300 needs at least 1",
    ):
        tree_root(300, short)
    odd = TileHashReader(300, lambda level, index: tiles[(level, index)] + b"x")
    with pytest.raises(VerificationFailed, match="not up to 256 hashes"):
        tree_root(300, odd)
    with pytest.raises(InputError, match="not a complete subtree"):
        TileHashReader(300, lambda level, index: b"").read_hashes([(2, 75)])
    assert TILE_HEIGHT == 8


# Entry bundles.


@settings(deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=TILE_WIDTH))
def test_entry_bundles_round_trip(entries: list[bytes]) -> None:
    assert decode_entry_bundle(encode_entry_bundle(entries)) == entries


def test_entry_bundle_format_and_limits() -> None:
    assert encode_entry_bundle([b"ab", b""]) == b"\x00\x02ab\x00\x00"
    largest = b"x" * 65_535
    assert decode_entry_bundle(encode_entry_bundle([largest])) == [largest]
    full = [bytes([i % 251]) * (i * 7) for i in range(TILE_WIDTH)]
    assert decode_entry_bundle(encode_entry_bundle(full)) == full
    with pytest.raises(InputError, match="entry 1 is 65,536 bytes"):
        encode_entry_bundle([b"", b"x" * 65_536])
    with pytest.raises(InputError, match="at most 256 entries"):
        encode_entry_bundle([b""] * 257)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x00", "inside the length of entry 0"),
        (b"\x00\x01a\x00", "inside the length of entry 1"),
        (b"\x00\x05abc", "announces 5 bytes, 3 are left"),
        (b"\x00\x00" * 257, "more than 256 entries"),
    ],
)
def test_malformed_entry_bundles_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(VerificationFailed, match=message):
        decode_entry_bundle(data)
