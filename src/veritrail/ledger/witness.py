"""A witness (C2SP tlog-witness): cosigns a log's checkpoints once shown they extend the last.

A state runs a witness on its own machine. It knows some logs (their verifier
keys, named by origin) and remembers, for each, the latest tree head it
cosigned. A log submits each new checkpoint with a consistency proof from that
tree head; the witness cosigns only if the proof checks out, so no log can show
it two incompatible histories. Cosigned checkpoints then prove to anyone
trusting the witness's key that the log did not fork or roll back.

A witness lives in a directory::

    witness.toml   # key_file, state_file, and one [[logs]] table per log (vkey = "…")
    witness.key    # the cosigner's private key text (mode 0600)
    state.json     # {"version": 1, "logs": {origin: {"size": n, "root_hash": base64}}}

The core (:class:`Witness`, :class:`WitnessState`) needs no HTTP;
:func:`create_witness_app` serves ``POST /add-checkpoint`` around it and
:func:`submit_to_witness` is the log's side of that call.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import logging
import os
import re
import threading
import time
import tomllib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi import FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from veritrail.errors import (
    ConfigurationError,
    Conflict,
    Forbidden,
    InputError,
    LogInconsistent,
    NotFound,
    StorageError,
    TooLarge,
    VerificationFailed,
    VeritrailError,
)
from veritrail.ledger import merkle
from veritrail.ledger.checkpoint import Checkpoint, cosign, verify_cosignature
from veritrail.ledger.note import (
    COSIGNATURE_ED25519,
    NOTE_ED25519,
    Signer,
    Verifier,
    open_note,
    parse_signature_line,
    parse_verifier_key,
    split_note,
)

CONFIG_FILE = "witness.toml"
KEY_FILE = "witness.key"
STATE_FILE = "state.json"
MAX_BODY_BYTES = 256 * 1024
MAX_PROOF_LINES = 63
SIZE_MEDIA_TYPE = "text/x.tlog.size"
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,18}")

log = logging.getLogger(__name__)


class WitnessSizeConflict(Conflict):
    """The old size is not the size the witness last cosigned; retry from ``witness_size``."""

    code = "witness_size_conflict"

    def __init__(self, witness_size: int, message: str | None = None) -> None:
        super().__init__(
            message or f"the witness last cosigned a tree of {witness_size} entries",
            witness_size=witness_size,
        )
        self.witness_size = witness_size


# State ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TreeHead:
    """The size and root hash of the latest checkpoint cosigned for a log."""

    size: int
    root_hash: bytes


class WitnessState:
    """The latest cosigned tree head of each log, in a JSON file.

    :meth:`update` holds a lock across threads and processes (``flock`` on a
    ``.lock`` file beside the state), so that checking a submission against the
    stored head and storing the new one are one atomic step; the file is
    replaced atomically (temporary file, fsync, rename, fsync of the directory).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def read(self) -> dict[str, TreeHead]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise StorageError(f"cannot read witness state {self.path}: {exc}") from exc
        try:
            doc = json.loads(data)
            if doc.get("version") != 1:
                raise ValueError(f"unknown version {doc.get('version')!r}")
            return {
                origin: TreeHead(int(head["size"]), base64.b64decode(head["root_hash"]))
                for origin, head in doc["logs"].items()
            }
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
            # Never start afresh from a damaged state: that would let a log roll back.
            raise StorageError(f"witness state {self.path} is damaged: {exc}") from exc

    @contextmanager
    def update(self) -> Iterator[dict[str, TreeHead]]:
        """Yield the heads under the lock; write them back if the block changed them."""
        lock_path = self.path.with_name(self.path.name + ".lock")
        with self._lock:
            try:
                lock_file = open(lock_path, "a")
            except OSError as exc:
                raise StorageError(f"cannot open {lock_path}: {exc}") from exc
            with lock_file:
                fcntl.flock(lock_file, fcntl.LOCK_EX)
                heads = self.read()
                before = dict(heads)
                yield heads
                if heads != before:
                    self._write(heads)

    def _write(self, heads: dict[str, TreeHead]) -> None:
        doc = {
            "version": 1,
            "logs": {
                origin: {"size": h.size, "root_hash": base64.b64encode(h.root_hash).decode()}
                for origin, h in sorted(heads.items())
            },
        }
        _write_atomically(self.path, (json.dumps(doc, indent=2) + "\n").encode())


def _write_atomically(path: Path, data: bytes, mode: int = 0o644) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StorageError(f"cannot write {path}: {exc}") from exc


# The witness -----------------------------------------------------------------------


