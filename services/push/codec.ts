// How tokens and notifications are stored as text (JSON) by every store adapter.
import type { Notification, PushToken } from "./ports.ts";

/** The token as stored; also its identity for compare-and-delete (fields in a fixed order). */
export function encodeToken(token: PushToken): string {
  switch (token.provider) {
    case "webpush":
      return JSON.stringify({ endpoint: token.endpoint, p256dh: token.p256dh, auth: token.auth });
    default:
      return JSON.stringify({ token: token.token });
  }
}

export function decodeToken(provider: string, text: string): PushToken {
  const value = JSON.parse(text) as Record<string, string>;
  switch (provider) {
    case "fcm":
    case "apns":
      return { provider, token: String(value.token) };
    case "webpush":
      return { provider, endpoint: String(value.endpoint), p256dh: String(value.p256dh), auth: String(value.auth) };
    default:
      throw new Error(`unknown push provider in store: ${provider}`);
  }
}

export function encodeNotification(n: Notification): string {
  return JSON.stringify({ ...n, sequence: n.sequence.toString() });
}

export function decodeNotification(text: string): Notification {
  const value = JSON.parse(text) as Record<string, unknown>;
  return {
    conversationId: String(value.conversationId),
    sequence: BigInt(String(value.sequence)),
    count: Number(value.count),
    title: String(value.title),
    body: String(value.body),
    quiet: value.quiet === true,
  };
}
