// Helpers of the presence, typing and device tests: typed clients, a stream that records the
// presence and typing frames it receives (with arrival times), and a device that goes silent.
import { create } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { type Client, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { DeviceStream } from "../../clients/node/device-stream.ts";
import { bearer, type ParleyClients } from "../../clients/node/transport.ts";
import { ErrorDetailSchema, type StreamError } from "../../gen/parley/v1/errors_pb.js";
import { PresenceService, type PresenceState } from "../../gen/parley/v1/presence_pb.js";
import {
  type ConnectRequest,
  ConnectRequestSchema,
  type SessionService,
  type TypingNotice,
} from "../../gen/parley/v1/session_pb.js";
import { type SignedIn, signInOn, tempDataDir } from "./parley.ts";
import { type ParleyProcess, spawnParley } from "./process.ts";

export interface Server {
  process: ParleyProcess;
  clients: ParleyClients;
  presence: Client<typeof PresenceService>;
  /** ws://.../v1/session */
  wsUrl: string;
  signIn(phoneNumber: string, deviceName?: string): Promise<SignedIn>;
  stop(): Promise<void>;
}

/** A real all-in-one server process on free ports (metrics on too). */
export async function startServer(env: Record<string, string> = {}): Promise<Server> {
  const process = await spawnParley({ dataDir: tempDataDir(), env });
  return {
    process,
    clients: process.clients,
    presence: presenceClient(process.url),
    wsUrl: `ws://127.0.0.1:${process.wsPort}/v1/session`,
    signIn: (phoneNumber, deviceName) => signInOn(process.clients, process.codes, phoneNumber, deviceName),
    async stop() {
      await process.kill("SIGTERM");
    },
  };
}

export const presenceClient = (url: string): Client<typeof PresenceService> =>
  createClient(PresenceService, createGrpcTransport({ baseUrl: url }));

export interface SeenPresence {
  userId: string;
  state: PresenceState;
  lastSeenAt: number | undefined;
  at: number;
}

/** A device stream that keeps every presence, snapshot and typing frame it receives. */
export class Watcher {
  readonly stream: DeviceStream;
  readonly presence: SeenPresence[] = [];
  snapshot: SeenPresence[] | undefined;
  readonly typing: (TypingNotice & { at: number })[] = [];
  readonly errors: StreamError[] = [];
  /** Frame kinds in arrival order. */
  readonly order: string[] = [];

  constructor(client: Client<typeof SessionService>, who: { accessToken: string }) {
    this.stream = new DeviceStream(
      client,
      { accessToken: who.accessToken },
      {
        onFrame: (frame) => {
          const f = frame.frame;
          const at = Date.now();
          this.order.push(String(f.case));
          if (f.case === "presence") this.presence.push(seen(f.value, at));
          else if (f.case === "presenceSnapshot") this.snapshot = f.value.presences.map((p) => seen(p, at));
          else if (f.case === "typing") this.typing.push({ ...f.value, at });
          else if (f.case === "error") this.errors.push(f.value);
        },
      },
    );
  }

  /** Presence frames about one user. */
  about(userId: string): SeenPresence[] {
    return this.presence.filter((p) => p.userId === userId);
  }

  /** The latest state known for a user (snapshot, then updates). */
  stateOf(userId: string): PresenceState | undefined {
    return (this.about(userId).at(-1) ?? this.snapshot?.find((p) => p.userId === userId))?.state;
  }

  typingAbout(userId: string): (TypingNotice & { at: number })[] {
    return this.typing.filter((t) => t.userId === userId);
  }

  type(conversationId: string, typing = true): void {
    this.stream.sendFrame({ case: "typing", value: { conversationId, typing } });
  }

  async close(): Promise<void> {
    this.stream.close();
    await this.stream.ended;
  }
}

function seen(p: { userId: string; state: PresenceState; lastSeenAt?: Parameters<typeof timestampMs>[0] }, at: number) {
  return { userId: p.userId, state: p.state, lastSeenAt: p.lastSeenAt ? timestampMs(p.lastSeenAt) : undefined, at };
}

/** Opens a watcher and waits for its snapshot (which follows CaughtUp). */
export async function watch(client: Client<typeof SessionService>, who: { accessToken: string }): Promise<Watcher> {
  const watcher = new Watcher(client, who);
  await watcher.stream.caughtUp;
  const deadline = Date.now() + 20_000;
  while (!watcher.snapshot) {
    if (Date.now() > deadline) throw new Error("no presence snapshot after CaughtUp");
    await new Promise((r) => setTimeout(r, 10));
  }
  return watcher;
}

/**
 * A device that sends Hello and then nothing at all, not even heartbeat echoes, while keeping its
 * connection open: a phone that lost its radio without closing anything.
 */
export function silentDevice(client: Client<typeof SessionService>, who: { accessToken: string }) {
  const abort = new AbortController();
  let frames = 0;
  async function* requests(): AsyncGenerator<ConnectRequest> {
    yield create(ConnectRequestSchema, { frame: { case: "hello", value: {} } });
    await new Promise<void>((resolve) => abort.signal.addEventListener("abort", () => resolve(), { once: true }));
  }
  const ended = (async () => {
    try {
      for await (const _ of client.connect(requests(), { headers: bearer(who.accessToken), signal: abort.signal })) frames++;
    } catch {
      // aborted or ended by the server: either way the test looks at the other side
    }
  })();
  return { ended, frames: () => frames, stop: () => abort.abort() };
}

/** The direct conversation of two users (created on first use). */
export async function directBetween(clients: ParleyClients, a: SignedIn, b: SignedIn): Promise<string> {
  const { conversation } = await clients.conversations.getOrCreateDirect(
    { peerUserId: b.userId },
    { headers: bearer(a.accessToken) },
  );
  return conversation?.conversationId ?? "";
}

/** The code and reason of a failed call. */
export async function refusal(call: Promise<unknown>): Promise<{ code: number; reason: string | undefined }> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof ConnectError)) throw error;
    return { code: error.code, reason: error.findDetails(ErrorDetailSchema)[0]?.reason };
  }
  throw new Error("the call succeeded");
}

/** Reads one Prometheus sample (summed over labels) from a metrics port. */
export async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let total = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Opens watchers for several devices at once; the tuple keeps one Watcher per argument. */
export function watchAll<T extends { accessToken: string }[]>(
  client: Client<typeof SessionService>,
  ...who: T
): Promise<{ [K in keyof T]: Watcher }> {
  return Promise.all(who.map((w) => watch(client, w))) as Promise<{ [K in keyof T]: Watcher }>;
}
