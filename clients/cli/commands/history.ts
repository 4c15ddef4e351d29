// `history <conversation>`: a page of a conversation's messages, oldest first.
import { arg, type Command, intOption, stringOption } from "../command.ts";
import { Directory, resolveConversationId } from "../conversations.ts";
import { usageError } from "../errors.ts";
import { ReceiptTracker } from "../receipts.ts";
import { eventLine, notice } from "../render.ts";

export const history: Command = {
  name: "history",
  args: "<conversation> [--limit N] [--before SEQ]",
  summary: "show recent messages (the last 20 unless --limit)",
  help: ["<conversation> is a conversation id, or +phone for your direct conversation with that number."],
  options: { limit: { type: "string" }, before: { type: "string" } },
  minArgs: 1,
  maxArgs: 1,
  async run(ctx, args) {
    const api = ctx.api();
    const pageSize = intOption(args.options, "limit", 20, 500);
    const before = stringOption(args.options, "before");
    if (before !== undefined && !/^[1-9][0-9]*$/.test(before)) throw usageError("--before must be a sequence number");
    const beforeSequence = BigInt(before ?? "0");
    const conversationId = await resolveConversationId(api, arg(args, 0));
    const directory = new Directory(api);
    const [conversation, page] = await Promise.all([
      directory.get(conversationId),
      api.call((headers, c) => c.messaging.listMessages({ conversationId, pageSize, beforeSequence }, { headers })),
    ]);
    const self = api.profile.userId;
    const tracker = new ReceiptTracker(self);
    tracker.setMembers(conversation);
    const lines = page.events.map((event) => {
      const own = event.senderUserId === self && event.body.case === "message";
      return eventLine(event, directory.nameOf, own ? { status: tracker.statusOf(conversationId, event.sequence) } : {});
    });
    const first = page.events[0];
    if (page.hasMore && first) lines.unshift(notice(`older messages: history ${conversationId} --before ${first.sequence}`));
    if (lines.length === 0) lines.push(notice("no messages yet"));
    ctx.out(...lines);
    return 0;
  },
};