class Witness:
    """Checks submitted checkpoints against the stored heads and cosigns consistent ones."""

    def __init__(
        self,
        signer: Signer,
        logs: Sequence[Verifier],
        state: WitnessState,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if signer.key_type != COSIGNATURE_ED25519:
            raise ConfigurationError(f"witness key {signer.name!r} is not a cosigner key (0x04)")
        self.signer = signer
        self.state = state
        self._clock = clock
        self._logs: dict[str, list[Verifier]] = {}
        for verifier in logs:
            self._logs.setdefault(verifier.name, []).append(verifier)

    def add_checkpoint(self, old_size: int, proof: Sequence[bytes], note: str | bytes) -> list[str]:
        """Cosign ``note`` if it extends the last checkpoint cosigned for its log.

        Raises, following the spec's status codes: NotFound (404) for an
        unknown origin, Forbidden (403) without a valid log signature,
        InputError (400) for a malformed request, WitnessSizeConflict (409) when
        ``old_size`` is not the stored size, LogInconsistent (409) for another
        root at the stored size, VerificationFailed (422) for a bad proof.
        """
        text, _ = split_note(note)
        origin = text.split("\n", 1)[0]
        verifiers = self._logs.get(origin)
        if verifiers is None:
            raise NotFound(f"unknown log {origin[:200]!r}", origin=origin[:200])
        try:
            opened = open_note(note, verifiers)
        except VerificationFailed as exc:
            raise Forbidden(f"checkpoint not signed by log {origin!r}: {exc.message}") from exc
        checkpoint = Checkpoint.parse(opened.text)
        if old_size > checkpoint.size:
            raise InputError(
                f"old size {old_size} is larger than the checkpoint's {checkpoint.size}"
            )
        with self.state.update() as heads:
            current = heads.get(origin)
            stored_size = current.size if current else 0
            if old_size != stored_size:
                raise WitnessSizeConflict(stored_size)
            try:
                self._check_extends(current, checkpoint, proof)
            except VerificationFailed as exc:
                # A signed checkpoint that does not extend the cosigned one is evidence
                # of a misbehaving log: keep it in the witness's log.
                log.warning("refused %s: %s\n%s", origin, exc.message, _as_text(note))
                raise
            heads[origin] = TreeHead(checkpoint.size, checkpoint.root_hash)
            cosignature = cosign(checkpoint, self.signer, int(self._clock()))
        log.info("cosigned %s at size %d", origin, checkpoint.size)
        return [cosignature]

    @staticmethod
    def _check_extends(
        current: TreeHead | None, checkpoint: Checkpoint, proof: Sequence[bytes]
    ) -> None:
        if (
            current
            and checkpoint.size == current.size
            and checkpoint.root_hash != current.root_hash
        ):
            raise LogInconsistent(
                f"log {checkpoint.origin!r} presents another root for size {current.size} "
                "than the one this witness cosigned",
                origin=checkpoint.origin,
                size=current.size,
            )
        old_size, old_root = (
            (current.size, current.root_hash) if current else (0, merkle.EMPTY_ROOT)
        )
        merkle.verify_consistency(old_size, checkpoint.size, old_root, checkpoint.root_hash, proof)

    def submit(self, body: bytes) -> list[str]:
        """Handle a raw ``add-checkpoint`` request body."""
        old_size, proof, note = parse_add_checkpoint_body(body)
        return self.add_checkpoint(old_size, proof, note)


def _as_text(note: str | bytes) -> str:
    return note if isinstance(note, str) else note.decode("utf-8", "replace")


def parse_add_checkpoint_body(body: bytes) -> tuple[int, list[bytes], bytes]:
    """Read ``old <size>\\n``, proof lines (base64 hashes), an empty line, then the note."""
    if len(body) > MAX_BODY_BYTES:
        raise TooLarge(f"request body is larger than {MAX_BODY_BYTES} bytes")
    first, sep, rest = body.partition(b"\n")
    if not sep or not first.startswith(b"old "):
        raise InputError("line 1 must be 'old <size>'")
    size_text = first[4:].decode("ascii", "replace")
    if not _DECIMAL.fullmatch(size_text):
        raise InputError(
            f"line 1: old size {size_text[:30]!r} is not a decimal without leading zeros"
        )
    proof: list[bytes] = []
    while True:
        line, sep, rest = rest.partition(b"\n")
        if not sep:
            raise InputError("no empty line between the proof and the checkpoint")
        if not line:
            break
        if len(proof) == MAX_PROOF_LINES:
            raise InputError(f"more than {MAX_PROOF_LINES} consistency proof lines")
        proof.append(_proof_hash(line, len(proof) + 2))
    return int(size_text), proof, rest


def _proof_hash(line: bytes, number: int) -> bytes:
    try:
        raw = base64.b64decode(line, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError(f"line {number}: proof hash is not base64") from exc
    if len(raw) != merkle.HASH_SIZE or base64.b64encode(raw) != line:
        raise InputError(f"line {number}: proof hash is not a canonical base64 32-byte hash")
    return raw


def format_add_checkpoint_body(old_size: int, proof: Sequence[bytes], note: str) -> bytes:
    """The ``add-checkpoint`` request body."""
    lines = [f"old {old_size}", *(base64.b64encode(h).decode() for h in proof), ""]
    return ("\n".join(lines) + "\n" + note).encode()


# Configuration -----------------------------------------------------------------------


@dataclass(frozen=True)
class WitnessConfig:
    """A witness directory, read: its key, the logs it knows, where its state lives."""

    directory: Path
    signer: Signer
    logs: tuple[Verifier, ...]
    state_path: Path


def init_witness(directory: Path, name: str) -> WitnessConfig:
    """Create a witness directory: a new cosigner key named ``name`` and no logs yet."""
    directory.mkdir(parents=True, exist_ok=True)
    config_path = directory / CONFIG_FILE
    if config_path.exists():
        raise InputError(f"{config_path} exists already; a witness is set up there")
    signer = Signer.generate(name, key_type=COSIGNATURE_ED25519)
    key_path = directory / KEY_FILE
    try:
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InputError(f"{key_path} exists already; move it away first") from None
    with os.fdopen(fd, "w") as f:
        f.write(signer.private_key_text + "\n")
    text = (
        "# Veritrail witness: its key and the logs whose checkpoints it cosigns.\n"
        "# Add a log with `veritrail witness add-log DIR --vkey VKEY`.\n"
        f"key_file = {json.dumps(KEY_FILE)}\n"
        f"state_file = {json.dumps(STATE_FILE)}\n"
    )
    _write_atomically(config_path, text.encode())
    return load_witness_config(directory)


def load_witness_config(directory: Path) -> WitnessConfig:
    """Read ``witness.toml`` and the key it names; ConfigurationError says what is wrong."""
    path = directory / CONFIG_FILE
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(f"{path} not found; run `veritrail witness init` first") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"{path}: {exc}") from exc
    key_path = directory / _string(doc, "key_file", path, KEY_FILE)
    state_path = directory / _string(doc, "state_file", path, STATE_FILE)
    try:
        signer = Signer.from_private_key_text(key_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{path}: key_file: cannot read {key_path}: {exc}") from exc
    except InputError as exc:
        raise ConfigurationError(f"{key_path}: {exc.message}") from exc
    if signer.key_type != COSIGNATURE_ED25519:
        raise ConfigurationError(f"{key_path}: the witness key must be a cosigner key (0x04)")
    entries = doc.get("logs", [])
    if not isinstance(entries, list):
        raise ConfigurationError(f"{path}: logs: expected [[logs]] tables")
    logs: list[Verifier] = []
    for i, entry in enumerate(entries):
        where = f"{path}: logs[{i}].vkey"
        if not isinstance(entry, dict) or not isinstance(entry.get("vkey"), str):
            raise ConfigurationError(f"{where}: expected a verifier key string")
        try:
            logs.append(_log_verifier(entry["vkey"]))
        except InputError as exc:
            raise ConfigurationError(f"{where}: {exc.message}") from exc
    return WitnessConfig(directory, signer, tuple(logs), state_path)


def _string(doc: dict[str, object], key: str, path: Path, default: str) -> str:
    value = doc.get(key, default)
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"{path}: {key}: expected a file name")
    return value


def _log_verifier(vkey: str) -> Verifier:
    verifier = parse_verifier_key(vkey.strip())
    if verifier.key_type != NOTE_ED25519:
        raise InputError(f"{verifier.name!r} is a cosigner key; a log signs with a 0x01 note key")
    return verifier


def add_witness_log(directory: Path, vkey: str) -> Verifier:
    """Add a log, by its verifier key, to the witness in ``directory``."""
    config = load_witness_config(directory)
    verifier = _log_verifier(vkey)
    if verifier in config.logs:
        raise InputError(f"the witness knows log key {verifier.vkey} already")
    path = directory / CONFIG_FILE
    text = path.read_text(encoding="utf-8")
    text += (
        "" if text.endswith("\n") else "\n"
    ) + f"\n[[logs]]\nvkey = {json.dumps(verifier.vkey)}\n"
    _write_atomically(path, text.encode())
    return verifier


# HTTP ----------------------------------------------------------------------------------


def create_witness_app(config: WitnessConfig) -> FastAPI:
    """The witness's HTTP service: ``POST /add-checkpoint`` as C2SP tlog-witness says."""
    witness = Witness(config.signer, config.logs, WitnessState(config.state_path))
    app = FastAPI(
        title="Veritrail witness",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.witness = witness

    @app.exception_handler(VeritrailError)
    async def _error(request: Request, exc: VeritrailError) -> Response:
        if isinstance(exc, WitnessSizeConflict):
            return Response(f"{exc.witness_size}\n", 409, headers={"Content-Type": SIZE_MEDIA_TYPE})
        if exc.status >= 500:
            log.error("witness failure: %s", exc.message)
            return Response("internal error\n", exc.status, media_type="text/plain")
        return Response(exc.message + "\n", exc.status, media_type="text/plain")

    @app.post("/add-checkpoint", include_in_schema=False)
    async def add_checkpoint(request: Request) -> Response:
        """Submit a checkpoint with a consistency proof; returns the cosignature lines."""
        body = await _read_body(request, MAX_BODY_BYTES)
        lines = await run_in_threadpool(witness.submit, body)
        return Response("".join(f"{line}\n" for line in lines), media_type="text/plain")

    return app


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"request body is larger than {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise TooLarge(f"request body is larger than {limit} bytes")
    return bytes(body)


# The log's side ----------------------------------------------------------------------


def submit_to_witness(
    url: str,
    old_size: int,
    proof: Sequence[bytes],
    checkpoint_note: str,
    *,
    client: httpx.Client | None = None,
    witness: Verifier | None = None,
    timeout: float = 10.0,
) -> list[str]:
    """Ask the witness at submission prefix ``url`` to cosign; return its signature lines.

    With ``witness``, only lines by that key are returned, each verified.
    Raises WitnessSizeConflict (its ``witness_size`` is where to prove from
    next) when the witness is behind or ahead but not past this checkpoint;
    LogInconsistent when it has cosigned a larger tree or another root at this
    size; VerificationFailed when it refuses the checkpoint (400, 403, 404,
    413, 422); StorageError when it cannot be reached or fails.
    """
    checkpoint = Checkpoint.parse(split_note(checkpoint_note)[0])
    body = format_add_checkpoint_body(old_size, proof, checkpoint_note)
    endpoint = url.rstrip("/") + "/add-checkpoint"
    try:
        if client is None:
            with httpx.Client(timeout=timeout) as own:
                response = own.post(endpoint, content=body)
        else:
            response = client.post(endpoint, content=body)
    except httpx.HTTPError as exc:
        raise StorageError(f"witness {endpoint} unreachable: {exc}", witness=url) from exc
    status, text = response.status_code, response.text[:500].strip()
    if status == 409:
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        if media_type == SIZE_MEDIA_TYPE and _DECIMAL.fullmatch(text):
            witness_size = int(text)
            if witness_size > checkpoint.size:
                raise LogInconsistent(
                    f"witness {url} has cosigned {witness_size} entries of "
                    f"{checkpoint.origin!r}; this checkpoint has only {checkpoint.size}",
                    witness=url,
                    witness_size=witness_size,
                )
            raise WitnessSizeConflict(witness_size)
        raise LogInconsistent(f"witness {url} refuses a fork: {text}", witness=url)
    if status in (400, 403, 404, 413, 422):
        raise VerificationFailed(
            f"witness {url} refused the checkpoint ({status}): {text}", witness=url, status=status
        )
    if status != 200:
        raise StorageError(f"witness {url} answered {status}: {text}", witness=url, status=status)
    lines = response.text.splitlines()
    try:
        signatures = [parse_signature_line(line) for line in lines]
    except InputError as exc:
        raise VerificationFailed(f"witness {url} answered a malformed line: {exc.message}") from exc
    if witness is not None:
        lines = [
            line
            for line, sig in zip(lines, signatures, strict=True)
            if (sig.name, sig.key_id) == (witness.name, witness.key_id)
        ]
        for line in lines:
            verify_cosignature(checkpoint, line, witness)
    if not lines:
        raise VerificationFailed(f"witness {url} answered without a cosignature", witness=url)
    return lines


__all__ = [
    "MAX_BODY_BYTES",
    "TreeHead",
    "Witness",
    "WitnessConfig",
    "WitnessSizeConflict",
    "WitnessState",
    "add_witness_log",
    "create_witness_app",
    "format_add_checkpoint_body",
    "init_witness",
    "load_witness_config",
    "parse_add_checkpoint_body",
    "submit_to_witness",
]
