package io.hearth.agent;

import java.lang.reflect.Array;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.lang.reflect.WildcardType;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A parsed JSON value (see JsonReader) as the type a handler declares, the
 * way Lambda's Java serializer (Jackson as aws-lambda-java-serialization
 * configures it) reads an event, for the types this runtime supports:
 * Object (the value as parsed: Map, List, String, Integer/Long/BigInteger,
 * Double, Boolean, null); String (a number or boolean becomes its text);
 * the primitive and boxed numbers, BigDecimal, BigInteger, boolean, char
 * (a numeric string is accepted); enums by name (an unknown name is null);
 * Map, List, Set, Collection and arrays of any of these, with their type
 * arguments (a lone value where an array is expected becomes one element;
 * byte[] reads base64); records by component name; and POJOs with a no-arg
 * constructor, filled through setters {@code setX} or public fields, names
 * matched exactly, unknown properties ignored, an empty string read as null.
 */
final class InputBinding {
    /** Thrown when the value does not fit the type. */
    static final class BindingException extends Exception {
        BindingException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private static final Map<Class<?>, Map<String, Setter>> SETTERS = new ConcurrentHashMap<>();

    private InputBinding() {
    }

    /** {@code json} as {@code type}; {@code null} or Object means the value as parsed. */
    static Object bind(Object json, Type type) throws BindingException {
        return bind(json, type, "$");
    }

    private static Object bind(Object json, Type type, String path) throws BindingException {
        if (type == null || type == Object.class || type instanceof java.lang.reflect.TypeVariable) return json;
        if (type instanceof WildcardType) return bind(json, ((WildcardType) type).getUpperBounds()[0], path);
        if (type instanceof GenericArrayType) return array(json, ((GenericArrayType) type).getGenericComponentType(), path);
        Class<?> raw;
        Type[] args = null;
        if (type instanceof ParameterizedType) {
            raw = (Class<?>) ((ParameterizedType) type).getRawType();
            args = ((ParameterizedType) type).getActualTypeArguments();
        } else if (type instanceof Class) {
            raw = (Class<?>) type;
        } else {
            throw new BindingException("unsupported type " + type + " at " + path, null);
        }
        if (json == null) return raw.isPrimitive() ? primitiveDefault(raw) : null;
        if (Map.class.isAssignableFrom(raw)) return map(json, raw, args, path);
        if (Collection.class.isAssignableFrom(raw) || raw == Iterable.class) return collection(json, raw, args, path);
        if (raw.isArray()) return array(json, raw.getComponentType(), path);
        Object scalar = scalar(json, raw, path);
        if (scalar != NOT_SCALAR) return scalar;
        if (raw.getModule().isNamed()) throw new BindingException("cannot read JSON into " + raw.getName() + " at " + path, null);
        if ("".equals(json)) return null; // Jackson's ACCEPT_EMPTY_STRING_AS_NULL_OBJECT
        if (!(json instanceof Map)) throw mismatch(json, raw, path);
        return raw.isRecord() ? record((Map<?, ?>) json, raw, path) : pojo((Map<?, ?>) json, raw, path);
    }

    private static final Object NOT_SCALAR = new Object();

    private static Object scalar(Object json, Class<?> raw, String path) throws BindingException {
        Class<?> t = raw.isPrimitive() ? boxed(raw) : raw;
        try {
            if (t == String.class || t == CharSequence.class) {
                if (json instanceof String) return json;
                if (json instanceof Number || json instanceof Boolean) return json.toString();
                throw mismatch(json, raw, path);
            }
            if (t == Boolean.class) {
                if (json instanceof Boolean) return json;
                if ("true".equals(json) || "false".equals(json)) return Boolean.valueOf((String) json);
                throw mismatch(json, raw, path);
            }
            if (t == Character.class) {
                if (json instanceof String && ((String) json).length() == 1) return ((String) json).charAt(0);
                throw mismatch(json, raw, path);
            }
            if (Number.class.isAssignableFrom(t)) {
                BigDecimal n;
                if (json instanceof Number) n = new BigDecimal(json.toString());
                else if (json instanceof String) n = new BigDecimal(((String) json).trim());
                else throw mismatch(json, raw, path);
                if (t == Integer.class) return n.intValue();
                if (t == Long.class) return n.longValue();
                if (t == Short.class) return n.shortValue();
                if (t == Byte.class) return n.byteValue();
                if (t == Double.class) return json instanceof Double ? json : n.doubleValue();
                if (t == Float.class) return n.floatValue();
                if (t == BigDecimal.class) return n;
                if (t == BigInteger.class) return n.toBigInteger();
                if (t == Number.class) return json instanceof Number ? json : n;
                throw mismatch(json, raw, path);
            }
        } catch (NumberFormatException e) {
            throw new BindingException("not a number at " + path + ": " + json, e);
        }
        if (t.isEnum()) {
            if (!(json instanceof String)) throw mismatch(json, raw, path);
            for (Object constant : t.getEnumConstants()) {
                if (((Enum<?>) constant).name().equals(json)) return constant;
            }
            return null; // READ_UNKNOWN_ENUM_VALUES_AS_NULL
        }
        return NOT_SCALAR;
    }

