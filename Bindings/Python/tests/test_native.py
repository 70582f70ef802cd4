"""The C ABI from ctypes: wrong handles, NULL pointers and lengths are statuses, never crashes; threads."""

from __future__ import annotations

import ctypes
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import secagg
from secagg import _native
from secagg._native import Buffer, lib
from _support import Session, expected_sums, random_inputs


def _status(function, *arguments) -> int:
    """Calls a C function without the Python layer's exception mapping: its status."""
    raw = lib[function.__name__]  # a fresh function object, without the errcheck
    raw.argtypes, raw.restype = function.argtypes, ctypes.c_int32
    return raw(*arguments)


def test_handles_are_identifiers_checked_on_every_call():
    config = secagg.SessionConfiguration(3, 2, [secagg.Input("x", 2)])
    client = secagg.Client(config, 1)
    buffer = Buffer()
    # A configuration handle where a client handle is expected, a made-up handle, NULL.
    for handle in (config._handle, 0xDEADBEEF, None):
        assert _status(lib.secagg_client_start, handle, ctypes.byref(buffer)) == _native.INVALID_ARGUMENT
    assert b"client" in lib.secagg_last_error_message()
    assert lib.secagg_last_error_kind() == b"invalidArgument"
    handle = client._handle
    client.close()
    assert _status(lib.secagg_client_start, handle, ctypes.byref(buffer)) == _native.INVALID_ARGUMENT
    lib.secagg_client_free(handle)  # a second free is ignored
    lib.secagg_config_free(0x1234)
    lib.secagg_buffer_free(None)
    assert _status(lib.secagg_client_start, config._handle, None) == _native.INVALID_ARGUMENT


def test_null_pointers_and_lengths():
    config = secagg.SessionConfiguration(3, 2, [secagg.Input("x", 2)])
    client = secagg.Client(config, 1)
    server = secagg.Server(config)
    buffer = Buffer()
    assert _status(lib.secagg_client_handle, client._handle, None, 5, ctypes.byref(buffer)) == _native.INVALID_ARGUMENT
    assert _status(lib.secagg_server_receive, server._handle, None, 1, 1) == _native.INVALID_ARGUMENT
    assert _status(lib.secagg_server_receive, server._handle, None, 0, 1) == _native.WIRE_FORMAT_ERROR
    assert _status(lib.secagg_config_decode, None, 0, None) == _native.INVALID_ARGUMENT
    assert _status(lib.secagg_server_awaited_clients, server._handle, None, 4, None) == _native.INVALID_ARGUMENT
    count = ctypes.c_size_t()
    assert _status(lib.secagg_server_awaited_clients, server._handle, None, 4, ctypes.byref(count)) == (
        _native.INVALID_ARGUMENT
    )
    assert _status(lib.secagg_server_result_vector, server._handle, 0, None, 2) == _native.INVALID_STATE
    out = ctypes.create_string_buffer(32)
    assert _status(lib.secagg_server_session_id, server._handle, out, 32) == _native.INVALID_STATE
    assert _status(lib.secagg_random_nonce, out, 31) == _native.INVALID_ARGUMENT
    pointers = (ctypes.c_void_p * 1)(None)
    lengths = (ctypes.c_size_t * 1)(2)
    assert _status(lib.secagg_client_provide_input, client._handle, pointers, lengths, 1, ctypes.byref(buffer)) == (
        _native.INVALID_ARGUMENT
    )
    assert _status(lib.secagg_client_provide_input, client._handle, None, None, 1, ctypes.byref(buffer)) == (
        _native.INVALID_ARGUMENT
    )


def test_clients_in_threads():
    """Clients driven by a thread pool (the library releases the GIL): the same sum as one thread."""
    n = 12
    config = secagg.SessionConfiguration(n, 8, [secagg.Input("x", 20_000, bits=32)])
    rng = np.random.default_rng(12)
    inputs = {u: random_inputs(config, rng) for u in range(1, n + 1)}
    server = secagg.Server(config)
    clients = {u: secagg.Client(config, u, inputs[u]) for u in range(1, n + 1)}
    lock = threading.Lock()

    def deliver(item):
        u, message = item
        reply = clients[u].handle(message) if message is not None else clients[u].start()
        if reply is not None:
            with lock:
                server.receive(reply, u)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(deliver, [(u, None) for u in clients]))
        while server.state == "collecting":
            list(pool.map(deliver, server.advance().items()))
    result = server.result
    assert result.included == list(range(1, n + 1))
    np.testing.assert_array_equal(result.vectors[0], expected_sums(config, inputs, result.included)[0])


def test_one_client_from_two_threads_is_serialised():
    config = secagg.SessionConfiguration(3, 2, [secagg.Input("x", 2)])
    for _ in range(20):
        client = secagg.Client(config, 1)
        outcomes = []

        def start():
            try:
                outcomes.append(client.start())
            except secagg.ProtocolError as error:
                outcomes.append(error.kind)

        threads = [threading.Thread(target=start) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(map(type, outcomes), key=str) == sorted([bytes, str], key=str)
        assert "unexpectedMessage" in outcomes
