// Presence, typing and devices on the engines: two gateways share device state through Redis,
// signals cross gateways over Redis pub/sub, settings and link tokens live in Cassandra, and a
// gateway killed without a word has its devices swept offline by the other one.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { DeviceStream } from "../../clients/node/device-stream.ts";
import { bearer } from "../../clients/node/transport.ts";
import { HistoryPolicy } from "../../gen/parley/v1/identity_pb.js";
import { PresenceService, PresenceState, PresenceVisibility } from "../../gen/parley/v1/presence_pb.js";
import { GoAwayReason } from "../../gen/parley/v1/session_pb.js";
import type { Cluster } from "../../scripts/cluster/launcher.ts";
import { sequencesIn, textMessage } from "../helpers/chat.ts";
import { eventually, newPhone, type SignedIn } from "../helpers/parley.ts";
import { Watcher, watch } from "../helpers/presence.ts";
import { type ClusterClients, gatewayAt, sessionClient, signIn, startEngineCluster } from "./fixture.ts";

const heartbeatMs = 1_000;
let cluster: Cluster;
let c: ClusterClients;
before(async () => {
  ({ cluster, clients: c } = await startEngineCluster({ env: { PARLEY_HEARTBEAT_MS: String(heartbeatMs) } }));
});
after(() => cluster.stop());

const auth = (who: SignedIn) => ({ headers: bearer(who.accessToken) });
const presenceAt = (gateway: string) => createClient(PresenceService, createGrpcTransport({ baseUrl: cluster.get(gateway).url }));

async function pair(): Promise<{ alice: SignedIn; bob: SignedIn; id: string }> {
  const alice = await signIn(cluster, c, newPhone());
  const bob = await signIn(cluster, c, newPhone());
  const { conversation } = await c.conversations.getOrCreateDirect({ peerUserId: bob.userId }, auth(alice));
  return { alice, bob, id: conversation?.conversationId ?? "" };
}

describe("across two gateways", () => {
  test("presence and typing cross gateways through Redis; a user is online while any device is", async () => {
    const { alice, bob, id } = await pair();
    const bobWatch = await watch(gatewayAt(c, 1), bob);
    assert.equal(bobWatch.stateOf(alice.userId), PresenceState.OFFLINE);
    const aliceStream = new Watcher(gatewayAt(c, 0), alice);
    await eventually(
      "bob (gateway 2) sees alice (gateway 1) online",
      () => bobWatch.stateOf(alice.userId) === PresenceState.ONLINE,
      20_000,
    );
    const asked = await presenceAt("gateway-2").getPresence({ userIds: [alice.userId] }, auth(bob));
    assert.equal(asked.presences[0]?.state, PresenceState.ONLINE, "gateway 2 reads the state gateway 1 wrote");

    aliceStream.type(id);
    await eventually("typing crosses gateways", () => bobWatch.typingAbout(alice.userId).some((t) => t.typing), 20_000);
    bobWatch.type(id);
    await eventually("and back", () => aliceStream.typingAbout(bob.userId).some((t) => t.typing), 20_000);

    // Alice's second device, on the other gateway, keeps her online when the first leaves.
    const aliceLaptop = await signIn(cluster, c, alice.phoneNumber);
    const laptop = await watch(gatewayAt(c, 1), aliceLaptop);
    await aliceStream.close();
    await new Promise((r) => setTimeout(r, 2_000));
    assert.equal(bobWatch.stateOf(alice.userId), PresenceState.ONLINE);
    await laptop.close();
    await eventually("offline once both left", () => bobWatch.stateOf(alice.userId) === PresenceState.OFFLINE, 20_000);
    assert.ok(bobWatch.about(alice.userId).at(-1)?.lastSeenAt, "with a last-seen time");
    await bobWatch.close();
  });

  test("the privacy setting is stored in Cassandra and applies on every gateway", async () => {
    const { alice, bob } = await pair();
    const bobWatch = await watch(gatewayAt(c, 1), bob);
    const aliceStream = await watch(gatewayAt(c, 0), alice);
    await eventually("online", () => bobWatch.stateOf(alice.userId) === PresenceState.ONLINE, 20_000);
    await presenceAt("gateway-1").updatePresenceSettings({ visibility: PresenceVisibility.NOBODY }, auth(alice));
    await eventually("hidden on the other gateway", () => bobWatch.stateOf(alice.userId) === PresenceState.UNSPECIFIED, 20_000);
    const asked = await presenceAt("gateway-2").getPresence({ userIds: [alice.userId] }, auth(bob));
    assert.equal(asked.presences[0]?.state, PresenceState.UNSPECIFIED);
    await Promise.all([aliceStream.close(), bobWatch.close()]);
  });
});

