// `login <phone>`: asks for a one-time code, exchanges it for a device session and saves the profile.
import { hostname } from "node:os";
import { createInterface } from "node:readline/promises";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { createParleyClients } from "../../node/transport.ts";
import { type Command, stringOption } from "../command.ts";
import { CliError } from "../errors.ts";
import { formatTime } from "../render.ts";

/** Reads one line from stdin after a prompt on stderr; empty when the input ends first (Ctrl-C, Ctrl-D). */
async function promptForCode(codeLength: number): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: Boolean(process.stdin.isTTY) });
  const ended = new Promise<undefined>((resolve) => rl.once("close", () => resolve(undefined)));
  try {
    const question = rl.question(`enter the ${codeLength}-digit code: `);
    question.catch(() => {}); // rejected when the input closes first; `ended` reports that
    const answer = await Promise.race([question, ended]);
    // Piped input is not echoed, and an abandoned prompt has no newline: end the prompt's line.
    if (answer === undefined || !process.stdin.isTTY) process.stderr.write("\n");
    return (answer ?? "").trim();
  } finally {
    rl.close();
  }
}

export const login: Command = {
  name: "login",
  args: "<phone> [--code CODE] [--name NAME] [--device LABEL]",
  summary: "sign in with a one-time code and save the profile",
  help: [
    "Without --code, asks the server to send a code and reads it from stdin (a dev-mode server logs it).",
    "With --code, uses a code requested earlier and does not request a new one.",
    "--name sets your display name when this sign-in creates your account.",
  ],
  options: {
    code: { type: "string" },
    name: { type: "string" },
    device: { type: "string" },
  },
  minArgs: 1,
  maxArgs: 1,
  async run(ctx, { positionals, options }) {
    const phoneNumber = positionals[0] ?? "";
    const server = ctx.loginServer();
    const clients = createParleyClients(server);
    let code = stringOption(options, "code");
    if (code === undefined) {
      const sent = await clients.identity.requestCode({ phoneNumber });
      const expires = sent.expiresAt ? ` (valid until ${formatTime(timestampDate(sent.expiresAt))})` : "";
      ctx.err(`A sign-in code was sent to ${phoneNumber}${expires}. A dev-mode server prints it in its log.`);
      code = await promptForCode(sent.codeLength || 6);
      if (code === "") throw new CliError("no code entered; not signed in");
    }
    const deviceName = stringOption(options, "device") ?? `parley cli on ${hostname()}`.slice(0, 64);
    const displayName = stringOption(options, "name") ?? "";
    const res = await clients.identity.verifyCode({ phoneNumber, code, deviceName, displayName });
    if (!res.tokens) throw new Error("VerifyCode answered without tokens");
    const previous = ctx.store.load();
    ctx.store.save({
      server,
      phoneNumber,
      userId: res.userId,
      deviceId: res.deviceId,
      accessToken: res.tokens.accessToken,
      refreshToken: res.tokens.refreshToken,
      cursors: {},
    });
    if (previous && previous.deviceId !== res.deviceId) {
      ctx.err(
        `(replaced the earlier sign-in of profile "${ctx.store.name}"; its device ${previous.deviceId} stays signed in until revoked)`,
      );
    }
    ctx.out(
      `signed in as ${phoneNumber}${res.newUser ? ` (new account${displayName ? ` named ${displayName}` : ""})` : ""}`,
      `user ${res.userId}, device ${res.deviceId}`,
      `profile "${ctx.store.name}" saved to ${ctx.store.path}`,
    );
    return 0;
  },
};
