// `push-outbox`: the pushes the server's local outbox recorded for your devices (the embedded
// default sends no real pushes without provider credentials; it records what it would send).
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { PushProvider, PushService } from "../../../gen/parley/v1/push_pb.js";
import { type Command, intOption } from "../command.ts";
import { cleanLine, formatTime, notice, table } from "../render.ts";

const providerNames: Record<PushProvider, string> = {
  [PushProvider.UNSPECIFIED]: "?",
  [PushProvider.FCM]: "fcm",
  [PushProvider.APNS]: "apns",
  [PushProvider.WEB_PUSH]: "web-push",
};

export const pushOutbox: Command = {
  name: "push-outbox",
  args: "[--limit N]",
  summary: "show the pushes recorded for your devices in the server's local outbox (newest first)",
  help: [
    "The outbox receives the pushes of every provider without credentials (the embedded default):",
    "one line per push with its time, device, provider, message count and text.",
  ],
  options: { limit: { type: "string" } },
  minArgs: 0,
  maxArgs: 0,
  async run(ctx, args) {
    const api = ctx.api();
    const limit = intOption(args.options, "limit", 20, 500);
    const push = createClient(PushService, createGrpcTransport({ baseUrl: api.server }));
    const { entries } = await api.call((headers) => push.listPushOutbox({ limit }, { headers }));
    if (entries.length === 0) {
      ctx.out(notice("no pushes recorded"));
      return 0;
    }
    const self = api.profile.deviceId;
    ctx.out(
      ...table(
        entries.map((e) => [
          e.createdAt ? formatTime(timestampDate(e.createdAt)) : "",
          e.deviceId === self ? "this device" : e.deviceId,
          providerNames[e.provider] ?? "?",
          `${e.messageCount} msg`,
          `${cleanLine(e.title)}: ${cleanLine(e.body)}${e.quiet ? " (quiet)" : ""}`,
        ]),
      ),
    );
    return 0;
  },
};
