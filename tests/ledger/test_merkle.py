"""Veritrail's RFC 9162 Merkle tree against known answers, a reference and random trees."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from veritrail.errors import InputError, VerificationFailed
from veritrail.ledger.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    MemoryTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    stored_subtrees,
    tree_root,
    verify_consistency,
    verify_inclusion,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "merkle"


def _load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


RFC = _load("rfc6962.json")
LEAVES = [bytes.fromhex(x) for x in RFC["leaves"]]
ROOTS = [bytes.fromhex(x) for x in RFC["roots"]]
INCLUSION_PROBES = _load("inclusion_probes.json")["probes"]
CONSISTENCY_PROBES = _load("consistency_probes.json")["probes"]


def _b64(value: str) -> bytes:
    return base64.b64decode(value)


def _hashes(n: int) -> list[bytes]:
    """Cheap, distinct leaf hashes."""
    return [hashlib.sha256(i.to_bytes(8, "big")).digest() for i in range(n)]


@cache
def _tree(size: int) -> MemoryTree:
    return MemoryTree(_hashes(size))


def _reference_tree() -> MemoryTree:
    tree = MemoryTree()
    for entry in LEAVES:
        tree.append(entry)
    return tree


# A reference written straight from the recursive definitions of RFC 9162 §2.1.


def _ref_mth(hashes: Sequence[bytes]) -> bytes:
    if not hashes:
        return EMPTY_ROOT
    if len(hashes) == 1:
        return hashes[0]
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    return node_hash(_ref_mth(hashes[:k]), _ref_mth(hashes[k:]))


def _ref_path(m: int, hashes: Sequence[bytes]) -> list[bytes]:
    if len(hashes) == 1:
        return []
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    if m < k:
        return [*_ref_path(m, hashes[:k]), _ref_mth(hashes[k:])]
    return [*_ref_path(m - k, hashes[k:]), _ref_mth(hashes[:k])]


def _ref_subproof(m: int, hashes: Sequence[bytes], whole: bool) -> list[bytes]:
    if m == len(hashes):
        return [] if whole else [_ref_mth(hashes)]
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    if m <= k:
        return [*_ref_subproof(m, hashes[:k], whole), _ref_mth(hashes[k:])]
    return [*_ref_subproof(m - k, hashes[k:], False), _ref_mth(hashes[:k])]


class CountingReader:
    """Wraps a reader and records every read_hashes call."""

    def __init__(self, reader: MemoryTree) -> None:
        self.reader = reader
        self.calls: list[list[tuple[int, int]]] = []

    def read_hashes(self, indexes: Sequence[tuple[int, int]]) -> list[bytes]:
        self.calls.append(list(indexes))
        return self.reader.read_hashes(indexes)


class SyntheticReader:
    """Answers for any perfect subtree of a huge tree, without building it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.calls: list[list[tuple[int, int]]] = []

    def read_hashes(self, indexes: Sequence[tuple[int, int]]) -> list[bytes]:
        self.calls.append(list(indexes))
        for level, index in indexes:
            assert (index + 1) << level <= self.size, (level, index)
        return [hashlib.sha256(f"{lv}/{ix}".encode()).digest() for lv, ix in indexes]


# Known answers: the RFC 6962 vectors of transparency-dev/merkle.


def test_hash_functions() -> None:
    assert EMPTY_ROOT == ROOTS[0] == hashlib.sha256(b"").digest()
    assert HASH_SIZE == 32
    assert leaf_hash(b"") == bytes.fromhex(RFC["node_hashes"][0][0])
    assert node_hash(leaf_hash(LEAVES[0]), leaf_hash(LEAVES[1])) == ROOTS[2]


@pytest.mark.parametrize("size", range(9))
def test_roots_of_the_reference_leaves(size: int) -> None:
    hashes = [leaf_hash(e) for e in LEAVES[:size]]
    assert root_from_leaf_hashes(hashes) == ROOTS[size]
    assert MemoryTree(hashes).root() == ROOTS[size]
    assert tree_root(size, _reference_tree()) == ROOTS[size]


