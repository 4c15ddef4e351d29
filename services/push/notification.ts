// What a push says. With previews off nothing readable (names, text) leaves the server: the
// provider and a locked screen see only a count.
import type { Batch } from "./coalescer.ts";
import type { Notification } from "./ports.ts";

/** Long enough for a lock-screen line; keeps every provider's payload far below its 4 KiB limit. */
const maxBodyChars = 180;

function clip(text: string, max: number): string {
  const chars = [...text.replace(/\s+/g, " ").trim()];
  return chars.length <= max ? chars.join("") : `${chars.slice(0, max - 1).join("")}…`;
}

const messages = (count: number) => (count === 1 ? "New message" : `${count} new messages`);

export function notificationFor(batch: Batch, showPreviews: boolean): Notification {
  const latest = batch.messages.at(-1);
  if (!latest) throw new Error("an empty batch has nothing to announce");
  const count = batch.messages.length;
  const conversations = new Set(batch.messages.map((m) => m.conversationId)).size;
  const base = {
    conversationId: latest.conversationId,
    sequence: latest.sequence,
    count,
    // One message that wants sound makes the whole push sound.
    quiet: batch.messages.every((m) => m.quiet),
  };
  if (!showPreviews) return { ...base, title: "Parley", body: messages(count) };
  if (conversations > 1) return { ...base, title: "Parley", body: `${count} new messages in ${conversations} conversations` };
  const more = count > 1 ? ` (+${count - 1} more)` : "";
  if (latest.groupName === "") {
    return { ...base, title: clip(latest.senderName, 64), body: `${clip(latest.text, maxBodyChars)}${more}` };
  }
  return {
    ...base,
    title: clip(latest.groupName, 64),
    body: `${clip(latest.senderName, 64)}: ${clip(latest.text, maxBodyChars)}${more}`,
  };
}
