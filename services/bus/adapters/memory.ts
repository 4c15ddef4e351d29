// The in-process bus of the embedded default: one bounded queue per (topic, group), handled in order.
import type { Logger } from "../../shared/logger.ts";
import type { EventBus, Handler, Topic, TopicPayloads } from "../ports.ts";

interface Subscription {
  topic: Topic;
  group: string;
  handler: Handler<Topic>;
  queue: { key: string; value: unknown }[];
  running: boolean;
  idle: Promise<void>;
  settleIdle: () => void;
}

export function createMemoryBus(options: { logger: Logger; capacity?: number }): EventBus {
  const capacity = options.capacity ?? 10_000;
  const subscriptions = new Set<Subscription>();
  const roomWaiters: (() => void)[] = [];
  let closed = false;

  const hasRoom = () => [...subscriptions].every((s) => s.queue.length < capacity);

  async function drain(sub: Subscription): Promise<void> {
    sub.running = true;
    while (sub.queue.length > 0) {
      const item = sub.queue.shift() as { key: string; value: unknown };
      try {
        await sub.handler(item.value as TopicPayloads[Topic], item.key);
      } catch (error) {
        options.logger.error("bus handler failed", {
          topic: sub.topic,
          group: sub.group,
          key: item.key,
          error,
        });
      }
      while (roomWaiters.length > 0 && hasRoom()) roomWaiters.shift()?.();
    }
    sub.running = false;
    sub.settleIdle();
  }

  return {
    async publish(topic, key, value) {
      if (closed) throw new Error("bus is closed");
      while (!hasRoom()) await new Promise<void>((resolve) => roomWaiters.push(resolve));
      for (const sub of subscriptions) {
        if (sub.topic !== topic) continue;
        sub.queue.push({ key, value });
        if (!sub.running) {
          sub.idle = new Promise((resolve) => {
            sub.settleIdle = resolve;
          });
          void drain(sub);
        }
      }
    },
    subscribe(topic, group, handler) {
      const sub: Subscription = {
        topic,
        group,
        handler: handler as Handler<Topic>,
        queue: [],
        running: false,
        idle: Promise.resolve(),
        settleIdle: () => {},
      };
      subscriptions.add(sub);
      return () => subscriptions.delete(sub);
    },
    async close() {
      closed = true;
      await Promise.all([...subscriptions].map((s) => s.idle));
    },
  };
}
