package hearth.training;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The functions the image build runs once each to record which classes a
 * start and a few invocations load (the CDS class list, see
 * runtime-images/java17/cds-archive.ts). Never part of an image: only the
 * classes they make the agent and the JDK load are.
 */
public final class Handlers {
    private Handlers() {
    }

    /** A RequestHandler over maps, logging through every route; throws when asked. */
    public static final class MapHandler implements RequestHandler<Map<String, Object>, Map<String, Object>> {
        public Map<String, Object> handleRequest(Map<String, Object> event, Context context) {
            System.out.println("event " + event);
            System.err.println("to stderr");
            context.getLogger().log("via the logger\n");
            if (Boolean.TRUE.equals(event.get("fail"))) throw new IllegalStateException("asked to fail");
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("event", event);
            out.put("function", context.getFunctionName());
            out.put("remaining", context.getRemainingTimeInMillis());
            out.put("env", System.getenv("TRAINING"));
            return out;
        }
    }

    /** A simple bean, read and written by properties. */
    public static class Order {
        private String id;
        private int quantity;
        private double price;
        private boolean express;
        private List<String> tags = new ArrayList<>();
        public Map<String, Integer> extra;

        public String getId() { return id; }
        public void setId(String id) { this.id = id; }
        public int getQuantity() { return quantity; }
        public void setQuantity(int quantity) { this.quantity = quantity; }
        public double getPrice() { return price; }
        public void setPrice(double price) { this.price = price; }
        public boolean isExpress() { return express; }
        public void setExpress(boolean express) { this.express = express; }
        public List<String> getTags() { return tags; }
        public void setTags(List<String> tags) { this.tags = tags; }
    }

    /** A record result. */
    public record Receipt(String id, double total, Long missing) {
    }

    public static final class PojoHandler implements RequestHandler<Order, Receipt> {
        public Receipt handleRequest(Order order, Context context) {
            return new Receipt(order.getId(), order.getQuantity() * order.getPrice(), null);
        }
    }

    public static final class StreamHandler implements RequestStreamHandler {
        public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
            byte[] event = input.readAllBytes();
            output.write("{\"echo\":".getBytes());
            output.write(event);
            output.write('}');
        }
    }

    /** A plain static method with a String event. */
    public static String greet(String name, Context context) {
        return "hello " + name;
    }
}
