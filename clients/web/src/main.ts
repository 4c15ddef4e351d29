// Parley in the browser: sign in with a phone code, list conversations, open a direct chat by phone
// number, read history, chat live over the WebSocket device stream with delivered/read ticks.
// The edge is ?edge=https://host:port (default https://127.0.0.1:8443); this page's origin must be
// the edge's PARLEY_EDGE_WEB_ORIGIN (CORS).

import { create } from "@bufbuild/protobuf";
import { type Conversation, ConversationKind } from "../../../gen/parley/v1/conversations_pb.js";
import { type ConversationEvent, ConversationEventSchema, type ReceiptUpdate } from "../../../gen/parley/v1/events_pb.js";
import { createApi, describeError } from "./api.ts";
import { byId, field, h } from "./dom.ts";
import { Receipts, type Status } from "./receipts.ts";
import { DeviceSocket } from "./stream.ts";

const edge = (new URLSearchParams(location.search).get("edge") ?? "https://127.0.0.1:8443").replace(/\/$/, "");

interface Session {
  userId: string;
  accessToken: string;
  displayName: string;
}

/** One conversation as the page holds it. */
interface Chat {
  conversation: Conversation;
  /** Events by sequence (history and live). */
  events: Map<bigint, ConversationEvent>;
  /** Own messages sent but not yet stored, by client_message_id. */
  outgoing: Map<string, string>;
  /** This user's read watermark as last sent or fetched. */
  readThrough: bigint;
}

let session: Session | undefined;
let receipts: Receipts;
let stream: DeviceSocket;
const chats = new Map<string, Chat>();
let openId: string | undefined;
const api = createApi(edge, () => session?.accessToken);

const ui = {
  signIn: byId("sign-in"),
  requestCode: byId<HTMLFormElement>("request-code"),
  verifyCode: byId<HTMLFormElement>("verify-code"),
  app: byId("app"),
  whoami: byId("whoami"),
  connection: byId("connection"),
  newChat: byId<HTMLFormElement>("new-chat"),
  conversations: byId<HTMLUListElement>("conversations"),
  chat: byId("chat"),
  chatTitle: byId("chat-title"),
  messages: byId<HTMLOListElement>("messages"),
  composer: byId<HTMLFormElement>("composer"),
  error: byId("error"),
};

/** Runs an action from a form, showing a failure instead of throwing it. */
function guarded(action: () => Promise<void>): void {
  ui.error.textContent = "";
  action().catch((error) => (ui.error.textContent = describeError(error)));
}

// ---- sign-in ----

ui.requestCode.addEventListener("submit", (e) => {
  e.preventDefault();
  guarded(async () => {
    await api.identity.requestCode({ phoneNumber: field(ui.requestCode, "phone").value.trim() });
    ui.verifyCode.hidden = false;
    field(ui.verifyCode, "code").focus();
  });
});

ui.verifyCode.addEventListener("submit", (e) => {
  e.preventDefault();
  guarded(async () => {
    const displayName = field(ui.requestCode, "name").value.trim();
    const res = await api.identity.verifyCode({
      phoneNumber: field(ui.requestCode, "phone").value.trim(),
      code: field(ui.verifyCode, "code").value.trim(),
      deviceName: `web (${navigator.platform || "browser"})`.slice(0, 64),
      displayName,
    });
    session = { userId: res.userId, accessToken: res.tokens?.accessToken ?? "", displayName };
    await start();
  });
});

async function start(): Promise<void> {
  if (!session) return;
  receipts = new Receipts(session.userId);
  ui.signIn.hidden = true;
  ui.app.hidden = false;
  ui.whoami.textContent = `${session.displayName || "you"}`;
  const { conversations } = await api.conversations.listConversations({ pageSize: 100 });
  for (const c of conversations) remember(c);
  renderList();
  const wsUrl = `${edge.replace(/^http/, "ws")}/v1/session`;
  stream = new DeviceSocket(wsUrl, () => session?.accessToken ?? "", {
    onEvent,
    onReceipt,
    onState(state, live) {
      ui.connection.textContent = state;
      ui.connection.dataset.state = live ? "live" : "offline";
    },
  });
  stream.open();
}

