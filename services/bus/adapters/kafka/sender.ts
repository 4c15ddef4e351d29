// The bus's one producer. One produce request is in flight at a time and everything published
// while it flies goes out together in the next one: call order is kept per partition (so per
// key), and concurrent publishers share round trips instead of queueing one per message.
import { type Kafka, type Message, Partitioners, type Producer } from "kafkajs";
import type { Logger } from "../../../shared/logger.ts";

interface Pending {
  topic: string;
  message: Message;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export interface SenderOptions {
  kafka: Kafka;
  logger: Logger;
  /** How often kafkajs retries a failed produce request before the publish fails. */
  retries: number;
  /** Most messages in one produce request. */
  maxBatchMessages?: number;
  /** Most value bytes in one produce request (the broker caps a record batch near 1 MiB). */
  maxBatchBytes?: number;
}

export class Sender {
  readonly #options: SenderOptions;
  readonly #queue: Pending[] = [];
  #flushing: Promise<void> | undefined;
  #producer: Promise<Producer> | undefined;
  #closed = false;

  constructor(options: SenderOptions) {
    this.#options = options;
  }

  /** Resolves once every in-sync replica has the message (acks=all). */
  send(topic: string, message: Message): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("bus is closed"));
    return new Promise((resolve, reject) => {
      this.#queue.push({ topic, message, resolve, reject });
      this.#flushing ??= this.#flush();
    });
  }

  /** Sends what is queued, then disconnects. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#flushing;
    const producer = this.#producer;
    this.#producer = undefined;
    await producer?.then((p) => p.disconnect()).catch(() => {});
  }

  async #flush(): Promise<void> {
    // Yield first, so publishes issued in the same turn join the first request.
    await undefined;
    while (this.#queue.length > 0) {
      const batch = this.#takeBatch();
      try {
        const producer = await this.#connected();
        await producer.sendBatch({ acks: -1, topicMessages: byTopic(batch) });
        for (const p of batch) p.resolve();
      } catch (error) {
        for (const p of batch) p.reject(error);
        // After a failed request an idempotent producer's sequence numbers may disagree with the
        // broker's; a new producer (new producer id) starts clean.
        this.#options.logger.warn("kafka produce failed; replacing the producer", { error, messages: batch.length });
        const broken = this.#producer;
        this.#producer = undefined;
        await broken?.then((p) => p.disconnect()).catch(() => {});
      }
    }
    this.#flushing = undefined;
  }

  #takeBatch(): Pending[] {
    const maxMessages = this.#options.maxBatchMessages ?? 500;
    const maxBytes = this.#options.maxBatchBytes ?? 512 * 1024;
    let bytes = 0;
    let n = 0;
    while (n < this.#queue.length && n < maxMessages) {
      bytes += (this.#queue[n] as Pending).message.value?.length ?? 0;
      if (n > 0 && bytes > maxBytes) break;
      n++;
    }
    return this.#queue.splice(0, n);
  }

  #connected(): Promise<Producer> {
    if (this.#producer) return this.#producer;
    const connecting = (async () => {
      const producer = this.#options.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        // Murmur2 of the key, as the Java client does, so other clients agree on partitions.
        createPartitioner: Partitioners.DefaultPartitioner,
        retry: { retries: this.#options.retries },
      });
      await producer.connect();
      return producer;
    })();
    this.#producer = connecting;
    // A failed connect is forgotten, so the next batch tries again.
    connecting.catch(() => {
      if (this.#producer === connecting) this.#producer = undefined;
    });
    return connecting;
  }
}

/** Messages grouped by topic, each group in call order. */
function byTopic(batch: Pending[]) {
  const topics = new Map<string, Message[]>();
  for (const { topic, message } of batch) {
    const messages = topics.get(topic) ?? [];
    messages.push(message);
    topics.set(topic, messages);
  }
  return [...topics].map(([topic, messages]) => ({ topic, messages }));
}
