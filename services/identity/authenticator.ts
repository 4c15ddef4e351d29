// Checks access tokens: signature and expiry, then that the device has not been signed out.
import type { Authenticator } from "../shared/auth.ts";
import type { Clock } from "../shared/clock.ts";
import { unauthenticated } from "../shared/errors.ts";
import type { DeviceStore } from "./ports.ts";
import type { TokenIssuer } from "./tokens.ts";

export function createAuthenticator(deps: {
  tokens: TokenIssuer;
  devices: Pick<DeviceStore, "get">;
  clock: Clock;
}): Authenticator {
  async function requireActiveDevice(userId: string, deviceId: string): Promise<void> {
    const device = await deps.devices.get(deviceId);
    if (!device || device.userId !== userId || device.revokedAt !== null) {
      throw unauthenticated("DEVICE_REVOKED", "this device was signed out; sign in again");
    }
  }
  return {
    async authenticate(token) {
      const claims = await deps.tokens.verifyAccess(token);
      await requireActiveDevice(claims.userId, claims.deviceId);
      return { ...claims, token };
    },
    async recheck(caller) {
      if (caller.expiresAt <= deps.clock.now()) throw unauthenticated("TOKEN_EXPIRED", "access token expired; refresh it");
      await requireActiveDevice(caller.userId, caller.deviceId);
    },
  };
}
