// Line output that does not trample what the user is typing: on a terminal, incoming lines are
// printed above the prompt and the half-typed input is redrawn; on pipes, plain lines.
import { clearLine, clearScreenDown, createInterface, cursorTo, type Interface, moveCursor } from "node:readline";

export interface TerminalHandlers {
  /** A line the user entered. */
  line?(text: string): void;
  /** The input ended (Ctrl-D or end of a piped file). */
  end?(): void;
  /** Ctrl-C (or SIGINT/SIGTERM). */
  interrupt?(): void;
}

export class Terminal {
  readonly #out: NodeJS.WriteStream;
  readonly #rl: Interface | undefined;
  readonly #interactive: boolean;
  readonly #prompt = "> ";
  #closed = false;
  #prompting = false;

  constructor(options: { input: boolean }, handlers: TerminalHandlers) {
    this.#out = process.stdout;
    this.#interactive = options.input && Boolean(process.stdin.isTTY && process.stdout.isTTY);
    if (options.input) {
      const rl = createInterface({
        input: process.stdin,
        output: this.#interactive ? process.stdout : undefined,
        terminal: this.#interactive,
      });
      rl.setPrompt(this.#prompt);
      rl.on("line", (text) => {
        if (this.#interactive) this.#eraseEntered(text);
        handlers.line?.(text);
        if (this.#prompting && !this.#closed) rl.prompt(true);
      });
      rl.on("close", () => {
        if (!this.#closed) handlers.end?.();
      });
      rl.on("SIGINT", () => handlers.interrupt?.());
      this.#rl = rl;
    }
    const interrupt = () => handlers.interrupt?.();
    process.on("SIGINT", interrupt);
    process.on("SIGTERM", interrupt);
  }

  /** Shows the prompt (once the session is ready for input). */
  prompt(): void {
    this.#prompting = this.#interactive;
    if (this.#prompting && !this.#closed) this.#rl?.prompt(true);
  }

  /** Prints lines above the prompt. */
  print(...lines: string[]): void {
    if (lines.length === 0) return;
    const text = `${lines.join("\n")}\n`;
    if (!this.#interactive || this.#closed) {
      this.#out.write(text);
      return;
    }
    clearLine(this.#out, 0);
    cursorTo(this.#out, 0);
    this.#out.write(text);
    if (this.#prompting) this.#rl?.prompt(true);
  }

  /** Prints an error: above the prompt on a terminal, on stderr otherwise. */
  printError(line: string): void {
    if (this.#interactive && !this.#closed) this.print(line);
    else process.stderr.write(`${line}\n`);
  }

  /** Stops reading input and leaves the terminal as it was. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#interactive) {
      clearLine(this.#out, 0);
      cursorTo(this.#out, 0);
    }
    this.#rl?.close();
  }

  /** Removes the echo of the line just entered; the caller prints it in chat form instead. */
  #eraseEntered(text: string): void {
    const columns = this.#out.columns || 80;
    const rows = Math.max(1, Math.ceil(((this.#prompting ? this.#prompt.length : 0) + text.length) / columns));
    moveCursor(this.#out, 0, -rows);
    cursorTo(this.#out, 0);
    clearScreenDown(this.#out);
  }
}
