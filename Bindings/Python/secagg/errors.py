"""The exceptions of :mod:`secagg`.

Every error the library reports is a :class:`Error` carrying the library's one-line message (never a key, seed,
share or input), the name of the engine's error case in :attr:`Error.kind` (e.g. ``"wrongSession"``,
``"truncated"``, ``"insecureThreshold"``) and the C status code in :attr:`Error.status`. Wrong argument types,
dtypes, shapes and lengths raise the built-in :class:`TypeError` or :class:`ValueError` instead.
"""

from __future__ import annotations


class Error(Exception):
    """An error reported by the secure-aggregation library."""

    def __init__(self, message: str, *, kind: str = "", status: int = 0) -> None:
        super().__init__(message)
        #: The library's one-line description.
        self.message = message
        #: The name of the engine's error case, e.g. "wrongSession" (stable across releases of one ABI).
        self.kind = kind
        #: The C status code (secagg.h).
        self.status = status


class ProtocolError(Error):
    """A protocol error: a message of another session or round, a duplicate or a sender that is not a participant
    (rejected; the party is unchanged and keeps working), or a violation or failure that aborted the party."""


class WireFormatError(Error):
    """Malformed bytes (truncated, trailing bytes, unknown tag, bad field): the message was rejected and the party
    is unchanged."""


class QuantizationError(Error):
    """A quantization error: a plan that cannot avoid wrap-around, a NaN or infinity, a weight or aggregate out of
    range, a plan encoding that does not decode."""


class ConfigurationError(Error):
    """A refused configuration: invalid fields, a threshold that does not protect privacy, more memory than
    allowed, a signing or verification key that does not match."""
