// The Kafka EventBus (distributed mode), over kafkajs. Each bus topic is a Kafka topic keyed by
// conversation id (device id for device-control), so one key lives in one partition and keeps one
// order; every subscription is a consumer in group `<namespace>.<group>.<topic>`. Layout, delivery
// semantics and operations: docs/kafka-redis.md.
import { type Admin, Kafka } from "kafkajs";
import type { Logger } from "../../shared/logger.ts";
import type { EventBus, Unsubscribe } from "../ports.ts";
import { encode } from "./kafka/codec.ts";
import { kafkaLogCreator, kafkaLogLevel } from "./kafka/log.ts";
import { brokersFromEnv, deadLetterTopicName, defaultNamespace, groupId, topicName } from "./kafka/naming.ts";
import { fixRequestQueueTimer } from "./kafka/request-queue.ts";
import { Sender } from "./kafka/sender.ts";
import { defaultRetryPolicy, type RetryPolicy, startSubscription } from "./kafka/subscription.ts";

export interface KafkaBusOptions {
  logger: Logger;
  /** host:port list; PARLEY_KAFKA_BROKERS (default 127.0.0.1:19092) when absent. */
  brokers?: string[];
  clientId?: string;
  /** Prefix of topic and group names ("parley"); tests use a fresh one per case. */
  namespace?: string;
  /** Handler retries before a message is dead-lettered (default 5 calls, 100 ms doubling). */
  retry?: Partial<RetryPolicy>;
  /**
   * Partitions one subscription handles at once, each in order (default 12, the topics' default
   * partition count). A handler waits on round trips (fanout: Redis, then a gateway), so with
   * fewer at once a consumer idles while its backlog grows: at 250 1:1 msgs/s on the engines,
   * 4 left fanout's messages 152-371 ms old when consumed (p50), 12 63-66 ms.
   */
  concurrency?: number;
  /** Commit handled offsets after this many messages (default 100) or this long (default 1 s), also at batch ends. */
  commitEvery?: number;
  commitIntervalMs?: number;
  /** kafkajs retries of a produce request before publish fails (default 5, about 10 s). */
  publishRetries?: number;
  /**
   * Longest fetch long-poll (default 500 ms). Shorter than kafkajs's 5 s so that stopping a
   * subscription and noticing a rebalance take well under a second; an idle consumer then sends
   * two fetches a second.
   */
  maxWaitMs?: number;
  /** Group heartbeat interval (default 1 s). */
  heartbeatIntervalMs?: number;
  /**
   * How long a silent member keeps its partitions (default 10 s, kafkajs's is 30 s): the stall a
   * crashed consumer causes. A handler call must finish well within it (kafkajs heartbeats
   * between messages).
   */
  sessionTimeoutMs?: number;
}

export interface KafkaBus extends EventBus {
  /** The kafkajs client, for tools on the same cluster (topic setup, dead-letter readers). */
  readonly kafka: Kafka;
  readonly namespace: string;
}

export function createKafkaBus(options: KafkaBusOptions): KafkaBus {
  const logger = options.logger;
  const timerFix = fixRequestQueueTimer();
  if (!timerFix.applied) {
    logger.warn("kafkajs request-queue timer fix not applied: written for 2.2.4; check kafkajs issue #1556", {
      version: timerFix.version,
    });
  }
  const namespace = options.namespace ?? defaultNamespace;
  const kafka = new Kafka({
    clientId: options.clientId ?? "parley",
    brokers: options.brokers ?? brokersFromEnv(),
    logLevel: kafkaLogLevel,
    logCreator: kafkaLogCreator(logger),
  });
  const sender = new Sender({ kafka, logger, retries: options.publishRetries ?? 5 });
  const retry: RetryPolicy = { ...defaultRetryPolicy, ...options.retry };
  const subscriptions = new Set<Unsubscribe>();
  let admin: Promise<Admin> | undefined;
  let closed = false;

  // One admin connection, opened on first subscribe (it reads new groups' start offsets).
  const connectedAdmin = () => {
    admin ??= (async () => {
      const a = kafka.admin();
      await a.connect();
      return a;
    })();
    const connecting = admin;
    connecting.catch(() => {
      if (admin === connecting) admin = undefined;
    });
    return connecting;
  };

  return {
    kafka,
    namespace,
    publish(topic, key, value, headers) {
      if (closed) return Promise.reject(new Error("bus is closed"));
      return sender.send(topicName(namespace, topic), { key, value: encode(topic, value), headers: { ...headers } });
    },
    async subscribe(topic, group, handler) {
      if (closed) throw new Error("bus is closed");
      const stop = await startSubscription({
        kafka,
        admin: connectedAdmin,
        sender,
        logger,
        topic,
        kafkaTopic: topicName(namespace, topic),
        deadLetterTopic: deadLetterTopicName(namespace, topic),
        groupId: groupId(namespace, group, topic),
        handler,
        retry,
        concurrency: options.concurrency ?? 12,
        commitEvery: options.commitEvery ?? 100,
        commitIntervalMs: options.commitIntervalMs ?? 1_000,
        sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
        maxWaitMs: options.maxWaitMs ?? 500,
        heartbeatIntervalMs: options.heartbeatIntervalMs ?? 1_000,
      });
      const unsubscribe: Unsubscribe = async () => {
        subscriptions.delete(unsubscribe);
        await stop();
      };
      subscriptions.add(unsubscribe);
      // Closed while joining: this subscription must not outlive the bus.
      if (closed) await unsubscribe();
      return unsubscribe;
    },
    async close() {
      closed = true;
      // Consumers first: their in-flight messages may still need the producer (dead letters).
      await Promise.all([...subscriptions].map((unsubscribe) => unsubscribe()));
      await sender.close();
      await admin?.then((a) => a.disconnect()).catch(() => {});
    },
  };
}
