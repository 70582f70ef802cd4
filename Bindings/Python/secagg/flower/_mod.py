"""`secagg_mod`: the ClientApp mod that answers `SecAggWorkflow`, used where Flower's `secaggplus_mod` goes::

    app = ClientApp(client_fn=client_fn, mods=[secagg_mod])

Flower runs a ClientApp once per message, in a fresh process on a SuperNode, and carries only the Context's
records from one message to the next. The engine's client is a state machine in memory, so the mod keeps in
the Context what rebuilds it exactly: the configuration, the index, the plan, a 32-byte generator seed drawn
from the OS for this session, and the server messages the client accepted so far. For every new message the
mod rebuilds the client (start, then each accepted message in order; the masked-input round with a zero
vector, whose output is discarded — nothing after that round depends on the input) and hands it the new one.

Security of the rebuild: every random draw of the client (its key pairs, self-mask seed, Shamir coefficients,
share-encryption nonces) comes from ChaCha20 keyed with the seed (SPEC.md §2.6), so a rebuilt client is the
same client, and it refuses exactly what the original would (a second unmasking request, a grown survivor
set). The seed is as secret as the keys it generates; it lives where Flower's own SecAgg+ mod keeps its
private keys (the Context of the SuperNode), and it is deleted when the session ends. The client's model
update never enters the Context.
"""

from __future__ import annotations


import time
from logging import DEBUG, INFO, WARNING

import numpy as np

import flwr.compat.common.recorddict_compat as compat
from flwr.app import ConfigRecord, Context, Message, RecordDict
from flwr.app.message_type import MessageType
from flwr.common import Code, parameters_to_ndarrays
from flwr.common.logger import log

from . import _engine
from ._common import RECORD, STAGE_OUTCOME, STAGE_ROUND, STAGE_SETUP, STATE_RECORD


class SecAggClientError(RuntimeError):
    """The mod refuses a message (another session, a bad setup, a failed fit); the ClientApp reports an error
    and the server counts this client as dropped."""


def secagg_mod(msg: Message, ctxt: Context, call_next) -> Message:
    """Answers the workflow's messages with our client state machine; passes every other message through."""
    if msg.metadata.message_type != MessageType.TRAIN or RECORD not in msg.content.config_records:
        return call_next(msg, ctxt)
    started = time.perf_counter()
    record = msg.content.config_records[RECORD]
    stage = record.get("stage")
    node = msg.metadata.dst_node_id
    if stage == STAGE_SETUP:
        reply, state, round_name = _setup(record, node)
        ctxt.state.config_records[STATE_RECORD] = state
        content = RecordDict()
    elif stage == STAGE_OUTCOME:
        # The end of the session: whatever it says, this client's session state goes. A client that left the
        # session before it learnt the session id cannot check the message; it just forgets the session.
        round_name, reply, content = "outcome", None, RecordDict()
        state = ctxt.state.config_records.get(STATE_RECORD)
        if state is not None and state.get("session") == record.get("session"):
            client = _rebuild(state)
            try:
                client.handle(record.get("message") or b"")
            except Exception as error:  # noqa: BLE001 (reported, then the session is over for this client)
                log(WARNING, "SecAgg node %s: end-of-session message refused: %s", node, error)
            else:
                log(DEBUG, "SecAgg node %s: session %s, input %s", node, _engine.client_state(client),
                    "included" if _engine.input_included(client) else "not included")
            del ctxt.state.config_records[STATE_RECORD]
    elif stage == STAGE_ROUND:
        state = ctxt.state.config_records.get(STATE_RECORD)
        if state is None or state.get("session") != record.get("session"):
            raise SecAggClientError(f"node {node}: a {stage} message of a session this client has not set up")
        client = _rebuild(state)
        message = record.get("message")
        if not isinstance(message, bytes):
            raise SecAggClientError(f"node {node}: no protocol message")
        round_name = str(record.get("round", "?"))
        content = RecordDict()
        reply = client.handle(message)
        if _engine.client_state(client) == "input-required":
            reply, content = _train_and_mask(client, msg, ctxt, call_next, state, node)
        state["history"] = list(state["history"]) + [message]
        client_state = _engine.client_state(client)
        if client_state in ("completed", "aborted"):
            del ctxt.state.config_records[STATE_RECORD]  # the seed and the messages go with the session
            if client_state == "completed":
                log(DEBUG, "SecAgg node %s: session completed, input %s", node,
                    "included" if _engine.input_included(client) else "not included")
            else:
                log(WARNING, "SecAgg node %s: session aborted: %s", node, getattr(client, "abort_reason", ""))
        else:
            ctxt.state.config_records[STATE_RECORD] = state
    else:
        raise SecAggClientError(f"node {node}: unknown secure-aggregation stage {stage!r}")
    content.config_records[RECORD] = ConfigRecord({"round": round_name, "message": reply or b""})
    log(DEBUG, "SecAgg node %s: answered %s in %.3f s", node, round_name, time.perf_counter() - started)
    return Message(content, reply_to=msg)


