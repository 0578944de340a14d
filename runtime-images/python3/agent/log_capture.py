"""Log capture: sys.stdout and sys.stderr (hence print and logging) are
replaced by sinks that write into one capped buffer, which each reply drains.
The real stderr (sys.__stderr__) is left for the agent's own last words."""

import _thread
import io
import os
import sys

# Mirrors LOG_CAP_BYTES in worker/sandbox/agent-protocol.ts.
LOG_CAP_BYTES = 64 * 1024
# Room kept under the cap for the truncation marker, so logs never exceed it.
MARKER_RESERVE_BYTES = 96


def install():
    """Points sys.stdout and sys.stderr at a new LogBuffer and returns it."""
    logs = LogBuffer()
    sys.stdout = _TextSink(logs, "<stdout>")
    sys.stderr = _TextSink(logs, "<stderr>")
    return logs


class LogBuffer:
    """Bytes written since the last drain, kept up to LOG_CAP_BYTES (the total
    is still counted). Thread-safe: function code may log from any thread."""

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
        """Everything captured since the last call, capped at LOG_CAP_BYTES:
        (text, truncated)."""
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