// ---- conversations ----

function remember(conversation: Conversation): Chat {
  receipts.setMembers(conversation);
  const me = conversation.members.find((m) => m.userId === session?.userId);
  const chat = chats.get(conversation.conversationId);
  if (chat) {
    chat.conversation = conversation;
    return chat;
  }
  const fresh: Chat = { conversation, events: new Map(), outgoing: new Map(), readThrough: me?.readThrough ?? 0n };
  chats.set(conversation.conversationId, fresh);
  return fresh;
}

function titleOf(c: Conversation): string {
  if (c.kind === ConversationKind.GROUP) return c.name || "Group";
  const other = c.members.find((m) => m.userId !== session?.userId);
  return other?.displayName || "Direct chat";
}

const textOf = (e: ConversationEvent) => (e.body.case === "message" ? (e.body.value.content?.kind.value?.body ?? "") : "");

function lastSequence(chat: Chat): bigint {
  let last = chat.conversation.lastSequence;
  for (const s of chat.events.keys()) if (s > last) last = s;
  return last;
}

function unreadCount(chat: Chat): number {
  let n = 0;
  for (const e of chat.events.values()) if (e.sequence > chat.readThrough && e.senderUserId !== session?.userId && textOf(e)) n++;
  if (n === 0 && chat.events.size === 0 && lastSequence(chat) > chat.readThrough) return 1;
  return n;
}

function renderList(): void {
  const ordered = [...chats.values()].sort((a, b) => Number(lastSequence(b) - lastSequence(a)));
  ui.conversations.replaceChildren(
    ...ordered.map((chat) => {
      const id = chat.conversation.conversationId;
      const last = [...chat.events.values()].filter(textOf).at(-1);
      const unread = id === openId ? 0 : unreadCount(chat);
      const item = h(
        "li",
        { "data-conversation-id": id, "aria-current": String(id === openId) },
        unread > 0 && h("span", { class: "unread" }, String(unread)),
        h("strong", {}, titleOf(chat.conversation)),
        h("span", { class: "preview" }, last ? textOf(last) : ""),
      );
      item.addEventListener("click", () => guarded(() => openChat(id)));
      return item;
    }),
  );
}

ui.newChat.addEventListener("submit", (e) => {
  e.preventDefault();
  guarded(async () => {
    const phone = field(ui.newChat, "phone").value.trim();
    const { users } = await api.identity.lookupUsers({ phoneNumbers: [phone] });
    const peer = users[0];
    if (!peer) throw new Error(`Nobody on Parley has the number ${phone}`);
    const { conversation } = await api.conversations.getOrCreateDirect({ peerUserId: peer.userId });
    if (!conversation) return;
    remember(conversation);
    field(ui.newChat, "phone").value = "";
    await openChat(conversation.conversationId);
  });
});

async function openChat(id: string): Promise<void> {
  openId = id;
  const [{ conversation }, history] = await Promise.all([
    api.conversations.getConversation({ conversationId: id }),
    api.messaging.listMessages({ conversationId: id, pageSize: 100 }),
  ]);
  const chat = conversation ? remember(conversation) : chats.get(id);
  if (!chat) return;
  for (const e of history.events) chat.events.set(e.sequence, e);
  ui.chat.hidden = false;
  ui.chatTitle.textContent = titleOf(chat.conversation);
  renderList();
  renderChat();
  markRead(chat);
  field(ui.composer, "text").focus();
}

/** Moves this user's read watermark to the newest event of the open chat. */
function markRead(chat: Chat): void {
  const last = lastSequence(chat);
  if (last <= chat.readThrough) return;
  chat.readThrough = last;
  stream.markRead(chat.conversation.conversationId, last);
}

// ---- messages ----

