// The SessionService handler: authenticates, waits for Hello, then runs a DeviceSession whose
// outbox is the response stream. Client frames are read one at a time in the background. The
// device-stream transports take the outbox itself and write its frames as they come (`open`);
// Connect's generic handler (gRPC-Web, the Connect protocol) iterates it (`connect`).
import { randomUUID } from "node:crypto";
import { type Client, Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import type { MessagingService } from "../../gen/parley/v1/messaging_pb.js";
import type { ConnectRequest, ConnectResponse } from "../../gen/parley/v1/session_pb.js";
import { callerOf } from "../shared/auth.ts";
import type { Clock } from "../shared/clock.ts";
import { invalidArgument, parleyError } from "../shared/errors.ts";
import type { Logger } from "../shared/logger.ts";
import { requireId } from "../shared/validate.ts";
import { messagingBackend } from "./backend.ts";
import { DeviceSession, type SessionSettings } from "./device-session.ts";
import type { SessionExtension } from "./extension.ts";
import { InboundFrames } from "./inbound-frames.ts";
import type { SessionRegistry } from "./registry.ts";
import type { OpenStream, SessionHandler } from "./session-opener.ts";

export interface SessionServiceDeps {
  registry: SessionRegistry;
  messaging: Client<typeof MessagingService>;
  clock: Clock;
  logger: Logger;
  settings: SessionSettings & { maxWindow: number; helloTimeoutMs: number };
  /** Called when a stream opens and closes (metrics). */
  onStreamCount?: (delta: 1 | -1) => void;
  /** Presence and typing, when served. */
  extension?: SessionExtension;
}

async function firstFrame(requests: AsyncIterator<ConnectRequest>, timeoutMs: number): Promise<ConnectRequest> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(parleyError(Code.DeadlineExceeded, "HELLO_TIMEOUT", "no Hello frame within the deadline")),
      timeoutMs,
    );
  });
  try {
    const first = await Promise.race([requests.next(), timeout]);
    if (first.done) throw invalidArgument("frame.hello", "HELLO_REQUIRED", "the stream ended before Hello");
    return first.value;
  } finally {
    clearTimeout(timer);
  }
}

/** Reads Connect's request iterator one frame at a time, each handled before the next is read. */
async function readEach(
  iterator: AsyncIterator<ConnectRequest>,
  handle: (request: ConnectRequest) => Promise<void> | undefined,
  stopped: () => boolean,
): Promise<void> {
  for (let next = await iterator.next(); !next.done && !stopped(); next = await iterator.next()) await handle(next.value);
}

export function createSessionService(deps: SessionServiceDeps): SessionHandler {
  const { settings } = deps;
  const handler: SessionHandler = {
    async *connect(requests: AsyncIterable<ConnectRequest>, ctx: HandlerContext): AsyncGenerator<ConnectResponse> {
      const stream = await handler.open(requests, ctx);
      try {
        yield* stream.outbox.frames();
      } finally {
        stream.end();
      }
    },

    async open(requests: AsyncIterable<ConnectRequest>, ctx: HandlerContext): Promise<OpenStream> {
      const caller = callerOf(ctx);
      const iterator = requests[Symbol.asyncIterator]();
      const first = await firstFrame(iterator, settings.helloTimeoutMs);
      if (first.frame.case !== "hello") throw invalidArgument("frame.hello", "HELLO_REQUIRED", "the first frame must be Hello");
      const hello = first.frame.value;
      for (const [i, cursor] of hello.cursors.entries()) requireId(cursor.conversationId, `hello.cursors[${i}].conversation_id`);
      const window = hello.window === 0 ? settings.window : Math.min(hello.window, settings.maxWindow);
      const sessionId = randomUUID();
      const session = new DeviceSession({
        caller,
        sessionId,
        backend: messagingBackend(deps.messaging, caller),
        // Shared by every session at the default window: one object, not one per idle stream.
        settings: window === settings.window ? settings : { ...settings, window },
        logger: deps.logger,
        now: deps.clock.now(),
        extension: deps.extension,
      });
      deps.registry.add(session);
      deps.extension?.opened(session);
      deps.onStreamCount?.(1);
      deps.logger.info("stream opened", { ...session.logFields(), window, cursors: hello.cursors.length });
      const fail = (error: unknown) => {
        if (!session.closed && !(error instanceof ConnectError && error.code === Code.Canceled)) {
          session.logger.warn("stream ended by error", { error: error instanceof Error ? error.message : String(error) });
        }
        session.close();
      };
      const closeSession = () => session.close();
      session.start(hello, deps.registry.recordingOf(caller.deviceId)).catch(fail);
      const handle = (request: ConnectRequest) => (session.closed ? undefined : session.handle(request, deps.clock.now()));
      if (requests instanceof InboundFrames) {
        // The device-stream transports hand frames over as they come, and end them when the
        // client leaves (the session then closes); they pass no signal.
        requests.consume(handle, closeSession, fail);
      } else {
        // Connect's iterable is read one frame at a time; its signal says when the client left.
        ctx.signal.addEventListener("abort", closeSession, { once: true });
        // The client may have gone while Hello was read or the token checked.
        if (ctx.signal.aborted) closeSession();
        readEach(iterator, handle, () => session.closed).then(closeSession, fail);
      }
      let ended = false;
      return {
        outbox: session.outbox,
        end() {
          if (ended) return;
          ended = true;
          session.close();
          deps.registry.remove(session);
          deps.extension?.closed(session);
          deps.onStreamCount?.(-1);
          deps.logger.info("stream closed", session.logFields());
        },
      };
    },
  };
  return handler;
}
