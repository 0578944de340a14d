"""Reads the top level of a JSON frame that json.loads refused for its depth
(its C decoder recurses up to the interpreter's recursion limit, about 1,000
levels), so the agent can answer the invocation instead of dying with the
connection. Loaded by bootstrap.py only when that happens.
"""

import json
import re

STRUCTURE = re.compile(r'[\[\]{}]')


def shallow_fields(text, enough=()):
    """The top-level fields of a JSON object without recursing into values:
    each value too deep for json.loads is None, and its key is listed. Once
    a value is too deep and every key in `enough` has been read, the rest is
    not read at all (the worker writes the event last, so its own fields are
    all in hand by then and the event need not even be skipped)."""
    decoder = json.JSONDecoder()
    fields, too_deep = {}, []

    def skip_ws(i):
        while i < len(text) and text[i] in " \t\n\r":
            i += 1
        if i >= len(text):
            raise ValueError("truncated JSON object")
        return i

    i = skip_ws(0)
    if text[i] != "{":
        raise ValueError("frame is not a JSON object")
    i = skip_ws(i + 1)
    if text[i] == "}":
        return fields, too_deep
    while True:
        if text[i] != '"':
            raise ValueError("expected a key at %d" % i)
        key, i = json.decoder.scanstring(text, i + 1)
        i = skip_ws(i)
        if text[i] != ":":
            raise ValueError("expected ':' at %d" % i)
        i = skip_ws(i + 1)
        try:
            fields[key], i = decoder.raw_decode(text, i)
        except RecursionError:
            fields[key] = None
            too_deep.append(key)
            if enough and all(k in fields for k in enough):
                return fields, too_deep
            i = skip_value(text, i)
        i = skip_ws(i)
        if text[i] == "}":
            return fields, too_deep
        if text[i] != ",":
            raise ValueError("expected ',' at %d" % i)
        i = skip_ws(i + 1)


def skip_value(text, i):
    """The end of the array or object starting at `i`, found by counting
    brackets outside strings, iteratively (so at any depth). Runs of text
    without strings are counted with str.count a block at a time, and only a
    block in which the depth could reach zero is walked character by character,
    so a 6 MB event costs milliseconds, not seconds."""
    depth = 0
    while True:
        quote = text.find('"', i)
        end = len(text) if quote < 0 else quote
        depth, done = _count_brackets(text, i, end, depth)
        if done is not None:
            return done
        if quote < 0:
            raise ValueError("truncated JSON value")
        _, i = json.decoder.scanstring(text, quote + 1)


BLOCK = 65536


def _count_brackets(text, start, end, depth):
    """Brackets in text[start:end] (no strings in it): the new depth, and the
    index just past the bracket that closes the value, if it is in there."""
    for block in range(start, end, BLOCK):
        stop = min(block + BLOCK, end)
        closes = text.count("]", block, stop) + text.count("}", block, stop)
        if depth - closes > 0:
            depth += text.count("[", block, stop) + text.count("{", block, stop) - closes
            continue
        for match in STRUCTURE.finditer(text, block, stop):
            depth += 1 if match.group() in "[{" else -1
            if depth == 0:
                return depth, match.end()
    return depth, None