function renderChat(): void {
  const chat = openId ? chats.get(openId) : undefined;
  if (!chat) return;
  const id = chat.conversation.conversationId;
  const items = [...chat.events.values()]
    .sort((a, b) => Number(a.sequence - b.sequence))
    .map((e) => {
      if (e.body.case !== "message") return h("li", { class: "system" }, describeSystem(e));
      const own = e.senderUserId === session?.userId;
      return messageItem(textOf(e), own ? receipts.statusOf(id, e.sequence) : undefined, e.sequence);
    });
  for (const text of chat.outgoing.values()) items.push(messageItem(text, "pending"));
  ui.messages.replaceChildren(...items);
  ui.messages.scrollTop = ui.messages.scrollHeight;
}

const TICKS: Record<Status, string> = { pending: "🕓", sent: "✓", delivered: "✓✓", read: "✓✓" };

function messageItem(text: string, status?: Status, sequence?: bigint): HTMLLIElement {
  const attributes: Record<string, string> = { class: status ? "message own" : "message" };
  if (status) attributes["data-status"] = status;
  if (sequence !== undefined) attributes["data-sequence"] = String(sequence);
  return h(
    "li",
    attributes,
    h("span", { class: "text" }, text),
    status && h("span", { class: "ticks", title: status }, TICKS[status]),
  );
}

function describeSystem(e: ConversationEvent): string {
  switch (e.body.case) {
    case "conversationCreated":
      return "Conversation created";
    case "membersAdded":
      return "Members added";
    case "memberRemoved":
      return "A member left";
    default:
      return "";
  }
}

ui.composer.addEventListener("submit", (e) => {
  e.preventDefault();
  const chat = openId ? chats.get(openId) : undefined;
  const input = field(ui.composer, "text");
  const text = input.value.trim();
  if (!chat || !text) return;
  input.value = "";
  const clientMessageId = crypto.randomUUID();
  chat.outgoing.set(clientMessageId, text);
  renderChat();
  guarded(async () => {
    try {
      const result = await stream.send({
        conversationId: chat.conversation.conversationId,
        clientMessageId,
        content: { kind: { case: "text", value: { body: text } } },
      });
      if (result.outcome.case === "error")
        throw new Error(`${result.outcome.value.detail?.reason}: ${result.outcome.value.message}`);
      // Keep the stored message even if its event has not come back on the stream yet.
      const { sequence, sentAt } = result.outcome.value ?? {};
      if (sequence !== undefined && !chat.events.has(sequence)) {
        chat.events.set(
          sequence,
          create(ConversationEventSchema, {
            conversationId: chat.conversation.conversationId,
            sequence,
            senderUserId: session?.userId,
            sentAt,
            body: { case: "message", value: { clientMessageId, content: { kind: { case: "text", value: { body: text } } } } },
          }),
        );
      }
    } finally {
      // The stored message arrives as an event on this stream too (or the send failed).
      chat.outgoing.delete(clientMessageId);
      renderChat();
    }
  });
});

// ---- the device stream ----

function onEvent(event: ConversationEvent): void {
  const chat = chats.get(event.conversationId);
  if (!chat) {
    // A conversation this page has not listed yet (someone started a chat with us).
    guarded(async () => {
      const { conversation } = await api.conversations.getConversation({ conversationId: event.conversationId });
      if (conversation) remember(conversation).events.set(event.sequence, event);
      renderList();
    });
    return;
  }
  chat.events.set(event.sequence, event);
  if (event.body.case === "message") chat.outgoing.delete(event.body.value.clientMessageId);
  if (event.body.case === "membersAdded" || event.body.case === "memberRemoved") refetch(event.conversationId);
  if (event.conversationId === openId) {
    renderChat();
    markRead(chat);
  }
  renderList();
}

function onReceipt(receipt: ReceiptUpdate): void {
  if (receipt.userId === session?.userId) {
    const chat = chats.get(receipt.conversationId);
    if (chat && receipt.readThrough > chat.readThrough) chat.readThrough = receipt.readThrough;
    renderList();
  } else if (!receipts.apply(receipt)) refetch(receipt.conversationId);
  if (receipt.conversationId === openId) renderChat();
}

function refetch(conversationId: string): void {
  guarded(async () => {
    const { conversation } = await api.conversations.getConversation({ conversationId });
    if (conversation) remember(conversation);
    if (conversationId === openId) renderChat();
    renderList();
  });
}
