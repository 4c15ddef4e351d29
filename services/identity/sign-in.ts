// Phone-number sign-in: one-time codes with expiry, an attempt limit and a send-rate limit.
import { randomInt } from "node:crypto";
import { Code } from "@connectrpc/connect";
import type { Clock, IdGenerator } from "../shared/clock.ts";
import { parleyError, unauthenticated } from "../shared/errors.ts";
import type { Logger } from "../shared/logger.ts";
import type { CodeSender, DeviceStore, LoginCodeStore, RefreshTokenStore, UserStore } from "./ports.ts";
import type { TokenIssuer } from "./tokens.ts";

export interface SignInLimits {
  codeLength: number;
  codeTtlMs: number;
  maxAttempts: number;
  /** At most sendsPerWindow codes per phone number per sendWindowMs. */
  sendsPerWindow: number;
  sendWindowMs: number;
}

export const defaultSignInLimits: SignInLimits = {
  codeLength: 6,
  codeTtlMs: 5 * 60_000,
  maxAttempts: 5,
  sendsPerWindow: 5,
  sendWindowMs: 15 * 60_000,
};

export interface SignInDeps {
  users: UserStore;
  codes: LoginCodeStore;
  devices: DeviceStore;
  refreshTokens: RefreshTokenStore;
  codeSender: CodeSender;
  tokens: TokenIssuer;
  clock: Clock;
  ids: IdGenerator;
  logger: Logger;
  limits: SignInLimits;
}

export function createSignIn(deps: SignInDeps) {
  const { limits, clock } = deps;

  async function requestCode(phoneNumber: string): Promise<{ expiresAt: number }> {
    const now = clock.now();
    const previous = await deps.codes.get(phoneNumber);
    const windowOpen = previous !== undefined && now - previous.windowStart < limits.sendWindowMs;
    const sentInWindow = windowOpen ? previous.sentInWindow : 0;
    if (windowOpen && sentInWindow >= limits.sendsPerWindow) {
      const retryAfterMs = previous.windowStart + limits.sendWindowMs - now;
      throw parleyError(Code.ResourceExhausted, "TOO_MANY_CODES", "too many codes requested for this number", { retryAfterMs });
    }
    const code = randomInt(0, 10 ** limits.codeLength)
      .toString()
      .padStart(limits.codeLength, "0");
    const expiresAt = now + limits.codeTtlMs;
    await deps.codes.put({
      phoneNumber,
      codeHash: deps.tokens.hashCode(phoneNumber, code),
      expiresAt,
      attempts: 0,
      windowStart: windowOpen ? previous.windowStart : now,
      sentInWindow: sentInWindow + 1,
    });
    await deps.codeSender.send(phoneNumber, code);
    return { expiresAt };
  }

  /** Checks the code; on success the code is consumed so it cannot be used twice. */
  async function checkCode(phoneNumber: string, code: string): Promise<void> {
    const pending = await deps.codes.get(phoneNumber);
    if (!pending || pending.codeHash === "")
      throw unauthenticated("CODE_INVALID", "no pending code for this number; request one");
    if (pending.attempts >= limits.maxAttempts) {
      throw parleyError(Code.ResourceExhausted, "TOO_MANY_ATTEMPTS", "too many wrong codes; request a new one");
    }
    if (clock.now() >= pending.expiresAt) {
      await deps.codes.consume(phoneNumber);
      throw unauthenticated("CODE_EXPIRED", "the code expired; request a new one");
    }
    if (deps.tokens.hashCode(phoneNumber, code) !== pending.codeHash) {
      const attempts = await deps.codes.countFailedAttempt(phoneNumber);
      if (attempts >= limits.maxAttempts) {
        throw parleyError(Code.ResourceExhausted, "TOO_MANY_ATTEMPTS", "too many wrong codes; request a new one");
      }
      throw unauthenticated("CODE_INVALID", "wrong code");
    }
    await deps.codes.consume(phoneNumber);
  }

  async function verifyCode(input: { phoneNumber: string; code: string; deviceName: string; displayName: string }) {
    await checkCode(input.phoneNumber, input.code);
    const now = clock.now();
    const { user, created } = await deps.users.getOrCreate({
      userId: deps.ids.next(),
      phoneNumber: input.phoneNumber,
      displayName: input.displayName || input.phoneNumber,
      createdAt: now,
    });
    const deviceId = deps.ids.next();
    await deps.devices.create({
      deviceId,
      userId: user.userId,
      name: input.deviceName,
      createdAt: now,
      revokedAt: null,
    });
    const tokens = await issueTokens(user.userId, deviceId);
    deps.logger.info("device signed in", {
      userId: user.userId,
      deviceId,
      newUser: created,
    });
    return { userId: user.userId, deviceId, newUser: created, tokens };
  }

  async function issueTokens(userId: string, deviceId: string) {
    const access = await deps.tokens.issueAccess(userId, deviceId);
    const refreshToken = deps.tokens.newRefreshToken();
    await deps.refreshTokens.issue(deps.tokens.hashRefreshToken(refreshToken), deviceId, clock.now());
    return {
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt,
      refreshToken,
    };
  }

  return { requestCode, verifyCode, issueTokens };
}

export type SignIn = ReturnType<typeof createSignIn>;
