// Checks access tokens: signature and expiry, then that the device has not been signed out.
import type { Authenticator } from "../shared/auth.ts";
import { unauthenticated } from "../shared/errors.ts";
import type { DeviceStore } from "./ports.ts";
import type { TokenIssuer } from "./tokens.ts";

export function createAuthenticator(deps: { tokens: TokenIssuer; devices: DeviceStore }): Authenticator {
  return {
    async authenticate(token) {
      const claims = await deps.tokens.verifyAccess(token);
      const device = await deps.devices.get(claims.deviceId);
      if (!device || device.userId !== claims.userId || device.revokedAt !== null) {
        throw unauthenticated("DEVICE_REVOKED", "this device was signed out; sign in again");
      }
      return { ...claims, token };
    },
  };
}
