// How events, statuses and tables look on the terminal. Pure functions: text in, lines out.
// Everything another user chose (message text, display names, group names) goes through
// clean() first so that nobody can send escape sequences to someone else's terminal.
import { styleText } from "node:util";
import { type Timestamp, timestampDate } from "@bufbuild/protobuf/wkt";
import type { ConversationEvent } from "../../gen/parley/v1/events_pb.js";

export type Status = "pending" | "sent" | "delivered" | "read";

export const statusRank: Record<Status, number> = { pending: 0, sent: 1, delivered: 2, read: 3 };

const marks: Record<Status, string> = { pending: "…", sent: "✓", delivered: "✓✓", read: "✓✓ read" };

/** The mark after an own message: … pending, ✓ sent, ✓✓ delivered, ✓✓ read. */
export const statusMark = (status: Status): string => marks[status];

/** Display name lookup for a conversation's members. */
export type NameOf = (userId: string) => string;

// C0/C1 controls except newline, and bidirectional overrides that could disguise text.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const unsafe = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Makes untrusted text safe to print: no control characters, no direction overrides. */
export function clean(text: string): string {
  return text.replace(/\t/g, "  ").replace(unsafe, "\ufffd");
}

/** A single-line version of untrusted text (names, titles). */
export const cleanLine = (text: string): string => clean(text).replace(/\n/g, " ");

const pad2 = (n: number) => String(n).padStart(2, "0");

/** Local time of day; the date too when it is not today. */
export function formatTime(when: Date, now: Date = new Date()): string {
  const time = `${pad2(when.getHours())}:${pad2(when.getMinutes())}:${pad2(when.getSeconds())}`;
  if (when.toDateString() === now.toDateString()) return time;
  return `${when.getFullYear()}-${pad2(when.getMonth() + 1)}-${pad2(when.getDate())} ${time}`;
}

export const timeOf = (ts: Timestamp | undefined): Date => (ts ? timestampDate(ts) : new Date());

export const dim = (text: string) => styleText("dim", text);
export const bold = (text: string) => styleText("bold", text);

function names(userIds: string[], nameOf: NameOf): string {
  return userIds.map(nameOf).join(", ");
}

/** The text of an event after the sender's name, or a description of a non-message event. */
function describe(event: ConversationEvent, nameOf: NameOf): { text: string; isMessage: boolean } {
  const sender = nameOf(event.senderUserId);
  const body = event.body;
  switch (body.case) {
    case "message": {
      const kind = body.value.content?.kind;
      const text = kind?.case === "text" ? clean(kind.value.body) : dim("(a kind of message this client cannot show)");
      return { text: `${bold(sender)}: ${text.replace(/\n/g, "\n    ")}`, isMessage: true };
    }
    case "conversationCreated": {
      const others = body.value.memberUserIds.filter((id) => id !== event.senderUserId);
      const what = body.value.name === "" ? "started the conversation" : `created the group "${cleanLine(body.value.name)}"`;
      return { text: dim(`${sender} ${what}${others.length > 0 ? ` with ${names(others, nameOf)}` : ""}`), isMessage: false };
    }
    case "membersAdded":
      return { text: dim(`${sender} added ${names(body.value.userIds, nameOf)}`), isMessage: false };
    case "memberRemoved": {
      const removed = body.value.userId;
      const text = removed === event.senderUserId ? `${sender} left` : `${sender} removed ${nameOf(removed)}`;
      return { text: dim(text), isMessage: false };
    }
    default:
      return { text: dim("(an event this client does not know)"), isMessage: false };
  }
}

/**
 * One event as a line: `[#12 14:03:05] Alice: hello  ✓✓ read`. `title` prefixes the
 * conversation (follow mode); `status` is shown after the caller's own messages.
 */
export function eventLine(event: ConversationEvent, nameOf: NameOf, options: { status?: Status; title?: string } = {}): string {
  const where = options.title ? `${options.title} ` : "";
  const stamp = `[${where}#${event.sequence} ${formatTime(timeOf(event.sentAt))}]`;
  const { text } = describe(event, nameOf);
  const status = options.status ? `  ${statusMark(options.status)}` : "";
  return `${stamp} ${text}${status}`;
}

/** The line shown when the user enters a message, before the server has given it a sequence. */
export function pendingLine(senderName: string, text: string, at: Date = new Date()): string {
  return `[#… ${formatTime(at)}] ${bold(senderName)}: ${clean(text).replace(/\n/g, "\n    ")}  ${statusMark("pending")}`;
}

const statusWords: Record<Status, string> = { pending: "sending …", sent: "sent ✓", delivered: "delivered ✓✓", read: "read ✓✓" };

/** A status change of an own message: `  #12 delivered ✓✓`. */
export function statusLine(sequence: bigint, status: Status, title?: string): string {
  return dim(`  ${title ? `${title} ` : ""}#${sequence} ${statusWords[status]}`);
}

/** A notice from the client itself (connection state, hints). */
export const notice = (text: string): string => dim(`-- ${text}`);

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function table(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  }
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  "));
}
