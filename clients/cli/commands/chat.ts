// `chat <conversation>`: one conversation live, with what you type sent into it.
import { arg, type Command, intOption } from "../command.ts";
import { runLive } from "../run-live.ts";

export const chat: Command = {
  name: "chat",
  args: "<conversation> [--context N]",
  summary: "chat in one conversation: live messages, delivery and read status, lines you type are sent",
  help: [
    "<conversation> is a conversation id, or +phone for your direct conversation with that number.",
    "Your messages show … until the server stores them, then ✓ sent, ✓✓ delivered and ✓✓ read.",
    "Starts with the last 10 messages you have already seen (--context N to change, 0 for none),",
    "then the ones you have not seen, then live ones. Messages you see are marked read.",
    "Ctrl-D (end of input) or Ctrl-C leaves.",
  ],
  options: { context: { type: "string" } },
  minArgs: 1,
  maxArgs: 1,
  run: (ctx, args) =>
    runLive(ctx, {
      conversation: arg(args, 0),
      context: args.options.context === "0" ? 0 : intOption(args.options, "context", 10, 500),
    }),
};