def test_every_perfect_subtree_of_the_reference_tree() -> None:
    tree = _reference_tree()
    for level, row in enumerate(RFC["node_hashes"]):
        indexes = [(level, i) for i in range(len(row))]
        assert [h.hex() for h in tree.read_hashes(indexes)] == row


@pytest.mark.parametrize(
    "vector", RFC["inclusion_proofs"], ids=lambda v: f"{v['index']}/{v['size']}"
)
def test_reference_inclusion_proofs(vector: dict[str, Any]) -> None:
    index, size = vector["index"], vector["size"]
    proof = inclusion_proof(index, size, _reference_tree())
    assert [h.hex() for h in proof] == vector["proof"]
    verify_inclusion(leaf_hash(LEAVES[index]), index, size, proof, ROOTS[size])


@pytest.mark.parametrize(
    "vector", RFC["consistency_proofs"], ids=lambda v: f"{v['old_size']}-{v['new_size']}"
)
def test_reference_consistency_proofs(vector: dict[str, Any]) -> None:
    old, new = vector["old_size"], vector["new_size"]
    proof = consistency_proof(old, new, _reference_tree())
    assert [h.hex() for h in proof] == vector["proof"]
    verify_consistency(old, new, ROOTS[old], ROOTS[new], proof)


@pytest.mark.parametrize("probe", INCLUSION_PROBES, ids=lambda p: p["file"])
def test_upstream_inclusion_probes(probe: dict[str, Any]) -> None:
    index, size = probe["leafIdx"], probe["treeSize"]
    args = (_b64(probe["leafHash"]), index, size, [_b64(h) for h in probe["proof"] or []])
    if not probe["wantErr"]:
        verify_inclusion(*args, _b64(probe["root"]))
        return
    expected = InputError if index >= size else VerificationFailed
    with pytest.raises(expected):
        verify_inclusion(*args, _b64(probe["root"]))


@pytest.mark.parametrize("probe", CONSISTENCY_PROBES, ids=lambda p: p["file"])
def test_upstream_consistency_probes(probe: dict[str, Any]) -> None:
    old, new = probe["size1"], probe["size2"]
    args = (old, new, _b64(probe["root1"]), _b64(probe["root2"]))
    proof = [_b64(h) for h in probe["proof"] or []]
    if not probe["wantErr"]:
        verify_consistency(*args, proof)
        return
    expected = InputError if old > new else VerificationFailed
    with pytest.raises(expected):
        verify_consistency(*args, proof)


# Proof generation against the recursive reference.


@pytest.mark.parametrize("size", range(1, 34))
def test_proofs_match_the_rfc_definitions(size: int) -> None:
    hashes = _hashes(size)
    tree = _tree(size)
    assert tree.root() == _ref_mth(hashes) == root_from_leaf_hashes(hashes)
    for index in range(size):
        assert inclusion_proof(index, size, tree) == _ref_path(index, hashes)
    for old in range(1, size + 1):
        assert consistency_proof(old, size, tree) == _ref_subproof(old, hashes, True)


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (0, []),
        (1, [(0, 0)]),
        (7, [(2, 0), (1, 2), (0, 6)]),
        (8, [(3, 0)]),
        (70_000, [(16, 0), (12, 16), (8, 272), (6, 1092), (5, 2186), (4, 4374)]),
    ],
)
def test_stored_subtrees(size: int, expected: list[tuple[int, int]]) -> None:
    assert stored_subtrees(size) == expected
    assert sum(1 << level for level, _ in expected) == size


