package io.hearth.agent;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * Hearth's runtime agent for Java: the process a {@code hearth/runtime-java17}
 * container runs. It connects to the worker's Unix socket, says {@code hello},
 * then loads the function named by {@code init} and runs one invocation at a
 * time. The protocol (framing, messages, order) is
 * {@code worker/sandbox/agent-protocol.ts}; these files must stay in step with it.
 *
 * One class per concern, beside this one:
 *   Framing          length-prefixed frames on the socket
 *   JsonReader       JSON text to Map/List/String/Number/Boolean (and raw spans)
 *   JsonWriter       Java values and POJOs to JSON text
 *   InputBinding     a JSON value to the handler's parameter type
 *   LogCapture       System.out/System.err into a capped buffer per reply
 *   Operations       init and invoke
 *   HandlerLoading   {@code package.Class[::method]} to a callable handler
 *   TaskClassLoader  the function's classes: /var/task, lib/*.jar, *.jar
 *   FunctionContext  the function's identity, env, secrets and Context
 *   ErrorInfo        a Throwable in Lambda's {type, message, stack}
 *   ExitGuard        System.exit in function code: reply, then let it exit
 *
 * Everything before {@code hello} is on the cold-start path: only JDK classes
 * the CDS archive already holds are touched until then.
 */
public final class Bootstrap {
    static final String RUNTIME = "java17";
    static final int AGENT_VERSION = 1;
    private static final long CONNECT_RETRY_MS = 5;
    private static final long CONNECT_GIVE_UP_MS = 2000;

    /** The agent's own stderr (docker logs), kept before System.err is captured. */
    static final PrintStream AGENT_STDERR = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);

    private Bootstrap() {
    }

    /** Last words go to the real stderr, then the process ends at once (no shutdown hooks). */
    static void die(String message) {
        AGENT_STDERR.println("hearth agent: " + message);
        Runtime.getRuntime().halt(1);
    }

    public static void main(String[] args) throws Exception {
        String path = System.getenv("HEARTH_AGENT_SOCKET");
        if (path == null || path.isEmpty()) path = "/run/hearth/agent.sock";
        SocketChannel channel = connect(path);
        byte[] hello = ("{\"type\":\"hello\",\"runtime\":\"" + RUNTIME + "\",\"agentVersion\":" + AGENT_VERSION + "}")
                .getBytes(StandardCharsets.UTF_8);
        ByteBuffer frame = ByteBuffer.allocate(4 + hello.length).putInt(hello.length).put(hello).flip();
        while (frame.hasRemaining()) channel.write(frame);

        // Everything below runs while the worker prepares `init`.
        Framing framing = new Framing(channel);
        LogCapture logs = LogCapture.install();
        Operations operations = new Operations(framing, logs);
        ExitGuard.install(operations);
        LinkedBlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> framing.readFrames(inbox), "hearth-agent-reader");
        reader.setDaemon(true);
        reader.start();
        for (;;) {
            Object message = inbox.take();
            Object type = message instanceof Map ? ((Map<?, ?>) message).get("type") : null;
            if ("init".equals(type)) operations.init((Map<?, ?>) message);
            else if ("invoke".equals(type)) operations.invoke((Map<?, ?>) message);
            else AGENT_STDERR.println("hearth agent: ignoring message of type " + type);
        }
    }

    private static SocketChannel connect(String path) throws InterruptedException {
        // The worker listens before the container starts, so the first attempt
        // normally succeeds; retries cover a socket that is not there yet.
        long deadline = System.nanoTime() + CONNECT_GIVE_UP_MS * 1_000_000;
        UnixDomainSocketAddress address = UnixDomainSocketAddress.of(path);
        for (;;) {
            try {
                return SocketChannel.open(address);
            } catch (IOException err) {
                if (System.nanoTime() >= deadline) die("cannot connect to " + path + ": " + err.getMessage());
                Thread.sleep(CONNECT_RETRY_MS);
            }
        }
    }
}
