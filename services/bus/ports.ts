// The event bus port: how services tell each other what happened, without knowing who listens.
import type { ConversationEvent, ReceiptUpdate } from "../../gen/parley/v1/events_pb.js";

/** Why a device's streams must close. */
export interface DeviceControl {
  /** The device's user, so delivery can find the gateways holding the user's devices. */
  userId: string;
  deviceId: string;
  reason: "revoked";
}

/** Every topic and the payload it carries. */
export interface TopicPayloads {
  /** Appended conversation events, keyed by conversation id (so one conversation keeps one order). */
  "conversation-events": ConversationEvent;
  /** Changed receipt watermarks, keyed by conversation id. */
  receipts: ReceiptUpdate;
  /** Device sign-outs, keyed by device id. */
  "device-control": DeviceControl;
}

export type Topic = keyof TopicPayloads;

/**
 * String metadata carried beside a message (W3C trace context: `traceparent`, `tracestate`).
 * Handlers always receive an object, empty when the publisher sent none.
 */
export type MessageHeaders = Readonly<Record<string, string>>;

/**
 * On `receipts` messages: "delivered" when an ack moved only the delivered watermark, "read" when
 * a read did. A member's own devices need their read watermark (unread counts), not their
 * delivered one, so fanout sends a "delivered" update to the other members only.
 */
export const receiptKindHeader = "parley-receipt-kind";

export type Handler<T extends Topic> = (value: TopicPayloads[T], key: string, headers: MessageHeaders) => Promise<void>;

/** Stops one subscription; once it resolves the handler is not called again. */
export type Unsubscribe = () => Promise<void>;

export interface EventBus {
  /**
   * Publishes after the fact is durable. Resolves once the bus has accepted the message (a
   * durable bus: once its brokers acknowledged it); may wait (backpressure) when consumers are
   * behind. Messages with the same key reach each consumer group in publish order.
   */
  publish<T extends Topic>(topic: T, key: string, value: TopicPayloads[T], headers?: MessageHeaders): Promise<void>;
  /**
   * Every consumer group receives every message of the topic published after its first
   * subscription started, at least once; several subscribers in one group share its messages,
   * each key going to one of them. A handler failure does not stop the subscription: the bus
   * logs it (and may retry it, then set the message aside) and moves on; devices recover anything
   * missed from storage. Resolves once the subscription is running (a durable bus: joined its
   * group, positioned at the group's committed offsets or, for a new group, at the end of the
   * topic), so anything published afterwards reaches the group.
   */
  subscribe<T extends Topic>(topic: T, group: string, handler: Handler<T>): Promise<Unsubscribe>;
  /**
   * Stops accepting messages and waits for in-flight handling. The in-process bus also handles
   * every queued message first; a durable bus leaves unhandled messages to the group's next
   * subscriber.
   */
  close(): Promise<void>;
}
