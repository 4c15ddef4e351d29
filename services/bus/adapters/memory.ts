// The in-process bus of the embedded default: one bounded queue per (topic, group), handled in
// order by one loop per group. A group with several subscribers hands each key to one of them.
import type { Logger } from "../../shared/logger.ts";
import type { EventBus, Handler, MessageHeaders, Topic, TopicPayloads } from "../ports.ts";

interface Item {
  key: string;
  value: unknown;
  headers: MessageHeaders;
}

/** Shared by messages published without headers; frozen so no handler can alter another's. */
const noHeaders: MessageHeaders = Object.freeze({});

interface Group {
  topic: Topic;
  name: string;
  handlers: Handler<Topic>[];
  queue: Item[];
  /** Settles when the drain loop has emptied the queue; undefined while idle. */
  draining: Promise<void> | undefined;
}

/** Stable choice of subscriber per key, so one key keeps one order within a group. */
function pick<T>(items: T[], key: string): T | undefined {
  let hash = 0;
  for (let i = 0; i < key.length; i++) hash = (hash * 31 + key.charCodeAt(i)) | 0;
  return items[Math.abs(hash) % items.length];
}

export function createMemoryBus(options: { logger: Logger; capacity?: number }): EventBus {
  const capacity = options.capacity ?? 10_000;
  const groups = new Map<string, Group>();
  let roomWaiter: (() => void) | undefined;
  // Publishes pass one at a time, so a publish waiting for room is never overtaken by a later one.
  let turn: Promise<void> = Promise.resolve();
  let closed = false;

  const hasRoom = () => [...groups.values()].every((g) => g.queue.length < capacity);

  async function drain(group: Group): Promise<void> {
    // Yield first: a loop that finished synchronously would clear `draining` before it is set.
    await undefined;
    while (group.queue.length > 0) {
      const item = group.queue[0] as Item;
      const handler = pick(group.handlers, item.key);
      try {
        await handler?.(item.value as TopicPayloads[Topic], item.key, item.headers);
      } catch (error) {
        options.logger.error("bus handler failed", { topic: group.topic, group: group.name, key: item.key, error });
      }
      group.queue.shift();
      const wake = roomWaiter;
      roomWaiter = undefined;
      wake?.();
    }
    group.draining = undefined;
  }

  async function enqueue(topic: Topic, key: string, value: unknown, headers: MessageHeaders): Promise<void> {
    while (!hasRoom()) await new Promise<void>((resolve) => (roomWaiter = resolve));
    if (closed) throw new Error("bus is closed");
    for (const group of groups.values()) {
      if (group.topic !== topic || group.handlers.length === 0) continue;
      group.queue.push({ key, value, headers });
      group.draining ??= drain(group);
    }
  }

  return {
    publish(topic, key, value, headers) {
      if (closed) return Promise.reject(new Error("bus is closed"));
      // Copied, so a publisher reusing its object cannot change what consumers see.
      const own = headers ? Object.freeze({ ...headers }) : noHeaders;
      const mine = turn.then(() => enqueue(topic, key, value, own));
      turn = mine.catch(() => {});
      return mine;
    },
    // Registration is synchronous, so a caller that does not await still subscribes before its
    // next statement; the promise only matches the port (a durable bus must join its group).
    async subscribe(topic, name, handler) {
      const id = `${topic}\u0000${name}`;
      const group: Group = groups.get(id) ?? { topic, name, handlers: [], queue: [], draining: undefined };
      groups.set(id, group);
      group.handlers.push(handler as Handler<Topic>);
      return async () => {
        group.handlers = group.handlers.filter((h) => h !== handler);
      };
    },
    async close() {
      closed = true;
      await turn;
      await Promise.all([...groups.values()].map((g) => g.draining));
    },
  };
}
