// Push notifications end to end: a real Parley process whose providers point at local fake FCM,
// APNs and Web Push servers; users sign in, register tokens, open (or not) streams and send
// through the real RPCs. Covers who gets a push, coalescing, mute and device preferences,
// retries with backoff, dead letters, token removal, revocation and the RPCs' rules.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { DeviceStream } from "../clients/node/device-stream.ts";
import { bearer } from "../clients/node/transport.ts";
import { NotificationLevel, PushProvider } from "../gen/parley/v1/push_pb.js";
import { reasonOf } from "../services/shared/errors.ts";
import { textMessage } from "./helpers/chat.ts";
import { eventually, eventuallyAsync, newPhone, type SignedIn } from "./helpers/parley.ts";
import { apns } from "./push/fake-apns.ts";
import { fcm } from "./push/fake-fcm.ts";
import { webPush } from "./push/fake-web-push.ts";
import {
  apnsToken,
  type Fakes,
  fcmToken,
  newApnsToken,
  newFcmToken,
  type PushParley,
  providerEnv,
  register,
  startFakes,
  startPushParley,
  webPushToken,
} from "./push/harness.ts";

const root = new URL("../", import.meta.url).pathname;
const windowMs = 1_000;
const retryBaseMs = 300;
/** After a control push arrived, how long a push that should not come gets to show up anyway. */
const settleMs = windowMs + 1_500;
/** Only a bound on how long a broken test may hang. */
const patienceMs = 20_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let fakes: Fakes;
let p: PushParley;
before(async () => {
  fakes = await startFakes(mkdtempSync(join(tmpdir(), "parley-push-fakes-")));
  p = await startPushParley({
    ...providerEnv(fakes),
    PARLEY_PUSH_COALESCE_MS: String(windowMs),
    PARLEY_PUSH_RETRY_BASE_MS: String(retryBaseMs),
    PARLEY_PUSH_RETRY_MAX_MS: "3000",
    PARLEY_PUSH_MAX_ATTEMPTS: "3",
    PARLEY_PUSH_RATE_BURST: "100",
    PARLEY_PUSH_RATE_PER_MINUTE: "600",
  });
});
after(async () => {
  await p?.stop();
  await fakes?.close();
});

const clients = () => p.process.clients;

async function direct(a: SignedIn, b: SignedIn): Promise<string> {
  const res = await clients().conversations.getOrCreateDirect({ peerUserId: b.userId }, { headers: bearer(a.accessToken) });
  return res.conversation?.conversationId ?? "";
}

async function group(owner: SignedIn, members: SignedIn[]): Promise<string> {
  const res = await clients().conversations.createGroup(
    { name: "Weekend plans", memberUserIds: members.map((m) => m.userId), clientRequestId: `g-${Date.now()}` },
    { headers: bearer(owner.accessToken) },
  );
  return res.conversation?.conversationId ?? "";
}

const send = (from: SignedIn, conversationId: string, text: string) =>
  clients().messaging.sendMessage(textMessage(conversationId, text), { headers: bearer(from.accessToken) });

/** A device with an FCM token and no stream; returns its token. */
async function offlineFcm(device: SignedIn): Promise<string> {
  const token = newFcmToken();
  await register(p.push, device, fcmToken(token));
  return token;
}

const fcmPushes = (token: string) => fakes.fcm.script.for(token);
const waitForFcm = (token: string, count = 1) =>
  eventually(
    `${count} FCM push(es) for ${token}`,
    () => fcmPushes(token).filter((r) => r.status === 200).length >= count,
    patienceMs,
  );

async function expectError(call: Promise<unknown>, code: Code, reason: string): Promise<void> {
  await assert.rejects(call, (error: unknown) => {
    assert.ok(error instanceof ConnectError, String(error));
    assert.equal(error.code, code, error.message);
    assert.equal(reasonOf(error), reason);
    return true;
  });
}

