// Acceptance e and f: Redis restarted empty, and Kafka stopped for 10 s, during traffic: routing
// rebuilds, sends fail cleanly or succeed, and nothing acknowledged is lost.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { DeviceStream } from "../../clients/node/device-stream.ts";
import { bearer } from "../../clients/node/transport.ts";
import type { Cluster } from "../../scripts/cluster/launcher.ts";
import { range, sequencesIn, textMessage } from "../helpers/chat.ts";
import { eventually, newPhone, type SignedIn } from "../helpers/parley.ts";
import { engines, killEngine } from "./engine-control.ts";
import { type ClusterClients, gatewayAt, signIn, startEngineCluster } from "./fixture.ts";

let cluster: Cluster;
let c: ClusterClients;
before(async () => {
  ({ cluster, clients: c } = await startEngineCluster({ env: { PARLEY_HEARTBEAT_MS: "1000" } }));
});
after(() => cluster.stop());

async function chat() {
  const [alice, bob] = await Promise.all([signIn(cluster, c, newPhone()), signIn(cluster, c, newPhone())]);
  if (!alice || !bob) throw new Error("sign-in failed");
  const { conversation } = await c.conversations.getOrCreateDirect(
    { peerUserId: bob.userId },
    { headers: bearer(alice.accessToken) },
  );
  return { alice, bob, id: conversation?.conversationId ?? "" };
}

/** Sends until stopped; a failed send must be a retriable code, and is retried with its key. */
function traffic(sender: SignedIn, id: string, prefix: string) {
  const acknowledged: bigint[] = [];
  const refusals: string[] = [];
  let stop = false;
  const done = (async () => {
    for (let i = 0; !stop; i++) {
      const request = textMessage(id, `${prefix} ${i}`, `${prefix}-${i}`);
      for (;;) {
        try {
          acknowledged.push(
            (await c.messaging.sendMessage(request, { headers: bearer(sender.accessToken), timeoutMs: 30_000 })).sequence,
          );
          break;
        } catch (error) {
          const code = error instanceof ConnectError ? Code[error.code] : String(error);
          refusals.push(code);
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    }
  })();
  return {
    acknowledged,
    refusals,
    stop: async () => {
      stop = true;
      await done;
    },
  };
}

describe("engine outages", () => {
  test("Redis restarted empty: routes rebuild and every acknowledged message is delivered", async () => {
    const { alice, bob, id } = await chat();
    const recipient = new DeviceStream(gatewayAt(c, 1), { accessToken: bob.accessToken });
    await recipient.caughtUp;
    const load = traffic(alice, id, "redis");
    await eventually("traffic", () => load.acknowledged.length >= 30, 30_000);
    await engines("down", "redis");
    // Sends go on while Redis is gone: fanout cannot find the recipient's gateway for these.
    const before = load.acknowledged.length;
    await eventually("traffic while Redis is down", () => load.acknowledged.length >= before + 10, 60_000);
    await engines("up", "redis");
    // Nothing is sent after the restart, so nothing later can reveal a gap: the gateway must notice
    // its lost route on its next tick and re-read storage by itself.
    await load.stop();
    const last = load.acknowledged.at(-1) ?? 0n;
    await eventually("recipient has everything live", () => (recipient.cursors.get(id) ?? 0n) >= last, 60_000);
    assert.deepEqual(sequencesIn(recipient.events, id), range(1n, last));
    assert.equal(recipient.goAway, undefined, "the stream stayed up");
    recipient.close();
  });

  test("Kafka down for 10 s: sends fail with a retriable code or succeed, and all are delivered after recovery", async () => {
    const { alice, bob, id } = await chat();
    const recipient = new DeviceStream(gatewayAt(c, 0), { accessToken: bob.accessToken });
    await recipient.caughtUp;
    const load = traffic(alice, id, "kafka");
    await eventually("traffic", () => load.acknowledged.length >= 30, 30_000);
    killEngine("kafka");
    await new Promise((r) => setTimeout(r, 10_000));
    await engines("up", "kafka");
    const before = load.acknowledged.length;
    await eventually("traffic after recovery", () => load.acknowledged.length >= before + 30, 120_000);
    await load.stop();
    for (const code of load.refusals) assert.ok(["Unavailable", "DeadlineExceeded"].includes(code), `retriable, got ${code}`);
    const last = load.acknowledged.at(-1) ?? 0n;
    await eventually("recipient has everything", () => (recipient.cursors.get(id) ?? 0n) >= last, 120_000);
    assert.deepEqual(sequencesIn(recipient.events, id), range(1n, last));
    recipient.close();
  });
});
