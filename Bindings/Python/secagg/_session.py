"""Sessions: the configuration, the client and the server (SPEC.md §11–§12)."""

from __future__ import annotations

import ctypes
from ctypes import byref, c_size_t, c_uint32, c_uint64, c_void_p
from typing import Iterable, Sequence

import numpy as np

from . import _native
from ._native import as_bytes, as_index, call_for_bytes, call_for_handle, lib, u32
from .errors import ConfigurationError, ProtocolError

_MODELS = {"semi-honest": _native.SEMI_HONEST, "active": _native.ACTIVE}
_MODEL_NAMES = {value: name for name, value in _MODELS.items()}
_ROUND_CODES = {name: code for code, name in _native.ROUND_NAMES.items()}


class Input:
    """One named input vector of a session: ``length`` ring elements, in Z_{2^bits} or in Z_modulus.

    Give ``bits`` (1...64) or ``modulus`` (2...2^62, e.g. a prime), not both; with neither the ring is Z_{2^32}.
    """

    __slots__ = ("name", "length", "bits", "modulus")

    def __init__(self, name: str, length: int, bits: int | None = None, modulus: int | None = None) -> None:
        if not isinstance(name, str):
            raise TypeError(f"name must be a str, not {type(name).__name__}")
        length = as_index(length, "length")
        if bits is not None and modulus is not None:
            raise ValueError("give bits or modulus, not both")
        if bits is None and modulus is None:
            bits = 32
        if bits is not None:
            bits = as_index(bits, "bits")
            if not 1 <= bits <= 64:
                raise ValueError(f"bits = {bits} is outside 1...64")
        if modulus is not None:
            modulus = as_index(modulus, "modulus")
            if not 2 <= modulus <= 1 << 62:
                raise ValueError(f"modulus = {modulus} is outside 2...2^62")
        #: The input's name, unique in the session.
        self.name = name
        #: The element count.
        self.length = length
        #: b for Z_{2^b} (None for Z_q).
        self.bits = bits
        #: q for Z_q (None for Z_{2^b}).
        self.modulus = modulus

    @property
    def order(self) -> int:
        """The ring's order R: elements are 0...R − 1."""
        return 1 << self.bits if self.bits is not None else self.modulus

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Input):
            return NotImplemented
        return (self.name, self.length, self.bits, self.modulus) == (
            other.name,
            other.length,
            other.bits,
            other.modulus,
        )

    def __hash__(self) -> int:
        return hash((self.name, self.length, self.bits, self.modulus))

    def __repr__(self) -> str:
        ring = f"bits={self.bits}" if self.bits is not None else f"modulus={self.modulus}"
        return f"Input({self.name!r}, {self.length}, {ring})"


class Harary:
    """A random Harary graph H(n, degree) (SecAgg+): each client shares keys and masks with ``degree`` neighbours
    (even, ≥ 2) instead of all n − 1."""

    __slots__ = ("degree",)

    def __init__(self, degree: int) -> None:
        degree = as_index(degree, "degree")
        if degree < 2 or degree % 2:
            raise ValueError(f"a Harary degree is even and at least 2, not {degree}")
        #: The degree k.
        self.degree = degree

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Harary) and other.degree == self.degree

    def __hash__(self) -> int:
        return hash(("harary", self.degree))

    def __repr__(self) -> str:
        return f"Harary({self.degree})"


def default_threshold(clients: int, graph: Harary | None = None) -> int:
    """The default Shamir threshold ⌈2k/3⌉ for k neighbours per client (k = n − 1 on the complete graph)."""
    degree = 0 if graph is None else graph.degree
    return lib.secagg_default_threshold(u32(clients, "clients"), degree)


def random_nonce() -> bytes:
    """A fresh 32-byte session nonce from the system CSPRNG."""
    out = ctypes.create_string_buffer(32)
    lib.secagg_random_nonce(out, 32)
    return out.raw


