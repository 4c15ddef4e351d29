// Authentication for every RPC: one interceptor reads the bearer token, an Authenticator checks
// it, and handlers read the caller from the context values.
import { createHmac, timingSafeEqual } from "node:crypto";
import {
  type CallOptions,
  type ContextValues,
  createContextKey,
  createContextValues,
  type HandlerContext,
  type Interceptor,
} from "@connectrpc/connect";
import { unauthenticated } from "./errors.ts";

export interface Caller {
  userId: string;
  deviceId: string;
  /** The bearer token, forwarded when one service calls another on the caller's behalf. */
  token: string;
  /** Access-token expiry, ms since epoch. */
  expiresAt: number;
}

export interface Authenticator {
  /** Resolves the caller or throws UNAUTHENTICATED (invalid, expired, or device revoked). */
  authenticate(token: string): Promise<Caller>;
  /**
   * Throws UNAUTHENTICATED if a caller `authenticate` resolved earlier may no longer call: its
   * token expired or its device was signed out since. The token's signature is not checked again.
   */
  recheck(caller: Caller): Promise<void>;
}

const callerKey = createContextKey<Caller | undefined>(undefined, {
  description: "authenticated caller",
});

/** Procedures anyone may call: sign-in, token refresh and health. */
const publicProcedures = new Set([
  "parley.v1.IdentityService/RequestCode",
  "parley.v1.IdentityService/VerifyCode",
  "parley.v1.IdentityService/RefreshSession",
  "parley.v1.IdentityService/LinkDevice",
  "grpc.health.v1.Health/Check",
  "grpc.health.v1.Health/Watch",
  "grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
]);

/** Header carrying the internal key on service-to-service calls (never accepted from the edge). */
export const internalKeyHeader = "x-parley-internal-key";

/** The key internal services present to each other, derived from the shared token secret. */
export function internalKey(secret: Uint8Array): string {
  return createHmac("sha256", secret).update("parley internal services").digest("base64url");
}

/** Client side: presents the internal key on every call (to parley.internal.* procedures). */
export function internalKeyInterceptor(key: string): Interceptor {
  return (next) => (req) => {
    req.header.set(internalKeyHeader, key);
    return next(req);
  };
}

function sameKey(presented: string, expected: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Public procedures pass; `parley.internal.*` procedures need the internal key; everything else
 * needs a valid access token.
 */
export function createAuthInterceptor(authenticator: Authenticator, options: { internalKey?: string } = {}): Interceptor {
  return (next) => async (req) => {
    if (publicProcedures.has(`${req.service.typeName}/${req.method.name}`)) return next(req);
    if (req.service.typeName.startsWith("parley.internal.")) {
      const presented = req.header.get(internalKeyHeader) ?? "";
      if (!options.internalKey || !sameKey(presented, options.internalKey)) {
        throw unauthenticated("INTERNAL_KEY_REQUIRED", "internal procedures need the internal service key");
      }
      return next(req);
    }
    req.contextValues.set(callerKey, await authenticateHeader(authenticator, req.header.get("authorization")));
    return next(req);
  };
}

/** The token of an `authorization: Bearer <token>` header value; TOKEN_MISSING without one. */
export function bearerToken(header: string | null): string {
  const match = /^Bearer ([^\s]+)$/i.exec(header ?? "");
  if (!match?.[1]) throw unauthenticated("TOKEN_MISSING", "authorization: Bearer <access token> is required");
  return match[1];
}

/** The authorization header of a call's options, read without building a Headers object (the common case is a plain record). */
export function authorizationOf(headers: CallOptions["headers"]): string | null {
  if (headers === undefined) return null;
  if (headers instanceof Headers || Array.isArray(headers)) return new Headers(headers).get("authorization");
  for (const [name, value] of Object.entries(headers)) if (name.toLowerCase() === "authorization") return String(value);
  return null;
}

/** Resolves the caller named by an `authorization: Bearer <token>` header value. */
export async function authenticateHeader(authenticator: Authenticator, header: string | null): Promise<Caller> {
  return authenticator.authenticate(bearerToken(header));
}

/** Context values for a handler called as this caller (what the interceptor sets). */
export function contextValuesFor(caller: Caller): ContextValues {
  const values = createContextValues();
  values.set(callerKey, caller);
  return values;
}

/** The caller these context values carry, if any (set only by code in this process, never from the wire). */
export function callerIn(values: ContextValues | undefined): Caller | undefined {
  return values?.get(callerKey);
}

/** The authenticated caller of this request (the interceptor guarantees one for non-public RPCs). */
export function callerOf(ctx: HandlerContext): Caller {
  const caller = ctx.values.get(callerKey);
  if (!caller) throw unauthenticated("TOKEN_MISSING", "authorization: Bearer <access token> is required");
  return caller;
}

/** Headers that let one service call another as the same caller. */
export function onBehalfOf(caller: Caller): Record<string, string> {
  return { authorization: `Bearer ${caller.token}` };
}
