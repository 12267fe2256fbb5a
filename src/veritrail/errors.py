"""The one exception tree of Veritrail.

::

    VeritrailError                    code            status
    ├── ConfigurationError            configuration   500
    ├── RegimePackError               regime_pack     500
    ├── InputError                    invalid_input   400
    │   ├── ValidationFailed          validation      422   (carries every Problem found)
    │   ├── UnsupportedFormat         unsupported     415
    │   ├── TooLarge                  too_large       413
    │   ├── UnreadableFile            unreadable_file 422   (damaged, encrypted or empty file)
    │   └── QuerySyntaxError          query_syntax    400   (a search query that does not parse)
    ├── NotFound                      not_found       404
    ├── Forbidden                     forbidden       403
    ├── NotAuthenticated              not_authenticated 401
    ├── Conflict                      conflict        409
    │   ├── ImmutableRecord           immutable       409
    │   └── IndexBusy                 index_busy      409   (another process writes the index)
    ├── StorageError                  storage         500
    └── VerificationFailed            verification_failed 422 (a proof, signature or log
        │                                                 that does not check out)
        └── LogInconsistent           log_inconsistent 409 (a rolled-back or forked log)

Every error carries a stable ``code``, an HTTP ``status`` and structured
``details``. The API and the CLI translate them in exactly one place each.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input, located so that a user can fix it.

    ``path`` is a JSON pointer (``/sections/lines/3/quantity``) for JSON input,
    or ``Sheet!C12`` / ``row 12, column "quantity"`` for spreadsheet input.
    """

    path: str
    code: str
    message: str
    severity: str = "error"
    field: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if data["field"] is None:
            del data["field"]
        return data


class VeritrailError(Exception):
    """Base of every error Veritrail raises on purpose."""

    code = "error"
    status = 500

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.details}


class ConfigurationError(VeritrailError):
    code = "configuration"


class RegimePackError(VeritrailError):
    """A regime pack file is broken; names the file and the field."""

    code = "regime_pack"

    def __init__(self, message: str, *, file: str, field: str = "") -> None:
        where = f"{file}: {field}: " if field else f"{file}: "
        super().__init__(where + message, file=file, field=field)


class InputError(VeritrailError):
    code = "invalid_input"
    status = 400


class ValidationFailed(InputError):
    """The input was read but does not satisfy its regime pack."""

    code = "validation"
    status = 422

    def __init__(self, problems: list[Problem], message: str | None = None) -> None:
        self.problems = problems
        n = sum(1 for p in problems if p.severity == "error")
        super().__init__(message or f"{n} error{'s' if n != 1 else ''} found; nothing was stored")

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "errors": [p.as_dict() for p in self.problems],
        }


class UnsupportedFormat(InputError):
    code = "unsupported_format"
    status = 415


class TooLarge(InputError):
    code = "too_large"
    status = 413


class UnreadableFile(InputError):
    """A file of a supported kind that cannot be read: damaged, encrypted or empty."""

    code = "unreadable_file"
    status = 422


class QuerySyntaxError(InputError):
    """A search query that does not parse; ``position`` is the 0-based offset of the fault."""

    code = "query_syntax"
    status = 400

    def __init__(self, message: str, *, position: int) -> None:
        super().__init__(message, position=position)
        self.position = position


class NotFound(VeritrailError):
    code = "not_found"
    status = 404


class Forbidden(VeritrailError):
    code = "forbidden"
    status = 403


class NotAuthenticated(VeritrailError):
    code = "not_authenticated"
    status = 401


class Conflict(VeritrailError):
    code = "conflict"
    status = 409


class ImmutableRecord(Conflict):
    code = "immutable"


class IndexBusy(Conflict):
    """Another process holds the search index's writer; it will take the change in."""

    code = "index_busy"


class StorageError(VeritrailError):
    code = "storage"


class VerificationFailed(VeritrailError):
    """A Merkle proof, a signature, a receipt or a log that does not check out."""

    code = "verification_failed"
    status = 422


class LogInconsistent(VerificationFailed):
    """Two views of the log that cannot both be true: a rollback or a fork."""

    code = "log_inconsistent"
    status = 409


__all__ = [
    "ConfigurationError",
    "Conflict",
    "Forbidden",
    "ImmutableRecord",
    "InputError",
    "LogInconsistent",
    "NotAuthenticated",
    "NotFound",
    "Problem",
    "RegimePackError",
    "StorageError",
    "TooLarge",
    "UnsupportedFormat",
    "ValidationFailed",
    "VerificationFailed",
    "VeritrailError",
]
