"""Handler loading: imports `file.function` (with `/` read as `.`) from the
code directory, failing with the Lambda `Runtime.*` type that says why."""

import importlib

from .errors import RuntimeFailure, format_traceback
from .forked_child import run_function_code


def load_handler(handler):
    """The callable `handler` names; raises RuntimeFailure."""
    module_name, dot, function_name = handler.rpartition(".")
    if not dot or not module_name or not function_name:
        raise RuntimeFailure("Runtime.MalformedHandlerName", "Bad handler '%s': expected 'file.function'" % handler)
    module_name = module_name.replace("/", ".")
    try:
        module = run_function_code(importlib.import_module, module_name)
    except SyntaxError as err:
        raise RuntimeFailure(
            "Runtime.UserCodeSyntaxError",
            "Syntax error in module '%s': %s" % (module_name, err),
            format_traceback(err),
        )
    except Exception as err:
        raise RuntimeFailure(
            "Runtime.ImportModuleError",
            "Unable to import module '%s': %s" % (module_name, err),
            format_traceback(err),
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
        raise RuntimeFailure("Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (function_name, module_name))
    if not callable(found):
        raise RuntimeFailure("Runtime.HandlerNotFound", "Handler '%s' on module '%s' is not callable" % (function_name, module_name))
    return found
