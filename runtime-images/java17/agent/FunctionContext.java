package io.hearth.agent;

import com.amazonaws.services.lambda.runtime.ClientContext;
import com.amazonaws.services.lambda.runtime.CognitoIdentity;
import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaLogger;
import com.amazonaws.services.lambda.runtime.LambdaRuntime;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.EnumSet;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The function's identity and what it sees of it: {@link #applyInit} sets the
 * identity, the environment and the secret files once; each invocation gets
 * a FunctionContext (Lambda's {@link Context}) built from them.
 */
final class FunctionContext implements Context {
    /** Where secret files go (SECRETS_DIR in runtime-images/runtimes.ts). */
    static final String SECRETS_DIR = "/run/secrets";
    private static final Pattern SECRET_NAME = Pattern.compile("[a-z0-9][a-z0-9_.-]{0,62}");

    private static String name = "";
    private static String version = "";
    private static int memoryMb;
    private static String logStream = "";
    private static LambdaLogger logger;

    private final String requestId;
    private final long deadlineMs;

    FunctionContext(String requestId, long deadlineMs) {
        this.requestId = requestId;
        this.deadlineMs = deadlineMs;
    }

    /**
     * Applies {@code init}: the secret files, the function's env, then the
     * reserved names (after it, so they cannot be spoofed), and the logger.
     * Java cannot change its own environment, so the map behind
     * System.getenv() is written in place (see writableEnv): the function's
     * code, loaded afterwards, sees the values, and so do the processes it starts.
     */
    static void applyInit(Map<?, ?> msg, LogCapture logs) throws Exception {
        name = String.valueOf(msg.get("functionName"));
        version = String.valueOf(msg.get("functionVersion"));
        memoryMb = ((Number) msg.get("memoryLimitInMB")).intValue();
        // Docker sets HOSTNAME to the container id. (Formatting the date by hand:
        // SimpleDateFormat loads the locale machinery, ~100 ms of a cold start.)
        String instance = System.getenv("HOSTNAME");
        if (instance == null || instance.isEmpty()) instance = "hearth";
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        logStream = today.getYear() + "/" + twoDigits(today.getMonthValue()) + "/" + twoDigits(today.getDayOfMonth()) + "/[" + version + "]" + instance;

        Object secrets = msg.get("secrets");
        if (secrets instanceof Map) writeSecrets((Map<?, ?>) secrets);

        Map<String, String> env = writableEnv();
        Object functionEnv = msg.get("env");
        if (functionEnv instanceof Map) {
            for (Map.Entry<?, ?> e : ((Map<?, ?>) functionEnv).entrySet()) env.put(String.valueOf(e.getKey()), String.valueOf(e.getValue()));
        }
        env.put("AWS_LAMBDA_FUNCTION_NAME", name);
        env.put("AWS_LAMBDA_FUNCTION_VERSION", version);
        env.put("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", String.valueOf(memoryMb));
        env.put("AWS_LAMBDA_LOG_GROUP_NAME", "/hearth/" + name);
        env.put("AWS_LAMBDA_LOG_STREAM_NAME", logStream);
        env.put("LAMBDA_TASK_ROOT", String.valueOf(msg.get("codeDir")));
        env.put("_HANDLER", String.valueOf(msg.get("handler")));
        env.put("HEARTH_FUNCTION_NAME", name);

        logger = new CaptureLogger(logs);
        Field field = LambdaRuntime.class.getDeclaredField("logger");
        field.setAccessible(true);
        field.set(null, logger);
    }

    private static String twoDigits(int n) {
        return n < 10 ? "0" + n : String.valueOf(n);
    }

    /**
     * The map behind System.getenv(): Collections.unmodifiableMap wraps the
     * JDK's StringEnvironment, whose put() also feeds ProcessBuilder. Read
     * with sun.misc.Unsafe rather than setAccessible, which would need
     * {@code --add-opens java.base/java.util} and that flag turns off the
     * CDS archive's archived module graph (a slower start).
     */
    @SuppressWarnings("unchecked")
    private static Map<String, String> writableEnv() throws ReflectiveOperationException {
        Map<String, String> env = System.getenv();
        Field inner = env.getClass().getDeclaredField("m");
        Field theUnsafe = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
        theUnsafe.setAccessible(true);
        sun.misc.Unsafe unsafe = (sun.misc.Unsafe) theUnsafe.get(null);
        return (Map<String, String>) unsafe.getObject(env, unsafe.objectFieldOffset(inner));
    }

    /** Each secret as /run/secrets/NAME, created 0400 (owner read) before a byte is written. */
    private static void writeSecrets(Map<?, ?> secrets) throws HandlerLoading.LoadFailure {
        for (Map.Entry<?, ?> e : secrets.entrySet()) {
            String secret = String.valueOf(e.getKey());
            if (!SECRET_NAME.matcher(secret).matches()) throw new IllegalArgumentException("invalid secret name: " + secret);
            Path path = Path.of(SECRETS_DIR, secret);
            EnumSet<PosixFilePermission> ownerRead = EnumSet.of(PosixFilePermission.OWNER_READ);
            try (SeekableByteChannel out = Files.newByteChannel(path,
                    EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                    PosixFilePermissions.asFileAttribute(ownerRead))) {
                ByteBuffer data = ByteBuffer.wrap(String.valueOf(e.getValue()).getBytes(StandardCharsets.UTF_8));
                while (data.hasRemaining()) out.write(data);
            } catch (IOException err) {
                // The worker mounts a tmpfs there; without it the root is read-only.
                throw new HandlerLoading.LoadFailure("Runtime.SecretsError",
                        "cannot write secret " + secret + " to " + SECRETS_DIR + ": " + err, err);
            }
        }
    }

    public String getAwsRequestId() {
        return requestId;
    }

    public String getLogGroupName() {
        return "/hearth/" + name;
    }

    public String getLogStreamName() {
        return logStream;
    }

    public String getFunctionName() {
        return name;
    }

    public String getFunctionVersion() {
        return version;
    }

    public String getInvokedFunctionArn() {
        return "arn:hearth:lambda:local:000000000000:function:" + name + ":" + version;
    }

    public CognitoIdentity getIdentity() {
        return null;
    }

    public ClientContext getClientContext() {
        return null;
    }

    public int getRemainingTimeInMillis() {
        return (int) Math.max(0, Math.min(Integer.MAX_VALUE, deadlineMs - System.currentTimeMillis()));
    }

    public int getMemoryLimitInMB() {
        return memoryMb;
    }

    public LambdaLogger getLogger() {
        return logger;
    }

    /** The LambdaLogger: bytes into the log capture, as System.out's are. */
    private static final class CaptureLogger implements LambdaLogger {
        private final LogCapture logs;

        CaptureLogger(LogCapture logs) {
            this.logs = logs;
        }

        public void log(String message) {
            log(String.valueOf(message).getBytes(StandardCharsets.UTF_8));
        }

        public void log(byte[] message) {
            if (message != null) logs.write(message, 0, message.length);
        }
    }
}
