// Keeps one session stream open for as long as the command runs: reconnects with backoff when the
// server drains or the network drops, refreshes the access token when it expires, sends
// heartbeats and notices a silent server, and stops for good on REPLACED or REVOKED.
import { Code, ConnectError } from "@connectrpc/connect";
import type { StreamError } from "../../gen/parley/v1/errors_pb.js";
import type { ConversationEvent, Cursor, ReceiptUpdate } from "../../gen/parley/v1/events_pb.js";
import { type GoAway, GoAwayReason, type Ready } from "../../gen/parley/v1/session_pb.js";
import { DeviceStream } from "../node/device-stream.ts";
import { type Api, isTokenExpired } from "./api.ts";
import { describeError, summarizeError } from "./errors.ts";

export interface ConnectionHooks {
  /** Cursors for Hello: the highest sequence the CLI has processed per conversation. */
  cursors(): Cursor[];
  connected(stream: DeviceStream, ready: Ready, reconnected: boolean): void;
  /** The stream ended; nothing can be sent until the next connected(). */
  disconnected(): void;
  caughtUp(stream: DeviceStream, replayed: number): void;
  event(stream: DeviceStream, event: ConversationEvent, deliveryId: bigint): void;
  receipt(receipt: ReceiptUpdate): void;
  streamError(error: StreamError): void;
  /** Connection state worth telling the user about. */
  notice(text: string): void;
  /** A failure that ends the command. */
  fatal(text: string): void;
}

type Next = { kind: "retry"; why: string; afterMs: number } | { kind: "refresh" } | { kind: "exit"; why: string };

/** Errors after which trying again later may work. */
const transient = new Set([
  Code.Unavailable,
  Code.Canceled,
  Code.DeadlineExceeded,
  Code.Unknown,
  Code.Internal,
  Code.Aborted,
  Code.ResourceExhausted,
]);

const maxBackoffMs = 10_000;

function decide(goAway: GoAway | undefined, error: Error | undefined, silent: boolean): Next {
  if (goAway) {
    const name = `GoAway ${GoAwayReason[goAway.reason] ?? goAway.reason}`;
    switch (goAway.reason) {
      case GoAwayReason.REPLACED:
        return { kind: "exit", why: `another chat or follow of this profile took over the stream (${name})` };
      case GoAwayReason.REVOKED:
        return { kind: "exit", why: `this device was signed out (${name}); sign in again with login` };
      case GoAwayReason.TOKEN_EXPIRED:
        return { kind: "refresh" };
      default:
        return {
          kind: "retry",
          why: `the server ended the stream (${name}: ${goAway.message || "no reason given"})`,
          afterMs: goAway.reconnectAfterMs,
        };
    }
  }
  if (silent) return { kind: "retry", why: "the server stopped answering heartbeats", afterMs: 0 };
  if (!error) return { kind: "retry", why: "the server closed the stream", afterMs: 0 };
  if (isTokenExpired(error)) return { kind: "refresh" };
  const connectError = ConnectError.from(error);
  if (transient.has(connectError.code)) return { kind: "retry", why: `connection lost (${summarizeError(error)})`, afterMs: 0 };
  return { kind: "exit", why: describeError(error) };
}

export class Connection {
  readonly #api: Api;
  readonly #hooks: ConnectionHooks;
  #stream: DeviceStream | undefined;
  #connected: DeviceStream | undefined;
  #stopping = false;
  #wake: (() => void) | undefined;

  constructor(api: Api, hooks: ConnectionHooks) {
    this.#api = api;
    this.#hooks = hooks;
  }

  /** The stream, once it has said Ready; undefined while (re)connecting. */
  get stream(): DeviceStream | undefined {
    return this.#connected;
  }

  /** Runs until stop() (resolves 0) or a failure that ends the command (resolves 1). */
  async run(): Promise<number> {
    let failures = 0;
    let everConnected = false;
    /** The last reason shown; the same reason again is not repeated while the outage lasts. */
    let shown = "";
    while (!this.#stopping) {
      const token = this.#api.accessToken;
      let lastHeard = Date.now();
      let silent = false;
      const stream: DeviceStream = new DeviceStream(
        this.#api.clients.session,
        { accessToken: token, cursors: this.#hooks.cursors(), autoAck: false },
        {
          onFrame: () => {
            lastHeard = Date.now();
          },
          onEvent: (event, deliveryId) => this.#hooks.event(stream, event, deliveryId),
          onReceipt: (receipt) => this.#hooks.receipt(receipt),
          onCaughtUp: (replayed) => this.#hooks.caughtUp(stream, replayed),
          onError: (error) => this.#hooks.streamError(error),
        },
      );
      this.#stream = stream;
      const ready = await Promise.race([stream.ready, stream.ended.then(() => undefined)]);
      let heartbeat: NodeJS.Timeout | undefined;
      if (ready) {
        failures = 0;
        if (shown !== "") this.#hooks.notice("reconnected");
        shown = "";
        this.#connected = stream;
        this.#hooks.connected(stream, ready, everConnected);
        everConnected = true;
        const interval = ready.heartbeatIntervalMs;
        if (interval > 0) {
          heartbeat = setInterval(() => {
            if (Date.now() - lastHeard > 3 * interval) {
              silent = true;
              stream.abort();
            } else stream.heartbeat(BigInt(Date.now()));
          }, interval);
        }
      }
      const error = await stream.ended;
      clearInterval(heartbeat);
      this.#connected = undefined;
      this.#hooks.disconnected();
      if (this.#stopping) break;
      const next = decide(stream.goAway, error, silent);
      if (next.kind === "exit") {
        this.#hooks.fatal(next.why);
        return 1;
      }
      if (next.kind === "refresh") {
        try {
          await this.#api.refresh(token);
          continue;
        } catch (refreshError) {
          if (ConnectError.from(refreshError).code !== Code.Unavailable) {
            this.#hooks.fatal(describeError(refreshError));
            return 1;
          }
        }
      }
      failures++;
      const base = next.kind === "retry" ? Math.max(next.afterMs, 500) : 500;
      const delay = Math.min(maxBackoffMs, base * 2 ** Math.min(failures - 1, 6)) * (0.75 + Math.random() * 0.5);
      const why = next.kind === "retry" ? next.why : "could not refresh the session";
      if (why !== shown) this.#hooks.notice(`${why}; reconnecting in ${(delay / 1000).toFixed(1)}s`);
      shown = why;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
    return 0;
  }

  /** Ends the stream politely (half-close) and makes run() resolve. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    const stream = this.#stream;
    if (!stream) return;
    stream.close();
    const timer = setTimeout(() => stream.abort(), 2_000);
    await stream.ended;
    clearTimeout(timer);
  }
}
