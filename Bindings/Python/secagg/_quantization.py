"""Fixed-point quantization with overflow-safe planning (SPEC.md §7)."""

from __future__ import annotations

from ctypes import POINTER, byref, c_double, c_float, c_uint64

import numpy as np

from . import _native
from ._native import as_bytes, call_for_bytes, call_for_handle, lib, u64

_ROUNDINGS = {"stochastic": _native.ROUNDING_STOCHASTIC, "nearest": _native.ROUNDING_NEAREST}
_ROUNDING_NAMES = {value: name for name, value in _ROUNDINGS.items()}


def _aggregate(array, name: str) -> np.ndarray:
    """A 1-D contiguous uint64 copy-free view of an aggregate; TypeError or ValueError otherwise."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, not {type(array).__name__}")
    if array.dtype.kind != "u":
        raise TypeError(f"{name} must have an unsigned integer dtype (uint64), not {array.dtype}")
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, not of shape {array.shape}")
    return np.ascontiguousarray(array, dtype=np.uint64)


class QuantizationPlan:
    """The fixed-point parameters of a session: clipping, scale and ring, chosen so that the sum of ``clients``
    clipped updates can never wrap around (SPEC.md §7).

    Make one with :meth:`plan`; every client quantizes its float update with :meth:`quantize`, the session sums
    the results, and :meth:`decode_mean` turns the sum back into the mean. :meth:`to_bytes` / :meth:`from_bytes`
    carry a plan to the clients (JSON, the Swift ``QuantizationPlan`` Codable form).
    """

    def __init__(self) -> None:
        raise TypeError("use QuantizationPlan.plan(...) or QuantizationPlan.from_bytes(...)")

    @classmethod
    def plan(
        cls,
        clients: int,
        clip: float,
        *,
        bits: int | None = None,
        modulus: int | None = None,
        max_weight: int = 1,
        rounding: str = "stochastic",
    ) -> "QuantizationPlan":
        """The plan with the largest scale for which ``clients`` updates clipped to ±``clip`` cannot wrap modulo
        2^``bits`` (default 32) or ``modulus``. With ``max_weight`` 1 (the default) the plan is unweighted: each
        update counts once and vectors have exactly the update's length. With ``max_weight`` W > 1 it is a FedAvg
        plan: :meth:`quantize` takes a weight 0...W and appends it as one extra coordinate (see
        :meth:`vector_length`), and :meth:`decode_mean` divides by the total weight. ``rounding`` is
        ``"stochastic"`` (unbiased) or ``"nearest"``."""
        clients = u64(clients, "clients")
        if isinstance(clip, bool) or not isinstance(clip, (int, float, np.floating, np.integer)):
            raise TypeError(f"clip must be a number, not {type(clip).__name__}")
        if bits is not None and modulus is not None:
            raise ValueError("give bits or modulus, not both")
        if modulus is not None:
            kind, value = _native.MODULUS_INTEGER, u64(modulus, "modulus")
        else:
            kind, value = _native.MODULUS_POWER_OF_TWO, u64(32 if bits is None else bits, "bits")
        max_weight = u64(max_weight, "max_weight")
        if max_weight < 1:
            raise ValueError("max_weight must be at least 1")
        if rounding not in _ROUNDINGS:
            raise ValueError(f"rounding must be 'stochastic' or 'nearest', not {rounding!r}")
        handle = call_for_handle(
            lib.secagg_plan_new, clients, float(clip), kind, value, 0 if max_weight == 1 else max_weight,
            _ROUNDINGS[rounding],
        )
        return cls._adopt(handle)

    @classmethod
    def from_bytes(cls, data: bytes) -> "QuantizationPlan":
        """Decodes (and re-validates) a plan from :meth:`to_bytes`; QuantizationError if it does not decode."""
        data = as_bytes(data, "data")
        return cls._adopt(call_for_handle(lib.secagg_plan_decode, data, len(data)))

    @classmethod
    def _adopt(cls, handle: int) -> "QuantizationPlan":
        plan = object.__new__(cls)
        plan._handle = handle
        info = _native.PlanInfo()
        lib.secagg_plan_get_info(handle, byref(info))
        plan._info = info
        plan._encoded = call_for_bytes(lib.secagg_plan_encode, handle)
        return plan

    def __del__(self) -> None:
        handle = getattr(self, "_handle", None)
        if handle is not None and lib is not None:
            lib.secagg_plan_free(handle)
            self._handle = None

    def to_bytes(self) -> bytes:
        """The plan as JSON (UTF-8, sorted keys)."""
        return self._encoded

    @property
    def clients(self) -> int:
        """n: the largest number of updates the sum may hold."""
        return self._info.client_count

    @property
    def clip(self) -> float:
        """c: coordinates are clipped to [−c, c]."""
        return self._info.clip_range

    @property
    def bits(self) -> int | None:
        """b for the ring Z_{2^b} (None for Z_q)."""
        return self._info.modulus_value if self._info.modulus_kind == _native.MODULUS_POWER_OF_TWO else None

    @property
    def modulus(self) -> int | None:
        """q for the ring Z_q (None for Z_{2^b})."""
        return self._info.modulus_value if self._info.modulus_kind == _native.MODULUS_INTEGER else None

    @property
    def scale(self) -> float:
        """s: one unit of the integer encoding is 1/s."""
        return self._info.scale

    @property
    def weighted(self) -> bool:
        """True for a FedAvg plan (the weight travels as one extra coordinate)."""
        return self._info.maximum_weight != 0

    @property
    def max_weight(self) -> int:
        """W: the largest weight (1 for an unweighted plan)."""
        return self._info.maximum_weight or 1

    @property
    def rounding(self) -> str:
        """``"stochastic"`` or ``"nearest"``."""
        return _ROUNDING_NAMES[self._info.rounding]

    @property
    def worst_case_mean_error(self) -> float:
        """The largest error per coordinate of a decoded mean (clipping aside, every weight ≥ 1): δ/s, with δ = 1
        for stochastic and 1/2 for nearest rounding."""
        return self._info.worst_case_mean_error

    def vector_length(self, values: int) -> int:
        """The session input length for updates of ``values`` coordinates (one more when weighted)."""
        return values + 1 if self.weighted else values

    def quantize(self, x: np.ndarray, weight: int = 1) -> np.ndarray:
        """Quantizes a float32 or float64 update (any shape, flattened in C order) into ring elements, a uint64
        array of :meth:`vector_length` elements ready for :meth:`secagg.Client.provide_inputs`. Coordinates
        beyond ±clip are clipped; NaN or infinity raises QuantizationError. ``weight`` is exactly 1 for an
        unweighted plan and 0...max_weight for a weighted one."""
        if not isinstance(x, np.ndarray):
            raise TypeError(f"x must be a numpy array, not {type(x).__name__}")
        weight = u64(weight, "weight")
        if x.dtype == np.float32:
            values = np.ascontiguousarray(x).reshape(-1)
            function, pointer = lib.secagg_plan_quantize_f32, POINTER(c_float)
        elif x.dtype == np.float64:
            values = np.ascontiguousarray(x).reshape(-1)
            function, pointer = lib.secagg_plan_quantize_f64, POINTER(c_double)
        else:
            raise TypeError(f"x must be float32 or float64, not {x.dtype}")
        out = np.empty(self.vector_length(values.size), dtype=np.uint64)
        clipped = c_uint64()
        function(
            self._handle, values.ctypes.data_as(pointer), values.size, weight, out.ctypes.data, out.size,
            byref(clipped),
        )
        return out

    def decode_mean(self, sum: np.ndarray, clients: int | None = None, total_weight: int | None = None) -> np.ndarray:
        """The mean (float64) from an aggregate summed over ``clients`` updates (default: the plan's client
        count; pass ``len(result.included)``). Unweighted plans divide by ``clients``; weighted plans by the total
        weight read from the aggregate's last coordinate, and ``total_weight``, when given, must equal it (else
        QuantizationError). An aggregate that many clients cannot produce raises QuantizationError."""
        aggregate = _aggregate(sum, "sum")
        included = self.clients if clients is None else u64(clients, "clients")
        if total_weight is not None:
            expected = u64(total_weight, "total_weight")
            actual = c_uint64()
            lib.secagg_plan_decode_total_weight(self._handle, aggregate.ctypes.data, aggregate.size, included,
                                                byref(actual))
            if actual.value != expected:
                from .errors import QuantizationError

                raise QuantizationError(
                    f"the aggregate carries a total weight of {actual.value}, not {expected}",
                    kind="totalWeightMismatch", status=_native.QUANTIZATION_ERROR,
                )
        out = np.empty(max(0, aggregate.size - 1) if self.weighted else aggregate.size, dtype=np.float64)
        lib.secagg_plan_decode_mean(self._handle, aggregate.ctypes.data, aggregate.size, included, out.ctypes.data,
                                    out.size)
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QuantizationPlan):
            return NotImplemented
        return self._encoded == other._encoded

    def __hash__(self) -> int:
        return hash(self._encoded)

    def __repr__(self) -> str:
        ring = f"bits={self.bits}" if self.bits is not None else f"modulus={self.modulus}"
        return (
            f"QuantizationPlan(clients={self.clients}, clip={self.clip}, {ring}, scale={self.scale}, "
            f"max_weight={self.max_weight}, rounding={self.rounding!r})"
        )
