package io.hearth.agent;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A handler string to a callable handler, as Lambda's Java runtime reads it:
 * {@code package.Class::method}, or {@code package.Class} for a class that
 * implements RequestStreamHandler or RequestHandler. A method is chosen
 * among the class's public methods of that name, preferring non-bridge
 * methods and longer signatures (a trailing Context counting one more), from
 * these: {@code (I, Context)}, {@code (I)}, {@code (Context)}, {@code ()},
 * {@code (InputStream, OutputStream, Context)}, {@code (InputStream,
 * OutputStream)}, {@code (InputStream[, Context])}, {@code (OutputStream[,
 * Context])}. A static method is called as is; otherwise the class is
 * instantiated once, through its public no-arg constructor.
 *
 * Failures, as {@link LoadFailure}: a class that cannot be found is
 * {@code java.lang.ClassNotFoundException} ("Class not found: X"); one whose
 * loading or static initialiser fails is that error ("Error loading class
 * X"); no usable method, interface or constructor is
 * {@code Runtime.HandlerNotFound}; a handler without a class name is
 * {@code Runtime.MalformedHandlerName}. A constructor that throws is an init
 * error of the exception it threw.
 */
final class HandlerLoading {
    /** Why init failed, as the reply's error type and message (the cause, if any, gives the stack). */
    static final class LoadFailure extends Exception {
        final String type;

        LoadFailure(String type, String message, Throwable cause) {
            super(message, cause);
            this.type = type;
        }
    }

    private HandlerLoading() {
    }

    static FunctionHandler load(String handler, ClassLoader loader) throws Throwable {
        int colons = handler.lastIndexOf("::");
        String className = colons < 0 ? handler : handler.substring(0, colons);
        String methodName = colons < 0 ? null : handler.substring(colons + 2);
        if (className.isEmpty() || (methodName != null && methodName.isEmpty())) {
            throw new LoadFailure("Runtime.MalformedHandlerName", "Invalid handler: `" + handler + "'", null);
        }
        Class<?> type;
        try {
            type = Class.forName(className, true, loader);
        } catch (ClassNotFoundException e) {
            throw new LoadFailure(e.getClass().getName(), "Class not found: " + className, e);
        } catch (Throwable e) {
            // NoClassDefFoundError, ExceptionInInitializerError (a static initialiser threw), ...
            throw new LoadFailure(e.getClass().getName(), "Error loading class " + className + (e.getMessage() == null ? "" : ": " + e.getMessage()), e);
        }
        return methodName == null ? byInterface(type) : byMethod(type, methodName);
    }

    private static FunctionHandler byInterface(Class<?> type) throws Throwable {
        if (RequestStreamHandler.class.isAssignableFrom(type)) {
            RequestStreamHandler instance = (RequestStreamHandler) instantiate(type);
            return FunctionHandler.stream(instance::handleRequest, true, true);
        }
        if (RequestHandler.class.isAssignableFrom(type)) {
            Type[] args = GenericTypes.arguments(type, RequestHandler.class);
            @SuppressWarnings("unchecked")
            RequestHandler<Object, Object> instance = (RequestHandler<Object, Object>) instantiate(type);
            Type input = args == null ? Object.class : args[0];
            boolean voidResult = args != null && GenericTypes.isVoid(args[1]);
            return FunctionHandler.pojo((event, context) -> instance.handleRequest(event, context), input, voidResult);
        }
        throw new LoadFailure("Runtime.HandlerNotFound", "Class does not implement an appropriate handler interface: " + type.getName(), null);
    }

    private static FunctionHandler byMethod(Class<?> type, String methodName) throws Throwable {
        List<Method> candidates = new ArrayList<>();
        for (Method m : type.getMethods()) {
            if (m.getName().equals(methodName)) candidates.add(m);
        }
        candidates.sort(PRIORITY);
        for (Method m : candidates) {
            FunctionHandler handler = fromMethod(type, m);
            if (handler != null) return handler;
        }
        throw new LoadFailure("Runtime.HandlerNotFound",
                "No public method named " + methodName + " with appropriate method signature found on class " + type.getName(), null);
    }

    /** Lambda's order: non-bridge first, then longer signatures (a trailing Context counts one more). */
    private static final Comparator<Method> PRIORITY = Comparator
            .comparing(Method::isBridge)
            .thenComparing(m -> -(m.getParameterCount() + (endsWithContext(m) ? 1 : 0)));

    private static boolean endsWithContext(Method m) {
        Class<?>[] p = m.getParameterTypes();
        return p.length > 0 && p[p.length - 1] == Context.class;
    }

    /** The handler a method makes, or null when its signature is not one Lambda calls. */
    private static FunctionHandler fromMethod(Class<?> type, Method m) throws Throwable {
        Class<?>[] p = m.getParameterTypes();
        int n = p.length;
        boolean lastContext = n > 0 && p[n - 1] == Context.class;
        boolean in = n > 0 && p[0] == InputStream.class;
        boolean out = (n > 0 && p[0] == OutputStream.class) || (n > 1 && p[0] == InputStream.class && p[1] == OutputStream.class);
        int streams = (in ? 1 : 0) + (out ? 1 : 0);
        if (n > 3) return null;
        if (in || out) {
            // (InputStream, OutputStream, Context), (InputStream, OutputStream), (InputStream|OutputStream[, Context])
            if (n != streams + (lastContext ? 1 : 0)) return null;
            Object target = receiver(type, m);
            return FunctionHandler.stream((input, output, context) -> {
                Object[] args = new Object[n];
                int i = 0;
                if (in) args[i++] = input;
                if (out) args[i++] = output;
                if (lastContext) args[i] = context;
                call(m, target, args);
            }, in, out);
        }
        // (I, Context), (I), (Context), (): I is anything but a stream or a Context.
        int data = lastContext ? n - 1 : n;
        if (data > 1 || (data == 1 && p[0] == Context.class)) return null;
        Object target = receiver(type, m);
        Type input = data == 1 ? m.getGenericParameterTypes()[0] : null;
        boolean voidResult = GenericTypes.isVoid(m.getGenericReturnType());
        return FunctionHandler.pojo((event, context) -> {
            Object[] args = new Object[n];
            if (data == 1) args[0] = event;
            if (lastContext) args[n - 1] = context;
            return call(m, target, args);
        }, input, voidResult);
    }

    private static Object receiver(Class<?> type, Method m) throws Throwable {
        return Modifier.isStatic(m.getModifiers()) ? null : instantiate(type);
    }

    /** Calls the function's method; what it throws comes out as itself. */
    private static Object call(Method m, Object target, Object[] args) throws Throwable {
        m.trySetAccessible();
        try {
            return m.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause() == null ? e : e.getCause();
        }
    }

    private static Object instantiate(Class<?> type) throws Throwable {
        Constructor<?> constructor;
        try {
            constructor = type.getConstructor();
        } catch (NoSuchMethodException e) {
            String why = type.getEnclosingClass() != null && !Modifier.isStatic(type.getModifiers())
                    ? " cannot be instantiated because it is a non-static inner class"
                    : " has no public zero-argument constructor";
            throw new LoadFailure("Runtime.HandlerNotFound", "Class " + type.getName() + why, null);
        }
        try {
            return constructor.newInstance();
        } catch (InvocationTargetException e) {
            throw e.getCause() == null ? e : e.getCause();
        }
    }
}
