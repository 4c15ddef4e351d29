// Push in distributed mode: the push process consumes Kafka in its own group, reads tokens and
// settings from Cassandra and live routes from Redis (a device streaming on any gateway gets no
// push), and sends through FCM (the local fake); APNs has no credentials here, so its pushes go to
// the Cassandra outbox. Dead letters land in Cassandra and the operator command lists them.
// Like the rest of the engine suite it assumes one cluster at a time on the engines: a second
// cluster's push process would join the same consumer group and take some of these events.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { DeviceStream } from "../../clients/node/device-stream.ts";
import { bearer } from "../../clients/node/transport.ts";
import { PushProvider, PushService } from "../../gen/parley/v1/push_pb.js";
import type { Cluster } from "../../scripts/cluster/launcher.ts";
import { textMessage } from "../helpers/chat.ts";
import { eventually, eventuallyAsync, newPhone, type SignedIn } from "../helpers/parley.ts";
import { type FakeFcm, fcm, startFakeFcm } from "../push/fake-fcm.ts";
import { apnsToken, fcmToken, newApnsToken, newFcmToken, register } from "../push/harness.ts";
import { type ClusterClients, gatewayAt, signIn, startEngineCluster } from "./fixture.ts";

const root = new URL("../../", import.meta.url).pathname;
const windowMs = 1_000;
const settleMs = windowMs + 2_000;
const patienceMs = 30_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let cluster: Cluster;
let c: ClusterClients;
let fake: FakeFcm;
let push: Client<typeof PushService>;
before(async () => {
  fake = await startFakeFcm(mkdtempSync(join(tmpdir(), "parley-push-engines-")));
  ({ cluster, clients: c } = await startEngineCluster({
    fanout: 1,
    env: {
      PARLEY_FCM_SERVICE_ACCOUNT: fake.serviceAccountFile,
      PARLEY_FCM_BASE_URL: fake.baseUrl,
      PARLEY_PUSH_COALESCE_MS: String(windowMs),
      PARLEY_PUSH_RETRY_BASE_MS: "200",
      PARLEY_PUSH_MAX_ATTEMPTS: "2",
    },
  }));
  push = createClient(PushService, createGrpcTransport({ baseUrl: cluster.get("push-1").url }));
});
after(async () => {
  await cluster?.stop();
  await fake?.close();
});

async function direct(a: SignedIn, b: SignedIn): Promise<string> {
  const res = await c.conversations.getOrCreateDirect({ peerUserId: b.userId }, { headers: bearer(a.accessToken) });
  return res.conversation?.conversationId ?? "";
}

const send = (from: SignedIn, id: string, text: string) =>
  c.messaging.sendMessage(textMessage(id, text), { headers: bearer(from.accessToken) });

async function offlineFcm(device: SignedIn): Promise<string> {
  const token = newFcmToken();
  await register(push, device, fcmToken(token));
  return token;
}

describe("push on the engines", () => {
  test("only the device without a stream (on any gateway) gets one coalesced push", async () => {
    const alice = await signIn(cluster, c, newPhone());
    const bobPhone = await signIn(cluster, c, newPhone());
    const bobLaptop = await signIn(cluster, c, bobPhone.phoneNumber);
    const id = await direct(alice, bobPhone);
    const [phoneToken, laptopToken] = await Promise.all([offlineFcm(bobPhone), offlineFcm(bobLaptop)]);
    const laptop = new DeviceStream(gatewayAt(c, 1), { accessToken: bobLaptop.accessToken });
    await laptop.caughtUp;

    for (let i = 1; i <= 3; i++) await send(alice, id, `engines ${i}`);
    await eventually("the phone's push", () => fake.script.for(phoneToken).length === 1, patienceMs);
    await eventually(
      "the laptop's stream has all three",
      () => laptop.events.filter((e) => e.body.case === "message").length === 3,
      patienceMs,
    );
    await sleep(settleMs);
    assert.equal(fake.script.for(phoneToken).length, 1);
    assert.equal(fake.script.for(phoneToken)[0]?.payload.data.count, "3");
    assert.equal(fake.script.for(laptopToken).length, 0, "the streaming device (route in Redis) gets none");
    assert.ok((await cluster.metric("push-1", "parley_push_skipped_total")) >= 1);
    assert.deepEqual(fake.script.problems, []);
    laptop.close();
  });

  test("an unregistered token is removed from Cassandra; an unconfigured provider writes the outbox", async () => {
    const alice = await signIn(cluster, c, newPhone());
    const bob = await signIn(cluster, c, newPhone());
    const bobIpad = await signIn(cluster, c, bob.phoneNumber);
    const id = await direct(alice, bob);
    const token = await offlineFcm(bob);
    await register(push, bobIpad, apnsToken(newApnsToken()));
    fake.script.answer(token, fcm.unregistered());
    await send(alice, id, "are you still there?");
    await eventuallyAsync(
      `the FCM token removed (FCM saw ${JSON.stringify(fake.script.for(token).map((r) => r.status))})`,
      async () =>
        (await push.getNotificationSettings({}, { headers: bearer(bob.accessToken) })).devices.find((d) => d.current)
          ?.provider === PushProvider.UNSPECIFIED,
      patienceMs,
    );
    await eventuallyAsync(
      "the APNs push in the outbox",
      async () => (await push.listPushOutbox({}, { headers: bearer(bobIpad.accessToken) })).entries.length === 1,
      patienceMs,
    );
    const [entry] = (await push.listPushOutbox({}, { headers: bearer(bob.accessToken) })).entries;
    assert.equal(entry?.deviceId, bobIpad.deviceId);
    assert.equal(entry?.provider, PushProvider.APNS);
    assert.equal(entry?.body, "are you still there?");
  });

  test("a push that keeps failing is dead-lettered in Cassandra and listed", async () => {
    const alice = await signIn(cluster, c, newPhone());
    const bob = await signIn(cluster, c, newPhone());
    const id = await direct(alice, bob);
    const token = await offlineFcm(bob);
    fake.script.always(token, fcm.unavailable());
    await send(alice, id, "lost cause");
    await eventuallyAsync(
      "the dead letter",
      async () => (await cluster.metric("push-1", "parley_push_dead_letters_total")) >= 1,
      patienceMs,
    );
    assert.equal(fake.script.for(token).length, 2);
    const { stdout } = await promisify(execFile)(process.execPath, ["services/push/dead-letters-cli.ts", "--cassandra"], {
      cwd: root,
    });
    assert.match(stdout, new RegExp(`device ${bob.deviceId}.*2 attempts`));
  });
});
