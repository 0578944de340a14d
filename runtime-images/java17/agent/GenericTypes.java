package io.hearth.agent;

import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.util.HashMap;
import java.util.Map;

/**
 * The type arguments a class gives a generic interface somewhere up its
 * hierarchy ({@code class H extends Base<Order>} where
 * {@code Base<T> implements RequestHandler<T, Receipt>} gives Order and
 * Receipt), so a RequestHandler's event type is known. A type variable left
 * open resolves to its first bound (Object for a plain {@code <T>}).
 */
final class GenericTypes {
    private GenericTypes() {
    }

    /** The arguments {@code type} gives {@code iface}, or null if it implements it raw. */
    static Type[] arguments(Class<?> type, Class<?> iface) {
        return visit(type, new HashMap<>(), iface);
    }

    static boolean isVoid(Type type) {
        return type == void.class || type == Void.class;
    }

    private static Type[] visit(Type type, Map<TypeVariable<?>, Type> bindings, Class<?> iface) {
        Class<?> raw;
        Map<TypeVariable<?>, Type> inner = new HashMap<>();
        if (type instanceof ParameterizedType) {
            ParameterizedType p = (ParameterizedType) type;
            raw = (Class<?>) p.getRawType();
            Type[] args = p.getActualTypeArguments();
            for (int i = 0; i < args.length; i++) args[i] = resolve(args[i], bindings);
            if (raw == iface) return args;
            TypeVariable<?>[] params = raw.getTypeParameters();
            for (int i = 0; i < params.length && i < args.length; i++) inner.put(params[i], args[i]);
        } else if (type instanceof Class) {
            raw = (Class<?>) type;
            if (raw == iface) return null;
        } else {
            return null;
        }
        if (!iface.isAssignableFrom(raw)) return null;
        for (Type parent : raw.getGenericInterfaces()) {
            if (parent instanceof Class ? iface.isAssignableFrom((Class<?>) parent)
                    : iface.isAssignableFrom((Class<?>) ((ParameterizedType) parent).getRawType())) {
                return visit(parent, inner, iface);
            }
        }
        Type parent = raw.getGenericSuperclass();
        return parent == null ? null : visit(parent, inner, iface);
    }

    private static Type resolve(Type arg, Map<TypeVariable<?>, Type> bindings) {
        Type seen = arg;
        while (seen instanceof TypeVariable && bindings.containsKey(seen)) seen = bindings.get(seen);
        if (seen instanceof TypeVariable) {
            Type[] bounds = ((TypeVariable<?>) seen).getBounds();
            return bounds.length > 0 ? bounds[0] : Object.class;
        }
        return seen;
    }
}
