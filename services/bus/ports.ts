// The event bus port: how services tell each other what happened, without knowing who listens.
import type { ConversationEvent, ReceiptUpdate } from "../../gen/parley/v1/events_pb.js";

/** Why a device's streams must close. */
export interface DeviceControl {
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

export type Handler<T extends Topic> = (value: TopicPayloads[T], key: string) => Promise<void>;

export interface EventBus {
  /**
   * Publishes after the fact is durable. Resolves once the bus has accepted the message; may wait
   * (backpressure) when consumers are behind. Messages with the same key reach each consumer
   * group in publish order.
   */
  publish<T extends Topic>(topic: T, key: string, value: TopicPayloads[T]): Promise<void>;
  /**
   * Every consumer group receives every message of the topic once; several subscribers in one
   * group share its messages, each key going to one of them. Handler failures are logged and do
   * not stop the subscription (devices recover anything missed from storage). Returns a
   * function that unsubscribes.
   */
  subscribe<T extends Topic>(topic: T, group: string, handler: Handler<T>): () => void;
  /** Stops accepting messages and waits for queued ones to be handled. */
  close(): Promise<void>;
}
