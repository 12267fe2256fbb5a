"""Checking a whole log from its files: every tile level, the root, rollbacks and forks."""

from __future__ import annotations

import pytest

from veritrail.errors import LogInconsistent, VerificationFailed
from veritrail.ledger import merkle, tiles
from veritrail.ledger.checkpoint import Checkpoint
from veritrail.ledger.logcheck import check_log
from veritrail.ledger.note import Signer, sign_note

SIGNER = Signer.generate("example.org/log")


def _files(entries: list[bytes]) -> dict[str, bytes]:
    leaves = [merkle.leaf_hash(e) for e in entries]
    built = tiles.build_tiles(leaves)
    files = {
        t.path: built[(t.level or 0, t.index)][: t.width * merkle.HASH_SIZE]
        for t in tiles.tiles_for_size(len(entries))
    }
    for bundle in tiles.entry_tiles_for_size(len(entries)):
        first = bundle.index * tiles.TILE_WIDTH
        files[bundle.path] = tiles.encode_entry_bundle(entries[first : first + bundle.width])
    body = Checkpoint(SIGNER.name, len(entries), merkle.root_from_leaf_hashes(leaves)).body()
    files["checkpoint"] = sign_note(body, [SIGNER]).encode()
    return files


ENTRIES = [f"entry {i}".encode() * (1 + i % 5) for i in range(70_000)]


@pytest.mark.parametrize("size", [0, 1, 255, 256, 257, 70_000])
def test_a_genuine_log_checks_out(size: int) -> None:
    result = check_log(_files(ENTRIES[:size]).__getitem__, SIGNER.verifier)
    assert result.entries == size and result.checkpoint.size == size


@pytest.mark.parametrize(
    "path", ["tile/0/000", "tile/0/273.p/112", "tile/1/000", "tile/1/001.p/17", "tile/entries/100"]
)
def test_any_altered_file_is_named(path: str) -> None:
    files = _files(ENTRIES)
    data = bytearray(files[path])
    data[-1] ^= 1
    files[path] = bytes(data)
    with pytest.raises(VerificationFailed, match="does not match") as info:
        check_log(files.__getitem__, SIGNER.verifier)
    assert path.startswith("tile/entries") or path in info.value.message


def test_rollback_and_fork_against_the_checkpoint_seen_before() -> None:
    seen = check_log(_files(ENTRIES[:1000]).__getitem__, SIGNER.verifier).checkpoint
    grown = check_log(_files(ENTRIES[:1300]).__getitem__, SIGNER.verifier, last_seen=seen)
    assert grown.grew_by == 300
    with pytest.raises(LogInconsistent, match="rolled back"):
        check_log(_files(ENTRIES[:999]).__getitem__, SIGNER.verifier, last_seen=seen)
    forked = [*ENTRIES[:500], b"rewritten", *ENTRIES[501:1300]]
    with pytest.raises(LogInconsistent, match="forked"):
        check_log(_files(forked).__getitem__, SIGNER.verifier, last_seen=seen)


def test_a_checkpoint_by_another_key_is_refused() -> None:
    files = _files(ENTRIES[:10])
    with pytest.raises(VerificationFailed):
        check_log(files.__getitem__, Signer.generate("example.org/log").verifier)
