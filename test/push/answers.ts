// What the fake provider servers share: scripted answers per token, and a record of every request
// with the problems found in its format (a test asserts there were none).

export interface Answer {
  status: number;
  /** JSON body (objects are serialized); none when undefined. */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Received<T> {
  /** The token, device token or subscription path the request was for. */
  key: string;
  /** When it arrived (ms). */
  at: number;
  /** What the request carried, as the fake decoded it. */
  payload: T;
  /** The status the fake answered. */
  status: number;
}

export class Script<T> {
  readonly received: Received<T>[] = [];
  /** Format problems found in requests; each was answered 400. */
  readonly problems: string[] = [];
  readonly #answers = new Map<string, Answer[]>();

  /** Answers the next requests for `key` with these, in order; then success. */
  answer(key: string, ...answers: Answer[]): void {
    this.#answers.set(key, [...(this.#answers.get(key) ?? []), ...answers]);
  }

  /** Answers every request for `key` with this one (for dead-letter cases). */
  always(key: string, answer: Answer): void {
    this.#answers.set(key, new Array(1000).fill(answer));
  }

  next(key: string, success: Answer): Answer {
    return this.#answers.get(key)?.shift() ?? success;
  }

  for(key: string): Received<T>[] {
    return this.received.filter((r) => r.key === key);
  }

  problem(message: string): Answer {
    this.problems.push(message);
    return { status: 400, body: { error: `fake provider: ${message}` } };
  }
}

/** Reads a request body. */
export async function readBody(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
