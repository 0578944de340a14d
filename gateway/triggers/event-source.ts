/**
 * The port every queue or stream trigger reads through: one connection to a
 * broker the user runs (Redis Streams, RabbitMQ, NATS JetStream, MQTT), held
 * by the one gateway that holds the trigger's lease. The batch runner
 * (`batch-runner.ts`) pulls messages, runs them as one invocation, and only
 * then acknowledges them; everything broker-specific stays behind this port,
 * one adapter file per broker under `sources/`.
 *
 * Left out on purpose: a push interface (each adapter buffers what its broker
 * pushes, so the runner pulls at its own pace) and per-message
 * acknowledgement modes (Hearth always acknowledges after success).
 */

/** One message as a source hands it over. Everything in it is the publisher's input: untrusted. */
export interface SourceMessage {
  /**
   * Stable for this message across redeliveries where the broker allows it
   * (a stream entry id, a JetStream sequence, an AMQP message id or, without
   * one, a digest of the body and headers); at most 200 characters.
   */
  id: string;
  /** What ordering is kept by (`ordered: true`): the stream, routing key, subject or topic. */
  key: string;
  /** The payload as the broker holds it. */
  body: Buffer;
  /** Broker metadata and headers as strings (bounded by the adapter: at most 64 entries, 1 KB each). */
  attributes: Record<string, string>;
  /** Times delivered so far, this one included, when the broker says; else 1. */
  deliveries: number;
  /** Epoch ms when the broker got the message, when it says (for lag); else null. */
  publishedAt: number | null;
}

/** A broker failure: `state: "error"` with this message, retried with backoff by the host. */
export class SourceError extends Error {
  override name = 'SourceError';
}

/** A trigger's messages from one broker. Every method may reject with `SourceError` while the broker is away. */
export interface EventSource {
  /**
   * Waits until `max` messages are there or `windowMs` has passed since the
   * first one (or, with none, about a second: the caller loops); resolves
   * with what there is, possibly none. Messages taken are held (not
   * redelivered to anyone else) until acknowledged, or until this source
   * closes or dies. Never called twice at once.
   */
  pull(max: number, windowMs: number): Promise<SourceMessage[]>;
  /** Done with these: the broker forgets them. */
  ack(messages: readonly SourceMessage[]): Promise<void>;
  /** Still working on these (a long retry): keeps them from being redelivered while held. No-op where the broker needs none. */
  touch(messages: readonly SourceMessage[]): Promise<void>;
  /**
   * Puts these on the user's dead-letter destination of the same broker
   * (`deadLetter` in the settings: a stream, queue or subject), with `reason`
   * as a header; false when the trigger names none (Hearth's own records are
   * then the dead letter). The caller acks them afterwards.
   */
  deadLetter(messages: readonly SourceMessage[], reason: string): Promise<boolean>;
  /** Messages waiting that this trigger has not taken yet, when the broker says; else null. */
  lag(): Promise<number | null>;
  /** Closes the connection; messages taken and not acknowledged go back to the broker. */
  close(): Promise<void>;
}

/** Publishing one message to a broker: dead letters and broker destinations (`destinations/`). */
export interface BrokerPublisher {
  /** Sends `body` with `headers`; resolves once the broker confirmed it. */
  publish(body: Buffer, headers: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}
