"""Hearth runtime agent for Python: the process a `hearth/runtime-python3`
container runs. It connects to the worker's Unix socket, loads the function
named by `init` and runs one invocation at a time. The protocol (framing,
messages, order) is defined in `worker/agent-protocol.ts`; this file must stay
in step with it.

Stdlib only. Imports are kept to built-in modules until `hello` is sent,
because everything before it is on the cold-start path.
"""

import _signal
import _socket
import _thread
import io
import os
import sys
import time

RUNTIME = "python3"
AGENT_VERSION = 1
SOCKET_PATH = os.environ.get("HEARTH_AGENT_SOCKET") or "/run/hearth/agent.sock"
# Mirror LOG_CAP_BYTES and MAX_FRAME_BYTES in worker/agent-protocol.ts.
LOG_CAP_BYTES = 64 * 1024
MAX_FRAME_BYTES = 16 * 1024 * 1024
# Room kept under the cap for the truncation marker, so logs never exceed it.
MARKER_RESERVE_BYTES = 96
CONNECT_RETRY_S = 0.005
CONNECT_GIVE_UP_S = 2.0

_agent_stderr = sys.__stderr__
# The agent's own process id: function code that forks runs on in a child with
# another one, and that child must never act as the agent (see _after_fork_in_child).
_AGENT_PID = os.getpid()


def _die(message, code=1):
    """Last words go to the real stderr (`docker logs`), then exit at once."""
    try:
        _agent_stderr.write("hearth agent: %s\n" % message)
        _agent_stderr.flush()
    finally:
        os._exit(code)


# ---------------------------------------------------------------------------
# Connection and framing (4-byte big-endian length + UTF-8 JSON).


def _connect():
    # The worker listens before the container starts, so the first attempt
    # normally succeeds; retries cover a socket that is not there yet.
    deadline = time.monotonic() + CONNECT_GIVE_UP_S
    while True:
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        try:
            sock.connect(SOCKET_PATH)
            return sock
        except OSError as err:
            sock.close()
            if time.monotonic() >= deadline:
                _die("cannot connect to %s: %s" % (SOCKET_PATH, err))
            time.sleep(CONNECT_RETRY_S)


def _frame(body):
    return len(body).to_bytes(4, "big") + body


_sock = _connect()
_sock.sendall(_frame(b'{"type":"hello","runtime":"%s","agentVersion":%d}' % (RUNTIME.encode(), AGENT_VERSION)))

# Everything below runs while the worker prepares `init`.
import json  # noqa: E402
import importlib  # noqa: E402
import re  # noqa: E402  (json.decoder has loaded it already)
from _queue import SimpleQueue  # noqa: E402

_send_lock = _thread.allocate_lock()
_SURROGATE = re.compile("[\ud800-\udfff]")


def _send_json(text):
    try:
        body = text.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates (e.g. from surrogateescape) cannot be UTF-8. json.dumps
        # writes them only inside strings, where a \uXXXX escape means the same;
        # escaping in place (not a loads/dumps round trip) works at any depth.
        body = _SURROGATE.sub(lambda m: "\\u%04x" % ord(m.group()), text).encode("utf-8")
    with _send_lock:
        _sock.sendall(_frame(body))


