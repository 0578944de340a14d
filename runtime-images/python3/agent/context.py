"""The function's identity and what it sees of it: `init` sets the identity
and the Lambda environment variables once; each invocation gets a
LambdaContext built from them."""

import os
import sys
import time


class _Function:
    """Who the function is: set by apply_init, read by every LambdaContext."""

    name = ""
    version = ""
    memory_mb = 0
    log_stream = ""


def apply_init(msg):
    """Applies `init`: the function's env, then the reserved names, then its
    code directory as cwd and first on sys.path."""
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
