"""Hearth runtime agent for Python: the process a `hearth/runtime-python3`
container runs. It connects to the worker's Unix socket, loads the function
named by `init` and runs one invocation at a time. The protocol (framing,
messages, order) is defined in `worker/sandbox/agent-protocol.ts`; these files
must stay in step with it.

This file connects, says `hello` and runs the main loop; the rest is one
module per concern, next to it in /opt/hearth, loaded only after `hello` as
the package `_hearth_agent` (see _load_agent_package):
  framing.py          length-prefixed JSON frames (shallow_json.py: too deep ones)
  log_capture.py      sys.stdout/sys.stderr into a capped buffer per reply
  operations.py       init and invoke
  handler_loading.py  `file.function` -> the handler
  context.py          the function's identity, env and LambdaContext
  forked_child.py     keeps a child of os.fork() from acting as the agent
  errors.py           exceptions in Lambda's {type, message, stack}

Stdlib only. Everything before `hello` is on the cold-start path, and this
file is compiled in full before any of it runs: so it stays short and imports
only built-in modules until then.
"""

import _signal
import _socket
import _thread
import os
import sys
import time

RUNTIME = "python3"
AGENT_VERSION = 1
SOCKET_PATH = os.environ.get("HEARTH_AGENT_SOCKET") or "/run/hearth/agent.sock"
CONNECT_RETRY_S = 0.005
CONNECT_GIVE_UP_S = 2.0

_agent_stderr = sys.__stderr__


def _die(message, code=1):
    """Last words go to the real stderr (`docker logs`), then exit at once."""
    try:
        _agent_stderr.write("hearth agent: %s\n" % message)
        _agent_stderr.flush()
    finally:
        os._exit(code)


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


# A global of __main__ on purpose: test/security/hostile-tenant.test.ts plays
# a function that forges frames through `__main__._sock`.
_sock = _connect()
# Framed by hand (as framing.frame does): framing.py is not loaded yet.
_hello = b'{"type":"hello","runtime":"%s","agentVersion":%d}' % (RUNTIME.encode(), AGENT_VERSION)
_sock.sendall(len(_hello).to_bytes(4, "big") + _hello)

# Everything below runs while the worker prepares `init`.


def _load_agent_package():
    """Makes the modules next to this file importable as `_hearth_agent.<name>`
    (bytecode from /opt/hearth/__pycache__, which the image ships). `-I` keeps
    /opt/hearth off sys.path, and it must stay off: imported by plain names,
    they would sit in sys.modules as `context`, `errors`, ... and a function's
    own modules of those names would never load. A package whose __path__ is
    this directory finds them without it."""
    package = type(sys)("_hearth_agent")
    package.__path__ = [os.path.dirname(__file__)]
    sys.modules[package.__name__] = package


_load_agent_package()
from _hearth_agent import forked_child, framing, log_capture, operations  # noqa: E402
from _queue import SimpleQueue  # noqa: E402

_writer = framing.FrameWriter(_sock)
_logs = log_capture.install()
forked_child.install(_sock, _logs)


def _main():
    # As PID 1 the agent gets no default signal dispositions: without this,
    # `docker stop` would wait out its grace period and then SIGKILL. A
    # function may install its own SIGTERM handler in place of this one.
    _signal.signal(_signal.SIGTERM, lambda signum, frame: os._exit(143))
    inbox = SimpleQueue()
    _thread.start_new_thread(framing.read_frames, (_sock, inbox, _die))
    while True:
        msg = inbox.get()
        kind = msg.get("type") if isinstance(msg, dict) else None
        if kind == "init":
            operations.handle_init(msg, _writer, _logs)
        elif kind == "invoke":
            operations.handle_invoke(msg, _writer, _logs)
        else:
            _agent_stderr.write("hearth agent: ignoring message of type %r\n" % (kind,))


_main()
