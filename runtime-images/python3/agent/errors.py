"""Errors in Lambda's shape: what a failed init or invocation reports as
{type, message, stack}. The exceptions described here are the function's, so
nothing in this module may raise while describing one."""

import importlib
import os

# The agent's own files: their frames are dropped from tracebacks.
_AGENT_DIR = os.path.dirname(__file__)


class RuntimeFailure(Exception):
    """An error the runtime itself reports, with a Lambda `Runtime.*` type."""

    def __init__(self, error_type, message, stack=None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.stack = stack


def format_traceback(err):
    """The traceback from the function's first frame on: the agent's and the
    import machinery's leading frames are noise to the function's author."""
    import traceback

    tb = err.__traceback__
    while tb is not None and _is_runtime_file(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(err), err, tb))


def _is_runtime_file(filename):
    return (
        os.path.dirname(filename) == _AGENT_DIR
        or filename == importlib.__file__
        or filename.startswith("<frozen importlib")
    )


def safe_str(value):
    """str(value), or object.__repr__ when that raises."""
    try:
        return str(value)
    except BaseException:
        return object.__repr__(value)


def error_info(err):
    """The {type, message, stack} an exception reports. Never raises: the
    exception is the function's, and its __str__, its class's __name__ (a
    metaclass property) or its notes may raise too."""
    if isinstance(err, RuntimeFailure):
        info = {"type": err.error_type, "message": err.message}
        if err.stack:
            info["stack"] = err.stack
        return info
    try:
        error_type = safe_str(type(err).__name__)
    except BaseException:
        error_type = "Exception"
    info = {"type": error_type, "message": safe_str(err)}
    try:
        info["stack"] = format_traceback(err)
    except BaseException:
        pass
    return info
