"""secagg: secure aggregation for federated learning, from Python.

Python bindings of swift-secure-aggregation (Bonawitz et al., CCS 2017, semi-honest and active; SecAgg+ on
random Harary graphs) through its C ABI. The server learns only the sum of the clients' vectors, even when
clients drop out. Parties are bytes-in / bytes-out state machines with no I/O: your transport moves the bytes
(see the README, "From Python").

    config = secagg.SessionConfiguration(5, 3, [secagg.Input("update", 1000, bits=32)])
    server = secagg.Server(config)
    client = secagg.Client(secagg.SessionConfiguration.from_bytes(config.to_bytes()), 1, [vector])
    server.receive(client.start(), 1)
    for recipient, message in server.advance().items(): ...

Thread safety: every object may be used from any thread; calls on one client or server are serialised by the
library, calls on different objects run in parallel (the library releases the GIL while it works).
"""

from ._native import lib as _lib
from ._quantization import QuantizationPlan
from ._session import (
    Client,
    Harary,
    Input,
    Result,
    Server,
    SessionConfiguration,
    default_threshold,
    random_nonce,
    verification_key,
)
from .errors import ConfigurationError, Error, ProtocolError, QuantizationError, WireFormatError

__version__ = "0.1.0"

#: The protocol version (the version byte of every message and configuration), which is also the SPEC version.
PROTOCOL_VERSION: int = _lib.secagg_protocol_version()


def library_version() -> str:
    """The version of the native library (equal to ``__version__`` for a consistent install)."""
    return _lib.secagg_version().decode("ascii")


__all__ = [
    "Client",
    "ConfigurationError",
    "Error",
    "Harary",
    "Input",
    "PROTOCOL_VERSION",
    "ProtocolError",
    "QuantizationError",
    "QuantizationPlan",
    "Result",
    "Server",
    "SessionConfiguration",
    "WireFormatError",
    "default_threshold",
    "library_version",
    "random_nonce",
    "verification_key",
]
