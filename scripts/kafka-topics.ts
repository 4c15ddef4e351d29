// `npm run kafka:topics`: creates the bus topics and their dead-letter topics that are missing
// (brokers run with auto-creation off). Idempotent: existing topics are left as they are.
//   npm run kafka:topics -- [--partitions 12] [--replication 1] [--namespace parley]
// Brokers come from PARLEY_KAFKA_BROKERS (default 127.0.0.1:19092).
import { parseArgs } from "node:util";
import { Kafka } from "kafkajs";
import { kafkaLogCreator, kafkaLogLevel } from "../services/bus/adapters/kafka/log.ts";
import {
  brokersFromEnv,
  busTopics,
  deadLetterTopicName,
  defaultNamespace,
  topicName,
} from "../services/bus/adapters/kafka/naming.ts";
import { ensureTopics } from "../services/bus/adapters/kafka/topics.ts";
import type { Topic } from "../services/bus/ports.ts";
import { createLogger } from "../services/shared/logger.ts";

const day = 24 * 60 * 60 * 1000;
// Retention only has to outlast the longest consumer outage we want to ride out: history lives
// in the store, not in Kafka. Dead letters are kept long enough for someone to look at them.
const retentionMs: Record<Topic, number> = { "conversation-events": 7 * day, receipts: 3 * day, "device-control": 3 * day };
const deadLetterRetentionMs = 30 * day;

const { values } = parseArgs({
  options: {
    partitions: { type: "string", default: "12" },
    replication: { type: "string", default: "1" },
    namespace: { type: "string", default: defaultNamespace },
  },
});
const partitions = Number(values.partitions);
const replicationFactor = Number(values.replication);
if (!Number.isInteger(partitions) || partitions < 1) throw new Error("--partitions must be a positive integer");
if (!Number.isInteger(replicationFactor) || replicationFactor < 1) throw new Error("--replication must be a positive integer");

const logger = createLogger({ level: "warn" });
const brokers = brokersFromEnv();
const admin = new Kafka({
  clientId: "parley-kafka-topics",
  brokers,
  logLevel: kafkaLogLevel,
  logCreator: kafkaLogCreator(logger),
}).admin();
await admin.connect();
try {
  // With replicas, a write waits for two of them (acks=all), so one lost broker loses nothing.
  const base = { "min.insync.replicas": String(Math.min(2, replicationFactor)) };
  for (const topic of busTopics) {
    const plans = [
      { name: topicName(values.namespace, topic), retention: retentionMs[topic] },
      { name: deadLetterTopicName(values.namespace, topic), retention: deadLetterRetentionMs },
    ];
    for (const { name, retention } of plans) {
      const result = await ensureTopics(admin, [name], {
        partitions,
        replicationFactor,
        configs: { ...base, "retention.ms": String(retention) },
      });
      if (result.created.length > 0) {
        console.log(`${name}: created (${partitions} partitions, replication ${replicationFactor})`);
      } else {
        // Partitions of an existing topic are never changed here: adding some would move keys.
        const [meta] = (await admin.fetchTopicMetadata({ topics: [name] })).topics;
        console.log(`${name}: exists (${meta?.partitions.length ?? "?"} partitions)`);
      }
    }
  }
  console.log(`brokers: ${brokers.join(",")}`);
} finally {
  await admin.disconnect();
}
