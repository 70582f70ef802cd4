"""Record names shared by the workflow (ServerApp side) and the mod (ClientApp side)."""

#: The ConfigRecord, in a Message's content, that carries our protocol in both directions.
RECORD = "secagg"
#: The ConfigRecord, in a ClientApp's Context state, that holds a client's session between messages.
STATE_RECORD = "secagg.state"

# Stages of a server message (the value of RECORD["stage"]).
STAGE_SETUP = "setup"  # the configuration, the client's index and the quantization plan
STAGE_ROUND = "round"  # a protocol message; the reply answers RECORD["round"]
STAGE_OUTCOME = "outcome"  # the end-of-session message (SessionComplete or Abort); the reply carries nothing


def payload_bytes(content) -> int:
    """Bytes of payload in a RecordDict: byte strings and arrays (what dominates what goes over the wire)."""
    total = 0
    for record in content.config_records.values():
        for value in record.values():
            if isinstance(value, bytes):
                total += len(value)
            elif isinstance(value, list):
                total += sum(len(v) for v in value if isinstance(v, bytes))
    for record in content.array_records.values():
        for array in record.values():
            total += len(array.data)
    return total
