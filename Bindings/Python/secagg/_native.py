"""The C ABI of libSecAggC (Sources/CSecAgg/include/secagg.h) through ctypes.

Loads the shared library shipped inside the package (or the one named by the environment variable
``SECAGG_LIBRARY``), declares the prototype of every function of the header, and turns every status other
than ``SECAGG_OK`` into an exception of :mod:`secagg.errors` carrying the library's message.
"""

from __future__ import annotations

import ctypes
import os
import sys
from ctypes import POINTER, Structure, byref, c_char_p, c_double, c_float, c_int32, c_size_t, c_uint8, c_uint32
from ctypes import c_uint64, c_void_p

from .errors import ConfigurationError, Error, ProtocolError, QuantizationError, WireFormatError

# Status codes (secagg.h).
OK = 0
INVALID_ARGUMENT = 1
CONFIGURATION_ERROR = 2
WIRE_FORMAT_ERROR = 3
PROTOCOL_ERROR = 4
QUANTIZATION_ERROR = 5
INVALID_STATE = 6
INTERNAL_ERROR = 7

SEMI_HONEST = 0
ACTIVE = 1
MODULUS_POWER_OF_TWO = 0
MODULUS_INTEGER = 1
ROUNDING_STOCHASTIC = 0
ROUNDING_NEAREST = 1
ROUND_NONE = 255
STEP_NEXT_ROUND = 0
STEP_COMPLETED = 1
STEP_ABORTED = 2
SERVER_COLLECTING = 0
SERVER_COMPLETED = 1
SERVER_ABORTED = 2

#: Round names of the Python API, by SECAGG_ROUND_* value.
ROUND_NAMES = {
    0: "advertise_keys",
    1: "seed_reveal",
    2: "share_keys",
    3: "masked_input",
    4: "consistency_check",
    5: "unmasking",
}

#: Client state names of the Python API, by SECAGG_CLIENT_* value.
CLIENT_STATE_NAMES = {
    0: "advertise_keys",
    1: "seed_reveal",
    2: "share_keys",
    3: "masked_input",
    4: "input_required",
    5: "consistency_check",
    6: "unmasking",
    7: "awaiting_outcome",
    8: "completed",
    9: "aborted",
}


class Buffer(Structure):
    """``secagg_buffer``: a byte string the library allocated."""

    _fields_ = [("data", POINTER(c_uint8)), ("length", c_size_t)]


class InputSpec(Structure):
    """``secagg_input_spec``."""

    _fields_ = [
        ("name", c_char_p),
        ("name_length", c_size_t),
        ("length", c_uint64),
        ("modulus_kind", c_uint32),
        ("modulus_value", c_uint64),
    ]


class Threat(Structure):
    """``secagg_threat``."""

    _fields_ = [("corrupt_clients", c_uint32), ("dropped_clients", c_uint32), ("sigma", c_uint32)]


class ConfigInfo(Structure):
    """``secagg_config_info``."""

    _fields_ = [
        ("client_count", c_uint32),
        ("threshold", c_uint32),
        ("model", c_uint32),
        ("harary_degree", c_uint32),
        ("degree", c_uint32),
        ("sparse", c_uint32),
        ("threat", Threat),
        ("input_count", c_uint32),
        ("verification_key_count", c_uint32),
        ("nonce", c_uint8 * 32),
        ("digest", c_uint8 * 32),
        ("max_server_message_bytes", c_uint64),
    ]


class PlanInfo(Structure):
    """``secagg_plan_info``."""

    _fields_ = [
        ("client_count", c_uint64),
        ("clip_range", c_double),
        ("modulus_kind", c_uint32),
        ("modulus_value", c_uint64),
        ("scale", c_double),
        ("maximum_weight", c_uint64),
        ("rounding", c_uint32),
        ("worst_case_mean_error", c_double),
        ("element_bound", c_uint64),
    ]


def _library_path() -> str:
    override = os.environ.get("SECAGG_LIBRARY")
    if override:
        return override
    name = "libSecAggC.dylib" if sys.platform == "darwin" else "libSecAggC.so"
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), name)


def _load() -> ctypes.CDLL:
    path = _library_path()
    try:
        return ctypes.CDLL(path)
    except OSError as error:
        raise ImportError(
            f"secagg: cannot load the native library {path} ({error}). Install the package with "
            "`pip install ./Bindings/Python` from a clone of swift-secure-aggregation (it builds the library), "
            "make sure libsodium is installed (Debian: apt-get install libsodium23), or point SECAGG_LIBRARY "
            "at a libSecAggC built with `swift build --product SecAggC`."
        ) from error