def test_proofs_read_perfect_subtrees_once_and_logarithmically() -> None:
    size = 10**12 + 12_345
    reader = SyntheticReader(size)
    for index in (0, 1, size // 3, size - 2, size - 1):
        reader.calls.clear()
        proof = inclusion_proof(index, size, reader)
        assert len(reader.calls) == 1
        assert len(proof) <= 41 and len(reader.calls[0]) <= 2 * 41
    for old in (1, 2**39, size // 2 + 1, size - 1):
        reader.calls.clear()
        consistency_proof(old, size, reader)
        assert len(reader.calls) == 1 and len(reader.calls[0]) <= 2 * 41
    reader.calls.clear()
    tree_root(size, reader)
    assert reader.calls == [stored_subtrees(size)]


def test_a_memory_tree_proof_asks_one_read() -> None:
    reader = CountingReader(_tree(300))
    inclusion_proof(5, 300, reader)
    consistency_proof(7, 299, reader)
    assert len(reader.calls) == 2


# Random trees: every proof verifies, any change to it is refused.

_SIZES = st.integers(min_value=1, max_value=300)


@settings(deadline=None, max_examples=60)
@given(size=_SIZES, data=st.data())
def test_every_inclusion_proof_verifies_and_any_change_is_refused(
    size: int, data: st.DataObject
) -> None:
    tree = MemoryTree(_hashes(size))
    root = tree.root()
    leaves = tree.read_hashes([(0, i) for i in range(size)])
    proofs = [inclusion_proof(i, size, tree) for i in range(size)]
    for index, proof in enumerate(proofs):
        verify_inclusion(leaves[index], index, size, proof, root)

    index = data.draw(st.integers(0, size - 1), label="index")
    proof = proofs[index]
    if proof:
        flipped = _flip(proof, data.draw(st.integers(0, len(proof) * HASH_SIZE * 8 - 1)))
        with pytest.raises(VerificationFailed):
            verify_inclusion(leaves[index], index, size, flipped, root)
        with pytest.raises(VerificationFailed):
            verify_inclusion(leaves[index], index, size, proof[:-1], root)
    with pytest.raises(VerificationFailed):
        verify_inclusion(leaves[index], index, size, [*proof, root], root)
    bit = data.draw(st.integers(0, HASH_SIZE * 8 - 1), label="leaf or root bit")
    with pytest.raises(VerificationFailed):
        verify_inclusion(_flip([leaves[index]], bit)[0], index, size, proof, root)
    with pytest.raises(VerificationFailed):
        verify_inclusion(leaves[index], index, size, proof, _flip([root], bit)[0])


@settings(deadline=None, max_examples=60)
@given(size=_SIZES, data=st.data())
def test_every_consistency_proof_verifies_and_any_change_is_refused(
    size: int, data: st.DataObject
) -> None:
    tree = MemoryTree(_hashes(size))
    roots = [tree_root(n, tree) for n in range(size + 1)]
    proofs = [consistency_proof(old, size, tree) for old in range(size + 1)]
    for old, proof in enumerate(proofs):
        verify_consistency(old, size, roots[old], roots[size], proof)

    old = data.draw(st.integers(0, size), label="old size")
    proof = proofs[old]
    if proof:
        flipped = _flip(proof, data.draw(st.integers(0, len(proof) * HASH_SIZE * 8 - 1)))
        with pytest.raises(VerificationFailed):
            verify_consistency(old, size, roots[old], roots[size], flipped)
        with pytest.raises(VerificationFailed):
            verify_consistency(old, size, roots[old], roots[size], proof[:-1])
        with pytest.raises(VerificationFailed):
            verify_consistency(old, size, roots[size], roots[old], proof)
    with pytest.raises(VerificationFailed):
        verify_consistency(old, size, roots[old], roots[size], [*proof, roots[size]])
    bit = data.draw(st.integers(0, HASH_SIZE * 8 - 1), label="root bit")
    with pytest.raises(VerificationFailed):
        verify_consistency(old, size, _flip([roots[old]], bit)[0], roots[size], proof)
    if old:  # the empty tree is a prefix of any tree: no new root is wrong for it
        with pytest.raises(VerificationFailed):
            verify_consistency(old, size, roots[old], _flip([roots[size]], bit)[0], proof)


def _flip(hashes: Sequence[bytes], bit: int) -> list[bytes]:
    """The hashes with one bit flipped, counting bits across all of them."""
    which, offset = divmod(bit, HASH_SIZE * 8)
    byte, shift = divmod(offset, 8)
    changed = bytearray(hashes[which])
    changed[byte] ^= 1 << shift
    return [bytes(changed) if i == which else h for i, h in enumerate(hashes)]


# Edge cases and plain messages.


def test_index_outside_the_tree_is_an_input_error() -> None:
    tree = _tree(5)
    leaf = tree.read_hashes([(0, 0)])[0]
    for index, size in ((5, 5), (0, 0), (-1, 5)):
        with pytest.raises(InputError):
            verify_inclusion(leaf, index, size, [], tree.root())
    with pytest.raises(InputError, match="leaf index 5 is not in a tree of 5"):
        inclusion_proof(5, 5, tree)
    with pytest.raises(InputError):
        inclusion_proof(0, -1, tree)


def test_sizes_out_of_order_are_an_input_error() -> None:
    with pytest.raises(InputError, match="old size 6 is larger than new size 5"):
        consistency_proof(6, 5, _tree(6))
    with pytest.raises(InputError):
        verify_consistency(6, 5, EMPTY_ROOT, EMPTY_ROOT, [])
    with pytest.raises(InputError):
        verify_consistency(-1, 5, EMPTY_ROOT, EMPTY_ROOT, [])


def test_equal_sizes_need_an_empty_proof_and_equal_roots() -> None:
    tree = _tree(9)
    root = tree.root()
    assert consistency_proof(9, 9, tree) == []
    verify_consistency(9, 9, root, root, [])
    with pytest.raises(VerificationFailed, match="must be empty"):
        verify_consistency(9, 9, root, root, [root])
    with pytest.raises(VerificationFailed, match="two different roots for the same size 9"):
        verify_consistency(9, 9, root, EMPTY_ROOT, [])


def test_consistency_from_the_empty_tree() -> None:
    tree = _tree(9)
    assert consistency_proof(0, 9, tree) == []
    verify_consistency(0, 9, EMPTY_ROOT, tree.root(), [])
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    with pytest.raises(VerificationFailed, match="from the empty tree must be empty"):
        verify_consistency(0, 9, EMPTY_ROOT, tree.root(), [tree.root()])
    with pytest.raises(VerificationFailed, match="not the root of the empty tree"):
        verify_consistency(0, 9, tree.root(), tree.root(), [])
    with pytest.raises(VerificationFailed, match="new root is 3 bytes"):
        verify_consistency(0, 9, EMPTY_ROOT, b"abc", [])


def test_proofs_of_the_wrong_length_say_so() -> None:
    tree = _tree(8)
    leaf = tree.read_hashes([(0, 3)])[0]
    proof = inclusion_proof(3, 8, tree)
    with pytest.raises(VerificationFailed, match="has 2 hashes, it needs 3"):
        verify_inclusion(leaf, 3, 8, proof[:2], tree.root())
    with pytest.raises(VerificationFailed, match="proof hash 1 is 31 bytes"):
        verify_inclusion(leaf, 3, 8, [proof[0], proof[1][:31], proof[2]], tree.root())
    with pytest.raises(VerificationFailed, match="leaf hash is 4 bytes"):
        verify_inclusion(b"leaf", 3, 8, proof, tree.root())
    with pytest.raises(VerificationFailed, match="does not lead to the root"):
        verify_inclusion(leaf, 3, 8, proof[::-1], tree.root())
    consistency = consistency_proof(3, 8, tree)
    with pytest.raises(VerificationFailed, match="from 3 to 8 has 5 hashes, it needs 4"):
        verify_consistency(3, 8, tree_root(3, tree), tree.root(), [*consistency, leaf])
    with pytest.raises(VerificationFailed, match="old root of the tree of 3"):
        verify_consistency(3, 8, tree.root(), tree.root(), consistency)


def test_memory_tree() -> None:
    tree = MemoryTree()
    assert tree.size == 0 and tree.root() == EMPTY_ROOT
    assert [tree.append(e) for e in LEAVES[:7]] == list(range(7))
    assert tree.append_leaf_hash(leaf_hash(LEAVES[7])) == 7
    assert tree.size == 8 and tree.root() == ROOTS[8]
    with pytest.raises(InputError, match="not a complete subtree"):
        _tree(7).read_hashes([(1, 3)])
    with pytest.raises(InputError):
        tree.append_leaf_hash(b"short")
