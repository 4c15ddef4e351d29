// A message's age at each hop (parley_event_age_seconds by hop) on the metrics endpoint: every
// accepted message is measured once appended, once published and once consumed by fanout, and
// the later hop never reads younger than the earlier one.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { bearer } from "../clients/node/transport.ts";
import { textMessage } from "./helpers/chat.ts";
import { eventuallyAsync, newPhone, signInOn, tempDataDir } from "./helpers/parley.ts";
import { type ParleyProcess, spawnParley } from "./helpers/process.ts";

let server: ParleyProcess;
before(async () => {
  server = await spawnParley({ dataDir: tempDataDir() });
});
after(() => server.kill("SIGTERM"));

/** count and sum of parley_event_age_seconds per hop. */
async function ages(): Promise<Map<string, { count: number; sum: number }>> {
  const text = await (await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`)).text();
  const byHop = new Map<string, { count: number; sum: number }>();
  for (const [, part, hop, value] of text.matchAll(/^parley_event_age_seconds_(count|sum)\{hop="([^"]+)"\} (\S+)$/gm)) {
    const entry = byHop.get(hop as string) ?? { count: 0, sum: 0 };
    entry[part as "count" | "sum"] = Number(value);
    byHop.set(hop as string, entry);
  }
  return byHop;
}

test("each accepted message is measured at append, publish and fanout's consume, in that order", async () => {
  const alice = await signInOn(server.clients, server.codes, newPhone());
  const bob = await signInOn(server.clients, server.codes, newPhone());
  const { conversation } = await server.clients.conversations.getOrCreateDirect(
    { peerUserId: bob.userId },
    { headers: bearer(alice.accessToken) },
  );
  const id = conversation?.conversationId ?? "";
  const before = await ages();
  const count = (map: Map<string, { count: number }>, hop: string) => map.get(hop)?.count ?? 0;
  for (let i = 0; i < 5; i++) {
    await server.clients.messaging.sendMessage(textMessage(id, `m${i}`), { headers: bearer(alice.accessToken) });
  }
  const afterSends = await ages();
  assert.equal(count(afterSends, "appended") - count(before, "appended"), 5);
  assert.equal(count(afterSends, "published") - count(before, "published"), 5);
  await eventuallyAsync(
    "fanout consumed all five",
    async () => count(await ages(), "consumed") - count(before, "consumed") === 5,
  );
  const now = await ages();
  const sum = (hop: string) => (now.get(hop)?.sum ?? 0) - (before.get(hop)?.sum ?? 0);
  assert.ok(sum("appended") >= 0, "ages are never negative");
  assert.ok(sum("published") >= sum("appended"), "a message is published after it is appended");
  // The gateway's hop is measured only across processes (distributed mode's Deliver).
  assert.equal(count(now, "offered"), 0);
});