def verification_key(signing_key: bytes) -> bytes:
    """The Ed25519 verification key (32 bytes) of a signing key given as its 32-byte seed."""
    seed = as_bytes(signing_key, "signing_key")
    out = ctypes.create_string_buffer(32)
    lib.secagg_verification_key(seed, len(seed), out, 32)
    return out.raw


class SessionConfiguration:
    """Everything the parties agree on before round 0 (SPEC.md §11.1), validated on construction.

    ``clients`` is n (clients are indexed 1...n); ``threshold`` is the Shamir threshold t (None: the default
    ⌈2k/3⌉); ``inputs`` is a list of :class:`Input`; ``model`` is ``"semi-honest"`` or ``"active"``; ``graph`` is
    None (the complete graph) or :class:`Harary`; ``nonce`` defaults to 32 random bytes. In the active model
    ``verification_keys`` lists each client's 32-byte Ed25519 verification key in index order (see
    :func:`verification_key`). ``corrupt_clients``, ``dropped_clients`` and ``sigma`` declare the threat the
    threshold must withstand (SPEC.md §11.1); a threshold that does not protect privacy under it raises
    :class:`ConfigurationError`.

    Publish :meth:`to_bytes` to the clients; a client rebuilds it with :meth:`from_bytes` and applies its own
    policy before constructing its :class:`Client`.
    """

    def __init__(
        self,
        clients: int,
        threshold: int | None,
        inputs: Sequence[Input],
        *,
        model: str = "semi-honest",
        graph: Harary | None = None,
        nonce: bytes | None = None,
        verification_keys: Sequence[bytes] | None = None,
        corrupt_clients: int = 0,
        dropped_clients: int = 0,
        sigma: int = 40,
    ) -> None:
        clients = u32(clients, "clients")
        if graph is not None and not isinstance(graph, Harary):
            raise TypeError(f"graph must be None or secagg.Harary, not {type(graph).__name__}")
        threshold = default_threshold(clients, graph) if threshold is None else u32(threshold, "threshold")
        if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Iterable):
            raise TypeError("inputs must be a list of secagg.Input")
        inputs = tuple(inputs)
        for spec in inputs:
            if not isinstance(spec, Input):
                raise TypeError(f"inputs must be secagg.Input objects, not {type(spec).__name__}")
        if model not in _MODELS:
            raise ValueError(f"model must be 'semi-honest' or 'active', not {model!r}")
        nonce = random_nonce() if nonce is None else as_bytes(nonce, "nonce")
        keys = tuple(as_bytes(key, "verification key") for key in (verification_keys or ()))
        for key in keys:
            if len(key) != 32:
                raise ValueError(f"a verification key is 32 bytes, not {len(key)}")
        threat = _native.Threat(
            u32(corrupt_clients, "corrupt_clients"), u32(dropped_clients, "dropped_clients"), u32(sigma, "sigma")
        )
        names = [spec.name.encode("utf-8") for spec in inputs]
        specs = (_native.InputSpec * max(1, len(inputs)))()
        for i, spec in enumerate(inputs):
            kind = _native.MODULUS_POWER_OF_TWO if spec.bits is not None else _native.MODULUS_INTEGER
            value = spec.bits if spec.bits is not None else spec.modulus
            specs[i] = _native.InputSpec(names[i], len(names[i]), _native.u64(spec.length, "length"), kind, value)
        handle = call_for_handle(
            lib.secagg_config_new,
            clients,
            threshold,
            _MODELS[model],
            0 if graph is None else u32(graph.degree, "degree"),
            byref(threat),
            nonce,
            len(nonce),
            specs,
            len(inputs),
            b"".join(keys) if keys else None,
            len(keys),
        )
        self._adopt(handle)

    @classmethod
    def from_bytes(cls, data: bytes) -> "SessionConfiguration":
        """Decodes and validates the canonical encoding (SPEC.md §11.1); raises WireFormatError or
        ConfigurationError."""
        data = as_bytes(data, "data")
        handle = call_for_handle(lib.secagg_config_decode, data, len(data))
        configuration = cls.__new__(cls)
        configuration._adopt(handle)
        return configuration

    def _adopt(self, handle: int) -> None:
        """Takes ownership of a configuration handle and reads its fields back (the canonical values)."""
        self._handle = handle
        info = _native.ConfigInfo()
        lib.secagg_config_get_info(handle, byref(info))
        inputs = []
        for i in range(info.input_count):
            spec = _native.InputSpec()
            lib.secagg_config_get_input(handle, i, byref(spec))
            name = ctypes.string_at(spec.name, spec.name_length).decode("utf-8")
            if spec.modulus_kind == _native.MODULUS_POWER_OF_TWO:
                inputs.append(Input(name, spec.length, bits=spec.modulus_value))
            else:
                inputs.append(Input(name, spec.length, modulus=spec.modulus_value))
        keys = []
        for client in range(1, info.verification_key_count + 1):
            out = ctypes.create_string_buffer(32)
            lib.secagg_config_get_verification_key(handle, client, out, 32)
            keys.append(out.raw)
        self._clients = info.client_count
        self._threshold = info.threshold
        self._model = _MODEL_NAMES[info.model]
        self._graph = Harary(info.harary_degree) if info.harary_degree else None
        self._degree = info.degree
        self._sparse = bool(info.sparse)
        self._threat = (info.threat.corrupt_clients, info.threat.dropped_clients, info.threat.sigma)
        self._inputs = tuple(inputs)
        self._verification_keys = tuple(keys)
        self._nonce = bytes(info.nonce)
        self._digest = bytes(info.digest)
        self._max_server_message_bytes = info.max_server_message_bytes
        self._encoded = call_for_bytes(lib.secagg_config_encode, handle)

    def __del__(self) -> None:
        handle = getattr(self, "_handle", None)
        if handle is not None and lib is not None:
            lib.secagg_config_free(handle)
            self._handle = None

    def to_bytes(self) -> bytes:
        """The canonical encoding (SPEC.md §11.1), which the server publishes to the clients."""
        return self._encoded

    @property
    def clients(self) -> int:
        """n."""
        return self._clients

    @property
    def threshold(self) -> int:
        """t."""
        return self._threshold

    @property
    def inputs(self) -> tuple[Input, ...]:
        """The input vectors, in order."""
        return self._inputs

    @property
    def model(self) -> str:
        """``"semi-honest"`` or ``"active"``."""
        return self._model

    @property
    def graph(self) -> Harary | None:
        """None for the complete graph, else the Harary graph."""
        return self._graph

    @property
    def degree(self) -> int:
        """Neighbours per client: n − 1 on the complete graph, min(k, n − 1) on a Harary graph."""
        return self._degree

    @property
    def sparse(self) -> bool:
        """True on a Harary graph with k < n − 1 (the session then has the seed-reveal round)."""
        return self._sparse

    @property
    def nonce(self) -> bytes:
        """The 32-byte session nonce."""
        return self._nonce

    @property
    def verification_keys(self) -> tuple[bytes, ...]:
        """Active model: each client's Ed25519 verification key, in index order (empty otherwise)."""
        return self._verification_keys

    @property
    def threat(self) -> tuple[int, int, int]:
        """The declared threat (corrupt clients, dropped clients, σ)."""
        return self._threat

    @property
    def digest(self) -> bytes:
        """SHA-256("secagg/v1/config" || encoding): what round-0 messages are bound to."""
        return self._digest

    @property
    def max_server_message_bytes(self) -> int:
        """The longest server message a client can receive: a client's transport refuses longer frames."""
        return self._max_server_message_bytes

    def max_client_message_bytes(self, round: str) -> int:
        """The longest client message of ``round`` (e.g. ``"masked_input"``): the server's transport refuses
        longer frames before reading them."""
        if round not in _ROUND_CODES:
            raise ValueError(f"unknown round {round!r} (one of {', '.join(_ROUND_CODES)})")
        out = c_uint64()
        lib.secagg_config_max_client_message_bytes(self._handle, _ROUND_CODES[round], byref(out))
        return out.value

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SessionConfiguration):
            return NotImplemented
        return self._encoded == other._encoded

    def __hash__(self) -> int:
        return hash(self._encoded)

    def __repr__(self) -> str:
        graph = "complete" if self._graph is None else repr(self._graph)
        return (
            f"SessionConfiguration(clients={self._clients}, threshold={self._threshold}, "
            f"inputs={list(self._inputs)!r}, model={self._model!r}, graph={graph})"
        )


