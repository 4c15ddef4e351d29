// Each provider adapter against a local server that checks every request's format the way the
// real service does and answers as it does: success, unregistered token, throttled (with
// Retry-After), server errors, and the auth-renewal answers.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import webpush from "web-push";
import type { Notification, PushTarget, PushToken } from "../services/push/ports.ts";
import { ApnsProvider } from "../services/push/providers/apns.ts";
import { FcmProvider } from "../services/push/providers/fcm.ts";
import { GoogleAccessTokens, loadServiceAccount } from "../services/push/providers/google-auth.ts";
import { WebPushProvider } from "../services/push/providers/web-push.ts";
import { systemClock } from "../services/shared/clock.ts";
import { apns, type FakeApns, startFakeApns } from "./push/fake-apns.ts";
import { type FakeFcm, fcm, startFakeFcm } from "./push/fake-fcm.ts";
import { type FakeWebPush, startFakeWebPush, webPush } from "./push/fake-web-push.ts";

const dir = mkdtempSync(join(tmpdir(), "parley-push-providers-"));
const signal = new AbortController().signal;
let counter = 0;

const notification = (over: Partial<Notification> = {}): Notification => ({
  conversationId: "0190a0b0-c0d0-7e00-8000-000000000001",
  sequence: 42n,
  count: 3,
  title: "Alice",
  body: "see you at 8 (+2 more)",
  quiet: false,
  ...over,
});

const target = (token: PushToken): PushTarget => ({
  pushId: `0190a0b0-c0d0-7e00-8000-${String(++counter).padStart(12, "0")}`,
  userId: "user-1",
  deviceId: "device-1",
  token,
});

describe("FCM HTTP v1", () => {
  let server: FakeFcm;
  let provider: FcmProvider;
  before(async () => {
    server = await startFakeFcm(dir);
    const account = loadServiceAccount(server.serviceAccountFile);
    provider = new FcmProvider({
      projectId: account.projectId,
      baseUrl: server.baseUrl,
      tokens: new GoogleAccessTokens(account, systemClock),
      clock: systemClock,
    });
  });
  after(() => server.close());
  const fcmToken = (name: string): PushToken => ({ provider: "fcm", token: `${name}:APA91b${counter}` });

  test("success: the OAuth2 token is obtained once and the message has FCM's shape", async () => {
    const token = fcmToken("ok");
    assert.deepEqual(await provider.send(target(token), notification(), signal), { kind: "sent" });
    assert.deepEqual(await provider.send(target(token), notification({ quiet: true, count: 1 }), signal), { kind: "sent" });
    assert.deepEqual(server.script.problems, []);
    assert.equal(server.tokensIssued, 1, "the access token is cached");
    const [loud, quiet] = server.script.for(token.provider === "fcm" ? token.token : "");
    assert.equal(loud?.payload.title, "Alice");
    assert.deepEqual(loud?.payload.data, { conversation_id: notification().conversationId, sequence: "42", count: "3" });
    assert.equal(loud?.payload.android.notification?.sound, "default");
    assert.equal(quiet?.payload.android.notification?.sound, undefined, "quiet pushes carry no sound");
  });

  test("UNREGISTERED and an invalid token field mean the token is dead", async () => {
    const gone = fcmToken("gone");
    const invalid = fcmToken("invalid");
    server.script.answer(gone.provider === "fcm" ? gone.token : "", fcm.unregistered());
    server.script.answer(invalid.provider === "fcm" ? invalid.token : "", fcm.invalidToken());
    assert.equal((await provider.send(target(gone), notification(), signal)).kind, "unregistered");
    assert.equal((await provider.send(target(invalid), notification(), signal)).kind, "unregistered");
  });

  test("throttled: retry after the Retry-After the server gave; 5xx: retry", async () => {
    const token = fcmToken("busy");
    const key = token.provider === "fcm" ? token.token : "";
    server.script.answer(key, fcm.throttled(7), fcm.unavailable(), fcm.internal());
    assert.deepEqual(await provider.send(target(token), notification(), signal), {
      kind: "retry",
      detail: "429 RESOURCE_EXHAUSTED QUOTA_EXCEEDED RESOURCE_EXHAUSTED (fake)",
      retryAfterMs: 7000,
    });
    const unavailable = await provider.send(target(token), notification(), signal);
    assert.equal(unavailable.kind, "retry");
    assert.equal(unavailable.kind === "retry" && unavailable.retryAfterMs, undefined);
    assert.equal((await provider.send(target(token), notification(), signal)).kind, "retry");
    assert.deepEqual(await provider.send(target(token), notification(), signal), { kind: "sent" });
  });

  test("a bare 400 is a rejected request (dead letter), not a dead token", async () => {
    const token = fcmToken("bad");
    server.script.answer(token.provider === "fcm" ? token.token : "", {
      status: 400,
      body: { error: { status: "INVALID_ARGUMENT" } },
    });
    assert.equal((await provider.send(target(token), notification(), signal)).kind, "rejected");
  });

  test("an unreachable FCM is retried", async () => {
    const account = loadServiceAccount(server.serviceAccountFile);
    const offline = new FcmProvider({
      projectId: account.projectId,
      baseUrl: "http://127.0.0.1:1",
      tokens: new GoogleAccessTokens(account, systemClock),
      clock: systemClock,
    });
    assert.equal((await offline.send(target(fcmToken("x")), notification(), signal)).kind, "retry");
  });
});

