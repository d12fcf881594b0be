// What the bench shows while it runs: on a terminal, one line redrawn in place with a bar;
// elsewhere (CI, a pipe), a plain line every few seconds. Everything goes to stderr, so that
// stdout holds only the final table.

export type ProgressState = {
  readonly phase: string;
  readonly sent: number;
  /** Messages the phase will send, when known. */
  readonly total: number | undefined;
  readonly counted: number;
  /** Distinct events the phase must see counted, when known. */
  readonly target: number | undefined;
  readonly eventsPerSec: number;
  readonly rssMiB: number;
};

export class Progress {
  readonly #out: NodeJS.WriteStream;
  readonly #tty: boolean;
  readonly #plainEveryMs: number;
  #lastDraw = 0;
  #drawn = false;

  constructor(out: NodeJS.WriteStream = process.stderr, plainEveryMs = 5_000) {
    this.#out = out;
    this.#tty = out.isTTY === true && process.env['CI'] === undefined;
    this.#plainEveryMs = plainEveryMs;
  }

  /** A line of its own (clears the bar first). */
  say(line: string): void {
    this.#clear();
    this.#out.write(`bench: ${line}\n`);
  }

  update(s: ProgressState): void {
    const now = Date.now();
    if (now - this.#lastDraw < (this.#tty ? 150 : this.#plainEveryMs)) return;
    this.#lastDraw = now;
    const frac = s.target !== undefined && s.target > 0 ? Math.min(1, s.counted / s.target) : s.total !== undefined && s.total > 0 ? Math.min(1, s.sent / s.total) : 0;
    const figures = `sent ${fmt(s.sent)}${s.total === undefined ? '' : `/${fmt(s.total)}`} · counted ${fmt(s.counted)}${s.target === undefined ? '' : `/${fmt(s.target)}`} · ${fmt(Math.round(s.eventsPerSec))} ev/s · RSS ${Math.round(s.rssMiB)} MiB`;
    if (this.#tty) {
      const width = 24;
      const full = Math.round(frac * width);
      this.#out.write(`\r\x1b[2K${s.phase.padEnd(8)} [${'█'.repeat(full)}${'░'.repeat(width - full)}] ${(frac * 100).toFixed(0).padStart(3)}% ${figures}`);
      this.#drawn = true;
    } else {
      this.#out.write(`bench: ${s.phase} ${(frac * 100).toFixed(0)}% ${figures}\n`);
    }
  }

  done(): void {
    this.#clear();
  }

  #clear(): void {
    if (this.#drawn) this.#out.write('\r\x1b[2K');
    this.#drawn = false;
  }
}

const fmt = (n: number) => n.toLocaleString('en-US');
