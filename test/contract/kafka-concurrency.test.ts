// The Kafka bus handles several partitions of a subscription at once (12 by default), each still
// in order: handlers wait on round trips (fanout's Redis lookup and gateway hand-off), and a
// consumer limited to a few at once idles while its backlog grows. Runs with the engines
// (PARLEY_ENGINES=1), on topics of 12 partitions as `npm run kafka:topics` makes them.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, describe, test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Kafka } from "kafkajs";
import { ReceiptUpdateSchema } from "../../gen/parley/v1/events_pb.js";
import { allTopicNames, brokersFromEnv } from "../../services/bus/adapters/kafka/naming.ts";
import { ensureTopics } from "../../services/bus/adapters/kafka/topics.ts";
import { createKafkaBus, type KafkaBus } from "../../services/bus/adapters/kafka.ts";
import { silentLogger } from "../../services/shared/logger.ts";

const withEngines = process.env.PARLEY_ENGINES === "1";

describe("the Kafka bus's partitions at once", { skip: !withEngines && "needs PARLEY_ENGINES=1" }, () => {
  const namespace = `parley-test-${process.pid}-${randomBytes(4).toString("hex")}`;
  const kafka = new Kafka({ clientId: "parley-contract", brokers: brokersFromEnv(), logLevel: 0 });
  const admin = kafka.admin();
  let bus: KafkaBus | undefined;
  after(async () => {
    await bus?.close();
    await admin.deleteTopics({ topics: allTopicNames(namespace) }).catch(() => {});
    await admin.disconnect();
  });

  test("a subscription's handlers run for many partitions at once, each partition in order", async () => {
    await admin.connect();
    await ensureTopics(admin, allTopicNames(namespace), { partitions: 12, replicationFactor: 1 });
    bus = createKafkaBus({ logger: silentLogger, namespace });
    let inFlight = 0;
    let most = 0;
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    let giveUp: NodeJS.Timeout | undefined;
    const seen = new Map<string, bigint[]>();
    const keys = Array.from({ length: 48 }, (_, i) => `conversation-${i}`);
    const perKey = 3;
    let handled = 0;
    let allHandled: () => void = () => {};
    const done = new Promise<void>((resolve) => (allHandled = resolve));
    await bus.subscribe("receipts", "fanout", async (receipt, key) => {
      inFlight++;
      most = Math.max(most, inFlight);
      // Every handler waits until eight are waiting together (or 5 s have passed since the first
      // one came): a consumer that handles fewer partitions at once never gets there.
      if (most >= 8) release();
      giveUp ??= setTimeout(release, 5_000);
      await released;
      seen.set(key, [...(seen.get(key) ?? []), receipt.readThrough]);
      inFlight--;
      if (++handled === keys.length * perKey) allHandled();
    });
    for (let n = 1; n <= perKey; n++) {
      await Promise.all(
        keys.map((key) =>
          bus?.publish(
            "receipts",
            key,
            create(ReceiptUpdateSchema, { conversationId: key, userId: "u", readThrough: BigInt(n) }),
          ),
        ),
      );
    }
    await done;
    clearTimeout(giveUp);
    assert.ok(most >= 8, `handlers at once: ${most}`);
    for (const key of keys) assert.deepEqual(seen.get(key), [1n, 2n, 3n], `order of ${key}`);
  });
});