describe("APNs over HTTP/2 with a provider token", () => {
  let server: FakeApns;
  let provider: ApnsProvider;
  const deviceToken = () => (Date.now().toString(16) + String(++counter)).padEnd(64, "a").slice(0, 64);
  before(async () => {
    server = await startFakeApns(dir);
    provider = new ApnsProvider({
      credentials: {
        privateKey: (await import("node:fs")).readFileSync(server.keyFile, "utf8"),
        keyId: server.keyId,
        teamId: server.teamId,
        topic: server.topic,
      },
      baseUrl: server.url,
      clock: systemClock,
    });
  });
  after(async () => {
    provider.close();
    await server.close();
  });

  test("success: ES256 token, apns-* headers and the alert payload", async () => {
    const token = deviceToken();
    assert.deepEqual(await provider.send(target({ provider: "apns", token }), notification(), signal), { kind: "sent" });
    assert.deepEqual(await provider.send(target({ provider: "apns", token }), notification({ quiet: true }), signal), {
      kind: "sent",
    });
    assert.deepEqual(server.script.problems, []);
    const [loud, quiet] = server.script.for(token);
    assert.equal(loud?.payload.title, "Alice");
    assert.equal(loud?.payload.priority, "10");
    assert.equal(loud?.payload.sound, "default");
    assert.equal(loud?.payload.collapseId, notification().conversationId);
    assert.deepEqual(loud?.payload.data, { conversation_id: notification().conversationId, sequence: "42", count: 3 });
    assert.equal(quiet?.payload.priority, "5");
    assert.equal(quiet?.payload.sound, undefined);
  });

  test("410 Unregistered and 400 BadDeviceToken mean the token is dead", async () => {
    const gone = deviceToken();
    const bad = deviceToken();
    server.script.answer(gone, apns.unregistered());
    server.script.answer(bad, apns.badDeviceToken());
    assert.equal((await provider.send(target({ provider: "apns", token: gone }), notification(), signal)).kind, "unregistered");
    assert.equal((await provider.send(target({ provider: "apns", token: bad }), notification(), signal)).kind, "unregistered");
  });

  test("429 honours Retry-After, 5xx retries, ExpiredProviderToken renews the token, other 400s are rejected", async () => {
    const token = deviceToken();
    server.script.answer(
      token,
      apns.throttled(3),
      apns.unavailable(),
      apns.internal(),
      apns.expiredProviderToken(),
      apns.badPayload(),
    );
    const throttled = await provider.send(target({ provider: "apns", token }), notification(), signal);
    assert.equal(throttled.kind === "retry" && throttled.retryAfterMs, 3000);
    assert.equal((await provider.send(target({ provider: "apns", token }), notification(), signal)).kind, "retry");
    assert.equal((await provider.send(target({ provider: "apns", token }), notification(), signal)).kind, "retry");
    const expired = await provider.send(target({ provider: "apns", token }), notification(), signal);
    assert.deepEqual(expired, { kind: "retry", detail: "403 ExpiredProviderToken", retryAfterMs: 0 });
    assert.equal((await provider.send(target({ provider: "apns", token }), notification(), signal)).kind, "rejected");
    assert.deepEqual(await provider.send(target({ provider: "apns", token }), notification(), signal), { kind: "sent" });
  });

  test("the connection comes back after the server drops it", async () => {
    const token = deviceToken();
    assert.equal((await provider.send(target({ provider: "apns", token }), notification(), signal)).kind, "sent");
    provider.close();
    assert.equal((await provider.send(target({ provider: "apns", token }), notification(), signal)).kind, "sent");
  });
});

describe("Web Push with VAPID and aes128gcm", () => {
  let server: FakeWebPush;
  let provider: WebPushProvider;
  before(async () => {
    server = await startFakeWebPush();
    const keys = webpush.generateVAPIDKeys();
    provider = new WebPushProvider({
      vapid: { subject: "mailto:push@parley.test", publicKey: keys.publicKey, privateKey: keys.privateKey },
      clock: systemClock,
    });
  });
  after(() => server.close());
  const subscription = () => {
    const s = server.subscribe();
    return { key: s.key, token: { provider: "webpush", endpoint: s.endpoint, p256dh: s.p256dh, auth: s.auth } as const };
  };

  test("success: the VAPID token verifies and the payload decrypts with the subscription's key", async () => {
    const { key, token } = subscription();
    assert.deepEqual(await provider.send(target(token), notification(), signal), { kind: "sent" });
    assert.deepEqual(await provider.send(target(token), notification({ quiet: true }), signal), { kind: "sent" });
    assert.deepEqual(server.script.problems, []);
    const [loud, quiet] = server.script.for(key);
    assert.deepEqual(loud?.payload.json, {
      title: "Alice",
      body: "see you at 8 (+2 more)",
      conversation_id: notification().conversationId,
      sequence: "42",
      count: 3,
      quiet: false,
    });
    assert.equal(loud?.payload.urgency, "high");
    assert.equal(loud?.payload.topic, notification().conversationId.replaceAll("-", ""));
    assert.equal(quiet?.payload.urgency, "normal");
  });

  test("404 and 410 mean the subscription is gone", async () => {
    for (const answer of [webPush.gone(), webPush.notFound()]) {
      const { key, token } = subscription();
      server.script.answer(key, answer);
      assert.equal((await provider.send(target(token), notification(), signal)).kind, "unregistered");
    }
  });

  test("429 honours Retry-After, 5xx retries, 413 is rejected", async () => {
    const { key, token } = subscription();
    server.script.answer(key, webPush.throttled(2), webPush.unavailable(), webPush.tooLarge());
    const throttled = await provider.send(target(token), notification(), signal);
    assert.equal(throttled.kind === "retry" && throttled.retryAfterMs, 2000);
    assert.equal((await provider.send(target(token), notification(), signal)).kind, "retry");
    assert.equal((await provider.send(target(token), notification(), signal)).kind, "rejected");
    assert.deepEqual(await provider.send(target(token), notification(), signal), { kind: "sent" });
  });
});
