"""The two operations the worker asks for: `init` (load the handler) and
`invoke` (run it once). Each replies with exactly one frame on `writer` (a
framing.FrameWriter), carrying the logs captured in `logs` (a
log_capture.LogBuffer) since the previous reply."""

import json
import os
import sys
import time

from .context import LambdaContext, apply_init
from .errors import RuntimeFailure, error_info
from .forked_child import run_function_code
from .framing import MAX_FRAME_BYTES, TooDeep, dumps
from .handler_loading import load_handler
from .secret_files import write_secret_files


# The function's handler, once an init has succeeded.
_handler = None


def _elapsed_ms(since):
    return round((time.perf_counter() - since) * 1000, 3)


def handle_init(msg, writer, logs):
    """Applies `init`, loads the handler and replies `initResult`."""
    global _handler
    started = time.perf_counter()
    reply = {"type": "initResult", "ok": True}
    try:
        # The files first: the function's code may read them as it loads.
        write_secret_files(msg)
        apply_init(msg)
        _handler = load_handler(msg["handler"])
    except BaseException as err:
        reply["ok"] = False
        reply["error"] = error_info(err)
    reply["durationMs"] = _elapsed_ms(started)
    reply["logs"], reply["logsTruncated"] = logs.drain()
    writer.send_json(dumps(reply))


def _json_default(value):
    # Decimal is what DynamoDB-style code hands back; checked by name so the
    # agent does not import `decimal` unless the function already has.
    decimal = sys.modules.get("decimal")
    if decimal is not None and isinstance(value, decimal.Decimal):
        if value.is_finite() and value == value.to_integral_value():
            return int(value)
        return float(value)
    raise TypeError("Object of type %s is not JSON serializable" % type(value).__name__)


def _serialise_result(result):
    try:
        return json.dumps(result, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_json_default)
    except (TypeError, ValueError, RecursionError) as err:
        raise RuntimeFailure("Runtime.MarshalError", "Unable to marshal response: %s" % err)


def handle_invoke(msg, writer, logs):
    """Runs one invocation and replies `invokeResult`; after sys.exit() in the
    handler, exits the process once the reply is sent."""
    started = time.perf_counter()
    exit_after = None
    try:
        if _handler is None:
            raise RuntimeFailure("Runtime.InvalidState", "invoke before a successful init")
        if isinstance(msg["event"], TooDeep):
            raise RuntimeFailure("Runtime.UnmarshalError", "Unable to unmarshal input: %s" % msg["event"].reason)
        result = run_function_code(_handler, msg["event"], LambdaContext(msg["id"], msg["deadlineMs"]))
        outcome = '"ok":true,"result":' + _serialise_result(result)
    except SystemExit as err:
        # The function asked the process to end; report it, then honour that.
        exit_after = 1
        error = {"type": "Runtime.ExitError", "message": "Function called sys.exit(%r)" % (err.code,)}
        outcome = '"ok":false,"error":' + dumps(error)
    except BaseException as err:
        outcome = '"ok":false,"error":' + dumps(error_info(err))
    duration_ms = _elapsed_ms(started)
    drained, truncated = logs.drain()
    # "fatal" tells the worker this process is about to exit: never reuse it.
    head = '{"type":"invokeResult","id":%s,"durationMs":%s,"logs":%s,"logsTruncated":%s,%s' % (
        dumps(msg["id"]),
        duration_ms,
        dumps(drained),
        "true" if truncated else "false",
        '"fatal":true,' if exit_after is not None else "",
    )
    text = head + outcome + "}"
    if len(text) > MAX_FRAME_BYTES // 4 and len(text.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES:
        error = {"type": "Runtime.ResponseSizeTooLarge", "message": "Response exceeds %d bytes" % MAX_FRAME_BYTES}
        text = head + '"ok":false,"error":' + dumps(error) + "}"
    writer.send_json(text)
    if exit_after is not None:
        # sendall() has put the reply in the worker's receive queue; it
        # survives the exit.
        os._exit(exit_after)
