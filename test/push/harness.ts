// A real Parley process with push configured against the local fake providers (or none: the
// outbox), plus what the push tests need: signed-in devices with tokens, a PushService client,
// and metric reads.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import webpush from "web-push";
import { bearer } from "../../clients/node/transport.ts";
import { PushService, type RegisterPushTokenRequestSchema } from "../../gen/parley/v1/push_pb.js";
import { newPhone, type SignedIn, signInOn } from "../helpers/parley.ts";
import { type ParleyProcess, spawnParley } from "../helpers/process.ts";
import { type FakeApns, startFakeApns } from "./fake-apns.ts";
import { type FakeFcm, startFakeFcm } from "./fake-fcm.ts";
import { type FakeWebPush, startFakeWebPush } from "./fake-web-push.ts";

export interface Fakes {
  fcm: FakeFcm;
  apns: FakeApns;
  web: FakeWebPush;
  close(): Promise<void>;
}

export async function startFakes(dir: string): Promise<Fakes> {
  const [fcm, apns, web] = await Promise.all([startFakeFcm(dir), startFakeApns(dir), startFakeWebPush()]);
  return { fcm, apns, web, close: async () => void (await Promise.all([fcm.close(), apns.close(), web.close()])) };
}

/** The environment that points every provider at the fakes. */
export function providerEnv(fakes: Fakes): Record<string, string> {
  const vapid = webpush.generateVAPIDKeys();
  return {
    PARLEY_FCM_SERVICE_ACCOUNT: fakes.fcm.serviceAccountFile,
    PARLEY_FCM_BASE_URL: fakes.fcm.baseUrl,
    PARLEY_APNS_KEY_FILE: fakes.apns.keyFile,
    PARLEY_APNS_KEY_ID: fakes.apns.keyId,
    PARLEY_APNS_TEAM_ID: fakes.apns.teamId,
    PARLEY_APNS_TOPIC: fakes.apns.topic,
    PARLEY_APNS_URL: fakes.apns.url,
    PARLEY_VAPID_SUBJECT: "mailto:push@parley.test",
    PARLEY_VAPID_PUBLIC_KEY: vapid.publicKey,
    PARLEY_VAPID_PRIVATE_KEY: vapid.privateKey,
    PARLEY_WEB_PUSH_HOSTS: "127.0.0.1",
    PARLEY_WEB_PUSH_ALLOW_HTTP: "true",
  };
}

export interface PushParley {
  process: ParleyProcess;
  dataDir: string;
  push: Client<typeof PushService>;
  signIn(phoneNumber?: string): Promise<SignedIn>;
  /** Sums a metric's samples whose labels include every pair given. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  stop(): Promise<void>;
}

export async function startPushParley(env: Record<string, string>): Promise<PushParley> {
  const dataDir = mkdtempSync(join(tmpdir(), "parley-push-"));
  const child = await spawnParley({ dataDir, env });
  return {
    process: child,
    dataDir,
    push: createClient(PushService, createGrpcTransport({ baseUrl: child.url })),
    signIn: (phoneNumber = newPhone()) => signInOn(child.clients, child.codes, phoneNumber),
    async metric(name, labels = {}) {
      const text = await (await fetch(`http://127.0.0.1:${child.metricsPort}/metrics`)).text();
      let total = 0;
      for (const line of text.split("\n")) {
        if (!line.startsWith(`${name} `) && !line.startsWith(`${name}{`)) continue;
        if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
          total += Number(line.slice(line.lastIndexOf(" ") + 1));
      }
      return total;
    },
    stop: async () => void (await child.kill("SIGTERM")),
  };
}

let tokenCounter = 0;
/** A fresh FCM registration token (opaque to Parley; the fake keys its script by it). */
export const newFcmToken = () => `fcm-${process.pid}-${++tokenCounter}:APA91bH${Date.now().toString(36)}`;
/** A fresh APNs device token (64 hex digits). */
export const newApnsToken = () =>
  `${process.pid.toString(16)}${(++tokenCounter).toString(16)}${Date.now().toString(16)}`.padEnd(64, "0");

export type TokenInit = MessageInitShape<typeof RegisterPushTokenRequestSchema>["token"];

/** Registers a token for the device (as its app would on start). */
export async function register(push: Client<typeof PushService>, device: SignedIn, token: TokenInit): Promise<void> {
  await push.registerPushToken({ token }, { headers: bearer(device.accessToken) });
}

export const fcmToken = (registrationToken: string): TokenInit => ({ case: "fcm", value: { registrationToken } });
export const apnsToken = (deviceToken: string): TokenInit => ({ case: "apns", value: { deviceToken } });
export const webPushToken = (s: { endpoint: string; p256dh: string; auth: string }): TokenInit => ({
  case: "webPush",
  value: { endpoint: s.endpoint, p256dh: s.p256dh, auth: s.auth },
});
