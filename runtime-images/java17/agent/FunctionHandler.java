package io.hearth.agent;

import com.amazonaws.services.lambda.runtime.Context;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Type;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * A loaded handler, called with the event's JSON text; returns the result's
 * JSON text. Two kinds, as on Lambda:
 *
 * POJO handlers get the event read into their declared type (InputBinding;
 * a failure is {@code java.lang.RuntimeException: An error occurred during
 * JSON parsing}) and their return value written as JSON (JsonWriter; a
 * failure is {@code ...during JSON serialization of response}); void is null.
 *
 * Stream handlers read the event's bytes exactly as sent and write the
 * result's bytes themselves. Hearth records results as JSON, so the output
 * is kept as is when it is JSON, is {@code null} when empty, and otherwise
 * becomes a JSON string of its text (UTF-8; malformed bytes replaced).
 */
final class FunctionHandler {
    /** Deepest event a POJO handler is given (Jackson's default nesting limit). */
    static final int MAX_EVENT_DEPTH = 1000;

    interface PojoCall {
        Object call(Object event, Context context) throws Throwable;
    }

    interface StreamCall {
        void call(InputStream input, OutputStream output, Context context) throws Throwable;
    }

    /** A result larger than a frame can carry. */
    static final class ResponseTooLarge extends Exception {
        ResponseTooLarge(long bytes) {
            super("Response exceeds " + Framing.MAX_FRAME_BYTES + " bytes (" + bytes + "+ bytes written)");
        }
    }

    private final PojoCall pojo;
    private final Type inputType;
    private final boolean takesEvent;
    private final boolean voidResult;
    private final StreamCall stream;

    private FunctionHandler(PojoCall pojo, Type inputType, boolean takesEvent, boolean voidResult, StreamCall stream) {
        this.pojo = pojo;
        this.inputType = inputType;
        this.takesEvent = takesEvent;
        this.voidResult = voidResult;
        this.stream = stream;
    }

    /** {@code inputType} null: the handler takes no event. */
    static FunctionHandler pojo(PojoCall call, Type inputType, boolean voidResult) {
        return new FunctionHandler(call, inputType, inputType != null, voidResult, null);
    }

    static FunctionHandler stream(StreamCall call, boolean readsInput, boolean writesOutput) {
        return new FunctionHandler(null, null, readsInput, false, call);
    }

    String invoke(String eventJson, Context context) throws Throwable {
        return stream != null ? invokeStream(eventJson, context) : invokePojo(eventJson, context);
    }

    private String invokePojo(String eventJson, Context context) throws Throwable {
        Object input = null;
        if (takesEvent) {
            try {
                input = InputBinding.bind(JsonReader.parse(eventJson, MAX_EVENT_DEPTH), inputType);
            } catch (JsonReader.JsonException | InputBinding.BindingException e) {
                throw new RuntimeException("An error occurred during JSON parsing: " + e.getMessage(), e);
            }
        }
        Object result = pojo.call(input, context);
        if (voidResult) return "null";
        try {
            return JsonWriter.write(result);
        } catch (JsonWriter.UnwritableException | StackOverflowError e) {
            throw new RuntimeException("An error occurred during JSON serialization of response: " + e.getMessage(), e);
        }
    }

    private String invokeStream(String eventJson, Context context) throws Throwable {
        InputStream input = new ByteArrayInputStream(eventJson.getBytes(StandardCharsets.UTF_8));
        CappedOutput output = new CappedOutput(Framing.MAX_FRAME_BYTES);
        stream.call(input, output, context);
        if (output.total > Framing.MAX_FRAME_BYTES) throw new ResponseTooLarge(output.total);
        if (output.size() == 0) return "null";
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(output.bytes(), 0, output.size())).toString();
        } catch (CharacterCodingException e) {
            text = new String(output.bytes(), 0, output.size(), StandardCharsets.UTF_8);
            return JsonWriter.quote(text);
        }
        return JsonReader.isJson(text) ? text.strip() : JsonWriter.quote(text);
    }

    /** Keeps up to {@code cap} bytes and counts the rest, so a runaway writer cannot exhaust the heap here. */
    private static final class CappedOutput extends OutputStream {
        private byte[] buf = new byte[1024];
        private int size;
        long total;
        private final int cap;

        CappedOutput(int cap) {
            this.cap = cap;
        }

        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] data, int offset, int length) {
            total += length;
            int room = Math.min(length, cap - size);
            if (room <= 0) return;
            if (size + room > buf.length) buf = java.util.Arrays.copyOf(buf, Math.max(size + room, Math.min(cap, buf.length * 2)));
            System.arraycopy(data, offset, buf, size, room);
            size += room;
        }

        int size() {
            return size;
        }

        byte[] bytes() {
            return buf;
        }
    }
}
