// Access tokens are short-lived HS256 JWTs naming the user and device; refresh tokens are random
// opaque strings stored only as hashes.
import { createHash, createHmac, randomBytes } from "node:crypto";
import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import type { Clock } from "../shared/clock.ts";
import { unauthenticated } from "../shared/errors.ts";
import { LruMap } from "../shared/lru-map.ts";

export interface AccessClaims {
  userId: string;
  deviceId: string;
  /** Expiry, ms since epoch. */
  expiresAt: number;
}

export interface TokenIssuer {
  issueAccess(userId: string, deviceId: string): Promise<{ token: string; expiresAt: number }>;
  /** Verifies signature and expiry; throws UNAUTHENTICATED with TOKEN_INVALID or TOKEN_EXPIRED. */
  verifyAccess(token: string): Promise<AccessClaims>;
  newRefreshToken(): string;
  hashRefreshToken(token: string): string;
  /** Keyed hash of a login code, so a stolen database does not reveal pending codes. */
  hashCode(phoneNumber: string, code: string): string;
}

/** How many verified tokens are remembered (about 200 bytes each). */
const verifiedCacheSize = 100_000;

export function createTokenIssuer(options: { secret: Uint8Array; clock: Clock; accessTtlMs: number }): TokenIssuer {
  const { secret, clock } = options;
  /** Verified claims by token; bounded so a flood of distinct tokens cannot grow it. */
  const verified = new LruMap<string, AccessClaims>(verifiedCacheSize);

  async function verifySignature(token: string): Promise<AccessClaims> {
    try {
      const { payload } = await jwtVerify(token, secret, {
        issuer: "parley",
        algorithms: ["HS256"],
        currentDate: new Date(clock.now()),
        clockTolerance: 0,
      });
      if (typeof payload.sub !== "string" || typeof payload.did !== "string" || typeof payload.exp !== "number") {
        throw unauthenticated("TOKEN_INVALID", "access token is malformed");
      }
      // jose compares whole seconds; the lifetime is enforced to the millisecond here.
      const expiresAt = payload.exp * 1000;
      if (expiresAt <= clock.now()) throw unauthenticated("TOKEN_EXPIRED", "access token expired; refresh it");
      return { userId: payload.sub, deviceId: payload.did, expiresAt };
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw unauthenticated("TOKEN_EXPIRED", "access token expired; refresh it");
      if (error instanceof joseErrors.JOSEError) throw unauthenticated("TOKEN_INVALID", "access token is not valid");
      throw error;
    }
  }

  return {
    async issueAccess(userId, deviceId) {
      const expiresAt = clock.now() + options.accessTtlMs;
      const token = await new SignJWT({ did: deviceId })
        .setProtectedHeader({ alg: "HS256" })
        .setSubject(userId)
        .setIssuedAt(Math.floor(clock.now() / 1000))
        .setExpirationTime(expiresAt / 1000)
        .setIssuer("parley")
        .sign(secret);
      return { token, expiresAt };
    },
    async verifyAccess(token) {
      // A token's claims never change, so one signature check per token is enough: the gateway
      // presents the same token on every call it makes for a device. Expiry is checked each time.
      const known = verified.get(token);
      if (known) {
        if (known.expiresAt > clock.now()) return known;
        verified.delete(token);
        throw unauthenticated("TOKEN_EXPIRED", "access token expired; refresh it");
      }
      const claims = await verifySignature(token);
      verified.set(token, claims);
      return claims;
    },
    newRefreshToken: () => randomBytes(32).toString("base64url"),
    hashRefreshToken: (token) => createHash("sha256").update(token).digest("base64url"),
    hashCode: (phoneNumber, code) => createHmac("sha256", secret).update(`${phoneNumber}:${code}`).digest("base64url"),
  };
}