describe("who gets a push", () => {
  test("only devices without an open stream, never the sender's own devices", async () => {
    const phone = newPhone();
    const alice = await p.signIn(phone);
    const aliceTablet = await p.signIn(phone);
    const bobPhone = await p.signIn(newPhone());
    const bobLaptop = await p.signIn(bobPhone.phoneNumber);
    const id = await direct(alice, bobPhone);
    const [aliceToken, tabletToken, phoneToken, laptopToken] = (await Promise.all(
      [alice, aliceTablet, bobPhone, bobLaptop].map(offlineFcm),
    )) as [string, string, string, string];
    const laptop = new DeviceStream(clients().session, { accessToken: bobLaptop.accessToken });
    await laptop.caughtUp;
    const connectedBefore = await p.metric("parley_push_skipped_total", { reason: "connected" });

    await send(alice, id, "dinner at 8?");
    await waitForFcm(phoneToken);
    await eventually("the laptop's stream got the message", () => laptop.events.some((e) => e.body.case === "message"));
    await sleep(settleMs);
    assert.equal(fcmPushes(phoneToken).length, 1);
    const [push] = fcmPushes(phoneToken);
    assert.equal(push?.payload.body, "dinner at 8?");
    assert.equal(push?.payload.title, alice.phoneNumber, "a direct chat's push is titled with the sender's name");
    assert.deepEqual(push?.payload.data, { conversation_id: id, sequence: "2", count: "1" });
    assert.equal(fcmPushes(laptopToken).length, 0, "the connected sibling gets no push");
    assert.equal(fcmPushes(aliceToken).length + fcmPushes(tabletToken).length, 0, "the sender's devices get none");
    assert.ok((await p.metric("parley_push_skipped_total", { reason: "connected" })) > connectedBefore);

    // Once its stream is closed, the laptop is pushed to like its sibling.
    laptop.close();
    await sleep(500);
    await send(alice, id, "still on?");
    await waitForFcm(laptopToken);
    await waitForFcm(phoneToken, 2);
    assert.deepEqual(fakes.fcm.script.problems, []);
  });

  test("every provider delivers through the server, and each one's 'unregistered' answer removes the token", async () => {
    const alice = await p.signIn();
    const bob = await p.signIn();
    const bobIpad = await p.signIn(bob.phoneNumber);
    const bobBrowser = await p.signIn(bob.phoneNumber);
    const id = await direct(alice, bob);
    const fcmKey = await offlineFcm(bob);
    const apnsKey = newApnsToken();
    await register(p.push, bobIpad, apnsToken(apnsKey));
    const subscription = fakes.web.subscribe();
    await register(p.push, bobBrowser, webPushToken(subscription));

    await send(alice, id, "hello everywhere");
    await waitForFcm(fcmKey);
    await eventually("the APNs push", () => fakes.apns.script.for(apnsKey).length === 1, patienceMs);
    await eventually("the Web Push push", () => fakes.web.script.for(subscription.key).length === 1, patienceMs);
    assert.equal(fakes.apns.script.for(apnsKey)[0]?.payload.body, "hello everywhere");
    assert.equal(fakes.web.script.for(subscription.key)[0]?.payload.json.body, "hello everywhere");

    fakes.fcm.script.answer(fcmKey, fcm.unregistered());
    fakes.apns.script.answer(apnsKey, apns.unregistered());
    fakes.web.script.answer(subscription.key, webPush.gone());
    await send(alice, id, "are you there?");
    const providers = async (device: SignedIn) =>
      (await p.push.getNotificationSettings({}, { headers: bearer(device.accessToken) })).devices.find((d) => d.current)
        ?.provider;
    await eventuallyAsync(
      "all three tokens removed",
      async () =>
        (await providers(bob)) === PushProvider.UNSPECIFIED &&
        (await providers(bobIpad)) === PushProvider.UNSPECIFIED &&
        (await providers(bobBrowser)) === PushProvider.UNSPECIFIED,
      patienceMs,
    );
    await send(alice, id, "one more");
    await sleep(settleMs);
    assert.equal(fcmPushes(fcmKey).length, 2, "no push to a removed FCM token");
    assert.equal(fakes.apns.script.for(apnsKey).length, 2, "no push to a removed APNs token");
    assert.equal(fakes.web.script.for(subscription.key).length, 2, "no push to a removed subscription");
    assert.deepEqual([...fakes.fcm.script.problems, ...fakes.apns.script.problems, ...fakes.web.script.problems], []);
  });

  test("a signed-out device's token is forgotten", async () => {
    const alice = await p.signIn();
    const bob = await p.signIn();
    const bobOld = await p.signIn(bob.phoneNumber);
    const id = await direct(alice, bob);
    const [current, old] = await Promise.all([offlineFcm(bob), offlineFcm(bobOld)]);
    await clients().identity.revokeDevice({ deviceId: bobOld.deviceId }, { headers: bearer(bob.accessToken) });
    await sleep(300);
    await send(alice, id, "after the revoke");
    await waitForFcm(current);
    await sleep(settleMs);
    assert.equal(fcmPushes(old).length, 0);
  });
});

