// Where a new consumer group starts. kafkajs resolves "latest" lazily, at a partition's first
// fetch by whichever member owns it then, so a message published after subscribe() resolved
// could be skipped (a rebalance moving a partition before its first commit does the same). So a
// subscription joins with its topic paused, commits the current end offset for each assigned
// partition the group has no offset for, and only then resumes and resolves.
import type { Admin, Consumer } from "kafkajs";

/** Commits the end offset of every assigned partition without a committed offset for the group. */
export async function commitGroupStart(
  consumer: Consumer,
  admin: Admin,
  groupId: string,
  topic: string,
  assigned: number[],
): Promise<number[]> {
  if (assigned.length === 0) return [];
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const missing = new Set(
    (committed?.partitions ?? []).filter((p) => p.offset === "-1" && assigned.includes(p.partition)).map((p) => p.partition),
  );
  if (missing.size === 0) return [];
  const ends = (await admin.fetchTopicOffsets(topic)).filter((p) => missing.has(p.partition));
  // Committed as a member of the current generation, so the coordinator accepts it.
  await consumer.commitOffsets(ends.map((p) => ({ topic, partition: p.partition, offset: p.high })));
  return [...missing];
}
