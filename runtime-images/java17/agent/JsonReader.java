package io.hearth.agent;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict JSON reader (RFC 8259) with no dependencies. {@link #parse} builds
 * LinkedHashMap / ArrayList / String / Integer|Long|BigInteger / Double /
 * Boolean / null, as Jackson does for an untyped value, and refuses nesting
 * deeper than its limit instead of overflowing the stack. {@link #scan}
 * checks one value without building anything and without recursion, so an
 * event of any depth can still be handed on as raw text.
 */
final class JsonReader {
    /** Thrown for text that is not JSON (or nests deeper than allowed). */
    static final class JsonException extends Exception {
        JsonException(String message) {
            super(message);
        }
    }

    /** A value kept as its JSON text (the invoke message's event). */
    static final class RawJson {
        final String text;

        RawJson(String text) {
            this.text = text;
        }
    }

    private final String s;
    private final int maxDepth;
    private int pos;

    private JsonReader(String s, int maxDepth) {
        this.s = s;
        this.maxDepth = maxDepth;
    }

    /** The whole text as one value. */
    static Object parse(String text, int maxDepth) throws JsonException {
        JsonReader reader = new JsonReader(text, maxDepth);
        reader.skipSpace();
        Object value = reader.value(0);
        reader.skipSpace();
        if (reader.pos != text.length()) throw reader.fail("unexpected text after the value");
        return value;
    }

    /**
     * A worker message: an object whose {@code event} member, at any depth
     * of its own, is kept as {@link RawJson}; every other member is parsed.
     */
    static Map<String, Object> parseMessage(String text) throws JsonException {
        JsonReader reader = new JsonReader(text, 64);
        reader.skipSpace();
        reader.expect('{');
        Map<String, Object> message = new LinkedHashMap<>();
        reader.skipSpace();
        if (reader.peek() == '}') {
            reader.pos++;
        } else {
            for (;;) {
                reader.skipSpace();
                String key = reader.string();
                reader.skipSpace();
                reader.expect(':');
                reader.skipSpace();
                if (key.equals("event")) {
                    int start = reader.pos;
                    reader.pos = scan(text, start);
                    message.put(key, new RawJson(text.substring(start, reader.pos)));
                } else {
                    message.put(key, reader.value(1));
                }
                reader.skipSpace();
                char c = reader.next();
                if (c == '}') break;
                if (c != ',') throw reader.fail("expected , or }");
            }
        }
        reader.skipSpace();
        if (reader.pos != text.length()) throw reader.fail("unexpected text after the message");
        return message;
    }

    /** Whether {@code text} is exactly one JSON value (surrounding whitespace allowed). */
    static boolean isJson(String text) {
        try {
            JsonReader reader = new JsonReader(text, 0);
            reader.skipSpace();
            reader.pos = scan(text, reader.pos);
            reader.skipSpace();
            return reader.pos == text.length();
        } catch (JsonException e) {
            return false;
        }
    }

    /**
     * Checks the value starting at {@code start} and returns where it ends.
     * Iterative: a stack of open containers, as a bit per level (object or array).
     */
    static int scan(String text, int start) throws JsonException {
        JsonReader r = new JsonReader(text, 0);
        r.pos = start;
        long[] kinds = new long[4];
        int depth = 0;
        for (;;) {
            r.skipSpace();
            char c = r.peek();
            boolean opened = false;
            if (c == '{' || c == '[') {
                r.pos++;
                if (depth / 64 >= kinds.length) kinds = java.util.Arrays.copyOf(kinds, kinds.length * 2);
                if (c == '{') kinds[depth / 64] |= 1L << (depth % 64);
                else kinds[depth / 64] &= ~(1L << (depth % 64));
                depth++;
                r.skipSpace();
                char close = c == '{' ? '}' : ']';
                if (r.peek() == close) {
                    r.pos++;
                    depth--;
                } else {
                    opened = true;
                    if (c == '{') r.memberName();
                }
            } else {
                r.scalar();
            }
            if (opened) continue;
            // After a value: close containers or move to the next element.
            for (;;) {
                if (depth == 0) return r.pos;
                boolean object = (kinds[(depth - 1) / 64] & (1L << ((depth - 1) % 64))) != 0;
                r.skipSpace();
                char n = r.next();
                if (n == ',') {
                    if (object) r.memberName();
                    break;
                }
                if (n == (object ? '}' : ']')) {
                    depth--;
                    continue;
                }
                throw r.fail(object ? "expected , or }" : "expected , or ]");
            }
        }
    }

    private void memberName() throws JsonException {
        skipSpace();
        string();
        skipSpace();
        expect(':');
    }

    private void scalar() throws JsonException {
        char c = peek();
        if (c == '"') string();
        else if (c == 't') literal("true");
        else if (c == 'f') literal("false");
        else if (c == 'n') literal("null");
        else number();
    }

    private Object value(int depth) throws JsonException {
        char c = peek();
        if (c == '{' || c == '[') {
            if (depth >= maxDepth) throw fail("nesting deeper than " + maxDepth + " levels");
            return c == '{' ? object(depth + 1) : array(depth + 1);
        }
        if (c == '"') return string();
        if (c == 't') {
            literal("true");
            return Boolean.TRUE;
        }
        if (c == 'f') {
            literal("false");
            return Boolean.FALSE;
        }
        if (c == 'n') {
            literal("null");
            return null;
        }
        return number();
    }

    private Map<String, Object> object(int depth) throws JsonException {
        pos++;
        Map<String, Object> map = new LinkedHashMap<>();
        skipSpace();
        if (peek() == '}') {
            pos++;
            return map;
        }
        for (;;) {
            skipSpace();
            String key = string();
            skipSpace();
            expect(':');
            skipSpace();
            map.put(key, value(depth));
            skipSpace();
            char c = next();
            if (c == '}') return map;
            if (c != ',') throw fail("expected , or }");
        }
    }

    private List<Object> array(int depth) throws JsonException {
        pos++;
        List<Object> list = new ArrayList<>();
        skipSpace();
        if (peek() == ']') {
            pos++;
            return list;
        }
        for (;;) {
            skipSpace();
            list.add(value(depth));
            skipSpace();
            char c = next();
            if (c == ']') return list;
            if (c != ',') throw fail("expected , or ]");
        }
    }

    private String string() throws JsonException {
        expect('"');
        int start = pos;
        // Fast path: no escapes.
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c == '"') return s.substring(start, pos++);
            if (c == '\\') break;
            if (c < 0x20) throw fail("control character in a string");
            pos++;
        }
        StringBuilder out = new StringBuilder(s.substring(start, pos));
        for (;;) {
            if (pos >= s.length()) throw fail("unterminated string");
            char c = s.charAt(pos++);
            if (c == '"') return out.toString();
            if (c < 0x20) throw fail("control character in a string");
            if (c != '\\') {
                out.append(c);
                continue;
            }
            if (pos >= s.length()) throw fail("unterminated string");
            char e = s.charAt(pos++);
            switch (e) {
                case '"': out.append('"'); break;
                case '\\': out.append('\\'); break;
                case '/': out.append('/'); break;
                case 'b': out.append('\b'); break;
                case 'f': out.append('\f'); break;
                case 'n': out.append('\n'); break;
                case 'r': out.append('\r'); break;
                case 't': out.append('\t'); break;
                case 'u':
                    if (pos + 4 > s.length()) throw fail("bad \\u escape");
                    int code = 0;
                    for (int i = 0; i < 4; i++) {
                        int digit = Character.digit(s.charAt(pos++), 16);
                        if (digit < 0) throw fail("bad \\u escape");
                        code = code * 16 + digit;
                    }
                    out.append((char) code);
                    break;
                default:
                    throw fail("bad escape \\" + e);
            }
        }
    }

    private Object number() throws JsonException {
        int start = pos;
        if (peek() == '-') pos++;
        if (peek() == '0') pos++;
        else if (!digits()) throw fail("unexpected character");
        boolean integral = true;
        if (pos < s.length() && s.charAt(pos) == '.') {
            integral = false;
            pos++;
            if (!digits()) throw fail("digits expected after .");
        }
        if (pos < s.length() && (s.charAt(pos) == 'e' || s.charAt(pos) == 'E')) {
            integral = false;
            pos++;
            if (pos < s.length() && (s.charAt(pos) == '+' || s.charAt(pos) == '-')) pos++;
            if (!digits()) throw fail("digits expected in the exponent");
        }
        String text = s.substring(start, pos);
        if (!integral) return Double.valueOf(text);
        if (text.length() < 10) return Integer.valueOf(text);
        BigInteger big = new BigInteger(text);
        if (big.bitLength() < 32) return big.intValue();
        if (big.bitLength() < 64) return big.longValue();
        return big;
    }

    private boolean digits() {
        int start = pos;
        while (pos < s.length() && s.charAt(pos) >= '0' && s.charAt(pos) <= '9') pos++;
        return pos > start;
    }

    private void literal(String word) throws JsonException {
        if (!s.startsWith(word, pos)) throw fail("unexpected character");
        pos += word.length();
    }

    private void skipSpace() {
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
            pos++;
        }
    }

    private char peek() throws JsonException {
        if (pos >= s.length()) throw fail("unexpected end of text");
        return s.charAt(pos);
    }

    private char next() throws JsonException {
        char c = peek();
        pos++;
        return c;
    }

    private void expect(char c) throws JsonException {
        if (peek() != c) throw fail("expected " + c);
        pos++;
    }

    private JsonException fail(String why) {
        return new JsonException(why + " at position " + pos);
    }
}