def _dumps(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _read_frames(inbox):
    """Reader thread: decodes frames into `inbox`; exits the process when the
    socket closes, even while a handler is still running."""
    buf = bytearray()
    try:
        while True:
            chunk = _sock.recv(262144)
            if not chunk:
                os._exit(0)
            buf += chunk
            while len(buf) >= 4:
                length = int.from_bytes(buf[:4], "big")
                if length > MAX_FRAME_BYTES:
                    _die("protocol error: frame of %d bytes exceeds %d" % (length, MAX_FRAME_BYTES))
                if len(buf) < 4 + length:
                    break
                inbox.put(_decode_frame(bytes(buf[4 : 4 + length])))
                del buf[: 4 + length]
    except OSError:
        os._exit(0)
    except Exception as err:  # malformed JSON from the worker
        _die("protocol error: %r" % (err,))


def _agent_module(name):
    """A helper module shipped next to this file, loaded on first need (off the
    cold-start path). `-I` keeps /opt/hearth off sys.path, so function code
    cannot import these by name."""
    module = sys.modules.get("_hearth_" + name)
    if module is None:
        import importlib.util

        path = os.path.join(os.path.dirname(__file__), name + ".py")
        spec = importlib.util.spec_from_file_location("_hearth_" + name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[spec.name] = module
    return module


class _TooDeep:
    """Stands for an event json.loads could not decode for its depth (its C
    decoder recurses, up to the interpreter's recursion limit of about 1,000
    levels): the invocation fails with Runtime.UnmarshalError, as on Lambda,
    instead of the reader thread dying with the connection."""

    def __init__(self, reason):
        self.reason = reason


def _decode_frame(body):
    try:
        return json.loads(body)
    except RecursionError as err:
        fields, too_deep = _agent_module("shallow_json").shallow_fields(body.decode("utf-8"), ("type", "id", "deadlineMs"))
        # The worker's own fields are flat; only the caller's event can nest.
        if too_deep != ["event"] or fields.get("type") != "invoke":
            raise ValueError("frame nested too deeply in %r" % (too_deep,))
        fields["event"] = _TooDeep(str(err))
        return fields


# ---------------------------------------------------------------------------
# Log capture: sys.stdout and sys.stderr (hence print and logging) write here.


class _LogBuffer:
    def __init__(self):
        self._lock = _thread.allocate_lock()
        self._chunks = []
        self._kept = 0
        self._total = 0
        self._forward_fd = None

    def forward_to(self, fd):
        """From now on write straight to `fd` (a forked child's output belongs
        to no invocation). Fresh lock: another thread may have held it at fork."""
        self._lock = _thread.allocate_lock()
        self._chunks, self._kept, self._total = [], 0, 0
        self._forward_fd = fd

    def add(self, data):
        if self._forward_fd is not None:
            try:
                while data:
                    data = data[os.write(self._forward_fd, data) :]
            except OSError:
                pass
            return
        with self._lock:
            room = LOG_CAP_BYTES - self._kept
            if room > 0 and data:
                kept = data if len(data) <= room else data[:room]
                self._chunks.append(kept)
                self._kept += len(kept)
            self._total += len(data)

    def drain(self):
        """Everything captured since the last call, capped at LOG_CAP_BYTES."""
        with self._lock:
            data = b"".join(self._chunks)
            total = self._total
            self._chunks, self._kept, self._total = [], 0, 0
        if total <= LOG_CAP_BYTES:
            return data.decode("utf-8", "replace"), False
        keep = LOG_CAP_BYTES - MARKER_RESERVE_BYTES
        # Never cut through a UTF-8 sequence: back up to the start of a character.
        while keep > 0 and (data[keep] & 0xC0) == 0x80:
            keep -= 1
        head = data[:keep].decode("utf-8", "replace")
        newline = "" if not head or head.endswith("\n") else "\n"
        return "%s%s[hearth] log truncated: %d bytes dropped\n" % (head, newline, total - keep), True


class _BinarySink(io.RawIOBase):
    """`sys.stdout.buffer`, for code that writes bytes."""

    def __init__(self, logs):
        super().__init__()
        self._logs = logs

    def writable(self):
        return True

    def write(self, data):
        data = bytes(data)
        self._logs.add(data)
        return len(data)


class _TextSink(io.TextIOBase):
    encoding = "utf-8"
    errors = "backslashreplace"

    def __init__(self, logs, name):
        super().__init__()
        self._logs = logs
        self.name = name
        self.buffer = _BinarySink(logs)

    def writable(self):
        return True

    def isatty(self):
        return False

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError("write() argument must be str, not %s" % type(text).__name__)
        self._logs.add(text.encode("utf-8", "backslashreplace"))
        return len(text)


_logs = _LogBuffer()
sys.stdout = _TextSink(_logs, "<stdout>")
sys.stderr = _TextSink(_logs, "<stderr>")


# ---------------------------------------------------------------------------
# Processes the function forks. A child of os.fork() runs on in the function's
# code with a copy of everything, the agent's socket included; when that code
# returns or raises, it would come back into the agent and reply on the
# parent's connection (a second result, a Runtime.ExitError with "fatal").


def _after_fork_in_child():
    # Closing this process's copy of the fd never shuts the parent's
    # connection down (only shutdown() or the last close would).
    try:
        _sock.close()
    except OSError:
        pass
    _logs.forward_to(2)


os.register_at_fork(after_in_child=_after_fork_in_child)


def _run_function_code(function, *args):
    """Calls into the function's code. In a process that code forked (hooks
    or not: the pid says so), never returns: see _end_forked_child."""
    try:
        value = function(*args)
    except BaseException as err:
        if os.getpid() != _AGENT_PID:
            _end_forked_child(err)
        raise
    if os.getpid() != _AGENT_PID:
        _end_forked_child(None)
    return value


def _end_forked_child(err):
    """Ends a forked child the way a script that ran to its end would (exit
    status from sys.exit, 1 after an exception, else 0), without atexit
    handlers or anything the agent would do: os._exit semantics."""
    code = 0
    try:
        if isinstance(err, SystemExit):
            if isinstance(err.code, int):
                code = err.code
            elif err.code is not None:
                code = 1
                _logs.add(("%s\n" % (err.code,)).encode("utf-8", "backslashreplace"))
        elif err is not None:
            code = 1
            _logs.add(_format_traceback(err).encode("utf-8", "backslashreplace"))
    finally:
        os._exit(code & 0xFF)


# ---------------------------------------------------------------------------
# Errors in Lambda's shape.


class _RuntimeFailure(Exception):
    """An error the runtime itself reports, with a Lambda `Runtime.*` type."""

    def __init__(self, error_type, message, stack=None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.stack = stack


def _format_traceback(err):
    """The traceback from the function's first frame on: the agent's and the
    import machinery's leading frames are noise to the function's author."""
    import traceback

    tb = err.__traceback__
    while tb is not None and _is_runtime_file(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(err), err, tb))


def _is_runtime_file(filename):
    return filename == __file__ or filename == importlib.__file__ or filename.startswith("<frozen importlib")


def _safe_str(value):
    try:
        return str(value)
    except BaseException:
        return object.__repr__(value)


def _error_info(err):
    """Never raises: the exception is the function's, and its __str__, its
    class's __name__ (a metaclass property) or its notes may raise too."""
    if isinstance(err, _RuntimeFailure):
        info = {"type": err.error_type, "message": err.message}
        if err.stack:
            info["stack"] = err.stack
        return info
    try:
        error_type = _safe_str(type(err).__name__)
    except BaseException:
        error_type = "Exception"
    info = {"type": error_type, "message": _safe_str(err)}
    try:
        info["stack"] = _format_traceback(err)
    except BaseException:
        pass
    return info


# ---------------------------------------------------------------------------
# Init: environment, working directory, handler.


class _Function:
    handler = None
    name = ""
    version = ""
    memory_mb = 0
    log_stream = ""


def _apply_init(msg):
    os.environ.update({str(k): str(v) for k, v in (msg.get("env") or {}).items()})
    _Function.name = msg["functionName"]
    _Function.version = msg["functionVersion"]
    _Function.memory_mb = msg["memoryLimitInMB"]
    instance = os.environ.get("HOSTNAME") or str(os.getpid())
    _Function.log_stream = "%s/[%s]%s" % (time.strftime("%Y/%m/%d", time.gmtime()), _Function.version, instance)
    # Set after the function's own env so the reserved names cannot be spoofed.
    os.environ.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": _Function.name,
            "AWS_LAMBDA_FUNCTION_VERSION": _Function.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(_Function.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": "/hearth/" + _Function.name,
            "AWS_LAMBDA_LOG_STREAM_NAME": _Function.log_stream,
            "LAMBDA_TASK_ROOT": msg["codeDir"],
            "_HANDLER": msg["handler"],
            "HEARTH_FUNCTION_NAME": _Function.name,
        }
    )
    os.chdir(msg["codeDir"])
    sys.path.insert(0, msg["codeDir"])


def _load_handler(handler):
    module_name, dot, function_name = handler.rpartition(".")
    if not dot or not module_name or not function_name:
        raise _RuntimeFailure("Runtime.MalformedHandlerName", "Bad handler '%s': expected 'file.function'" % handler)
    module_name = module_name.replace("/", ".")
    try:
        module = _run_function_code(importlib.import_module, module_name)
    except SyntaxError as err:
        raise _RuntimeFailure(
            "Runtime.UserCodeSyntaxError",
            "Syntax error in module '%s': %s" % (module_name, err),
            _format_traceback(err),
        )
    except Exception as err:
        raise _RuntimeFailure(
            "Runtime.ImportModuleError",
            "Unable to import module '%s': %s" % (module_name, err),
            _format_traceback(err),
        )
    # Only a name the module itself binds (defined or imported there): getattr
    # would also reach the module object's own members (main.__class__,
    # main.__init__, main.__loader__), so dunder names never count.
    namespace = getattr(module, "__dict__", None)
    if not isinstance(namespace, dict):
        namespace = {}  # an object put in sys.modules in the module's place, without a __dict__
    is_dunder = function_name.startswith("__") and function_name.endswith("__")
    found = None if is_dunder else namespace.get(function_name)
    if found is None:
        raise _RuntimeFailure("Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (function_name, module_name))
    if not callable(found):
        raise _RuntimeFailure("Runtime.HandlerNotFound", "Handler '%s' on module '%s' is not callable" % (function_name, module_name))
    return found


def _elapsed_ms(since):
    return round((time.perf_counter() - since) * 1000, 3)


def _handle_init(msg):
    started = time.perf_counter()
    reply = {"type": "initResult", "ok": True}
    try:
        _apply_init(msg)
        _Function.handler = _load_handler(msg["handler"])
    except BaseException as err:
        reply["ok"] = False
        reply["error"] = _error_info(err)
    reply["durationMs"] = _elapsed_ms(started)
    reply["logs"], reply["logsTruncated"] = _logs.drain()
    _send_json(_dumps(reply))


# ---------------------------------------------------------------------------
# Invocation.


class LambdaContext:
    """What a handler receives as `context`, in Lambda's names (plus the
    camelCase spellings Hearth's Node runtime uses)."""

    def __init__(self, request_id, deadline_ms):
        self.function_name = self.functionName = _Function.name
        self.function_version = self.functionVersion = _Function.version
        self.invoked_function_arn = "arn:hearth:lambda:local:000000000000:function:%s:%s" % (_Function.name, _Function.version)
        self.memory_limit_in_mb = self.memoryLimitInMB = str(_Function.memory_mb)
        self.aws_request_id = self.awsRequestId = request_id
        self.invocation_id = self.invocationId = request_id
        self.log_group_name = "/hearth/" + _Function.name
        self.log_stream_name = _Function.log_stream
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(0, int(self._deadline_ms - time.time() * 1000))

    getRemainingTimeInMillis = get_remaining_time_in_millis


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
        raise _RuntimeFailure("Runtime.MarshalError", "Unable to marshal response: %s" % err)


def _handle_invoke(msg):
    started = time.perf_counter()
    exit_after = None
    try:
        if _Function.handler is None:
            raise _RuntimeFailure("Runtime.InvalidState", "invoke before a successful init")
        if isinstance(msg["event"], _TooDeep):
            raise _RuntimeFailure("Runtime.UnmarshalError", "Unable to unmarshal input: %s" % msg["event"].reason)
        result = _run_function_code(_Function.handler, msg["event"], LambdaContext(msg["id"], msg["deadlineMs"]))
        outcome = '"ok":true,"result":' + _serialise_result(result)
    except SystemExit as err:
        # The function asked the process to end; report it, then honour that.
        exit_after = 1
        error = {"type": "Runtime.ExitError", "message": "Function called sys.exit(%r)" % (err.code,)}
        outcome = '"ok":false,"error":' + _dumps(error)
    except BaseException as err:
        outcome = '"ok":false,"error":' + _dumps(_error_info(err))
    duration_ms = _elapsed_ms(started)
    logs, truncated = _logs.drain()
    # "fatal" tells the worker this process is about to exit: never reuse it.
    head = '{"type":"invokeResult","id":%s,"durationMs":%s,"logs":%s,"logsTruncated":%s,%s' % (
        _dumps(msg["id"]),
        duration_ms,
        _dumps(logs),
        "true" if truncated else "false",
        '"fatal":true,' if exit_after is not None else "",
    )
    text = head + outcome + "}"
    if len(text) > MAX_FRAME_BYTES // 4 and len(text.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES:
        error = {"type": "Runtime.ResponseSizeTooLarge", "message": "Response exceeds %d bytes" % MAX_FRAME_BYTES}
        text = head + '"ok":false,"error":' + _dumps(error) + "}"
    _send_json(text)
    if exit_after is not None:
        # sendall() has put the reply in the worker's receive queue; it
        # survives the exit.
        os._exit(exit_after)


def _main():
    # As PID 1 the agent gets no default signal dispositions: without this,
    # `docker stop` would wait out its grace period and then SIGKILL. A
    # function may install its own SIGTERM handler in place of this one.
    _signal.signal(_signal.SIGTERM, lambda signum, frame: os._exit(143))
    inbox = SimpleQueue()
    _thread.start_new_thread(_read_frames, (inbox,))
    while True:
        msg = inbox.get()
        kind = msg.get("type") if isinstance(msg, dict) else None
        if kind == "init":
            _handle_init(msg)
        elif kind == "invoke":
            _handle_invoke(msg)
        else:
            _agent_stderr.write("hearth agent: ignoring message of type %r\n" % (kind,))


_main()
