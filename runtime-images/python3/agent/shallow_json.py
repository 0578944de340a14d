"""Reads the top level of a JSON frame that json.loads refused for its depth
(its C decoder recurses up to the interpreter's recursion limit, about 1,000
levels), so the agent can answer the invocation instead of dying with the
connection. Loaded by bootstrap.py only when that happens.
"""

import json
import re

STRUCTURE = re.compile(r'["\[\]{}]')


def shallow_fields(text):
    """The top-level fields of a JSON object without recursing into values:
    each value too deep for json.loads is None, and its key is listed."""
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
            fields[key], i = None, skip_value(text, i)
            too_deep.append(key)
        i = skip_ws(i)
        if text[i] == "}":
            return fields, too_deep
        if text[i] != ",":
            raise ValueError("expected ',' at %d" % i)
        i = skip_ws(i + 1)


def skip_value(text, i):
    """The end of the array or object starting at `i`, found by counting
    brackets outside strings (iteratively, so at any depth)."""
    depth = 0
    while True:
        match = STRUCTURE.search(text, i)
        if match is None:
            raise ValueError("truncated JSON value")
        i = match.end()
        char = match.group()
        if char == '"':
            _, i = json.decoder.scanstring(text, i)
        elif char in "[{":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return i