def _input_vectors(configuration: SessionConfiguration, vectors) -> list[np.ndarray]:
    """Checks the vectors of one client's input against the configuration (types, dtypes, shapes, ranges) and
    returns them as contiguous uint64 arrays; TypeError or ValueError on any mismatch."""
    if isinstance(vectors, np.ndarray) or not isinstance(vectors, (list, tuple)):
        raise TypeError("inputs must be a list of numpy arrays, one per configured input")
    specs = configuration.inputs
    if len(vectors) != len(specs):
        raise ValueError(f"{len(vectors)} input vectors for {len(specs)} configured inputs")
    checked = []
    for vector, spec in zip(vectors, specs):
        if not isinstance(vector, np.ndarray):
            raise TypeError(f"input {spec.name!r} must be a numpy array, not {type(vector).__name__}")
        if vector.dtype.kind != "u":
            raise TypeError(
                f"input {spec.name!r} must have an unsigned integer dtype (uint64), not {vector.dtype}; "
                "quantize float updates with secagg.QuantizationPlan"
            )
        if vector.ndim != 1 or vector.shape[0] != spec.length:
            raise ValueError(f"input {spec.name!r} must have shape ({spec.length},), not {vector.shape}")
        vector = np.ascontiguousarray(vector, dtype=np.uint64)
        if spec.order <= 0xFFFFFFFFFFFFFFFF and vector.size and int(vector.max()) >= spec.order:
            raise ValueError(f"input {spec.name!r} has an element outside its ring (every element must be < {spec.order})")
        checked.append(vector)
    return checked