lib = _load()

_lib_last_message = lib.secagg_last_error_message
_lib_last_message.argtypes = []
_lib_last_message.restype = c_char_p
_lib_last_kind = lib.secagg_last_error_kind
_lib_last_kind.argtypes = []
_lib_last_kind.restype = c_char_p

_EXCEPTIONS = {
    CONFIGURATION_ERROR: ConfigurationError,
    WIRE_FORMAT_ERROR: WireFormatError,
    PROTOCOL_ERROR: ProtocolError,
    QUANTIZATION_ERROR: QuantizationError,
    INVALID_STATE: ProtocolError,
}


def _error(status: int) -> Exception:
    message = (_lib_last_message() or b"").decode("utf-8", "replace")
    kind = (_lib_last_kind() or b"").decode("utf-8", "replace")
    if status == INVALID_ARGUMENT:
        return ValueError(message)
    cls = _EXCEPTIONS.get(status, Error)
    return cls(message, kind=kind, status=status)


def _errcheck(result, func, arguments):
    if result != OK:
        raise _error(result)
    return result


def _declare(name: str, argtypes: list, restype=c_int32) -> None:
    function = getattr(lib, name)
    function.argtypes = argtypes
    function.restype = restype
    if restype is c_int32:
        function.errcheck = _errcheck


_handle_out = POINTER(c_void_p)
_bytes_in = c_char_p  # const uint8_t *: a Python bytes object is passed without a copy
_u32_out = POINTER(c_uint32)
_u64_out = POINTER(c_uint64)
_size_out = POINTER(c_size_t)
_buffer_out = POINTER(Buffer)

_declare("secagg_version", [], c_char_p)
_declare("secagg_protocol_version", [], c_uint32)
_declare("secagg_abi_version", [], c_uint32)
_declare("secagg_buffer_free", [_buffer_out], None)
_declare("secagg_random_nonce", [c_void_p, c_size_t])
_declare("secagg_default_threshold", [c_uint32, c_uint32], c_uint32)
_declare("secagg_verification_key", [_bytes_in, c_size_t, c_void_p, c_size_t])

_declare(
    "secagg_config_new",
    [
        c_uint32, c_uint32, c_uint32, c_uint32, POINTER(Threat), _bytes_in, c_size_t,
        POINTER(InputSpec), c_size_t, _bytes_in, c_size_t, _handle_out,
    ],
)
_declare("secagg_config_decode", [_bytes_in, c_size_t, _handle_out])
_declare("secagg_config_encode", [c_void_p, _buffer_out])
_declare("secagg_config_get_info", [c_void_p, POINTER(ConfigInfo)])
_declare("secagg_config_get_input", [c_void_p, c_size_t, POINTER(InputSpec)])
_declare("secagg_config_get_verification_key", [c_void_p, c_uint32, c_void_p, c_size_t])
_declare("secagg_config_max_client_message_bytes", [c_void_p, c_uint32, _u64_out])
_declare("secagg_config_free", [c_void_p], None)

_declare("secagg_client_new", [c_void_p, c_uint32, _bytes_in, c_size_t, _handle_out])
_declare(
    "secagg_client_new_deterministic", [c_void_p, c_uint32, _bytes_in, c_size_t, _bytes_in, c_size_t, _handle_out]
)
_declare("secagg_client_start", [c_void_p, _buffer_out])
_declare("secagg_client_handle", [c_void_p, _bytes_in, c_size_t, _buffer_out])
_declare("secagg_client_provide_input", [c_void_p, POINTER(c_void_p), POINTER(c_size_t), c_size_t, _buffer_out])
_declare("secagg_client_state", [c_void_p, _u32_out, _u32_out])
_declare("secagg_client_abort_reason", [c_void_p, _buffer_out])
_declare("secagg_client_session_id", [c_void_p, c_void_p, c_size_t])
_declare("secagg_client_free", [c_void_p], None)

