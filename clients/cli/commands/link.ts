// `link`: on a signed-in device, makes a link token for a new device; with --token, signs this
// profile in as a new device of that account (no code needed).
import { hostname } from "node:os";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { HistoryPolicy } from "../../../gen/parley/v1/identity_pb.js";
import { createParleyClients } from "../../node/transport.ts";
import { type Command, stringOption } from "../command.ts";
import { usageError } from "../errors.ts";
import { formatTime } from "../render.ts";

const policies: Record<string, HistoryPolicy> = { full: HistoryPolicy.FULL, "from-link": HistoryPolicy.FROM_LINK };

export const link: Command = {
  name: "link",
  args: "[--history full|from-link] | --token=TOKEN [--phone PHONE] [--device LABEL]",
  summary: "link a new device to your account without a code",
  help: [
    "Without --token: on a signed-in profile, prints a single-use link token (valid for minutes) and the",
    "command to run on the new device. --history chooses what the new device's stream replays (the",
    "server decides when omitted).",
    "With --token: signs this profile in as a new device of the token's account. --phone only labels the profile.",
    "Give the token as --token=TOKEN: a token may begin with '-', which as a separate argument reads as an option.",
  ],
  options: {
    token: { type: "string" },
    history: { type: "string" },
    phone: { type: "string" },
    device: { type: "string" },
  },
  minArgs: 0,
  maxArgs: 0,
  async run(ctx, { options }) {
    const token = stringOption(options, "token");
    if (token === undefined) {
      const historyName = stringOption(options, "history");
      const history = historyName === undefined ? HistoryPolicy.UNSPECIFIED : policies[historyName];
      if (history === undefined) throw usageError("--history must be full or from-link");
      const api = ctx.api();
      const created = await api.call((headers, c) => c.identity.createDeviceLinkToken({ history }, { headers }));
      const until = created.expiresAt ? formatTime(timestampDate(created.expiresAt)) : "soon";
      ctx.out(
        created.linkToken,
        `valid once, until ${until}; history: ${created.history === HistoryPolicy.FROM_LINK ? "from the link on" : "full"}`,
        // "--token=": a token may begin with "-", which as a separate argument reads as an option.
        `on the new device: npm run cli -- --profile NEW --server ${api.server} link --token=${created.linkToken} --phone ${api.profile.phoneNumber}`,
      );
      return 0;
    }
    const server = ctx.loginServer();
    const deviceName = stringOption(options, "device") ?? `parley cli on ${hostname()}`.slice(0, 64);
    const linked = await createParleyClients(server).identity.linkDevice({ linkToken: token, deviceName });
    if (!linked.tokens) throw new Error("LinkDevice answered without tokens");
    ctx.store.save({
      server,
      phoneNumber: stringOption(options, "phone") ?? "",
      userId: linked.userId,
      deviceId: linked.deviceId,
      accessToken: linked.tokens.accessToken,
      refreshToken: linked.tokens.refreshToken,
      cursors: {},
    });
    ctx.out(
      `linked: user ${linked.userId}, new device ${linked.deviceId}`,
      `profile "${ctx.store.name}" saved to ${ctx.store.path}`,
    );
    return 0;
  },
};