describe("coalescing", () => {
  test("a burst of messages becomes one push that carries the count", async () => {
    const alice = await p.signIn();
    const bob = await p.signIn();
    const id = await direct(alice, bob);
    const token = await offlineFcm(bob);
    const coalescedBefore = await p.metric("parley_push_coalesced_total");
    // Sent at once, so the burst fits in one window even on a busy machine.
    await Promise.all([1, 2, 3, 4, 5].map((i) => send(alice, id, `burst ${i}`)));
    await waitForFcm(token);
    await sleep(settleMs);
    assert.equal(fcmPushes(token).length, 1, "one push for the burst");
    const [push] = fcmPushes(token);
    assert.equal(push?.payload.data.count, "5");
    assert.equal(push?.payload.data.sequence, "6", "it points at the newest message");
    assert.match(push?.payload.body ?? "", /^burst [1-5] \(\+4 more\)$/);
    assert.equal(push?.payload.android.notification?.notification_count, 5);
    assert.equal((await p.metric("parley_push_coalesced_total")) - coalescedBefore, 4);
  });
});

describe("mute, levels and device preferences", () => {
  test("each setting is respected, for the member who set it only", async () => {
    const alice = await p.signIn();
    const bob = await p.signIn();
    const dave = await p.signIn();
    const id = await group(alice, [bob, dave]);
    const [bobToken, daveToken] = await Promise.all([offlineFcm(bob), offlineFcm(dave)]);
    const headers = { headers: bearer(bob.accessToken) };
    const setConversation = (settings: { level?: NotificationLevel; mutedUntilMs?: number; mutedForever?: boolean }) =>
      p.push.setConversationNotifications(
        {
          settings: {
            conversationId: id,
            level: settings.level ?? NotificationLevel.ALL,
            mutedUntil: settings.mutedUntilMs ? timestampFromMs(settings.mutedUntilMs) : undefined,
            mutedForever: settings.mutedForever ?? false,
          },
        },
        headers,
      );
    const setDevice = (enabled: boolean, showPreviews: boolean) =>
      p.push.setDeviceNotificationPreferences({ preferences: { enabled, showPreviews } }, headers);
    let round = 0;
    /** Sends one message; returns Bob's new pushes once Dave (the control) has his. */
    const step = async (text: string) => {
      round++;
      const bobBefore = fcmPushes(bobToken).length;
      await send(alice, id, text);
      await waitForFcm(daveToken, round);
      await sleep(settleMs);
      return fcmPushes(bobToken).slice(bobBefore);
    };

    await setConversation({ mutedUntilMs: Date.now() + 3_600_000 });
    assert.deepEqual(await step("muted for an hour"), []);
    await setConversation({ mutedForever: true });
    const settings = await p.push.getNotificationSettings({ conversationIds: [id] }, headers);
    assert.equal(settings.conversations[0]?.mutedForever, true);
    assert.deepEqual(await step("muted forever"), []);

    await setConversation({ level: NotificationLevel.QUIET });
    const quiet = await step("quiet please");
    assert.equal(quiet.length, 1);
    assert.equal(quiet[0]?.payload.android.notification?.sound, undefined, "a quiet push has no sound");
    assert.equal(quiet[0]?.payload.title, "Weekend plans");
    assert.equal(quiet[0]?.payload.body, `${alice.phoneNumber}: quiet please`);

    await setConversation({ level: NotificationLevel.NONE });
    assert.deepEqual(await step("level none"), []);

    await setConversation({ level: NotificationLevel.ALL });
    await setDevice(false, true);
    assert.deepEqual(await step("device disabled"), []);

    await setDevice(true, false);
    const hidden = await step("a secret plan");
    assert.equal(hidden.length, 1);
    assert.equal(hidden[0]?.payload.title, "Parley");
    assert.equal(hidden[0]?.payload.body, "New message");
    assert.ok(!JSON.stringify(hidden[0]?.payload).includes("secret"), "no text leaves the server without previews");
    assert.equal(hidden[0]?.payload.android.notification?.sound, "default");
    assert.ok((await p.metric("parley_push_skipped_total", { reason: "muted" })) >= 3);
    assert.ok((await p.metric("parley_push_skipped_total", { reason: "disabled" })) >= 1);
  });
});