_declare("secagg_server_new", [c_void_p, _handle_out])
_declare("secagg_server_set_unmasking_threads", [c_void_p, c_uint32])
_declare("secagg_server_receive", [c_void_p, _bytes_in, c_size_t, c_uint32])
_declare("secagg_server_advance", [c_void_p, _handle_out])
_declare("secagg_server_abort", [c_void_p, _handle_out])
_declare("secagg_server_abort_client", [c_void_p, c_uint32, _buffer_out])
_declare("secagg_server_state", [c_void_p, _u32_out, _u32_out])
_declare("secagg_server_abort_reason", [c_void_p, _buffer_out])
_declare("secagg_server_awaited_clients", [c_void_p, c_void_p, c_size_t, _size_out])
_declare("secagg_server_is_round_complete", [c_void_p, _u32_out])
_declare("secagg_server_session_id", [c_void_p, c_void_p, c_size_t])
_declare("secagg_server_result_included", [c_void_p, c_void_p, c_size_t, _size_out])
_declare("secagg_server_result_vector", [c_void_p, c_size_t, c_void_p, c_size_t])
_declare("secagg_server_result_flagged_count", [c_void_p, _size_out])
_declare("secagg_server_result_flagged", [c_void_p, c_size_t, _u32_out, _buffer_out])
_declare("secagg_server_free", [c_void_p], None)

_declare("secagg_outbox_step", [c_void_p, _u32_out, _u32_out])
_declare("secagg_outbox_message_count", [c_void_p, _size_out])
_declare(
    "secagg_outbox_message",
    [c_void_p, c_size_t, POINTER(POINTER(c_uint8)), _size_out, POINTER(POINTER(c_uint32)), _size_out],
)
_declare("secagg_outbox_free", [c_void_p], None)

_declare("secagg_plan_new", [c_uint64, c_double, c_uint32, c_uint64, c_uint64, c_uint32, _handle_out])
_declare("secagg_plan_decode", [_bytes_in, c_size_t, _handle_out])
_declare("secagg_plan_encode", [c_void_p, _buffer_out])
_declare("secagg_plan_get_info", [c_void_p, POINTER(PlanInfo)])
_declare("secagg_plan_quantize_f32", [c_void_p, POINTER(c_float), c_size_t, c_uint64, c_void_p, c_size_t, _u64_out])
_declare(
    "secagg_plan_quantize_f64", [c_void_p, POINTER(c_double), c_size_t, c_uint64, c_void_p, c_size_t, _u64_out]
)
_declare("secagg_plan_decode_mean", [c_void_p, c_void_p, c_size_t, c_uint64, c_void_p, c_size_t])
_declare("secagg_plan_decode_total_weight", [c_void_p, c_void_p, c_size_t, c_uint64, _u64_out])
_declare("secagg_plan_free", [c_void_p], None)


def take_buffer(buffer: Buffer) -> bytes | None:
    """The bytes of a buffer the library returned (None when empty), releasing the buffer."""
    if not buffer.data:
        return None
    try:
        return ctypes.string_at(buffer.data, buffer.length)
    finally:
        lib.secagg_buffer_free(byref(buffer))


def call_for_bytes(function, *arguments) -> bytes | None:
    """Calls a function whose last parameter is a ``secagg_buffer *`` and returns the buffer's bytes."""
    buffer = Buffer()
    function(*arguments, byref(buffer))
    return take_buffer(buffer)


def call_for_handle(function, *arguments) -> int:
    """Calls a function whose last parameter is an out-handle and returns the handle."""
    handle = c_void_p()
    function(*arguments, byref(handle))
    if not handle.value:
        raise Error("the library returned no handle", kind="internal", status=INTERNAL_ERROR)
    return handle.value


def as_bytes(value, name: str) -> bytes:
    """``value`` as ``bytes`` (bytes, bytearray and memoryview are accepted); TypeError otherwise."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"{name} must be bytes, not {type(value).__name__}")


def as_index(value, name: str) -> int:
    """``value`` as an int (bool is refused); TypeError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            import numpy

            if isinstance(value, numpy.integer):
                return int(value)
        except ImportError:  # pragma: no cover - numpy is a dependency
            pass
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    return value


def u32(value: int, name: str) -> int:
    """An int that fits a uint32 argument; ValueError otherwise."""
    value = as_index(value, name)
    if not 0 <= value <= 0xFFFFFFFF:
        raise ValueError(f"{name} = {value} is out of range")
    return value


def u64(value: int, name: str) -> int:
    """An int that fits a uint64 argument; ValueError otherwise."""
    value = as_index(value, name)
    if not 0 <= value <= 0xFFFFFFFFFFFFFFFF:
        raise ValueError(f"{name} = {value} is out of range")
    return value


def list_u32(function, handle: int) -> list[int]:
    """Calls a list function (``…, uint32_t *out, size_t capacity, size_t *count``) and returns the list."""
    count = c_size_t()
    function(handle, None, 0, byref(count))
    if count.value == 0:
        return []
    out = (c_uint32 * count.value)()
    function(handle, out, count.value, byref(count))
    return list(out[: count.value])
