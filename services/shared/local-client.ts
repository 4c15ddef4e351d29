// A typed client that calls a service's unary handlers in this process. The all-in-one gateway
// uses it for messaging: Connect's router transport would serialize every request and response,
// run them through async iterables and abort controllers, which bench/ measured as a large share
// of the server's CPU per message. Each call still authenticates its bearer token exactly as the
// auth interceptor does, so a signed-out device is refused here too.
import { create, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { type CallOptions, type Client, createHandlerContext, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { type Authenticator, authenticateHeader, contextValuesFor } from "./auth.ts";
import { InProcessContext } from "./in-process-context.ts";

type UnaryHandler = (request: unknown, context: HandlerContext) => unknown;

export function createLocalClient<S extends DescService>(
  service: S,
  impl: ServiceImpl<S>,
  authenticator: Authenticator,
): Client<S> {
  const client: Record<string, unknown> = {};
  for (const method of service.methods) {
    if (method.methodKind !== "unary") continue;
    const handler = (impl as Record<string, UnaryHandler>)[method.localName];
    if (handler) client[method.localName] = localCall(service, method, handler.bind(impl), authenticator);
  }
  return client as Client<S>;
}

function localCall(service: DescService, method: DescMethod, handler: UnaryHandler, authenticator: Authenticator) {
  const url = `in-process:///${service.typeName}/${method.name}`;
  return async (input: unknown, options?: CallOptions) => {
    const caller = await authenticateHeader(authenticator, authorizationOf(options?.headers));
    const init = {
      service,
      method,
      protocolName: "in-process",
      requestMethod: "POST",
      url,
      requestHeader: options?.headers,
    };
    // A deadline needs Connect's timer-backed signal; every other call takes the lean context.
    const context =
      options?.timeoutMs === undefined
        ? new InProcessContext({ ...init, signal: options?.signal, values: contextValuesFor(caller) })
        : createHandlerContext({
            ...init,
            requestSignal: options.signal,
            timeoutMs: options.timeoutMs,
            contextValues: contextValuesFor(caller),
          });
    return create(method.output, (await handler(create(method.input, input as never), context)) as never);
  };
}

/** The authorization header of a call, read without building a Headers object (the common case is a plain record). */
function authorizationOf(headers: CallOptions["headers"]): string | null {
  if (headers === undefined) return null;
  if (headers instanceof Headers || Array.isArray(headers)) return new Headers(headers).get("authorization");
  for (const [name, value] of Object.entries(headers)) if (name.toLowerCase() === "authorization") return String(value);
  return null;
}
