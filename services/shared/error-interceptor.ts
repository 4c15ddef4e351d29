// Maps every failure to a public ConnectError (unknown errors become INTERNAL, logged once) and
// logs each call's outcome, for unary calls and streams alike.
import { Code, type ConnectError, type Interceptor } from "@connectrpc/connect";
import { reasonOf, toPublicError } from "./errors.ts";
import type { Logger } from "./logger.ts";

export type ErrorCounter = (procedure: string, code: Code) => void;

/**
 * The public form of a call's failure, logged once (error level only when unexpected) and counted.
 * Every way into a handler ends its failures here: the interceptor and the device stream's direct path.
 */
export function publishError(logger: Logger, procedure: string, error: unknown, onError?: ErrorCounter): ConnectError {
  const { error: publicError, unexpected } = toPublicError(error);
  if (unexpected) logger.error("rpc failed unexpectedly", { procedure, error });
  else if (publicError.code !== Code.Canceled) {
    logger.debug("rpc refused", { procedure, code: Code[publicError.code], reason: reasonOf(publicError) });
  }
  onError?.(procedure, publicError.code);
  return publicError;
}

export function createErrorInterceptor(logger: Logger, onError?: ErrorCounter): Interceptor {
  return (next) => async (req) => {
    const procedure = `${req.service.typeName}/${req.method.name}`;
    const started = performance.now();
    const publish = (error: unknown) => publishError(logger, procedure, error, onError);
    try {
      const res = await next(req);
      if (!res.stream) {
        logger.debug("rpc", { procedure, ms: Math.round(performance.now() - started) });
        return res;
      }
      return { ...res, message: mapErrors(res.message, publish) };
    } catch (error) {
      throw publish(error);
    }
  };
}

/**
 * The same messages, with a failure mapped. A plain iterator rather than an async generator
 * around `yield*`: every frame of every stream passes through here, and a generator adds a
 * promise hop per frame.
 */
function mapErrors<T>(source: AsyncIterable<T>, map: (error: unknown) => unknown): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      const iterator = source[Symbol.asyncIterator]();
      const fail = (error: unknown): never => {
        throw map(error);
      };
      return {
        next: () => iterator.next().catch(fail),
        return: (value?: unknown) =>
          iterator.return ? iterator.return(value).catch(fail) : Promise.resolve({ done: true as const, value: value as T }),
        throw: (error?: unknown) => (iterator.throw ? iterator.throw(error).catch(fail) : Promise.reject(map(error))),
      };
    },
  };
}
