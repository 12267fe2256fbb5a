"""RFC 9162 Merkle trees over SHA-256: hashing, roots, proofs and their checks.

Veritrail's transparency log is an RFC 9162 (§2.1) Merkle tree, the same tree
as Certificate Transparency and every C2SP tlog, so that states can check it
with tools of their own. A log stores only the hashes of *perfect* subtrees
(2**level leaves starting at a multiple of 2**level); everything else, the
root and the right edge of the tree, is computed from them. Proof generation
therefore asks a :class:`HashReader` for perfect-subtree hashes only, all of
them in one call, since readers are backed by a database or by tiles.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Protocol

from veritrail.errors import InputError, VerificationFailed

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256

# A perfect subtree: (level, index) covers leaves [index * 2**level, (index + 1) * 2**level).
Subtree = tuple[int, int]


class HashReader(Protocol):
    """Reads hashes of perfect subtrees of one tree."""

    def read_hashes(self, indexes: Sequence[tuple[int, int]]) -> list[bytes]:
        """Return the hash of each ``(level, index)`` subtree, in the order asked.

        ``(level, index)`` is the perfect subtree of ``2**level`` leaves that
        starts at leaf ``index * 2**level``.
        """
        ...


def leaf_hash(entry: bytes) -> bytes:
    """The RFC 9162 hash of a log entry: SHA-256(0x00 || entry)."""
    return _sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The RFC 9162 hash of an interior node: SHA-256(0x01 || left || right)."""
    return _sha256(b"\x01" + left + right).digest()


