// `group <name> <phone...>`: creates a group with the users behind the phone numbers.
import { randomUUID } from "node:crypto";
import { arg, type Command } from "../command.ts";
import { lookupUsers } from "../conversations.ts";

export const group: Command = {
  name: "group",
  args: "<name> <phone> [phone...]",
  summary: "create a group with you and the given people; prints its id",
  minArgs: 2,
  async run(ctx, args) {
    const api = ctx.api();
    const members = await lookupUsers(api, args.positionals.slice(1));
    const clientRequestId = randomUUID();
    const { conversation } = await api.call((headers, c) =>
      c.conversations.createGroup(
        { name: arg(args, 0), memberUserIds: members.map((u) => u.userId), clientRequestId },
        { headers },
      ),
    );
    if (!conversation) throw new Error("CreateGroup answered without a conversation");
    ctx.out(conversation.conversationId);
    return 0;
  },
};
