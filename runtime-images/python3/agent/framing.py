"""Framing for the agent's one socket: a 4-byte big-endian length, then that
many bytes of UTF-8 JSON (defined in `worker/sandbox/agent-protocol.ts`).
Replies may be written from any thread; one reader thread decodes what the
worker sends."""

import _thread
import json
import os
import re  # json.decoder has loaded it already

# Mirrors MAX_FRAME_BYTES in worker/sandbox/agent-protocol.ts.
MAX_FRAME_BYTES = 16 * 1024 * 1024

_SURROGATE = re.compile("[\ud800-\udfff]")


def frame(body):
    """The frame holding `body` (bytes of UTF-8 JSON)."""
    return len(body).to_bytes(4, "big") + body


def dumps(value):
    """Compact JSON text, non-ASCII kept as is."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class FrameWriter:
    """Sends whole frames on `sock`, one at a time."""

    def __init__(self, sock):
        self._sock = sock
        self._lock = _thread.allocate_lock()

    def send_json(self, text):
        """Sends a JSON text as one frame."""
        try:
            body = text.encode("utf-8")
        except UnicodeEncodeError:
            # Lone surrogates (e.g. from surrogateescape) cannot be UTF-8. json.dumps
            # writes them only inside strings, where a \uXXXX escape means the same;
            # escaping in place (not a loads/dumps round trip) works at any depth.
            body = _SURROGATE.sub(lambda m: "\\u%04x" % ord(m.group()), text).encode("utf-8")
        with self._lock:
            self._sock.sendall(frame(body))


def read_frames(sock, inbox, die):
    """Reader thread: decodes frames from `sock` into `inbox`; exits the
    process when the socket closes, even while a handler is still running,
    and calls `die(message)` (which never returns) on a protocol error."""
    buf = bytearray()
    try:
        while True:
            chunk = sock.recv(262144)
            if not chunk:
                os._exit(0)
            buf += chunk
            while len(buf) >= 4:
                length = int.from_bytes(buf[:4], "big")
                if length > MAX_FRAME_BYTES:
                    die("protocol error: frame of %d bytes exceeds %d" % (length, MAX_FRAME_BYTES))
                if len(buf) < 4 + length:
                    break
                inbox.put(decode_frame(bytes(buf[4 : 4 + length])))
                del buf[: 4 + length]
    except OSError:
        os._exit(0)
    except Exception as err:  # malformed JSON from the worker
        die("protocol error: %r" % (err,))


class TooDeep:
    """Stands for an event json.loads could not decode for its depth (its C
    decoder recurses, up to the interpreter's recursion limit of about 1,000
    levels): the invocation fails with Runtime.UnmarshalError, as on Lambda,
    instead of the reader thread dying with the connection."""

    def __init__(self, reason):
        self.reason = reason


def decode_frame(body):
    """The message in one frame's body; an `invoke` whose event is too deep
    gets a TooDeep in its place. Raises on anything else json.loads refuses."""
    try:
        return json.loads(body)
    except RecursionError as err:
        # Loaded only now: off the cold-start path.
        from . import shallow_json

        fields, too_deep = shallow_json.shallow_fields(body.decode("utf-8"), ("type", "id", "deadlineMs"))
        # The worker's own fields are flat; only the caller's event can nest.
        if fields.get("type") != "invoke" or too_deep not in ([], ["event"]):
            raise ValueError("frame nested too deeply in %r" % (too_deep,))
        # Nothing too deep on its own: the event sat just past the limit only
        # because the frame wraps it one level deeper, and it decoded alone.
        if too_deep:
            fields["event"] = TooDeep(str(err))
        return fields