    private static Object map(Object json, Class<?> raw, Type[] args, String path) throws BindingException {
        if (!(json instanceof Map)) throw mismatch(json, raw, path);
        Type keyType = args != null ? args[0] : String.class;
        Type valueType = args != null ? args[1] : null;
        @SuppressWarnings("unchecked")
        Map<Object, Object> out = (Map<Object, Object>) instantiate(raw, path, () -> {
            if (raw.isAssignableFrom(LinkedHashMap.class)) return new LinkedHashMap<>();
            if (raw.isAssignableFrom(TreeMap.class) || raw == SortedMap.class) return new TreeMap<>();
            if (raw.isAssignableFrom(ConcurrentHashMap.class)) return new ConcurrentHashMap<>();
            return null;
        });
        for (Map.Entry<?, ?> entry : ((Map<?, ?>) json).entrySet()) {
            String key = (String) entry.getKey();
            out.put(bind(key, keyType, path), bind(entry.getValue(), valueType, path + "." + key));
        }
        return out;
    }

    private static Object collection(Object json, Class<?> raw, Type[] args, String path) throws BindingException {
        Type itemType = args != null ? args[0] : null;
        List<?> items = json instanceof List ? (List<?>) json : List.of(json); // ACCEPT_SINGLE_VALUE_AS_ARRAY
        @SuppressWarnings("unchecked")
        Collection<Object> out = (Collection<Object>) instantiate(raw, path, () -> {
            if (raw.isAssignableFrom(ArrayList.class)) return new ArrayList<>();
            if (raw.isAssignableFrom(LinkedHashSet.class)) return new LinkedHashSet<>();
            if (raw.isAssignableFrom(TreeSet.class) || raw == SortedSet.class) return new TreeSet<>();
            return null;
        });
        for (int i = 0; i < items.size(); i++) out.add(bind(items.get(i), itemType, path + "[" + i + "]"));
        return out;
    }

    private static Object array(Object json, Type component, String path) throws BindingException {
        Class<?> rawComponent = component instanceof Class ? (Class<?>) component
                : component instanceof ParameterizedType ? (Class<?>) ((ParameterizedType) component).getRawType() : Object.class;
        if (rawComponent == byte.class && json instanceof String) {
            try {
                return Base64.getDecoder().decode((String) json);
            } catch (IllegalArgumentException e) {
                throw new BindingException("not base64 at " + path, e);
            }
        }
        List<?> items = json instanceof List ? (List<?>) json : List.of(json);
        Object out = Array.newInstance(rawComponent, items.size());
        for (int i = 0; i < items.size(); i++) Array.set(out, i, bind(items.get(i), component, path + "[" + i + "]"));
        return out;
    }

    private static Object record(Map<?, ?> json, Class<?> raw, String path) throws BindingException {
        RecordComponent[] components = raw.getRecordComponents();
        Class<?>[] types = new Class<?>[components.length];
        Object[] values = new Object[components.length];
        for (int i = 0; i < components.length; i++) {
            types[i] = components[i].getType();
            String name = components[i].getName();
            values[i] = bind(json.get(name), components[i].getGenericType(), path + "." + name);
        }
        try {
            Constructor<?> constructor = raw.getDeclaredConstructor(types);
            constructor.setAccessible(true);
            return constructor.newInstance(values);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new BindingException("cannot construct " + raw.getName() + " at " + path, e instanceof java.lang.reflect.InvocationTargetException ? e.getCause() : e);
        }
    }

