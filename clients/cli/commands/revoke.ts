// `revoke <deviceId>`: signs one of your devices out (this one too, which ends the profile).
import { arg, type Command } from "../command.ts";

export const revoke: Command = {
  name: "revoke",
  args: "<deviceId>",
  summary: "sign one of your devices out (see devices)",
  minArgs: 1,
  maxArgs: 1,
  async run(ctx, args) {
    const api = ctx.api();
    const deviceId = arg(args, 0);
    await api.call((headers, c) => c.identity.revokeDevice({ deviceId }, { headers }));
    if (deviceId === api.profile.deviceId) {
      ctx.store.remove();
      ctx.out(`revoked ${deviceId} (this device); profile "${ctx.store.name}" is signed out`);
    } else {
      ctx.out(`revoked ${deviceId}`);
    }
    return 0;
  },
};
