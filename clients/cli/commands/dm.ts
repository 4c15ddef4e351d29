// `dm <phone>`: the direct conversation with someone, created on first use.
import { arg, type Command } from "../command.ts";
import { directWith } from "../conversations.ts";

export const dm: Command = {
  name: "dm",
  args: "<phone>",
  summary: "get or create the direct conversation with a phone number; prints its id",
  minArgs: 1,
  maxArgs: 1,
  async run(ctx, args) {
    const { conversation } = await directWith(ctx.api(), arg(args, 0));
    ctx.out(conversation.conversationId);
    return 0;
  },
};