def _setup(record: ConfigRecord, node: int):
    config_bytes = record.get("configuration")
    plan_bytes = record.get("plan")
    index = record.get("index")
    session = record.get("session")
    if not isinstance(config_bytes, bytes) or not isinstance(plan_bytes, bytes) or not isinstance(index, int):
        raise SecAggClientError(f"node {node}: incomplete setup message")
    config = _engine.configuration_from_bytes(config_bytes)  # decoded and validated (threshold rule included)
    if config.nonce != session:
        raise SecAggClientError(f"node {node}: the setup's session does not match its configuration")
    plan = _engine.plan_from_bytes(plan_bytes)  # re-validated: no wrap for its client count
    info = _engine.plan_info(plan)
    if info.clients < config.clients or info.bits != _engine.input_bits(config):
        raise SecAggClientError(f"node {node}: the quantization plan does not fit the session (it could wrap)")
    seed = _engine.new_generator_seed()
    client = _engine.new_client(config, index, seed)
    reply = client.start()
    state = ConfigRecord({
        "session": session, "configuration": config_bytes, "index": index, "plan": plan_bytes, "seed": seed,
        "history": [],
    })
    return reply, state, "advertise-keys"


def _rebuild(state: ConfigRecord):
    """The client as it was after the last accepted message (see the module's docstring)."""
    config = _engine.configuration_from_bytes(state["configuration"])
    client = _engine.new_client(config, int(state["index"]), state["seed"])
    client.start()
    zeros = None
    for message in state["history"]:
        client.handle(message)
        if _engine.client_state(client) == "input-required":
            if zeros is None:
                zeros = np.zeros(_engine.input_length(config), dtype=np.uint64)
            client.provide_inputs([zeros])
    return client


def _train_and_mask(client, msg: Message, ctxt: Context, call_next, state: ConfigRecord, node: int):
    """Runs the local training (the rest of the ClientApp), quantizes every returned array and the weight, and
    returns the masked input with the fit's metrics."""
    fit_started = time.perf_counter()
    out = call_next(msg, ctxt)
    fit_seconds = time.perf_counter() - fit_started
    if out.has_error():
        raise SecAggClientError(f"node {node}: the fit failed: {out.error.reason}")
    fitres = compat.recorddict_to_fitres(out.content, keep_input=True)
    if fitres.status.code != Code.OK:
        raise SecAggClientError(f"node {node}: the fit returned {fitres.status.code}: {fitres.status.message}")
    arrays = parameters_to_ndarrays(fitres.parameters)
    expected = parameters_to_ndarrays(compat.recorddict_to_fitins(msg.content, keep_input=True).parameters)
    if [a.shape for a in arrays] != [e.shape for e in expected]:
        raise SecAggClientError(
            f"node {node}: the fit returned arrays of shapes {[a.shape for a in arrays]}, the model has "
            f"{[e.shape for e in expected]}")
    flat = np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in arrays]) if arrays else np.zeros(0)
    plan = _engine.plan_from_bytes(state["plan"])
    max_weight = _engine.plan_info(plan).max_weight
    weight = int(fitres.num_examples)
    if weight < 0:
        raise SecAggClientError(f"node {node}: negative num_examples")
    if weight > max_weight:
        log(WARNING, "SecAgg node %s: num_examples %s exceeds max_weight %s; capped", node, weight, max_weight)
        weight = max_weight
    if not np.all(np.isfinite(flat)):
        raise SecAggClientError(f"node {node}: the fit returned NaN or infinite parameters")
    quantized = plan.quantize(flat, weight=weight)
    reply = client.provide_inputs([quantized])
    content = RecordDict()
    content.config_records["fitres.metrics"] = ConfigRecord(dict(fitres.metrics))
    log(DEBUG, "SecAgg node %s: fit in %.3f s, %s values masked", node, fit_seconds, flat.size)
    return reply, content


__all__ = ["secagg_mod", "SecAggClientError"]

