// A typed client that calls a service's unary handlers in this process. The all-in-one gateway
// uses it for messaging: Connect's router transport would serialize every request and response,
// run them through async iterables and abort controllers, which bench/ measured as a large share
// of the server's CPU per message. Each call still authenticates its bearer token exactly as the
// auth interceptor does, so a signed-out device is refused here too. A caller this process
// authenticated earlier may come in the call's context values instead (the gateway's device
// sessions): then only its expiry and device are checked again, with no token to parse and hash.
import { create, type DescMethod, type DescService } from "@bufbuild/protobuf";
import {
  type CallOptions,
  type Client,
  type ContextValues,
  createHandlerContext,
  type HandlerContext,
  type ServiceImpl,
} from "@connectrpc/connect";
import { type Authenticator, authenticateHeader, authorizationOf, callerIn, contextValuesFor } from "./auth.ts";
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
    const values = await callerValues(authenticator, options);
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
        ? new InProcessContext({ ...init, signal: options?.signal, values })
        : createHandlerContext({
            ...init,
            requestSignal: options.signal,
            timeoutMs: options.timeoutMs,
            contextValues: values,
          });
    return create(method.output, (await handler(create(method.input, input as never), context)) as never);
  };
}

/** The context values naming the call's caller: those it came with once rechecked, or its token's. */
async function callerValues(authenticator: Authenticator, options: CallOptions | undefined): Promise<ContextValues> {
  const presented = options?.contextValues;
  const caller = callerIn(presented);
  if (caller && presented) {
    await authenticator.recheck(caller);
    return presented;
  }
  return contextValuesFor(await authenticateHeader(authenticator, authorizationOf(options?.headers)));
}
