// The HandlerContext of a call that never crossed a wire: the all-in-one process's calls into
// messaging, and the device streams the WebSocket and the plain-gRPC path open. Connect's
// createHandlerContext builds three Headers objects and links two AbortSignals for every call;
// the handlers here read the caller from `values` and, for streams, `signal`. So the headers are
// made only if something reads them, and the signal is the caller's own.
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import type { ContextValues, HandlerContext } from "@connectrpc/connect";

/** The signal of a call nothing can cancel. */
const neverAborted = new AbortController().signal;

export interface InProcessContextInit {
  service: DescService;
  method: DescMethod;
  protocolName: string;
  requestMethod: string;
  url: string;
  values: ContextValues;
  signal?: AbortSignal;
  requestHeader?: ConstructorParameters<typeof Headers>[0];
}

export class InProcessContext implements HandlerContext {
  readonly service: DescService;
  readonly method: DescMethod;
  readonly protocolName: string;
  readonly requestMethod: string;
  readonly url: string;
  readonly values: ContextValues;
  readonly signal: AbortSignal;
  #requestHeaderInit: ConstructorParameters<typeof Headers>[0] | undefined;
  #requestHeader: Headers | undefined;
  #responseHeader: Headers | undefined;
  #responseTrailer: Headers | undefined;

  constructor(init: InProcessContextInit) {
    this.service = init.service;
    this.method = init.method;
    this.protocolName = init.protocolName;
    this.requestMethod = init.requestMethod;
    this.url = init.url;
    this.values = init.values;
    this.signal = init.signal ?? neverAborted;
    this.#requestHeaderInit = init.requestHeader;
  }

  /** No deadline: in-process calls with a timeout take Connect's own context instead. */
  timeoutMs(): number | undefined {
    return undefined;
  }

  get requestHeader(): Headers {
    this.#requestHeader ??= new Headers(this.#requestHeaderInit);
    return this.#requestHeader;
  }

  get responseHeader(): Headers {
    this.#responseHeader ??= new Headers();
    return this.#responseHeader;
  }

  get responseTrailer(): Headers {
    this.#responseTrailer ??= new Headers();
    return this.#responseTrailer;
  }
}
