// Many calls to one peer on one long-lived bidirectional stream, each request with an id its
// response carries back. A call of its own costs both processes a new HTTP/2 stream, headers,
// trailers and Connect's per-call setup, which bench/ measured at about a quarter of a gateway's
// and a fanout worker's CPU. Each call keeps its own answer, deadline and error.
import { Code, ConnectError } from "@connectrpc/connect";
import { AsyncQueue } from "./async-queue.ts";
import type { Logger } from "./logger.ts";
import { outsideTrace } from "./tracing.ts";

export interface StreamChannel<Req, Res> {
  /** Sends the request made for a fresh id; resolves with the response that carries the id. */
  call(request: (id: bigint) => Req, timeoutMs: number): Promise<Res>;
  /**
   * True once the peer refused the stream with UNIMPLEMENTED before answering anything (a peer
   * from before the stream, during a rolling upgrade): the caller goes by unary calls from then on.
   */
  readonly unsupported: boolean;
  /** Ends the stream; calls still waiting fail with CANCELED, later ones at once. */
  close(): void;
}

/**
 * Whether `error` failed a call because the peer refused the stream as UNIMPLEMENTED before any
 * answer: the caller sends that request, and every later one, the old way.
 */
export function refusedAsUnsupported(error: unknown, channel: Pick<StreamChannel<unknown, unknown>, "unsupported">): boolean {
  return error instanceof ConnectError && error.code === Code.Unimplemented && channel.unsupported;
}

interface Pending<Res> {
  resolve(response: Res): void;
  reject(error: ConnectError): void;
  timer: NodeJS.Timeout;
}

interface OpenStream<Req, Res> {
  requests: AsyncQueue<Req>;
  pending: Map<bigint, Pending<Res>>;
  abort: AbortController;
  answered: boolean;
}

export function createStreamChannel<Req, Res extends { id: bigint }>(options: {
  /** Opens the stream (a Connect bidi call) with this request side and signal. */
  open(requests: AsyncIterable<Req>, signal: AbortSignal): AsyncIterable<Res>;
  /** Names the peer in logs. */
  peer: string;
  logger: Logger;
  /** Called each time a stream opens (a metric: streams that keep ending show as a rate). */
  onOpen?: () => void;
}): StreamChannel<Req, Res> {
  const { logger, peer } = options;
  let current: OpenStream<Req, Res> | undefined;
  let nextId = 1n;
  let unsupported = false;
  let closed = false;

  function open(): OpenStream<Req, Res> {
    const stream: OpenStream<Req, Res> = {
      requests: new AsyncQueue(),
      pending: new Map(),
      abort: new AbortController(),
      answered: false,
    };
    // The stream belongs to no one call's trace; requests carry their own trace context.
    const responses = outsideTrace(() => options.open(stream.requests, stream.abort.signal));
    void (async () => {
      try {
        for await (const response of responses) {
          stream.answered = true;
          const waiter = stream.pending.get(response.id);
          if (!waiter) continue; // timed out already
          stream.pending.delete(response.id);
          clearTimeout(waiter.timer);
          waiter.resolve(response);
        }
        end(stream, new ConnectError(`${peer} ended the stream`, Code.Unavailable));
      } catch (error) {
        end(stream, ConnectError.from(error));
      }
    })();
    logger.debug("stream channel opened", { peer });
    options.onOpen?.();
    return stream;
  }

  function end(stream: OpenStream<Req, Res>, error: ConnectError) {
    if (current === stream) current = undefined;
    stream.requests.close();
    stream.abort.abort();
    if (error.code === Code.Unimplemented && !stream.answered) unsupported = true;
    const waiting = [...stream.pending.values()];
    stream.pending.clear();
    if (waiting.length > 0) logger.debug("stream channel ended", { peer, code: Code[error.code], waiting: waiting.length });
    for (const waiter of waiting) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
  }

  return {
    get unsupported() {
      return unsupported;
    },
    call(request, timeoutMs) {
      if (closed) return Promise.reject(new ConnectError("stream channel closed", Code.Canceled));
      current ??= open();
      const stream = current;
      const id = nextId++;
      return new Promise<Res>((resolve, reject) => {
        const timer = setTimeout(() => {
          if (stream.pending.delete(id)) reject(new ConnectError(`${peer} did not answer in time`, Code.DeadlineExceeded));
        }, timeoutMs);
        stream.pending.set(id, { resolve, reject, timer });
        stream.requests.push(request(id));
      });
    },
    close() {
      closed = true;
      if (current) end(current, new ConnectError("stream channel closed", Code.Canceled));
    },
  };
}
