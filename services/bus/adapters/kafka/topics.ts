// Explicit topic creation (brokers run with auto-creation off): used by `npm run kafka:topics`
// and by the tests, which create a fresh namespace per case.
import { setTimeout as sleep } from "node:timers/promises";
import type { Admin } from "kafkajs";

export interface TopicPlan {
  partitions: number;
  replicationFactor: number;
  /** Topic-level configs, e.g. retention.ms; only applied when a topic is created. */
  configs?: Record<string, string>;
}

/** Creates the named topics that do not exist yet; returns which were created and which existed. */
export async function ensureTopics(admin: Admin, names: string[], plan: TopicPlan) {
  const existing = new Set(await admin.listTopics());
  const missing = names.filter((name) => !existing.has(name));
  if (missing.length > 0) {
    await admin.createTopics({
      topics: missing.map((topic) => ({
        topic,
        numPartitions: plan.partitions,
        replicationFactor: plan.replicationFactor,
        configEntries: Object.entries(plan.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
    await waitForLeaders(admin, missing);
  }
  return { created: missing, existed: names.filter((name) => existing.has(name)) };
}

/**
 * Waits until every partition of the topics has a leader. kafkajs's own `waitForLeaders` gives up
 * on UNKNOWN_TOPIC_OR_PARTITION, which a KRaft broker answers until the new topic's metadata
 * reached it, so this polls through both answers.
 */
async function waitForLeaders(admin: Admin, topics: string[], deadlineMs = 30_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (let pause = 10; ; pause = Math.min(pause * 2, 500)) {
    try {
      const { topics: found } = await admin.fetchTopicMetadata({ topics });
      if (
        found.length === topics.length &&
        found.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))
      )
        return;
    } catch (error) {
      const type = (error as { type?: string }).type;
      if (type !== "UNKNOWN_TOPIC_OR_PARTITION" && type !== "LEADER_NOT_AVAILABLE") throw error;
    }
    if (Date.now() > deadline) throw new Error(`topics have no leaders after ${deadlineMs} ms: ${topics.join(", ")}`);
    await sleep(pause);
  }
}
