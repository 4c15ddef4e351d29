// `whoami`: the signed-in user and device of this profile, checked against the server.
import type { Command } from "../command.ts";
import { cleanLine, table } from "../render.ts";

export const whoami: Command = {
  name: "whoami",
  args: "",
  summary: "show who this profile is signed in as",
  minArgs: 0,
  maxArgs: 0,
  async run(ctx) {
    const api = ctx.api();
    const [{ users }, { devices }] = await Promise.all([
      api.call((headers, c) => c.identity.lookupUsers({ phoneNumbers: [api.profile.phoneNumber] }, { headers })),
      api.call((headers, c) => c.identity.listDevices({}, { headers })),
    ]);
    const me = users.find((u) => u.userId === api.profile.userId);
    const device = devices.find((d) => d.current);
    const { profile } = api;
    ctx.out(
      ...table([
        ["name", me ? cleanLine(me.displayName) : "?"],
        ["phone", profile.phoneNumber],
        ["user", profile.userId],
        ["device", `${profile.deviceId}${device ? ` (${cleanLine(device.name)})` : ""}`],
        ["server", api.server],
        ["profile", `${ctx.store.name} (${ctx.store.path})`],
      ]),
    );
    return 0;
  },
};
