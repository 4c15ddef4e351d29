// Firebase Cloud Messaging over the HTTP v1 API: POST {base}/v1/projects/{project}/messages:send
// with a service-account OAuth2 access token. FCM's answers map to push results: UNREGISTERED
// (404), SENDER_ID_MISMATCH (403) and an invalid message.token (400) remove the token;
// QUOTA_EXCEEDED (429) and UNAVAILABLE/INTERNAL (5xx) are retried, honouring Retry-After.
import type { Clock } from "../../shared/clock.ts";
import type { Notification, PushProvider, PushTarget, SendResult } from "../ports.ts";
import { type GoogleAccessTokens, TokenError } from "./google-auth.ts";
import { networkFailure, retryAfterMs, retryable, withTimeout } from "./http.ts";

export const defaultFcmBaseUrl = "https://fcm.googleapis.com";

interface FcmErrorBody {
  error?: {
    status?: string;
    message?: string;
    details?: { "@type"?: string; errorCode?: string; fieldViolations?: { field?: string }[] }[];
  };
}

/** The v1 `message` for one device (notification for the system tray, data for the app). */
export function fcmMessage(token: string, n: Notification) {
  return {
    token,
    notification: { title: n.title, body: n.body },
    // Data values must be strings.
    data: { conversation_id: n.conversationId, sequence: n.sequence.toString(), count: String(n.count) },
    android: {
      priority: "HIGH",
      // A newer push for the same conversation replaces an undelivered older one.
      collapse_key: n.conversationId,
      notification: { tag: n.conversationId, notification_count: n.count, ...(n.quiet ? {} : { sound: "default" }) },
    },
    apns: {
      headers: { "apns-priority": n.quiet ? "5" : "10" },
      payload: { aps: { "thread-id": n.conversationId, ...(n.quiet ? {} : { sound: "default" }) } },
    },
  };
}

function classify(status: number, body: FcmErrorBody, retryAfter: number | undefined): SendResult {
  const error = body.error ?? {};
  const codes = (error.details ?? []).map((d) => d.errorCode).filter(Boolean);
  const detail = [error.status, ...codes, error.message].filter(Boolean).join(" ");
  // Only FCM's own error code proves the token dead (a bare 404 may be a wrong project or URL).
  if (codes.includes("UNREGISTERED")) return { kind: "unregistered", detail };
  if (codes.includes("SENDER_ID_MISMATCH")) return { kind: "unregistered", detail };
  const badToken = (error.details ?? []).some((d) => d.fieldViolations?.some((v) => v.field === "message.token"));
  if (status === 400 && badToken) return { kind: "unregistered", detail };
  return retryable(status, retryAfter, detail) ?? { kind: "rejected", detail: `${status} ${detail}` };
}

export class FcmProvider implements PushProvider {
  readonly #url: string;
  readonly #tokens: GoogleAccessTokens;
  readonly #clock: Clock;

  constructor(options: { projectId: string; baseUrl?: string; tokens: GoogleAccessTokens; clock: Clock }) {
    const base = (options.baseUrl ?? defaultFcmBaseUrl).replace(/\/+$/, "");
    this.#url = `${base}/v1/projects/${encodeURIComponent(options.projectId)}/messages:send`;
    this.#tokens = options.tokens;
    this.#clock = options.clock;
  }

  async send(target: PushTarget, n: Notification, signal: AbortSignal): Promise<SendResult> {
    if (target.token.provider !== "fcm") return { kind: "rejected", detail: "not an FCM token" };
    let accessToken: string;
    try {
      accessToken = await this.#tokens.get(signal);
    } catch (error) {
      if (error instanceof TokenError && error.permanent) return { kind: "rejected", detail: error.message };
      return networkFailure(error);
    }
    let response: Response;
    try {
      response = await fetch(this.#url, {
        method: "POST",
        headers: { authorization: `Bearer ${accessToken}`, "content-type": "application/json; charset=utf-8" },
        body: JSON.stringify({ message: fcmMessage(target.token.token, n) }),
        signal: withTimeout(signal),
      });
    } catch (error) {
      return networkFailure(error);
    }
    if (response.ok) {
      await response.body?.cancel();
      return { kind: "sent" };
    }
    const body = (await response.json().catch(() => ({}))) as FcmErrorBody;
    if (response.status === 401) {
      // The access token was revoked or expired early: fetch a new one and try again at once.
      this.#tokens.invalidate();
      return { kind: "retry", detail: "401 UNAUTHENTICATED", retryAfterMs: 0 };
    }
    return classify(response.status, body, retryAfterMs(response.headers.get("retry-after"), this.#clock.now()));
  }
}
