package io.hearth.agent;

import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Java values as JSON text, the way Lambda's Java serializer (Jackson,
 * configured by aws-lambda-java-serialization) writes a handler's result:
 * Map as an object, Collection and arrays as arrays (byte[] as base64),
 * numbers, booleans, CharSequence/char/enum as strings, Optional as its
 * value, a POJO or record as an object of its properties (public getters
 * {@code getX}/{@code isX}, public fields; null properties left out).
 * JDK types with no JSON shape of their own (UUID, java.time, URI, ...)
 * are written as their {@code toString()}, {@code java.util.Date} as epoch
 * milliseconds. A cycle, or nesting past {@link #MAX_DEPTH}, is an error.
 */
final class JsonWriter {
    /** Deepest nesting a result may have (a self-reference would otherwise never end). */
    static final int MAX_DEPTH = 1000;

    /** Thrown for a value that cannot be written as JSON. */
    static final class UnwritableException extends RuntimeException {
        UnwritableException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private static final Map<Class<?>, List<Property>> PROPERTIES = new ConcurrentHashMap<>();

    private final StringBuilder out;
    private final Set<Object> open = Collections.newSetFromMap(new IdentityHashMap<>());

    private JsonWriter(StringBuilder out) {
        this.out = out;
    }

    /** {@code value} as JSON text. */
    static String write(Object value) {
        StringBuilder out = new StringBuilder();
        new JsonWriter(out).value(value, 0);
        return out.toString();
    }

    /** Appends {@code text} as a JSON string literal. */
    static StringBuilder quote(StringBuilder out, String text) {
        out.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"': out.append("\\\""); break;
                case '\\': out.append("\\\\"); break;
                case '\n': out.append("\\n"); break;
                case '\r': out.append("\\r"); break;
                case '\t': out.append("\\t"); break;
                default:
                    if (c < 0x20) {
                        unicode(out, c);
                    } else if (Character.isSurrogate(c)) {
                        // A pair stays as is; a lone half is escaped (UTF-8 cannot carry it).
                        boolean paired = Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1));
                        if (paired) {
                            out.append(c).append(text.charAt(++i));
                        } else {
                            unicode(out, c);
                        }
                    } else {
                        out.append(c);
                    }
            }
        }
        return out.append('"');
    }

    static String quote(String text) {
        return quote(new StringBuilder(text.length() + 2), text).toString();
    }

    private static void unicode(StringBuilder out, char c) {
        out.append("\\u");
        String hex = Integer.toHexString(c);
        for (int i = hex.length(); i < 4; i++) out.append('0');
        out.append(hex);
    }

    private void value(Object value, int depth) {
        if (value == null) {
            out.append("null");
        } else if (value instanceof String) {
            quote(out, (String) value);
        } else if (value instanceof Boolean) {
            out.append(value.toString());
        } else if (value instanceof Number) {
            number((Number) value);
        } else if (value instanceof Character || value instanceof CharSequence) {
            quote(out, value.toString());
        } else if (value instanceof Enum) {
            quote(out, ((Enum<?>) value).name());
        } else if (value instanceof Optional) {
            value(((Optional<?>) value).orElse(null), depth);
        } else if (value instanceof java.util.Date) {
            out.append(((java.util.Date) value).getTime());
        } else if (value instanceof byte[]) {
            quote(out, Base64.getEncoder().encodeToString((byte[]) value));
        } else {
            if (depth >= MAX_DEPTH) throw new UnwritableException("the result nests deeper than " + MAX_DEPTH + " levels", null);
            if (!open.add(value)) throw new UnwritableException("the result refers to itself (a " + value.getClass().getName() + ")", null);
            try {
                container(value, depth + 1);
            } finally {
                open.remove(value);
            }
        }
    }

    private void container(Object value, int depth) {
        if (value instanceof Map) {
            out.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
                if (!first) out.append(',');
                first = false;
                quote(out, String.valueOf(entry.getKey())).append(':');
                value(entry.getValue(), depth);
            }
            out.append('}');
        } else if (value instanceof Iterable) {
            out.append('[');
            boolean first = true;
            for (Object item : (Iterable<?>) value) {
                if (!first) out.append(',');
                first = false;
                value(item, depth);
            }
            out.append(']');
        } else if (value.getClass().isArray()) {
            out.append('[');
            for (int i = 0, n = Array.getLength(value); i < n; i++) {
                if (i > 0) out.append(',');
                value(Array.get(value, i), depth);
            }
            out.append(']');
        } else if (value.getClass().getModule().isNamed()) {
            // A JDK type with no JSON shape of its own: UUID, java.time, URI, Path, ...
            quote(out, value.toString());
        } else {
            out.append('{');
            boolean first = true;
            for (Property property : properties(value.getClass())) {
                Object v = property.read(value);
                if (v == null) continue; // Lambda's serializer: Include.NON_NULL
                if (!first) out.append(',');
                first = false;
                quote(out, property.name).append(':');
                value(v, depth);
            }
            out.append('}');
        }
    }

    private void number(Number n) {
        if (n instanceof Double || n instanceof Float) {
            double d = n.doubleValue();
            // Jackson's WRITE_NAN_AS_STRINGS: "NaN", "Infinity", "-Infinity".
            if (Double.isNaN(d) || Double.isInfinite(d)) quote(out, n.toString());
            else out.append(n.toString());
        } else if (n instanceof java.math.BigDecimal) {
            out.append(((java.math.BigDecimal) n).toString());
        } else {
            String text = n.toString();
            if (text.matches("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?")) out.append(text);
            else quote(out, text);
        }
    }

    /** One property of a POJO: its JSON name and how to read it. */
    private static final class Property {
        final String name;
        final Method getter;
        final Field field;

        Property(String name, Method getter, Field field) {
            this.name = name;
            this.getter = getter;
            this.field = field;
        }

        Object read(Object target) {
            try {
                return getter != null ? getter.invoke(target) : field.get(target);
            } catch (java.lang.reflect.InvocationTargetException e) {
                Throwable cause = e.getCause() == null ? e : e.getCause();
                throw new UnwritableException("reading property " + name + " threw " + cause, cause);
            } catch (IllegalAccessException e) {
                throw new UnwritableException("cannot read property " + name + ": " + e.getMessage(), e);
            }
        }
    }

    private static List<Property> properties(Class<?> type) {
        return PROPERTIES.computeIfAbsent(type, JsonWriter::discover);
    }

    /** Fields first (declaration order, a getter of the same name reads them), then getter-only names (sorted). */
    private static List<Property> discover(Class<?> type) {
        Map<String, Property> found = new LinkedHashMap<>();
        if (type.isRecord()) {
            for (RecordComponent component : type.getRecordComponents()) {
                Method accessor = component.getAccessor();
                accessor.setAccessible(true);
                found.put(component.getName(), new Property(component.getName(), accessor, null));
            }
            return new ArrayList<>(found.values());
        }
        for (Field field : type.getFields()) {
            int mods = field.getModifiers();
            if (Modifier.isStatic(mods) || Modifier.isTransient(mods)) continue;
            trySetAccessible(field);
            found.put(field.getName(), new Property(field.getName(), null, field));
        }
        Map<String, Method> getters = new java.util.TreeMap<>();
        for (Method method : type.getMethods()) {
            if (Modifier.isStatic(method.getModifiers()) || method.getParameterCount() != 0 || method.isBridge()) continue;
            String name = method.getName();
            String property = null;
            if (name.startsWith("get") && name.length() > 3 && method.getReturnType() != void.class && !name.equals("getClass")) {
                property = decapitalize(name.substring(3));
            } else if (name.startsWith("is") && name.length() > 2 && method.getReturnType() == boolean.class) {
                property = decapitalize(name.substring(2));
            }
            if (property != null) getters.putIfAbsent(property, method);
        }
        for (Map.Entry<String, Method> entry : getters.entrySet()) {
            trySetAccessible(entry.getValue());
            found.put(entry.getKey(), new Property(entry.getKey(), entry.getValue(), null));
        }
        return new ArrayList<>(found.values());
    }

    private static void trySetAccessible(java.lang.reflect.AccessibleObject member) {
        try {
            member.trySetAccessible();
        } catch (SecurityException ignored) {
            // Public members of public classes are readable regardless.
        }
    }

    /** java.beans' rule (Jackson's USE_STD_BEAN_NAMING): "URL" stays "URL", "Name" becomes "name". */
    static String decapitalize(String name) {
        if (name.length() > 1 && Character.isUpperCase(name.charAt(0)) && Character.isUpperCase(name.charAt(1))) return name;
        return Character.toLowerCase(name.charAt(0)) + name.substring(1);
    }
}
