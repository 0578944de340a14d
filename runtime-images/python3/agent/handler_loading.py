"""Handler loading: resolves a handler string the way Lambda's Python runtime
(awslambdaric, bootstrap._get_handler) does, so a package that loads on
Lambda loads here and one that fails, fails with Lambda's type and wording:

  dir/sub/module.function     module `dir/sub/module` (imported as dir.sub.module)
  pkg.sub.module.function     module `pkg.sub.module`

The function is the part after the last dot. A module whose first dotted part
is one of this interpreter's built-in modules (`sys.handler`) is
Runtime.BuiltInModuleConflict; under a path (`lib/sys.handler`) it is not."""

import importlib
import sys

from .errors import RuntimeFailure, format_traceback
from .forked_child import run_function_code


def load_handler(handler):
    """What `handler` names in its module; raises RuntimeFailure, or what the
    module itself raised while it was imported."""
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as err:
        raise RuntimeFailure("Runtime.MalformedHandlerName", "Bad handler '%s': %s" % (handler, err))
    try:
        if module_name.split(".")[0] in sys.builtin_module_names:
            raise RuntimeFailure(
                "Runtime.BuiltInModuleConflict",
                "Cannot use built-in module %s as a handler module" % module_name,
            )
        module = run_function_code(importlib.import_module, module_name.replace("/", "."))
    except ImportError as err:
        # ModuleNotFoundError included, and an import the module itself makes.
        raise RuntimeFailure(
            "Runtime.ImportModuleError",
            "Unable to import module '%s': %s" % (module_name, err),
            format_traceback(err),
        )
    except SyntaxError as err:
        raise RuntimeFailure(
            "Runtime.UserCodeSyntaxError",
            "Syntax error in module '%s': %s" % (module_name, err),
            format_traceback(err),
        )
    # Lambda reads the attribute (a module __getattr__ counts) and calls it
    # later, so a value that is not callable fails each invocation with
    # TypeError, as there. Dunder names are the one refusal Lambda does not
    # make: they name the module object's machinery (__class__, __init__,
    # __loader__), never the function's code.
    if function_name.startswith("__") and function_name.endswith("__"):
        raise _missing(function_name, module_name)
    try:
        found = run_function_code(getattr, module, function_name)
    except AttributeError:
        raise _missing(function_name, module_name) from None
    return found if callable(found) else _calling(found)


def _calling(value):
    """A handler that calls `value`, which is not callable: each invocation
    raises the TypeError Lambda's would ("'int' object is not callable").
    (The agent keeps None to mean "no handler loaded", so None itself is
    never returned as the handler.)"""

    def handler(event, context):
        return value(event, context)

    return handler


def _missing(function_name, module_name):
    return RuntimeFailure("Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (function_name, module_name))