def root_from_leaf_hashes(leaf_hashes: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash of already-hashed leaves, computed level by level.

    Carrying an odd last node up unchanged builds exactly RFC 9162's tree
    (left subtree = largest power of two), without recursion.
    """
    if not leaf_hashes:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    while len(level) > 1:
        # An odd last node has no partner here (strict=False) and moves up as it is.
        pairs = zip(level[::2], level[1::2], strict=False)
        paired = [_sha256(b"\x01" + a + b).digest() for a, b in pairs]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def stored_subtrees(size: int) -> list[Subtree]:
    """The perfect subtrees, left to right, whose hashes make a tree of ``size``.

    One per set bit of ``size``, largest first: a tree of 7 is built from
    ``(2, 0)``, ``(1, 2)`` and ``(0, 6)``.
    """
    _check_size(size, "size")
    return _range_subtrees(0, size)


def tree_root(size: int, reader: HashReader) -> bytes:
    """The root of the tree's first ``size`` leaves, read from its perfect subtrees."""
    subtrees = stored_subtrees(size)
    if not subtrees:
        return EMPTY_ROOT
    return _read_groups([subtrees], reader)[0]


def inclusion_proof(index: int, size: int, reader: HashReader) -> list[bytes]:
    """The RFC 9162 §2.1.3.1 inclusion proof PATH(index, D[0:size]), leaf to root."""
    _check_size(size, "size")
    _check_index(index, size)
    # Walk down from the root, keeping each sibling: a left sibling is a perfect
    # subtree; a right sibling may be the tree's ragged right edge, which is
    # folded from its perfect subtrees.
    groups: list[list[Subtree]] = []
    start, end = 0, size
    while end - start > 1:
        split = start + _largest_power_of_two_below(end - start)
        if index < split:
            groups.append(_range_subtrees(split, end))
            end = split
        else:
            groups.append(_range_subtrees(start, split))
            start = split
    groups.reverse()
    return _read_groups(groups, reader)


def consistency_proof(old_size: int, new_size: int, reader: HashReader) -> list[bytes]:
    """The RFC 9162 §2.1.4.1 consistency proof PROOF(old_size, D[0:new_size]).

    Empty when the sizes are equal or when ``old_size`` is 0: the empty tree
    is a prefix of every tree and RFC 9162 defines no proof for it.
    """
    _check_size(old_size, "old size")
    _check_size(new_size, "new size")
    if old_size > new_size:
        raise InputError(
            f"old size {old_size} is larger than new size {new_size}",
            old_size=old_size,
            new_size=new_size,
        )
    if old_size in (0, new_size):
        return []
    groups: list[list[Subtree]] = []
    start, end, whole_old_tree = 0, new_size, True
    while old_size != end:
        split = start + _largest_power_of_two_below(end - start)
        if old_size <= split:
            groups.append(_range_subtrees(split, end))
            end = split
        else:
            groups.append(_range_subtrees(start, split))
            start, whole_old_tree = split, False
    if not whole_old_tree:
        # SUBPROOF(m, D[m], false) = {MTH(D[m])}: the node of both trees that holds
        # the old tree's last leaves, which the old root alone does not give.
        groups.append(_range_subtrees(start, end))
    groups.reverse()
    return _read_groups(groups, reader)


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf`` (a leaf *hash*) is at ``index`` in the tree of ``size`` and ``root``.

    Follows RFC 9162 §2.1.3.2; raises VerificationFailed when the proof does
    not check out and InputError when ``index`` is not below ``size``.
    """
    _check_size(size, "size")
    _check_index(index, size)
    _check_hash(leaf, "leaf hash")
    _check_proof_hashes(proof)
    expected = _inclusion_proof_length(index, size)
    if len(proof) != expected:
        raise VerificationFailed(
            f"inclusion proof for leaf {index} of a tree of {size} has {len(proof)} hashes,"
            f" it needs {expected}",
            index=index,
            size=size,
        )
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:  # cannot happen with the length checked above; kept as RFC 9162 step 4a
            raise VerificationFailed("inclusion proof is longer than the tree is high")
        if fn & 1 or fn == sn:
            r = _sha256(b"\x01" + p + r).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationFailed("inclusion proof is shorter than the tree is high")
    if r != root:
        raise VerificationFailed(
            f"inclusion proof for leaf {index} does not lead to the root of the tree of {size}",
            index=index,
            size=size,
        )


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``new_size`` and ``new_root`` extends the one of ``old_size``.

    Follows RFC 9162 §2.1.4.2 for ``0 < old_size < new_size``. Equal sizes need
    an empty proof and equal roots. From size 0 the proof must be empty and
    ``old_root`` the empty tree's root: the empty tree is a prefix of every
    tree, and RFC 9162 defines no proof for it. Raises VerificationFailed when
    the trees are not shown consistent, InputError when ``old_size > new_size``.
    """
    _check_size(old_size, "old size")
    _check_size(new_size, "new size")
    if old_size > new_size:
        raise InputError(
            f"old size {old_size} is larger than new size {new_size}",
            old_size=old_size,
            new_size=new_size,
        )
    if old_size == new_size:
        if proof:
            raise VerificationFailed(
                f"consistency proof between equal sizes must be empty, it has {len(proof)} hashes"
            )
        if old_root != new_root:
            raise VerificationFailed(f"two different roots for the same size {old_size}")
        return
    if old_size == 0:
        if proof:
            raise VerificationFailed(
                f"consistency proof from the empty tree must be empty, it has {len(proof)} hashes"
            )
        if old_root != EMPTY_ROOT:
            raise VerificationFailed("old root is not the root of the empty tree")
        _check_hash(new_root, "new root")
        return
    _check_proof_hashes(proof)
    expected = _consistency_proof_length(old_size, new_size)
    if len(proof) != expected:
        raise VerificationFailed(
            f"consistency proof from {old_size} to {new_size} has {len(proof)} hashes,"
            f" it needs {expected}",
            old_size=old_size,
            new_size=new_size,
        )
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # an exact power of two: the old root is a node
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:  # cannot happen with the length checked above; kept as RFC 9162 step 6a
            raise VerificationFailed("consistency proof is longer than the tree is high")
        if fn & 1 or fn == sn:
            fr = _sha256(b"\x01" + c + fr).digest()
            sr = _sha256(b"\x01" + c + sr).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _sha256(b"\x01" + sr + c).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationFailed("consistency proof is shorter than the tree is high")
    if fr != old_root:
        raise VerificationFailed(
            f"consistency proof does not lead to the old root of the tree of {old_size}",
            old_size=old_size,
            new_size=new_size,
        )
    if sr != new_root:
        raise VerificationFailed(
            f"consistency proof does not lead to the new root of the tree of {new_size}",
            old_size=old_size,
            new_size=new_size,
        )


class MemoryTree:
    """A Merkle tree held in memory, and the :class:`HashReader` over it.

    Keeps every perfect-subtree hash, level by level, so that appends cost
    O(1) amortized and reads are lookups. For tests and small verifiers.
    """

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        for h in leaf_hashes:
            self.append_leaf_hash(h)

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def append(self, entry: bytes) -> int:
        """Append an entry; return its index."""
        return self.append_leaf_hash(leaf_hash(entry))

    def append_leaf_hash(self, h: bytes) -> int:
        """Append an already-hashed leaf; return its index."""
        _check_hash(h, "leaf hash", error=InputError)
        index = self.size
        level, node = 0, h
        while True:
            self._levels[level].append(node)
            row = self._levels[level]
            if len(row) % 2:
                break
            node = _sha256(b"\x01" + row[-2] + row[-1]).digest()
            level += 1
            if level == len(self._levels):
                self._levels.append([])
        return index

    def root(self) -> bytes:
        return tree_root(self.size, self)

    def read_hashes(self, indexes: Sequence[tuple[int, int]]) -> list[bytes]:
        hashes = []
        for level, index in indexes:
            if level < 0 or index < 0 or (index + 1) << level > self.size:
                raise InputError(
                    f"subtree ({level}, {index}) is not a complete subtree"
                    f" of the tree of {self.size}",
                    level=level,
                    index=index,
                )
            hashes.append(self._levels[level][index])
        return hashes


def _range_subtrees(start: int, end: int) -> list[Subtree]:
    """The perfect subtrees covering leaves [start, end), largest first.

    Valid for the ranges an RFC 9162 tree is made of, where ``start`` is a
    multiple of the power of two at or above ``end - start``.
    """
    subtrees = []
    remaining = end - start
    while remaining:
        level = remaining.bit_length() - 1
        subtrees.append((level, start >> level))
        start += 1 << level
        remaining -= 1 << level
    return subtrees


def _fold(hashes: Sequence[bytes]) -> bytes:
    """Hash a right edge from its perfect subtrees, largest first: a∘(b∘(c∘d))."""
    h = hashes[-1]
    for left in reversed(hashes[:-1]):
        h = _sha256(b"\x01" + left + h).digest()
    return h


def _read_groups(groups: Sequence[Sequence[Subtree]], reader: HashReader) -> list[bytes]:
    """Read every subtree of ``groups`` in one call, then fold each group to one hash."""
    wanted = list(dict.fromkeys(s for group in groups for s in group))
    if not wanted:
        return []
    hashes = reader.read_hashes(wanted)
    if len(hashes) != len(wanted):
        raise VerificationFailed(
            f"asked for {len(wanted)} subtree hashes, the reader gave {len(hashes)}"
        )
    found = dict(zip(wanted, hashes, strict=True))
    return [_fold([found[s] for s in group]) for group in groups]


def _largest_power_of_two_below(n: int) -> int:
    """The largest power of two strictly less than ``n`` (n > 1): RFC 9162's split k."""
    return 1 << ((n - 1).bit_length() - 1)


def _inclusion_proof_length(index: int, size: int) -> int:
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def _consistency_proof_length(old_size: int, new_size: int) -> int:
    shift = (old_size & -old_size).bit_length() - 1  # trailing zero bits
    length = _inclusion_proof_length(old_size - 1, new_size) - shift
    return length if old_size == 1 << shift else length + 1


def _check_size(size: int, name: str) -> None:
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise InputError(f"{name} must be a whole number of 0 or more, not {size!r}")


def _check_index(index: int, size: int) -> None:
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise InputError(f"leaf index must be a whole number of 0 or more, not {index!r}")
    if index >= size:
        raise InputError(f"leaf index {index} is not in a tree of {size}", index=index, size=size)


def _check_hash(
    value: bytes, name: str, error: type[InputError | VerificationFailed] = VerificationFailed
) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        got = f"{len(value)} bytes" if isinstance(value, bytes) else type(value).__name__
        raise error(f"{name} is {got}, not a {HASH_SIZE}-byte SHA-256 hash")


def _check_proof_hashes(proof: Sequence[bytes]) -> None:
    for i, p in enumerate(proof):
        _check_hash(p, f"proof hash {i}")


__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "HashReader",
    "MemoryTree",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_from_leaf_hashes",
    "stored_subtrees",
    "tree_root",
    "verify_consistency",
    "verify_inclusion",
]
