// OAuth2 access tokens for FCM from a Google service account: a JWT signed with the account's
// RSA key (RS256) is exchanged at the account's token URI (the JWT-bearer grant, RFC 7523).
// Tokens are cached until shortly before they expire; concurrent callers share one exchange.
import { readFileSync } from "node:fs";
import { importPKCS8, SignJWT } from "jose";
import type { Clock } from "../../shared/clock.ts";
import { withTimeout } from "./http.ts";

export const fcmScope = "https://www.googleapis.com/auth/firebase.messaging";
const defaultTokenUri = "https://oauth2.googleapis.com/token";

export interface ServiceAccount {
  projectId: string;
  clientEmail: string;
  /** PKCS#8 PEM. */
  privateKey: string;
  privateKeyId: string;
  tokenUri: string;
}

/** Reads the JSON key file Google issues for a service account. */
export function loadServiceAccount(path: string, tokenUriOverride?: string): ServiceAccount {
  const json = JSON.parse(readFileSync(path, "utf8")) as Record<string, string | undefined>;
  for (const field of ["project_id", "client_email", "private_key"]) {
    if (!json[field]) throw new Error(`service account file ${path} has no ${field}`);
  }
  return {
    projectId: json.project_id as string,
    clientEmail: json.client_email as string,
    privateKey: json.private_key as string,
    privateKeyId: json.private_key_id ?? "",
    tokenUri: tokenUriOverride || json.token_uri || defaultTokenUri,
  };
}

/** Why a token could not be had: `permanent` when the grant itself was refused (bad credentials). */
export class TokenError extends Error {
  readonly permanent: boolean;
  constructor(message: string, permanent: boolean) {
    super(message);
    this.permanent = permanent;
  }
}

export class GoogleAccessTokens {
  readonly #account: ServiceAccount;
  readonly #clock: Clock;
  #cached: { token: string; expiresAt: number } | undefined;
  #pending: Promise<string> | undefined;

  constructor(account: ServiceAccount, clock: Clock) {
    this.#account = account;
    this.#clock = clock;
  }

  async get(signal: AbortSignal): Promise<string> {
    // A minute of margin, so a token never expires between here and the provider.
    if (this.#cached && this.#cached.expiresAt - 60_000 > this.#clock.now()) return this.#cached.token;
    this.#pending ??= this.#exchange(signal).finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  /** Forgets the cached token (the provider said it is no longer valid). */
  invalidate(): void {
    this.#cached = undefined;
  }

  async #exchange(signal: AbortSignal): Promise<string> {
    const account = this.#account;
    const now = Math.floor(this.#clock.now() / 1000);
    const key = await importPKCS8(account.privateKey, "RS256");
    const assertion = await new SignJWT({ scope: fcmScope })
      .setProtectedHeader({ alg: "RS256", typ: "JWT", ...(account.privateKeyId ? { kid: account.privateKeyId } : {}) })
      .setIssuer(account.clientEmail)
      .setAudience(account.tokenUri)
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(key);
    const response = await fetch(account.tokenUri, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion }),
      signal: withTimeout(signal),
    });
    const body = (await response.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; error?: string };
    if (!response.ok || !body.access_token) {
      // 4xx (invalid_grant, a revoked key) will not heal by retrying; 5xx may.
      const permanent = response.status >= 400 && response.status < 500 && response.status !== 429;
      throw new TokenError(`token exchange failed: ${response.status} ${body.error ?? ""}`.trim(), permanent);
    }
    this.#cached = { token: body.access_token, expiresAt: this.#clock.now() + (body.expires_in ?? 3600) * 1000 };
    return body.access_token;
  }
}
