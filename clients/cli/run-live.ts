// The shared body of `chat` (one conversation, with input) and `follow` (every conversation):
// open the stream, show what arrives, and leave cleanly on end of input, Ctrl-C or SIGTERM.

import { ConversationKind } from "../../gen/parley/v1/conversations_pb.js";
import type { Context } from "./command.ts";
import { Connection } from "./connection.ts";
import { Directory, resolveConversationId } from "./conversations.ts";
import { LiveView } from "./live.ts";
import { notice } from "./render.ts";
import { Terminal } from "./terminal.ts";

/** How long leaving waits for typed messages to be confirmed. */
const settleOnEndMs = 15_000;
const settleOnInterruptMs = 2_000;

export async function runLive(ctx: Context, options: { conversation?: string; context?: number }): Promise<number> {
  const api = ctx.api();
  const directory = new Directory(api);
  const focus = options.conversation === undefined ? undefined : await resolveConversationId(api, options.conversation);
  // Created once the header is out; until then the view prints straight to stdout.
  let terminal: Terminal | undefined;
  const live = new LiveView({
    api,
    directory,
    focus,
    print: (...lines) => (terminal ? terminal.print(...lines) : ctx.out(...lines)),
    printError: (line) => (terminal ? terminal.printError(line) : ctx.err(line)),
    onCaughtUp: () => {
      terminal?.print(notice(focus === undefined ? "caught up; following live" : "caught up; type a message and press Enter"));
      terminal?.prompt();
    },
  });

  if (focus !== undefined) {
    // Fails early, before any stream, on a malformed or unknown conversation id.
    await live.load(focus);
    const conversation = await directory.get(focus);
    const others = conversation.members.filter((m) => m.userId !== api.profile.userId).map((m) => directory.nameOf(m.userId));
    const title = directory.title(conversation, api.profile.userId);
    const where =
      conversation.kind === ConversationKind.GROUP
        ? `group "${title}" with ${others.join(", ") || "nobody else"}`
        : `chat with ${title}`;
    ctx.out(notice(`${where}; Ctrl-D or Ctrl-C to leave`));
    await live.showEarlier(focus, options.context ?? 0);
  } else {
    ctx.out(notice(`following every conversation of ${api.profile.phoneNumber}; Ctrl-C to stop`));
  }

  const connection = new Connection(api, live);
  let exitCode = 0;
  let leaving: Promise<void> | undefined;
  const leave = (how: "end" | "interrupt") => {
    if (leaving) {
      if (how === "interrupt") process.exit(130); // a second Ctrl-C: do not wait any longer
      return;
    }
    leaving = (async () => {
      if (live.unconfirmed > 0 && how === "end")
        terminal?.print(notice(`waiting for ${live.unconfirmed} message(s) to be confirmed`));
      const settled = await live.settled(how === "end" ? settleOnEndMs : settleOnInterruptMs);
      if (!settled) {
        terminal?.printError(`error: ${live.unconfirmed} message(s) not confirmed by the server; they may not have been sent`);
        exitCode = 1;
      }
      terminal?.close();
      await live.finish();
      await connection.stop();
    })();
  };
  terminal = new Terminal(
    { input: focus !== undefined },
    { line: (text) => live.send(text), end: () => leave("end"), interrupt: () => leave("interrupt") },
  );

  const result = await connection.run();
  await leaving;
  terminal.close();
  await live.finish();
  return result !== 0 ? result : exitCode;
}
