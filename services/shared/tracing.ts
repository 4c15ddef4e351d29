// OpenTelemetry tracing: the SDK starts only when an OTLP endpoint is configured (standard
// OTEL_* variables), and Connect interceptors carry W3C trace context across every RPC.

import { ConnectError, type Interceptor } from "@connectrpc/connect";
import {
  context,
  INVALID_SPAN_CONTEXT,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { NodeSDK } from "@opentelemetry/sdk-node";

export const tracer = trace.getTracer("parley");

/**
 * Whether this process records spans (startTracing found an exporter). Without it every span is a
 * no-op, so withSpan skips the span machinery altogether: a context switch and an extra async
 * frame on every send, publish and consume (4.6% of the 1:1 server's CPU in bench/).
 */
let recording = false;
const noSpan = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** Starts the SDK for this process if OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set; returns its shutdown. */
export function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): () => Promise<void> {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return async () => {};
  const sdk = new NodeSDK({ serviceName, instrumentations: [], metricReaders: [], logRecordProcessors: [] });
  sdk.start();
  recording = true;
  return () => {
    recording = false;
    return sdk.shutdown();
  };
}

const headerGetter = {
  keys: (carrier: Headers) => [...carrier.keys()],
  get: (carrier: Headers, key: string) => carrier.get(key) ?? undefined,
};
const headerSetter = { set: (carrier: Headers, key: string, value: string) => carrier.set(key, value) };

/** Copies the active trace context into string headers (for the bus). */
export function traceHeaders(): Record<string, string> {
  const carrier: Record<string, string> = {};
  if (recording) propagation.inject(context.active(), carrier);
  return carrier;
}

/** Runs fn in a span whose parent is the trace context found in string headers. */
export function withSpanFromHeaders<T>(
  name: string,
  headers: Record<string, string> | undefined,
  fn: (span: Span) => Promise<T>,
) {
  if (!recording) return untraced(fn);
  const parent = propagation.extract(context.active(), headers ?? {});
  return tracer.startActiveSpan(name, { kind: SpanKind.CONSUMER }, parent, (span) => finish(span, fn(span)));
}

/** Runs fn outside any trace: for what outlives the call that starts it (a long-lived stream). */
export function outsideTrace<T>(fn: () => T): T {
  return context.with(ROOT_CONTEXT, fn);
}

/** Runs fn in a child span of the active context, or in a new trace with `root`. */
export function withSpan<T>(name: string, fn: (span: Span) => Promise<T>, options: { root?: boolean } = {}): Promise<T> {
  if (!recording) return untraced(fn);
  return tracer.startActiveSpan(name, { root: options.root }, (span) => finish(span, fn(span)));
}

/** fn without a span; a synchronous throw becomes a rejection, as it would inside a span. */
function untraced<T>(fn: (span: Span) => Promise<T>): Promise<T> {
  try {
    return fn(noSpan);
  } catch (error) {
    return Promise.reject(error);
  }
}

async function finish<T>(span: Span, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    throw error;
  } finally {
    span.end();
  }
}

/** Server side: continues the caller's trace (traceparent header) in a span per call. */
export function serverTracingInterceptor(): Interceptor {
  return (next) => async (req) => {
    const parent = propagation.extract(context.active(), req.header, headerGetter);
    const span = tracer.startSpan(`${req.service.typeName}/${req.method.name}`, { kind: SpanKind.SERVER }, parent);
    const active = trace.setSpan(parent, span);
    try {
      const res = await context.with(active, () => next(req));
      if (!res.stream) {
        span.end();
        return res;
      }
      // A streaming call's span ends when its response stream does.
      const messages = res.message;
      return {
        ...res,
        message: (async function* () {
          try {
            yield* messages;
          } finally {
            span.end();
          }
        })(),
      };
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof ConnectError ? error.rawMessage : String(error) });
      span.end();
      throw error;
    }
  };
}

/** Client side: sends the active trace context with every call. */
export function clientTracingInterceptor(): Interceptor {
  return (next) => (req) => {
    propagation.inject(context.active(), req.header, headerSetter);
    return next(req);
  };
}
