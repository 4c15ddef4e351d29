// A local stand-in for a browser's push service (RFC 8030). It checks each request as a push
// service would (VAPID: the ES256 JWT verified with the key in `k`, aud = the endpoint's origin,
// exp within 24 h, sub a contact; TTL, Urgency and Content-Encoding headers) and, playing the
// browser too, decrypts the RFC 8291 aes128gcm payload with the subscription's private key.
import { createDecipheriv, createECDH, createPublicKey, type ECDH, hkdfSync, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { decodeProtectedHeader, jwtVerify } from "jose";
import { type Answer, readBody, Script } from "./answers.ts";

export interface WebPushPayload {
  json: Record<string, unknown>;
  urgency: string;
  topic: string | undefined;
  ttl: number;
}

/** A browser's subscription: what it registers, plus the private half the fake decrypts with. */
export interface Subscription {
  endpoint: string;
  p256dh: string;
  auth: string;
  /** The path part of the endpoint, which the fake's script is keyed by. */
  key: string;
}

export interface FakeWebPush {
  origin: string;
  script: Script<WebPushPayload>;
  /** A new subscription on this push service, as a browser would create it. */
  subscribe(): Subscription;
  close(): Promise<void>;
}

export const webPush = {
  gone: (): Answer => ({ status: 410, body: "subscription expired" }),
  notFound: (): Answer => ({ status: 404, body: "no such subscription" }),
  throttled: (retryAfterSeconds: number): Answer => ({ status: 429, headers: { "retry-after": String(retryAfterSeconds) } }),
  unavailable: (): Answer => ({ status: 503 }),
  tooLarge: (): Answer => ({ status: 413 }),
};

const info = (label: string) => Buffer.from(`Content-Encoding: ${label}\0`, "utf8");

/** RFC 8291 §3.4 / RFC 8188: one aes128gcm record, decrypted with the user agent's keys. */
export function decryptAes128gcm(body: Buffer, ua: ECDH, authSecret: Buffer): Buffer {
  const salt = body.subarray(0, 16);
  const idlen = body[20] as number;
  const senderPublic = body.subarray(21, 21 + idlen);
  const record = body.subarray(21 + idlen);
  const ecdhSecret = ua.computeSecret(senderPublic);
  const keyInfo = Buffer.concat([Buffer.from("WebPush: info\0", "utf8"), ua.getPublicKey(), senderPublic]);
  const ikm = Buffer.from(hkdfSync("sha256", ecdhSecret, authSecret, keyInfo, 32));
  const cek = Buffer.from(hkdfSync("sha256", ikm, salt, info("aes128gcm"), 16));
  const nonce = Buffer.from(hkdfSync("sha256", ikm, salt, info("nonce"), 12));
  const decipher = createDecipheriv("aes-128-gcm", cek, nonce);
  decipher.setAuthTag(record.subarray(record.length - 16));
  const padded = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
  // The last record ends with the delimiter 0x02 followed by zero padding.
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (padded[end] !== 2) throw new Error("missing last-record delimiter");
  return padded.subarray(0, end);
}

/** The VAPID key in `k` (uncompressed P-256 point) as a public key object. */
function vapidKey(k: string) {
  const point = Buffer.from(k, "base64url");
  if (point.length !== 65 || point[0] !== 4) throw new Error("k is not an uncompressed P-256 point");
  return createPublicKey({
    key: { kty: "EC", crv: "P-256", x: point.subarray(1, 33).toString("base64url"), y: point.subarray(33).toString("base64url") },
    format: "jwk",
  });
}

export async function startFakeWebPush(): Promise<FakeWebPush> {
  const script = new Script<WebPushPayload>();
  const keys = new Map<string, { ua: ECDH; auth: Buffer }>();
  let origin = "";

  async function check(headers: Record<string, string | string[] | undefined>, key: string, raw: Buffer) {
    const match = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(String(headers.authorization ?? ""));
    if (!match) return `authorization ${headers.authorization}`;
    const [, jwt, k] = match as unknown as [string, string, string];
    try {
      if (decodeProtectedHeader(jwt).alg !== "ES256") return "VAPID alg";
      const { payload } = await jwtVerify(jwt, vapidKey(k), { algorithms: ["ES256"], audience: origin });
      if (typeof payload.exp !== "number" || payload.exp > Date.now() / 1000 + 24 * 3600 + 60) return "VAPID exp beyond 24 h";
      if (!/^(mailto:|https:)/.test(String(payload.sub))) return `VAPID sub ${payload.sub}`;
    } catch (error) {
      return `VAPID token: ${String(error)}`;
    }
    if (headers["content-encoding"] !== "aes128gcm") return `content-encoding ${headers["content-encoding"]}`;
    if (!/^\d+$/.test(String(headers.ttl))) return "TTL";
    const urgency = String(headers.urgency ?? "normal");
    if (!["very-low", "low", "normal", "high"].includes(urgency)) return "Urgency";
    const topic = headers.topic as string | undefined;
    if (topic !== undefined && !/^[A-Za-z0-9_-]{1,32}$/.test(topic)) return "Topic";
    const subscription = keys.get(key);
    if (!subscription) return `unknown subscription ${key}`;
    try {
      const json = JSON.parse(decryptAes128gcm(raw, subscription.ua, subscription.auth).toString("utf8"));
      return { json, urgency, topic, ttl: Number(headers.ttl) };
    } catch (error) {
      return `payload: ${String(error)}`;
    }
  }

  const server = createServer((req, res) => {
    const key = new URL(req.url ?? "/", "http://x").pathname;
    readBody(req)
      .then(async (raw) => {
        const checked = req.method === "POST" ? await check(req.headers, key, raw) : `method ${req.method}`;
        const answer: Answer =
          typeof checked === "string"
            ? script.problem(checked)
            : script.next(key, { status: 201, headers: { location: `${key}/m` } });
        if (typeof checked !== "string") script.received.push({ key, at: Date.now(), payload: checked, status: answer.status });
        const body = answer.body === undefined ? "" : typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body);
        res.writeHead(answer.status, answer.headers).end(body);
      })
      .catch((error) => res.writeHead(500).end(String(error)));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    script,
    subscribe() {
      const ua = createECDH("prime256v1");
      ua.generateKeys();
      const auth = randomBytes(16);
      const key = `/push/${randomBytes(12).toString("hex")}`;
      keys.set(key, { ua, auth });
      return {
        endpoint: `${origin}${key}`,
        p256dh: ua.getPublicKey().toString("base64url"),
        auth: auth.toString("base64url"),
        key,
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
