// Web Push (RFC 8030) with VAPID (RFC 8292) and the aes128gcm payload encryption of RFC 8291,
// both done by the `web-push` library's generateRequestDetails; the request itself goes out with
// fetch so every answer is ours to read. 404/410 mean the subscription is gone (remove it); 429
// and 5xx are retried, honouring Retry-After.
import webpush from "web-push";
import type { Clock } from "../../shared/clock.ts";
import type { Notification, PushProvider, PushTarget, SendResult } from "../ports.ts";
import { networkFailure, retryAfterMs, retryable, withTimeout } from "./http.ts";

export interface VapidDetails {
  /** mailto: or https: contact the push service can reach the operator at. */
  subject: string;
  /** base64url of the uncompressed P-256 public key (the browser's applicationServerKey). */
  publicKey: string;
  /** base64url of the 32-byte private key. */
  privateKey: string;
}

/** How long the push service keeps an undelivered push (seconds). */
const ttlSeconds = 24 * 60 * 60;

/** The JSON the service worker receives (decrypted) in its push event. */
export function webPushPayload(n: Notification) {
  return {
    title: n.title,
    body: n.body,
    conversation_id: n.conversationId,
    sequence: n.sequence.toString(),
    count: n.count,
    quiet: n.quiet,
  };
}

export class WebPushProvider implements PushProvider {
  readonly #vapid: VapidDetails;
  readonly #clock: Clock;

  constructor(options: { vapid: VapidDetails; clock: Clock }) {
    this.#vapid = options.vapid;
    this.#clock = options.clock;
  }

  async send(target: PushTarget, n: Notification, signal: AbortSignal): Promise<SendResult> {
    const token = target.token;
    if (token.provider !== "webpush") return { kind: "rejected", detail: "not a Web Push subscription" };
    let request: ReturnType<typeof webpush.generateRequestDetails>;
    try {
      request = webpush.generateRequestDetails(
        { endpoint: token.endpoint, keys: { p256dh: token.p256dh, auth: token.auth } },
        JSON.stringify(webPushPayload(n)),
        {
          vapidDetails: this.#vapid,
          contentEncoding: "aes128gcm",
          TTL: ttlSeconds,
          urgency: n.quiet ? "normal" : "high",
          // A newer push for the conversation replaces an undelivered one (topic: at most 32 URL-safe chars).
          topic: n.conversationId.replaceAll("-", "").slice(0, 32),
        },
      );
    } catch (error) {
      // Keys that do not form a valid subscription can never be sent to.
      return { kind: "unregistered", detail: `subscription unusable: ${String(error)}` };
    }
    let response: Response;
    try {
      response = await fetch(request.endpoint, {
        method: request.method,
        headers: request.headers,
        body: request.body ?? undefined,
        signal: withTimeout(signal),
      });
    } catch (error) {
      return networkFailure(error);
    }
    const text = await response.text().catch(() => "");
    if (response.status >= 200 && response.status < 300) return { kind: "sent" };
    const detail = text.slice(0, 200);
    if (response.status === 404 || response.status === 410)
      return { kind: "unregistered", detail: `${response.status} ${detail}` };
    const retryAfter = retryAfterMs(response.headers.get("retry-after"), this.#clock.now());
    return retryable(response.status, retryAfter, detail) ?? { kind: "rejected", detail: `${response.status} ${detail}` };
  }
}