describe("devices on the engines", () => {
  test("a from-link device replays nothing older; a revoked device's stream closes and its tokens die", async () => {
    const { alice, bob, id } = await pair();
    for (let i = 0; i < 3; i++) await c.messaging.sendMessage(textMessage(id, `old ${i}`), auth(bob));
    const { linkToken } = await c.identity.createDeviceLinkToken({ history: HistoryPolicy.FROM_LINK }, auth(alice));
    const linked = await c.identity.linkDevice({ linkToken, deviceName: "laptop" });
    const laptop = { ...alice, deviceId: linked.deviceId, accessToken: linked.tokens?.accessToken ?? "" };
    const stream = new DeviceStream(gatewayAt(c, 1), { accessToken: laptop.accessToken });
    assert.equal(await stream.caughtUp, 0);
    const live = await c.messaging.sendMessage(textMessage(id, "new"), auth(bob));
    await eventually("live", () => stream.cursors.get(id) === live.sequence, 20_000);
    assert.deepEqual(sequencesIn(stream.events, id), [live.sequence]);
    // Messaging now keeps the laptop as active (PARLEY_DEVICE_CHECK_CACHE_MS, 10 s).
    await c.messaging.sendMessage(textMessage(id, "from the laptop"), auth(laptop));

    const revokedAt = Date.now();
    await c.identity.revokeDevice({ deviceId: laptop.deviceId }, auth(alice));
    const ended = await Promise.race([
      stream.ended.then(() => Date.now()),
      new Promise<number>((r) => setTimeout(() => r(0), 10_000)),
    ]);
    assert.ok(ended > 0, "the stream closed");
    process.stdout.write(`# engines: revoked stream closed ${ended - revokedAt} ms after RevokeDevice returned\n`);
    assert.equal(stream.goAway?.reason, GoAwayReason.REVOKED);
    // Messaging heard the sign-out on the bus: refused well before its copy of the device ages out.
    const refused = await refusedWithin(5_000, () => c.messaging.sendMessage(textMessage(id, "after sign-out"), auth(laptop)));
    assert.ok(refused > 0, "messaging refused the signed-out device within 5 s");
    process.stdout.write(
      `# engines: messaging refused the revoked device ${refused - revokedAt} ms after RevokeDevice returned\n`,
    );
    await assert.rejects(c.identity.listDevices({}, auth(laptop)), /signed out/);
    await assert.rejects(c.identity.refreshSession({ refreshToken: linked.tokens?.refreshToken ?? "" }), /signed out/);
    await assert.rejects(c.identity.linkDevice({ linkToken, deviceName: "again" }), /already used/);
  });
});

/** Calls `call` until it fails with "signed out": the time it did, or 0 if it never did within `ms`. */
async function refusedWithin(ms: number, call: () => Promise<unknown>): Promise<number> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; ) {
    const refused = await call().then(
      () => false,
      (error: Error) => /signed out/.test(error.message),
    );
    if (refused) return Date.now();
    await new Promise((r) => setTimeout(r, 50));
  }
  return 0;
}

describe("a gateway dies", () => {
  test("its devices are swept offline by the surviving gateway within the stream lifetime", async () => {
    const { alice, bob } = await pair();
    const bobWatch = await watch(gatewayAt(c, 1), bob);
    const aliceStream = new Watcher(sessionClient(cluster, "gateway-1"), alice);
    await eventually("online", () => bobWatch.stateOf(alice.userId) === PresenceState.ONLINE, 20_000);
    const killedAt = Date.now();
    await cluster.kill("gateway-1");
    await eventually("swept offline", () => bobWatch.stateOf(alice.userId) === PresenceState.OFFLINE, 30_000);
    const after = (bobWatch.about(alice.userId).at(-1)?.at ?? 0) - killedAt;
    process.stdout.write(`# engines: a device of a killed gateway was offline for its contacts after ${after} ms\n`);
    // Streams live three heartbeat intervals past their last refresh; the sweep runs every interval.
    assert.ok(after <= 4 * heartbeatMs + 5_000, `offline only after ${after} ms`);
    aliceStream.stream.abort();
    await bobWatch.close();
  });
});
