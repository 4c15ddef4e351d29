// Builds one provider per token kind from the configuration: the real one when its credentials
// are configured, the outbox otherwise. Keys are read and parsed here, so a bad key file stops
// the process at start rather than at the first push.
import { createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import webpush from "web-push";
import type { Clock } from "../../shared/clock.ts";
import type { PushConfig } from "../config.ts";
import type { ProviderName, PushOutbox, PushProvider } from "../ports.ts";
import { ApnsProvider } from "./apns.ts";
import { FcmProvider } from "./fcm.ts";
import { GoogleAccessTokens, loadServiceAccount } from "./google-auth.ts";
import { OutboxProvider } from "./outbox.ts";
import { WebPushProvider } from "./web-push.ts";

export interface Providers {
  byName: Record<ProviderName, PushProvider>;
  /** Which providers send for real (the others write to the outbox). */
  configured: ProviderName[];
  close(): void;
}

/** Parses a PEM private key of the expected type, so a wrong file fails at start. */
function checkKey(pem: string, type: "rsa" | "ec", what: string): void {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== type) throw new Error(`${what} must be an ${type.toUpperCase()} private key`);
}

export function createProviders(config: PushConfig, outbox: PushOutbox, clock: Clock): Providers {
  const local = new OutboxProvider(outbox, clock);
  let fcm: PushProvider = local;
  let apns: ApnsProvider | undefined;
  let web: PushProvider = local;
  if (config.fcm) {
    const account = loadServiceAccount(config.fcm.serviceAccountFile, config.fcm.tokenUri);
    checkKey(account.privateKey, "rsa", "the FCM service account key");
    fcm = new FcmProvider({
      projectId: account.projectId,
      baseUrl: config.fcm.baseUrl,
      tokens: new GoogleAccessTokens(account, clock),
      clock,
    });
  }
  if (config.apns) {
    const privateKey = readFileSync(config.apns.keyFile, "utf8");
    checkKey(privateKey, "ec", "PARLEY_APNS_KEY_FILE");
    apns = new ApnsProvider({ credentials: { ...config.apns, privateKey }, baseUrl: config.apns.baseUrl, clock });
  }
  if (config.vapid) {
    const { subject, publicKey, privateKey } = config.vapid;
    // Checks the subject and both keys (it throws on a malformed one).
    webpush.getVapidHeaders("https://push.example", subject, publicKey, privateKey, "aes128gcm");
    web = new WebPushProvider({ vapid: config.vapid, clock });
  }
  const configured = (
    [
      ["fcm", config.fcm],
      ["apns", config.apns],
      ["webpush", config.vapid],
    ] as const
  )
    .filter(([, set]) => set !== undefined)
    .map(([name]) => name);
  return {
    byName: { fcm, apns: apns ?? local, webpush: web },
    configured,
    close: () => apns?.close(),
  };
}
