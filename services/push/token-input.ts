// Validates a push token from RegisterPushToken. Web Push endpoints are URLs the server will post
// to, so they must be https on a known push service (no server-side request forgery).
import type { RegisterPushTokenRequest } from "../../gen/parley/v1/push_pb.js";
import { invalidArgument } from "../shared/errors.ts";
import type { PushToken } from "./ports.ts";

export interface EndpointPolicy {
  hosts: string[];
  allowHttp: boolean;
}

const malformed = (field: string, message: string) => invalidArgument(field, "MALFORMED_PUSH_TOKEN", message);

function base64urlBytes(value: string, field: string): number {
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(value)) throw malformed(field, `${field} must be base64url`);
  return Buffer.from(value, "base64url").length;
}

function endpointAllowed(url: URL, policy: EndpointPolicy): boolean {
  if (url.protocol !== "https:" && !(policy.allowHttp && url.protocol === "http:")) return false;
  const host = url.hostname.toLowerCase();
  return policy.hosts.some((allowed) => host === allowed || host.endsWith(`.${allowed}`));
}

export function pushTokenFrom(req: RegisterPushTokenRequest, policy: EndpointPolicy): PushToken {
  const token = req.token;
  switch (token.case) {
    case "fcm": {
      const value = token.value.registrationToken;
      // FCM tokens are opaque printable ASCII (about 150-250 characters today).
      if (!/^[\x21-\x7e]{1,4096}$/.test(value))
        throw malformed("fcm.registration_token", "an FCM registration token is 1..4096 printable characters");
      return { provider: "fcm", token: value };
    }
    case "apns": {
      const value = token.value.deviceToken;
      if (!/^(?:[0-9a-fA-F]{2}){32,100}$/.test(value))
        throw malformed("apns.device_token", "an APNs device token is 64..200 hex digits");
      return { provider: "apns", token: value.toLowerCase() };
    }
    case "webPush": {
      const { endpoint, p256dh, auth } = token.value;
      let url: URL;
      try {
        url = new URL(endpoint);
      } catch {
        throw malformed("web_push.endpoint", "web_push.endpoint must be a URL");
      }
      if (endpoint.length > 2048) throw malformed("web_push.endpoint", "web_push.endpoint is longer than 2048 characters");
      if (!endpointAllowed(url, policy)) {
        throw invalidArgument(
          "web_push.endpoint",
          "PUSH_ENDPOINT_NOT_ALLOWED",
          "web_push.endpoint is not an https URL of a known push service",
        );
      }
      if (base64urlBytes(p256dh, "web_push.p256dh") !== 65 || Buffer.from(p256dh, "base64url")[0] !== 4) {
        throw malformed("web_push.p256dh", "web_push.p256dh must be an uncompressed P-256 public key (65 bytes)");
      }
      if (base64urlBytes(auth, "web_push.auth") !== 16) throw malformed("web_push.auth", "web_push.auth must be 16 bytes");
      return { provider: "webpush", endpoint, p256dh, auth };
    }
    default:
      throw invalidArgument("token", "EMPTY", "a token (fcm, apns or web_push) is required");
  }
}
