"""Processes the function forks. A child of os.fork() runs on in the
function's code with a copy of everything, the agent's socket included; when
that code returns or raises, it would come back into the agent and reply on
the parent's connection (a second result, a Runtime.ExitError with "fatal").
So every call into function code goes through run_function_code."""

import os

from .errors import format_traceback

# The agent's own process id (this module loads before any function code
# runs): a child the function forks has another one and must never act as the agent.
_AGENT_PID = os.getpid()
_logs = None


def install(sock, logs):
    """Registers the at-fork hook: in a child, drop the socket and send its
    output to the container's stderr. `logs` is the agent's LogBuffer."""
    global _logs
    _logs = logs

    def after_fork_in_child():
        # Closing this process's copy of the fd never shuts the parent's
        # connection down (only shutdown() or the last close would).
        try:
            sock.close()
        except OSError:
            pass
        logs.forward_to(2)

    os.register_at_fork(after_in_child=after_fork_in_child)


def run_function_code(function, *args):
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
            _logs.add(format_traceback(err).encode("utf-8", "backslashreplace"))
    finally:
        os._exit(code & 0xFF)
