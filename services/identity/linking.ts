// Linking a new device from a signed-in one: a short-lived, single-use token created by the
// signed-in device and exchanged by the new device for its own session of the same user. No code
// is sent: holding the token proves the user's consent, so it is random (256 bits), stored only
// as a hash, and works once.
import type { Clock, IdGenerator } from "../shared/clock.ts";
import { unauthenticated } from "../shared/errors.ts";
import type { Logger } from "../shared/logger.ts";
import type { DeviceStore, HistoryPolicyName, HistoryStart, LinkTokenStore } from "./ports.ts";
import type { SignIn } from "./sign-in.ts";
import type { TokenIssuer } from "./tokens.ts";

export interface LinkingSettings {
  /** How long a link token is accepted. */
  tokenTtlMs: number;
  /** The policy when the linking device does not choose one. */
  defaultHistory: HistoryPolicyName;
}

/** Link tokens live two minutes; linked devices get full history unless configured otherwise. */
export const defaultLinkingSettings: LinkingSettings = { tokenTtlMs: 120_000, defaultHistory: "full" };

export interface LinkingDeps {
  linkTokens: LinkTokenStore;
  devices: DeviceStore;
  historyStart: HistoryStart;
  tokens: TokenIssuer;
  signIn: SignIn;
  clock: Clock;
  ids: IdGenerator;
  logger: Logger;
  settings: LinkingSettings;
}

const invalid = () => unauthenticated("LINK_TOKEN_INVALID", "unknown or already used link token; create a new one");

export function createDeviceLinking(deps: LinkingDeps) {
  const { clock, settings } = deps;

  async function createToken(userId: string, deviceId: string, history: HistoryPolicyName | undefined) {
    const token = deps.tokens.newRefreshToken();
    const now = clock.now();
    const record = {
      tokenHash: deps.tokens.hashRefreshToken(token),
      userId,
      createdByDeviceId: deviceId,
      history: history ?? settings.defaultHistory,
      createdAt: now,
      expiresAt: now + settings.tokenTtlMs,
    };
    await deps.linkTokens.put(record);
    deps.logger.info("device link token created", { userId, deviceId, history: record.history });
    return { token, expiresAt: record.expiresAt, history: record.history };
  }

  /** Spends the token and signs a new device of its user in. */
  async function link(token: string, deviceName: string) {
    const now = clock.now();
    const spent = await deps.linkTokens.spend(deps.tokens.hashRefreshToken(token), now);
    if (!spent) throw invalid();
    const { record } = spent;
    // An expired token says so however often it is tried; a live one works once.
    if (now >= record.expiresAt) throw unauthenticated("LINK_TOKEN_EXPIRED", "the link token expired; create a new one");
    if (spent.alreadySpent) throw invalid();
    // The device that vouched for the new one must still be signed in.
    const creator = await deps.devices.get(record.createdByDeviceId);
    if (!creator || creator.revokedAt !== null || creator.userId !== record.userId) throw invalid();
    const deviceId = deps.ids.next();
    // Cursors first: a stream opened with the new tokens must already start where the policy says.
    if (record.history === "from_link") await deps.historyStart.fromNow(record.userId, deviceId);
    await deps.devices.create({ deviceId, userId: record.userId, name: deviceName, createdAt: now, revokedAt: null });
    const tokens = await deps.signIn.issueTokens(record.userId, deviceId);
    deps.logger.info("device linked", {
      userId: record.userId,
      deviceId,
      linkedBy: record.createdByDeviceId,
      history: record.history,
    });
    return { userId: record.userId, deviceId, tokens, history: record.history };
  }

  return { createToken, link };
}

export type DeviceLinking = ReturnType<typeof createDeviceLinking>;