    private static Object pojo(Map<?, ?> json, Class<?> raw, String path) throws BindingException {
        Object target = instantiate(raw, path, () -> null);
        Map<String, Setter> setters = SETTERS.computeIfAbsent(raw, InputBinding::discoverSetters);
        for (Map.Entry<?, ?> entry : json.entrySet()) {
            Setter setter = setters.get((String) entry.getKey());
            if (setter == null) continue; // FAIL_ON_UNKNOWN_PROPERTIES is off
            String where = path + "." + entry.getKey();
            Object value = bind(entry.getValue(), setter.type, where);
            try {
                if (setter.method != null) setter.method.invoke(target, value);
                else setter.field.set(target, value);
            } catch (ReflectiveOperationException | RuntimeException e) {
                Throwable cause = e instanceof java.lang.reflect.InvocationTargetException ? e.getCause() : e;
                throw new BindingException("cannot set " + where + " on " + raw.getName() + ": " + cause, cause);
            }
        }
        return target;
    }

    /** How a POJO property is written: a setter, else a public field. */
    private static final class Setter {
        final Method method;
        final Field field;
        final Type type;

        Setter(Method method, Field field, Type type) {
            this.method = method;
            this.field = field;
            this.type = type;
        }
    }

    private static Map<String, Setter> discoverSetters(Class<?> raw) {
        Map<String, Setter> setters = new HashMap<>();
        for (Field field : raw.getFields()) {
            int mods = field.getModifiers();
            if (Modifier.isStatic(mods) || Modifier.isFinal(mods) || Modifier.isTransient(mods)) continue;
            field.trySetAccessible();
            setters.put(field.getName(), new Setter(null, field, field.getGenericType()));
        }
        for (Method method : raw.getMethods()) {
            String name = method.getName();
            if (Modifier.isStatic(method.getModifiers()) || method.getParameterCount() != 1 || method.isBridge()) continue;
            if (!name.startsWith("set") || name.length() <= 3) continue;
            method.trySetAccessible();
            setters.put(JsonWriter.decapitalize(name.substring(3)), new Setter(method, null, method.getGenericParameterTypes()[0]));
        }
        return setters;
    }

    private interface Fallback {
        Object create();
    }

    /** A new instance of {@code raw}: its no-arg constructor, else (an interface) the fallback's. */
    private static Object instantiate(Class<?> raw, String path, Fallback fallback) throws BindingException {
        if (raw.isInterface() || Modifier.isAbstract(raw.getModifiers())) {
            Object made = fallback.create();
            if (made == null) throw new BindingException("cannot instantiate " + raw.getName() + " at " + path, null);
            return made;
        }
        try {
            Constructor<?> constructor = raw.getDeclaredConstructor();
            constructor.setAccessible(true);
            return constructor.newInstance();
        } catch (NoSuchMethodException e) {
            String why = raw.getEnclosingClass() != null && !Modifier.isStatic(raw.getModifiers())
                    ? " is a non-static inner class" : " has no no-arg constructor";
            throw new BindingException(raw.getName() + why + " (at " + path + ")", e);
        } catch (ReflectiveOperationException | RuntimeException e) {
            Throwable cause = e instanceof java.lang.reflect.InvocationTargetException ? e.getCause() : e;
            throw new BindingException("constructing " + raw.getName() + " at " + path + " threw " + cause, cause);
        }
    }

    private static BindingException mismatch(Object json, Class<?> raw, String path) {
        String kind = json instanceof Map ? "an object" : json instanceof List ? "an array" : json instanceof String ? "a string"
                : json instanceof Boolean ? "a boolean" : "a number";
        return new BindingException("cannot read " + kind + " as " + raw.getName() + " at " + path, null);
    }

    private static Class<?> boxed(Class<?> primitive) {
        if (primitive == int.class) return Integer.class;
        if (primitive == long.class) return Long.class;
        if (primitive == double.class) return Double.class;
        if (primitive == boolean.class) return Boolean.class;
        if (primitive == float.class) return Float.class;
        if (primitive == short.class) return Short.class;
        if (primitive == byte.class) return Byte.class;
        if (primitive == char.class) return Character.class;
        return Void.class;
    }

    private static Object primitiveDefault(Class<?> primitive) {
        return Array.get(Array.newInstance(primitive, 1), 0);
    }
}