def _session_id(function, handle: int) -> bytes | None:
    """A party's session id, or None while it is not known (SECAGG_INVALID_STATE)."""
    out = ctypes.create_string_buffer(32)
    try:
        function(handle, out, 32)
    except ProtocolError as error:
        if error.status == _native.INVALID_STATE:
            return None
        raise
    return out.raw


def _check_open(handle, what: str) -> int:
    if handle is None:
        raise ValueError(f"the {what} was closed")
    return handle


class Client:
    """A client of a session: feed it the server's messages and send its replies.

    ``index`` is the client's index 1...n (assigned at check-in). ``inputs`` (optional; also later through
    :meth:`provide_inputs`) is a list of uint64 numpy arrays, one per configured input, every element below its
    ring's order. In the active model ``signing_key`` is the client's 32-byte Ed25519 seed, whose verification
    key the configuration lists at this index. The client refuses (ConfigurationError) a configuration whose
    threshold does not protect privacy before it sends anything.

    ``secret_seed`` (optional) is 32 secret bytes from a CSPRNG (``os.urandom(32)``) from which every random draw of
    the client comes (the ChaCha20 generator of SPEC.md §2.6): the same seed and the same accepted messages rebuild
    the same client, which lets a runtime that keeps no process between messages (Flower's SuperNodes) resume it.
    The seed is as secret as the keys it generates; draw a fresh one per client and session and never reuse it.
    Without it the client draws from the system CSPRNG. (``_generator_seed`` is the same entry point under the
    name the transcript replays use, with fixed published seeds: tests only.)

    A rejected message (:class:`WireFormatError`, or :class:`ProtocolError` for another session or round) leaves
    the client unchanged. :meth:`close` (or leaving a ``with`` block) releases every secret at once; otherwise
    they are released when the object is collected.
    """

    def __init__(
        self,
        config: SessionConfiguration,
        index: int,
        inputs=None,
        *,
        signing_key: bytes | None = None,
        secret_seed: bytes | None = None,
        _generator_seed: bytes | None = None,
    ) -> None:
        if secret_seed is not None and _generator_seed is not None:
            raise TypeError("give secret_seed or _generator_seed, not both")
        if secret_seed is not None:
            if len(as_bytes(secret_seed, "secret_seed")) != 32:
                raise ValueError("secret_seed must be 32 bytes from a CSPRNG")
            _generator_seed = secret_seed
        if not isinstance(config, SessionConfiguration):
            raise TypeError(f"config must be a secagg.SessionConfiguration, not {type(config).__name__}")
        self._handle = None
        index = u32(index, "index")
        key = None if signing_key is None else as_bytes(signing_key, "signing_key")
        if key is not None and len(key) != 32:
            raise ValueError(f"signing_key must be a 32-byte Ed25519 seed, not {len(key)} bytes")
        if _generator_seed is None:
            handle = call_for_handle(lib.secagg_client_new, config._handle, index, key, len(key or b""))
        else:
            seed = as_bytes(_generator_seed, "_generator_seed")
            handle = call_for_handle(
                lib.secagg_client_new_deterministic, config._handle, index, key, len(key or b""), seed, len(seed)
            )
        self._handle = handle
        self._config = config
        self._index = index
        if inputs is not None:
            self.provide_inputs(inputs)

    def close(self) -> None:
        """Releases the client and every secret it holds; later calls raise ValueError."""
        handle, self._handle = getattr(self, "_handle", None), None
        if handle is not None and lib is not None:
            lib.secagg_client_free(handle)

    __del__ = close

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def config(self) -> SessionConfiguration:
        """The session configuration."""
        return self._config

    @property
    def index(self) -> int:
        """The client's index, 1...n."""
        return self._index

    def start(self) -> bytes:
        """The round-0 message (AdvertiseKeys), to send to the server."""
        return call_for_bytes(lib.secagg_client_start, _check_open(self._handle, "client"))

    def handle(self, message: bytes) -> bytes | None:
        """Handles one server message; returns the reply to send, or None when there is nothing to send (the
        session ended, or the input is still missing: state ``"input_required"``)."""
        message = as_bytes(message, "message")
        return call_for_bytes(lib.secagg_client_handle, _check_open(self._handle, "client"), message, len(message))

    def provide_inputs(self, inputs) -> bytes | None:
        """Gives (or replaces) the input: a list of uint64 numpy arrays, one per configured input. Before the
        forwarded shares arrive it is kept and None is returned; in state ``"input_required"`` the masked input is
        computed now and returned, to send to the server."""
        handle = _check_open(self._handle, "client")
        vectors = _input_vectors(self._config, inputs)
        count = len(vectors)
        pointers = (c_void_p * max(1, count))(*[vector.ctypes.data for vector in vectors])
        lengths = (c_size_t * max(1, count))(*[vector.shape[0] for vector in vectors])
        return call_for_bytes(lib.secagg_client_provide_input, handle, pointers, lengths, count)

    def _state(self) -> tuple[int, int]:
        state, included = c_uint32(), c_uint32()
        lib.secagg_client_state(_check_open(self._handle, "client"), byref(state), byref(included))
        return state.value, included.value

    @property
    def state(self) -> str:
        """One of ``advertise_keys`` (not started), ``seed_reveal``, ``share_keys``, ``masked_input``,
        ``input_required``, ``consistency_check``, ``unmasking``, ``awaiting_outcome``, ``completed``,
        ``aborted``."""
        return _native.CLIENT_STATE_NAMES[self._state()[0]]

    @property
    def input_included(self) -> bool | None:
        """Once completed: whether this client's input is in the sum (None before)."""
        state, included = self._state()
        return bool(included) if _native.CLIENT_STATE_NAMES[state] == "completed" else None

    @property
    def abort_reason(self) -> str | None:
        """Why the client aborted (None unless it did)."""
        if self.state != "aborted":
            return None
        return call_for_bytes(lib.secagg_client_abort_reason, self._handle).decode("utf-8", "replace")

    @property
    def session_id(self) -> bytes | None:
        """The 32-byte session id from the key broadcast on, while the session runs (None before and after)."""
        return _session_id(lib.secagg_client_session_id, _check_open(self._handle, "client"))

    def __repr__(self) -> str:
        state = "closed" if self._handle is None else self.state
        return f"Client(index={self._index}, state={state!r})"


