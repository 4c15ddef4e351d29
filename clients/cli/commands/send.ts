// `send <conversation> <text...>`: one message through the unary SendMessage call.
import { randomUUID } from "node:crypto";
import { arg, type Command } from "../command.ts";
import { resolveConversationId } from "../conversations.ts";
import { usageError } from "../errors.ts";
import { textRequest } from "../live.ts";

export const send: Command = {
  name: "send",
  args: "<conversation> <text...>",
  summary: "send a message; prints its sequence",
  help: [
    "<conversation> is a conversation id, or +phone for your direct conversation with that number.",
    "Put -- before text that starts with a dash: send <conversation> -- -1 for me",
  ],
  minArgs: 2,
  async run(ctx, args) {
    const api = ctx.api();
    const text = args.positionals.slice(1).join(" ");
    if (text.trim() === "") throw usageError("the message text is empty");
    const conversationId = await resolveConversationId(api, arg(args, 0));
    // One id for the first try and the retry after a token refresh: the server stores it once.
    const request = textRequest(conversationId, text, randomUUID());
    const sent = await api.call((headers, c) => c.messaging.sendMessage(request, { headers }));
    ctx.out(String(sent.sequence));
    return 0;
  },
};