describe("retries and dead letters", () => {
  test("5xx is retried with growing backoff until it succeeds", async () => {
    const alice = await p.signIn();
    const bob = await p.signIn();
    const id = await direct(alice, bob);
    const token = await offlineFcm(bob);
    fakes.fcm.script.answer(token, fcm.unavailable(), fcm.internal());
    await send(alice, id, "through the storm");
    await waitForFcm(token);
    const attempts = fcmPushes(token);
    assert.deepEqual(
      attempts.map((a) => a.status),
      [503, 500, 200],
    );
    const [first, second, third] = attempts.map((a) => a.at) as [number, number, number];
    // Equal jitter: the n-th wait is between half and all of base * 2^(n-1).
    assert.ok(second - first >= retryBaseMs / 2 - 20, `first wait ${second - first} ms`);
    assert.ok(third - second >= retryBaseMs - 20, `second wait ${third - second} ms`);
  });

  test("throttling honours Retry-After", async () => {
    const alice = await p.signIn();
    const bob = await p.signIn();
    const id = await direct(alice, bob);
    const token = await offlineFcm(bob);
    fakes.fcm.script.answer(token, fcm.throttled(2));
    await send(alice, id, "slow down");
    await waitForFcm(token);
    const [throttled, sent] = fcmPushes(token);
    assert.equal(throttled?.status, 429);
    assert.ok((sent?.at ?? 0) - (throttled?.at ?? 0) >= 1_950, "waited the 2 s the provider asked for");
  });

  test("after the last attempt the push is dead-lettered: stored, counted and listed", async () => {
    const alice = await p.signIn();
    const bob = await p.signIn();
    const id = await direct(alice, bob);
    const token = await offlineFcm(bob);
    fakes.fcm.script.always(token, fcm.unavailable());
    const before = await p.metric("parley_push_dead_letters_total", { provider: "fcm" });
    await send(alice, id, "into the void");
    await eventuallyAsync(
      "the dead letter is counted",
      async () => (await p.metric("parley_push_dead_letters_total", { provider: "fcm" })) === before + 1,
      patienceMs,
    );
    await sleep(settleMs);
    assert.equal(fcmPushes(token).length, 3, "exactly PARLEY_PUSH_MAX_ATTEMPTS attempts");
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["services/push/dead-letters-cli.ts", "--data-dir", p.dataDir],
      {
        cwd: root,
      },
    );
    const line = stdout.split("\n").find((l) => l.includes(bob.deviceId));
    assert.ok(line, stdout);
    assert.match(line, /fcm/);
    assert.match(line, /3 attempts/);
    assert.match(line, /503/);
    assert.match(line, new RegExp(id));
  });
});