class Result:
    """The outcome of a session: ``vectors`` holds the sum of each configured input over exactly the clients in
    ``included`` (uint64 numpy arrays, one per input, each in its ring); ``flagged`` lists clients caught deviating
    while the session still completed, as (client, what was observed)."""

    __slots__ = ("vectors", "included", "flagged")

    def __init__(self, vectors: list[np.ndarray], included: list[int], flagged: list[tuple[int, str]] = ()) -> None:
        #: The sums, one uint64 array per configured input.
        self.vectors = list(vectors)
        #: The clients whose inputs are in the sum (U3), ascending.
        self.included = list(included)
        #: Clients caught deviating: (client, description).
        self.flagged = list(flagged)

    def __repr__(self) -> str:
        lengths = [vector.shape[0] for vector in self.vectors]
        return f"Result(vectors of lengths {lengths}, included={self.included}, flagged={self.flagged})"


class Server:
    """The server of a session: feed it the clients' messages with the index of the authenticated sender, and
    send the messages :meth:`advance` returns.

    ``verification_keys`` (optional, active model): the keys the caller collected at check-in; they must be the
    configuration's (ConfigurationError otherwise). ``unmasking_threads`` bounds the threads of the last step
    (default: every core).
    """

    def __init__(
        self,
        config: SessionConfiguration,
        *,
        verification_keys: Sequence[bytes] | None = None,
        unmasking_threads: int | None = None,
    ) -> None:
        if not isinstance(config, SessionConfiguration):
            raise TypeError(f"config must be a secagg.SessionConfiguration, not {type(config).__name__}")
        self._handle = None
        if verification_keys is not None:
            keys = tuple(as_bytes(key, "verification key") for key in verification_keys)
            if keys != config.verification_keys:
                raise ConfigurationError(
                    "the verification keys differ from the configuration's "
                    f"({len(keys)} given, {len(config.verification_keys)} configured)",
                    kind="verificationKeyMismatch",
                    status=_native.CONFIGURATION_ERROR,
                )
        self._handle = call_for_handle(lib.secagg_server_new, config._handle)
        self._config = config
        if unmasking_threads is not None:
            lib.secagg_server_set_unmasking_threads(self._handle, u32(unmasking_threads, "unmasking_threads"))

    def close(self) -> None:
        """Releases the server and every secret it holds; later calls raise ValueError."""
        handle, self._handle = getattr(self, "_handle", None), None
        if handle is not None and lib is not None:
            lib.secagg_server_free(handle)

    __del__ = close

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def config(self) -> SessionConfiguration:
        """The session configuration."""
        return self._config

    def receive(self, message: bytes, sender: int) -> None:
        """Accepts one message from client ``sender`` (1...n), whom your transport authenticated: the engine trusts
        this index, so take it from the connection, never from the message. A rejected message (WireFormatError,
        ProtocolError) leaves the server unchanged."""
        message = as_bytes(message, "message")
        lib.secagg_server_receive(_check_open(self._handle, "server"), message, len(message), u32(sender, "sender"))

    def _outbox(self, function) -> dict[int, bytes]:
        outbox = call_for_handle(function, _check_open(self._handle, "server"))
        try:
            count = c_size_t()
            lib.secagg_outbox_message_count(outbox, byref(count))
            messages: dict[int, bytes] = {}
            data = ctypes.POINTER(ctypes.c_uint8)()
            length = c_size_t()
            recipients = ctypes.POINTER(c_uint32)()
            recipient_count = c_size_t()
            for i in range(count.value):
                lib.secagg_outbox_message(
                    outbox, i, byref(data), byref(length), byref(recipients), byref(recipient_count)
                )
                # One bytes object per distinct message, shared by all its recipients.
                payload = ctypes.string_at(data, length.value)
                for recipient in recipients[: recipient_count.value]:
                    messages[recipient] = payload
            return messages
        finally:
            lib.secagg_outbox_free(outbox)

    def advance(self) -> dict[int, bytes]:
        """Closes the current round — when every awaited client answered (:attr:`is_round_complete`) or its
        deadline passed; whoever did not answer is dropped — and returns the messages to send, by recipient (a
        broadcast is one bytes object shared by every recipient). Afterwards :attr:`state` says whether the
        session goes on (``"collecting"``), completed (:attr:`result`) or aborted (:attr:`abort_reason`); the
        returned messages then tell the clients so."""
        return self._outbox(lib.secagg_server_advance)

    def abort(self) -> dict[int, bytes]:
        """Stops the session; returns the abort notices to send, by recipient."""
        return self._outbox(lib.secagg_server_abort)

    def abort_client(self, client: int) -> bytes:
        """Removes one client (its connection died, or it misbehaved): it is no longer awaited and its later
        messages are refused. Returns the abort notice to send it if it is still reachable."""
        return call_for_bytes(lib.secagg_server_abort_client, _check_open(self._handle, "server"), u32(client, "client"))

    def _state(self) -> tuple[int, int]:
        state, round_code = c_uint32(), c_uint32()
        lib.secagg_server_state(_check_open(self._handle, "server"), byref(state), byref(round_code))
        return state.value, round_code.value

    @property
    def state(self) -> str:
        """``"collecting"`` (see :attr:`round`), ``"completed"`` or ``"aborted"``."""
        return {0: "collecting", 1: "completed", 2: "aborted"}[self._state()[0]]

    @property
    def round(self) -> str | None:
        """The round being collected (e.g. ``"masked_input"``); None once the session is over."""
        return _native.ROUND_NAMES.get(self._state()[1])

    @property
    def awaited_clients(self) -> list[int]:
        """The clients whose message of the current round has not arrived, ascending."""
        return _native.list_u32(lib.secagg_server_awaited_clients, _check_open(self._handle, "server"))

    @property
    def is_round_complete(self) -> bool:
        """True when every awaited client answered: call :meth:`advance` now."""
        complete = c_uint32()
        lib.secagg_server_is_round_complete(_check_open(self._handle, "server"), byref(complete))
        return bool(complete.value)

    @property
    def session_id(self) -> bytes | None:
        """The 32-byte session id once round 0 closed (None before)."""
        return _session_id(lib.secagg_server_session_id, _check_open(self._handle, "server"))

    @property
    def abort_reason(self) -> str | None:
        """Why the session aborted (None unless it did)."""
        if self.state != "aborted":
            return None
        return call_for_bytes(lib.secagg_server_abort_reason, self._handle).decode("utf-8", "replace")

    @property
    def result(self) -> Result | None:
        """The sums and the included clients once the session completed (None before)."""
        handle = _check_open(self._handle, "server")
        if self._state()[0] != _native.SERVER_COMPLETED:
            return None
        vectors = []
        for i, spec in enumerate(self._config.inputs):
            vector = np.empty(spec.length, dtype=np.uint64)
            lib.secagg_server_result_vector(handle, i, vector.ctypes.data, spec.length)
            vectors.append(vector)
        included = _native.list_u32(lib.secagg_server_result_included, handle)
        count = c_size_t()
        lib.secagg_server_result_flagged_count(handle, byref(count))
        flagged = []
        for i in range(count.value):
            client = c_uint32()
            description = call_for_bytes(lib.secagg_server_result_flagged, handle, i, byref(client))
            flagged.append((client.value, (description or b"").decode("utf-8", "replace")))
        return Result(vectors, included, flagged)

    def __repr__(self) -> str:
        state = "closed" if self._handle is None else self.state
        return f"Server(clients={self._config.clients}, state={state!r}, round={self.round if self._handle else None!r})"
