// Kafka names of Parley's topics, dead-letter topics and consumer groups. A namespace other than
// "parley" isolates tests (or tenants) sharing one cluster.
import type { Topic } from "../../ports.ts";

export const defaultNamespace = "parley";

/** Every bus topic, in the order topics are created. */
export const busTopics: readonly Topic[] = ["conversation-events", "receipts", "device-control"];

export const topicName = (namespace: string, topic: Topic) => `${namespace}.${topic}`;

/** Where a topic's messages go when a group's handler keeps failing on them. */
export const deadLetterTopicName = (namespace: string, topic: Topic) => `${topicName(namespace, topic)}.dlq`;

/**
 * One Kafka group per (bus group, topic), e.g. parley.fanout.conversation-events: the bus's groups
 * are per topic, and kafkajs's assigner hands a group's partitions of every topic to every member
 * whatever it subscribed to, so members of one group must share one topic.
 */
export const groupId = (namespace: string, group: string, topic: Topic) => `${namespace}.${group}.${topic}`;

/** Every Kafka topic the bus needs: each bus topic and its dead-letter topic. */
export const allTopicNames = (namespace: string) =>
  busTopics.flatMap((topic) => [topicName(namespace, topic), deadLetterTopicName(namespace, topic)]);

/** The broker list, from PARLEY_KAFKA_BROKERS (comma-separated host:port). */
export function brokersFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  const raw = env.PARLEY_KAFKA_BROKERS ?? "127.0.0.1:19092";
  return raw
    .split(",")
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
}
