// `follow`: every conversation live, without input.
import type { Command } from "../command.ts";
import { runLive } from "../run-live.ts";

export const follow: Command = {
  name: "follow",
  args: "",
  summary: "show new messages of all your conversations as they arrive (Ctrl-C stops)",
  help: ["Messages you see are marked read, as in chat."],
  minArgs: 0,
  maxArgs: 0,
  run: (ctx) => runLive(ctx, {}),
};
