// Acceptance c and d: kill -9 of a gateway or of a fanout worker during traffic loses nothing
// acknowledged and, after client dedupe, duplicates nothing.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DeviceStream } from "../../clients/node/device-stream.ts";
import { bearer } from "../../clients/node/transport.ts";
import type { Cluster } from "../../scripts/cluster/launcher.ts";
import { range, textMessage } from "../helpers/chat.ts";
import { eventually, newPhone, type SignedIn } from "../helpers/parley.ts";
import { type ClusterClients, sessionClient, signIn, startEngineCluster } from "./fixture.ts";

let cluster: Cluster;
let c: ClusterClients;
before(async () => {
  ({ cluster, clients: c } = await startEngineCluster({ env: { PARLEY_HEARTBEAT_MS: "1000" } }));
});
after(() => cluster.stop());

async function group(size: number) {
  const members = await Promise.all(Array.from({ length: size }, () => signIn(cluster, c, newPhone())));
  const owner = members[0] as SignedIn;
  const { conversation } = await c.conversations.createGroup(
    { name: "chaos", memberUserIds: members.slice(1).map((m) => m.userId), clientRequestId: `chaos-${newPhone().slice(1)}` },
    { headers: bearer(owner.accessToken) },
  );
  return { members, owner, id: conversation?.conversationId ?? "" };
}

/** A device that keeps every event it ever received and can move to another gateway. */
class Device {
  stream: DeviceStream;
  readonly received: bigint[] = [];
  readonly #who: SignedIn;
  readonly #id: string;
  constructor(gateway: string, who: SignedIn, id: string) {
    this.#who = who;
    this.#id = id;
    this.stream = this.#open(gateway, []);
  }
  #open(gateway: string, cursors: ReturnType<DeviceStream["cursorList"]>): DeviceStream {
    return new DeviceStream(
      sessionClient(cluster, gateway),
      { accessToken: this.#who.accessToken, cursors },
      {
        onEvent: (event, _id, duplicate) => {
          if (!duplicate && event.conversationId === this.#id) this.received.push(event.sequence);
        },
      },
    );
  }
  moveTo(gateway: string): void {
    this.stream.abort();
    this.stream = this.#open(gateway, this.stream.cursorList());
  }
  /** Sends over the current stream, retrying with the same key when the stream dies under it. */
  async send(request: ReturnType<typeof textMessage>): Promise<bigint> {
    for (;;) {
      try {
        const result = await this.stream.send(request);
        if (result.outcome.case === "sent") return result.outcome.value.sequence;
      } catch {
        // the gateway died: wait for the move to the other one
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  get last(): bigint {
    return this.stream.cursors.get(this.#id) ?? 0n;
  }
}

describe("kill -9", () => {
  test("a gateway dies during traffic: its devices resume on the other; nothing lost, nothing duplicated", async () => {
    const { members, owner, id } = await group(6);
    const devices = members.map((m, i) => new Device(i % 2 === 0 ? "gateway-1" : "gateway-2", m, id));
    await Promise.all(devices.map((d) => d.stream.caughtUp));
    const acknowledged: bigint[] = [];
    let stop = false;
    // One sender streams through the gateway that will die (retrying with the same key on the
    // other one), another sends through messaging directly.
    const streamSender = devices[0] as Device;
    const traffic = Promise.all([
      (async () => {
        for (let i = 0; !stop; i++) acknowledged.push(await streamSender.send(textMessage(id, `s${i}`, `gw-kill-stream-${i}`)));
      })(),
      (async () => {
        for (let i = 0; !stop; i++) {
          const request = textMessage(id, `m${i}`, `gw-kill-${i}`);
          for (;;) {
            try {
              acknowledged.push((await c.messaging.sendMessage(request, { headers: bearer(owner.accessToken) })).sequence);
              break;
            } catch {
              await new Promise((r) => setTimeout(r, 100)); // retried with the same key: effect-once
            }
          }
        }
      })(),
    ]);
    await eventually("traffic", () => acknowledged.length >= 50, 30_000);
    await cluster.kill("gateway-1", "SIGKILL");
    for (const [i, d] of devices.entries()) if (i % 2 === 0) d.moveTo("gateway-2");
    await eventually("more traffic after the kill", () => acknowledged.length >= 150, 60_000);
    stop = true;
    await traffic;
    let last = 0n;
    for (const sequence of acknowledged) if (sequence > last) last = sequence;
    assert.equal(new Set(acknowledged).size, acknowledged.length, "every acknowledged send has its own sequence");
    for (const d of devices) await eventually("every device has everything", () => d.last >= last, 60_000);
    for (const d of devices) assert.deepEqual(d.received, range(1n, d.last), "in order, no gap, no duplicate after dedupe");
    for (const s of acknowledged) assert.ok(s <= last);
    for (const d of devices) d.stream.close();
    await cluster.restart("gateway-1");
  });

  test("a fanout worker dies in the middle of a batch and restarts: every message is delivered", async () => {
    const { members, owner, id } = await group(6);
    const devices = members.map((m, i) => new Device(i % 2 === 0 ? "gateway-1" : "gateway-2", m, id));
    await Promise.all(devices.map((d) => d.stream.caughtUp));
    const auth = { headers: bearer(owner.accessToken) };
    const sending = Promise.all(
      Array.from({ length: 4 }, async (_, sender) => {
        for (let i = 0; i < 75; i++) await c.messaging.sendMessage(textMessage(id, `s${sender}m${i}`), auth);
      }),
    );
    await eventually("deliveries under way", () => devices.every((d) => d.last > 20n), 30_000);
    // Kill the worker that owns this conversation's partition: the one doing the deliveries.
    const counts = await Promise.all(
      ["fanout-1", "fanout-2"].map((name) => cluster.metric(name, "parley_live_deliveries_total")),
    );
    const busy = (counts[0] ?? 0) >= (counts[1] ?? 0) ? "fanout-1" : "fanout-2";
    await cluster.kill(busy, "SIGKILL");
    await sending;
    await cluster.restart(busy);
    const last = 301n;
    for (const d of devices) await eventually("everything delivered", () => d.last === last, 120_000);
    for (const d of devices) assert.deepEqual(d.received, range(1n, last));
    for (const d of devices) d.stream.close();
  });
});