describe("PushService rules", () => {
  test("tokens are validated; web push endpoints must be on an allowed host", async () => {
    const bob = await p.signIn();
    const headers = { headers: bearer(bob.accessToken) };
    const registerToken = (token: Parameters<typeof register>[2]) => p.push.registerPushToken({ token }, headers);
    await expectError(registerToken({ case: undefined }), Code.InvalidArgument, "EMPTY");
    await expectError(registerToken(fcmToken("has spaces in it")), Code.InvalidArgument, "MALFORMED_PUSH_TOKEN");
    await expectError(registerToken(apnsToken("xyz")), Code.InvalidArgument, "MALFORMED_PUSH_TOKEN");
    const good = fakes.web.subscribe();
    await expectError(
      registerToken(webPushToken({ ...good, endpoint: "http://169.254.169.254/latest/meta-data" })),
      Code.InvalidArgument,
      "PUSH_ENDPOINT_NOT_ALLOWED",
    );
    await expectError(registerToken(webPushToken({ ...good, p256dh: "AAAA" })), Code.InvalidArgument, "MALFORMED_PUSH_TOKEN");
    await expectError(registerToken(webPushToken({ ...good, auth: "AAAA" })), Code.InvalidArgument, "MALFORMED_PUSH_TOKEN");
    await registerToken(webPushToken(good));
    const settings = await p.push.getNotificationSettings({}, headers);
    assert.equal(settings.devices.find((d) => d.current)?.provider, PushProvider.WEB_PUSH);
    await p.push.unregisterPushToken({}, headers);
    await p.push.unregisterPushToken({}, headers);
    const after = await p.push.getNotificationSettings({}, headers);
    assert.equal(after.devices.find((d) => d.current)?.provider, PushProvider.UNSPECIFIED);
  });

  test("conversation settings only for members: others get NOT_FOUND as for a missing one", async () => {
    const alice = await p.signIn();
    const bob = await p.signIn();
    const eve = await p.signIn();
    const id = await direct(alice, bob);
    const set = (who: SignedIn, conversationId: string) =>
      p.push.setConversationNotifications(
        { settings: { conversationId, level: NotificationLevel.NONE } },
        { headers: bearer(who.accessToken) },
      );
    await set(bob, id);
    await expectError(set(eve, id), Code.NotFound, "CONVERSATION_NOT_FOUND");
    await expectError(set(eve, "0190a0b0-c0d0-7e00-8000-00000000beef"), Code.NotFound, "CONVERSATION_NOT_FOUND");
    await expectError(set(eve, "not-an-id"), Code.InvalidArgument, "MALFORMED_ID");
    await expectError(
      p.push.getNotificationSettings({ conversationIds: [id] }, { headers: bearer(eve.accessToken) }),
      Code.NotFound,
      "CONVERSATION_NOT_FOUND",
    );
    await expectError(
      p.push.setConversationNotifications({}, { headers: bearer(bob.accessToken) }),
      Code.InvalidArgument,
      "EMPTY",
    );
    const mine = await p.push.getNotificationSettings({ conversationIds: [id] }, { headers: bearer(bob.accessToken) });
    assert.equal(mine.conversations[0]?.level, NotificationLevel.NONE);
  });

  test("device preferences only for the caller's own devices; every RPC needs a token", async () => {
    const bob = await p.signIn();
    const bobTablet = await p.signIn(bob.phoneNumber);
    const eve = await p.signIn();
    const prefs = { enabled: false, showPreviews: false };
    await p.push.setDeviceNotificationPreferences(
      { deviceId: bobTablet.deviceId, preferences: prefs },
      { headers: bearer(bob.accessToken) },
    );
    const seen = await p.push.getNotificationSettings({}, { headers: bearer(bobTablet.accessToken) });
    assert.deepEqual(
      seen.devices.map((d) => [d.deviceId, d.preferences?.enabled, d.current]).sort(),
      [
        [bob.deviceId, true, false],
        [bobTablet.deviceId, false, true],
      ].sort(),
    );
    await expectError(
      p.push.setDeviceNotificationPreferences(
        { deviceId: bob.deviceId, preferences: prefs },
        { headers: bearer(eve.accessToken) },
      ),
      Code.NotFound,
      "DEVICE_NOT_FOUND",
    );
    await expectError(p.push.listPushOutbox({}), Code.Unauthenticated, "TOKEN_MISSING");
    await expectError(p.push.registerPushToken({ token: fcmToken("x") }), Code.Unauthenticated, "TOKEN_MISSING");
  });
});
