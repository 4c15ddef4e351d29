// Reads dead-lettered messages back (operators inspecting a DLQ, and the contract tests): a
// throwaway group reads the dead-letter topic from its beginning.
import type { Kafka } from "kafkajs";
import type { MessageHeaders, Topic, TopicPayloads } from "../../ports.ts";
import { decode, headersFromKafka } from "./codec.ts";

export interface DeadLetter<T extends Topic> {
  key: string;
  value: TopicPayloads[T];
  /** The original headers plus the parley.dlq.* ones (error, attempts, group, topic, partition, offset). */
  headers: MessageHeaders;
}

/** Resolves with the first `count` messages of the dead-letter topic. */
export async function readDeadLetters<T extends Topic>(
  kafka: Kafka,
  deadLetterTopic: string,
  topic: T,
  count: number,
): Promise<DeadLetter<T>[]> {
  const consumer = kafka.consumer({ groupId: `${deadLetterTopic}.reader.${process.pid}.${Date.now()}` });
  const found: DeadLetter<T>[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [deadLetterTopic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer.on(consumer.events.CRASH, ({ payload }) => reject(payload.error));
      consumer
        .run({
          // A reader only looks: it leaves no committed offsets behind.
          autoCommit: false,
          eachMessage: async ({ message }) => {
            found.push({
              key: message.key?.toString("utf8") ?? "",
              value: decode(topic, message.value ?? Buffer.alloc(0)),
              headers: headersFromKafka(message.headers),
            });
            if (found.length >= count) resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return found.slice(0, count);
}
