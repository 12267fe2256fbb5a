"""Time-based one-time passwords (RFC 6238): 30-second steps, 6 digits, ±1 step.

A code is accepted once: the caller keeps the last step it accepted for a user
and passes it in, and :func:`accepted_step` refuses that step and any earlier
one. Secrets are 160-bit, base32, as authenticator apps expect.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

import pyotp
import segno

STEP_SECONDS = 30
DIGITS = 6
WINDOW = 1  # steps accepted either side of the current one, for clock drift
ISSUER = "Veritrail"


def new_secret() -> str:
    """A fresh random shared secret (160 bits, base32)."""
    return pyotp.random_base32(32)


def derived_secret(seed: str, label: str) -> str:
    """A deterministic secret for ``label``: only for the demo world, never real accounts."""
    digest = hmac.new(seed.encode(), label.encode(), hashlib.sha256).digest()[:20]
    return base64.b32encode(digest).decode("ascii")


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)


def step_at(at: datetime) -> int:
    """The RFC 6238 time step (counter) that ``at`` falls in."""
    return int(at.timestamp()) // STEP_SECONDS


def code_at(secret: str, at: datetime) -> str:
    """The code an authenticator shows at ``at``."""
    return _totp(secret).generate_otp(step_at(at))


def normalise(code: str) -> str:
    """The code as typed, without the spaces and dashes apps show for readability."""
    return "".join(ch for ch in code if ch not in " -\u00a0\t")


def accepted_step(
    secret: str, code: str, *, at: datetime, last_step: int | None = None
) -> int | None:
    """The step ``code`` belongs to, if valid at ``at`` and newer than ``last_step``; else None."""
    code = normalise(code)
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    totp = _totp(secret)
    now = step_at(at)
    found: int | None = None
    # Check every candidate step so that timing does not tell which one matched.
    for step in range(now - WINDOW, now + WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code) and found is None:
            found = step
    if found is None or (last_step is not None and found <= last_step):
        return None
    return found


def provisioning_uri(secret: str, *, account: str, issuer: str = ISSUER) -> str:
    """The ``otpauth://`` URI an authenticator app reads (also what the QR code holds)."""
    return _totp(secret).provisioning_uri(name=account, issuer_name=issuer)


def qr_svg(uri: str, *, title: str = "") -> str:
    """The QR code of ``uri`` as an inline SVG element (no script, no style attribute)."""
    qr = segno.make(uri, error="m", micro=False)
    return str(qr.svg_inline(scale=4, border=4, title=title or None, dark="#000", light="#fff"))


__all__ = [
    "DIGITS",
    "ISSUER",
    "STEP_SECONDS",
    "WINDOW",
    "accepted_step",
    "code_at",
    "derived_secret",
    "new_secret",
    "normalise",
    "provisioning_uri",
    "qr_svg",
    "step_at",
]
