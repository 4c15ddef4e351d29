// One subscription: one kafkajs consumer in the group. Each message is handled in partition order;
// a failing handler is retried with exponential backoff, then the message goes to the topic's
// dead-letter topic and the partition moves on. Offsets are committed only for messages handled
// or dead-lettered, so a crash redelivers (at-least-once) and never skips.
import { setTimeout as sleep } from "node:timers/promises";
import type { Admin, EachMessagePayload, Kafka, KafkaMessage } from "kafkajs";
import type { Logger } from "../../../shared/logger.ts";
import type { Handler, Topic, TopicPayloads, Unsubscribe } from "../../ports.ts";
import { decode, headersFromKafka } from "./codec.ts";
import { commitGroupStart } from "./group-start.ts";
import type { Sender } from "./sender.ts";

export interface RetryPolicy {
  /** Handler calls per message, the first included, before it is dead-lettered. */
  attempts: number;
  /** Wait before the second call; each later wait is `multiplier` times the previous one. */
  initialDelayMs: number;
  multiplier: number;
}

export const defaultRetryPolicy: RetryPolicy = { attempts: 5, initialDelayMs: 100, multiplier: 2 };

/** Header names the dead-letter copy adds to the original message's headers. */
export const deadLetterHeaders = {
  error: "parley.dlq.error",
  attempts: "parley.dlq.attempts",
  group: "parley.dlq.group",
  topic: "parley.dlq.topic",
  partition: "parley.dlq.partition",
  offset: "parley.dlq.offset",
} as const;

export interface SubscriptionOptions<T extends Topic> {
  kafka: Kafka;
  admin: () => Promise<Admin>;
  sender: Sender;
  logger: Logger;
  topic: T;
  kafkaTopic: string;
  deadLetterTopic: string;
  groupId: string;
  handler: Handler<T>;
  retry: RetryPolicy;
  /** Partitions handled at once (each still in order). */
  concurrency: number;
  /**
   * Offsets of handled messages are committed after `commitEvery` messages or `commitIntervalMs`,
   * whichever comes first (and at each batch end, rebalance and stop): what a crash redelivers.
   */
  commitEvery: number;
  commitIntervalMs: number;
  /** Longest fetch long-poll; also bounds how long stop and rebalances wait for a fetch. */
  maxWaitMs: number;
  heartbeatIntervalMs: number;
  /** A member silent this long is dropped and its partitions move (a crashed process's stall). */
  sessionTimeoutMs: number;
}

/** Resolves once the consumer has joined its group; the result stops it. */
export async function startSubscription<T extends Topic>(options: SubscriptionOptions<T>): Promise<Unsubscribe> {
  const { kafka, logger, kafkaTopic, groupId } = options;
  const log = logger.child({ topic: kafkaTopic, groupId });
  const stopping = new AbortController();
  const consumer = kafka.consumer({
    groupId,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: options.maxWaitMs,
    heartbeatInterval: options.heartbeatIntervalMs,
    sessionTimeout: options.sessionTimeoutMs,
  });
  let assigned: number[] | undefined;
  let crash: unknown;
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    assigned ??= payload.memberAssignment[kafkaTopic] ?? [];
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    crash = payload.error;
    log.error("kafka consumer crashed", { error: payload.error, restarting: payload.restart });
  });

  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [kafkaTopic], fromBeginning: false });
    const running = consumer.run({
      autoCommit: true,
      autoCommitThreshold: options.commitEvery,
      autoCommitInterval: options.commitIntervalMs,
      partitionsConsumedConcurrently: options.concurrency,
      eachMessage: (payload) => handleMessage(options, log, stopping.signal, payload),
    });
    // run() creates the group synchronously; nothing is fetched until the start is committed.
    consumer.pause([{ topic: kafkaTopic }]);
    // run() returns once the first join and sync finished, or failed (then CRASH fired).
    await running;
    if (!assigned) throw crash ?? new Error(`consumer of ${kafkaTopic} did not join ${groupId}`);
    try {
      const started = await commitGroupStart(consumer, await options.admin(), groupId, kafkaTopic, assigned);
      if (started.length > 0) log.info("kafka group starts at the end of these partitions", { partitions: started });
    } catch (error) {
      // Only a new group's members starting together get here: a rebalance ended this member's
      // generation first. Its partitions then start at their end when first fetched.
      if (!isRebalance(error)) throw error;
      log.warn("kafka group start not committed (rebalance); starting at the end on first fetch", { error });
    }
    consumer.resume([{ topic: kafkaTopic }]);
  } catch (error) {
    await consumer.disconnect().catch(() => {});
    throw error;
  }

  let stopped: Promise<void> | undefined;
  return () => {
    stopped ??= (async () => {
      stopping.abort();
      // Waits for the message in hand, commits what was handled, leaves the group.
      await consumer.disconnect();
    })();
    return stopped;
  };
}

const isRebalance = (error: unknown) =>
  ["REBALANCE_IN_PROGRESS", "ILLEGAL_GENERATION", "UNKNOWN_MEMBER_ID"].includes((error as { type?: string }).type ?? "");

async function handleMessage<T extends Topic>(
  options: SubscriptionOptions<T>,
  log: Logger,
  stopping: AbortSignal,
  { partition, message, heartbeat }: EachMessagePayload,
): Promise<void> {
  const key = message.key?.toString("utf8") ?? "";
  let value: TopicPayloads[T];
  try {
    value = decode(options.topic, message.value ?? Buffer.alloc(0));
  } catch (error) {
    // Retrying cannot make bytes decodable.
    log.error("kafka message undecodable; dead-lettering", { key, partition, offset: message.offset, error });
    await deadLetter(options, partition, message, error, 0);
    return;
  }
  const headers = headersFromKafka(message.headers);
  const { attempts, initialDelayMs, multiplier } = options.retry;
  for (let attempt = 1, delayMs = initialDelayMs; ; attempt++, delayMs *= multiplier) {
    try {
      await options.handler(value, key, headers);
      return;
    } catch (error) {
      const where = { key, partition, offset: message.offset, attempt, error };
      if (attempt >= attempts) {
        log.error("bus handler failed; dead-lettering", where);
        await deadLetter(options, partition, message, error, attempt);
        return;
      }
      log.warn("bus handler failed; retrying", { ...where, delayMs });
    }
    // Stopping ends the wait with an error: the message stays uncommitted for the next consumer.
    await sleep(delayMs, undefined, { signal: stopping });
    // Keeps the group membership alive through long backoffs (throws when a rebalance began).
    await heartbeat();
  }
}

async function deadLetter<T extends Topic>(
  options: SubscriptionOptions<T>,
  partition: number,
  message: KafkaMessage,
  error: unknown,
  attempts: number,
): Promise<void> {
  const reason = error instanceof Error ? error.message : String(error);
  await options.sender.send(options.deadLetterTopic, {
    key: message.key,
    value: message.value,
    headers: {
      ...message.headers,
      [deadLetterHeaders.error]: reason,
      [deadLetterHeaders.attempts]: String(attempts),
      [deadLetterHeaders.group]: options.groupId,
      [deadLetterHeaders.topic]: options.kafkaTopic,
      [deadLetterHeaders.partition]: String(partition),
      [deadLetterHeaders.offset]: message.offset,
    },
  });
}
