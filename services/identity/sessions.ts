// Device sessions after sign-in: refresh-token rotation with reuse detection, listing and revoking.
import { Code } from "@connectrpc/connect";
import type { EventBus } from "../bus/ports.ts";
import type { Clock } from "../shared/clock.ts";
import { parleyError, unauthenticated } from "../shared/errors.ts";
import type { Logger } from "../shared/logger.ts";
import type { DeviceStore, RefreshTokenStore } from "./ports.ts";
import type { SignIn } from "./sign-in.ts";
import type { TokenIssuer } from "./tokens.ts";

export interface SessionDeps {
  devices: DeviceStore;
  refreshTokens: RefreshTokenStore;
  tokens: TokenIssuer;
  signIn: SignIn;
  bus: EventBus;
  clock: Clock;
  logger: Logger;
}

export function createDeviceSessions(deps: SessionDeps) {
  async function revoke(userId: string, deviceId: string): Promise<void> {
    await deps.devices.revoke(deviceId, deps.clock.now());
    await deps.bus.publish("device-control", deviceId, { userId, deviceId, reason: "revoked" });
  }

  /**
   * Spends a refresh token and issues the next pair. A token presented a second time means two
   * parties hold it, so the whole session (the device) is revoked and both must sign in again.
   */
  async function refresh(refreshToken: string) {
    const spent = await deps.refreshTokens.spend(deps.tokens.hashRefreshToken(refreshToken), deps.clock.now());
    if (!spent) throw unauthenticated("REFRESH_TOKEN_INVALID", "unknown refresh token; sign in again");
    const device = await deps.devices.get(spent.deviceId);
    if (!device || device.revokedAt !== null)
      throw unauthenticated("DEVICE_REVOKED", "this device was signed out; sign in again");
    if (spent.alreadySpent) {
      deps.logger.warn("refresh token reused; revoking the session", {
        deviceId: device.deviceId,
        userId: device.userId,
      });
      await revoke(device.userId, device.deviceId);
      throw unauthenticated("REFRESH_TOKEN_REUSED", "refresh token was already used; the session is revoked, sign in again");
    }
    return deps.signIn.issueTokens(device.userId, device.deviceId);
  }

  async function revokeOwn(userId: string, deviceId: string): Promise<void> {
    const device = await deps.devices.get(deviceId);
    // Someone else's device answers exactly like a missing one.
    if (!device || device.userId !== userId || device.revokedAt !== null) {
      throw parleyError(Code.NotFound, "DEVICE_NOT_FOUND", "device not found", {
        field: "device_id",
      });
    }
    await revoke(userId, deviceId);
    deps.logger.info("device revoked", { userId, deviceId });
  }

  return {
    refresh,
    revokeOwn,
    list: (userId: string) => deps.devices.listActive(userId),
  };
}
