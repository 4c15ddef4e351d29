// Apple Push Notification service over HTTP/2 (node:http2) with token-based authentication: an
// ES256 JWT (iss = team id, kid = key id) reused for up to 50 minutes (APNs refuses tokens older
// than an hour and too-frequent renewals). 410 Unregistered and 400 BadDeviceToken or
// DeviceTokenNotForTopic remove the token; 429 and 5xx are retried; 403 ExpiredProviderToken
// renews the JWT and retries.
import { type ClientHttp2Session, connect, constants } from "node:http2";
import { importPKCS8, SignJWT } from "jose";
import type { Clock } from "../../shared/clock.ts";
import type { Notification, PushProvider, PushTarget, SendResult } from "../ports.ts";
import { networkFailure, retryAfterMs, retryable, withTimeout } from "./http.ts";

export const apnsProductionUrl = "https://api.push.apple.com";
export const apnsSandboxUrl = "https://api.sandbox.push.apple.com";

export interface ApnsCredentials {
  /** The .p8 signing key (PKCS#8 PEM) from the developer account. */
  privateKey: string;
  keyId: string;
  teamId: string;
  /** The app's bundle id (apns-topic). */
  topic: string;
}

/** A JWT is renewed after this long (APNs accepts one for an hour). */
const tokenLifetimeMs = 50 * 60 * 1000;
/** Undelivered pushes are dropped by APNs after a day: a day-old "new message" is noise. */
const expirationSeconds = 24 * 60 * 60;

export function apnsPayload(n: Notification) {
  return {
    aps: {
      alert: { title: n.title, body: n.body },
      "thread-id": n.conversationId,
      ...(n.quiet ? {} : { sound: "default" }),
    },
    conversation_id: n.conversationId,
    sequence: n.sequence.toString(),
    count: n.count,
  };
}

const removesToken = new Set(["BadDeviceToken", "DeviceTokenNotForTopic", "Unregistered"]);

export class ApnsProvider implements PushProvider {
  readonly #credentials: ApnsCredentials;
  readonly #baseUrl: string;
  readonly #clock: Clock;
  #session: ClientHttp2Session | undefined;
  #jwt: { token: string; issuedAt: number } | undefined;

  constructor(options: { credentials: ApnsCredentials; baseUrl?: string; clock: Clock }) {
    this.#credentials = options.credentials;
    this.#baseUrl = options.baseUrl ?? apnsProductionUrl;
    this.#clock = options.clock;
  }

  async send(target: PushTarget, n: Notification, signal: AbortSignal): Promise<SendResult> {
    if (target.token.provider !== "apns") return { kind: "rejected", detail: "not an APNs token" };
    let jwt: string;
    try {
      jwt = await this.#providerToken();
    } catch (error) {
      return { kind: "rejected", detail: `cannot sign the provider token: ${String(error)}` };
    }
    const headers = {
      [constants.HTTP2_HEADER_METHOD]: "POST",
      [constants.HTTP2_HEADER_PATH]: `/3/device/${target.token.token}`,
      authorization: `bearer ${jwt}`,
      "apns-topic": this.#credentials.topic,
      "apns-push-type": "alert",
      // 10 delivers at once; 5 lets the device save power (a quiet push can wait).
      "apns-priority": n.quiet ? "5" : "10",
      "apns-expiration": String(Math.floor(this.#clock.now() / 1000) + expirationSeconds),
      "apns-collapse-id": n.conversationId,
      "apns-id": target.pushId,
      "content-type": "application/json",
    };
    let answer: { status: number; headers: Record<string, unknown>; body: string };
    try {
      answer = await this.#request(headers, JSON.stringify(apnsPayload(n)), withTimeout(signal));
    } catch (error) {
      return networkFailure(error);
    }
    if (answer.status === 200) return { kind: "sent" };
    let reason = "";
    try {
      reason = String((JSON.parse(answer.body) as { reason?: string }).reason ?? "");
    } catch {}
    if (answer.status === 410 || removesToken.has(reason)) return { kind: "unregistered", detail: `${answer.status} ${reason}` };
    if (answer.status === 403 && reason === "ExpiredProviderToken") {
      this.#jwt = undefined;
      return { kind: "retry", detail: "403 ExpiredProviderToken", retryAfterMs: 0 };
    }
    const retryAfter = retryAfterMs(answer.headers["retry-after"] as string | undefined, this.#clock.now());
    return retryable(answer.status, retryAfter, reason) ?? { kind: "rejected", detail: `${answer.status} ${reason}` };
  }

  close(): void {
    this.#session?.close();
    this.#session = undefined;
  }

  async #providerToken(): Promise<string> {
    const now = this.#clock.now();
    if (this.#jwt && now - this.#jwt.issuedAt < tokenLifetimeMs) return this.#jwt.token;
    const key = await importPKCS8(this.#credentials.privateKey, "ES256");
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: "ES256", kid: this.#credentials.keyId })
      .setIssuer(this.#credentials.teamId)
      .setIssuedAt(Math.floor(now / 1000))
      .sign(key);
    this.#jwt = { token, issuedAt: now };
    return token;
  }

  /** One HTTP/2 connection, opened on first use and again after it closes or fails. */
  #connection(): ClientHttp2Session {
    if (this.#session && !this.#session.closed && !this.#session.destroyed) return this.#session;
    const session = connect(this.#baseUrl);
    session.on("error", () => {}); // surfaced on the request; the next send reconnects
    session.on("close", () => {
      if (this.#session === session) this.#session = undefined;
    });
    session.on("goaway", () => {
      if (this.#session === session) this.#session = undefined;
    });
    session.unref();
    this.#session = session;
    return session;
  }

  #request(
    headers: Record<string, string>,
    body: string,
    signal: AbortSignal,
  ): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      // The signal is per request (the caller's stop signal plus a time limit): aborting it resets the stream.
      const stream = this.#connection().request(headers, { signal });
      let status = 0;
      let responseHeaders: Record<string, unknown> = {};
      const chunks: Buffer[] = [];
      stream.on("response", (h) => {
        status = Number(h[constants.HTTP2_HEADER_STATUS]);
        responseHeaders = h;
      });
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("error", reject);
      stream.on("close", () => {
        if (status === 0) reject(new Error(`APNs stream closed without an answer (code ${stream.rstCode})`));
        else resolve({ status, headers: responseHeaders, body: Buffer.concat(chunks).toString("utf8") });
      });
      stream.end(body);
    });
  }
}
