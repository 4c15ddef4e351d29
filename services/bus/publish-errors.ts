// A bus that cannot take a message is a temporary outage to the caller: the fact is already
// durable (stored before publishing), so the client retries with the same key and the retry
// publishes it again. This turns any publish failure into UNAVAILABLE with a retry hint.
import { Code, ConnectError } from "@connectrpc/connect";
import { parleyError } from "../shared/errors.ts";
import type { EventBus } from "./ports.ts";

export function withRetriablePublish(bus: EventBus): EventBus {
  return {
    async publish(topic, key, value, headers) {
      try {
        await bus.publish(topic, key, value, headers);
      } catch (error) {
        if (error instanceof ConnectError) throw error;
        throw parleyError(
          Code.Unavailable,
          "BUS_UNAVAILABLE",
          "the event bus is unavailable; retry with the same client_message_id",
          {
            retryAfterMs: 1_000,
          },
        );
      }
    },
    subscribe: (topic, group, handler) => bus.subscribe(topic, group, handler),
    close: () => bus.close(),
  };
}
