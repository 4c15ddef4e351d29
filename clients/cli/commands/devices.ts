// `devices`: the devices signed in to this account.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Command } from "../command.ts";
import { cleanLine, formatTime, table } from "../render.ts";

export const devices: Command = {
  name: "devices",
  args: "",
  summary: "list the devices signed in to your account",
  minArgs: 0,
  maxArgs: 0,
  async run(ctx) {
    const api = ctx.api();
    const { devices } = await api.call((headers, c) => c.identity.listDevices({}, { headers }));
    const rows = devices.map((d) => [
      d.deviceId,
      d.createdAt ? `signed in ${formatTime(timestampDate(d.createdAt))}` : "",
      `${cleanLine(d.name)}${d.current ? "  (this device)" : ""}`,
    ]);
    ctx.out(...table(rows));
    return 0;
  },
};
