// The sequence of messages one phase sends: distinct events in order, with some of them sent
// again later, byte for byte (a producer's retry).
//
// Rule: a resend is the exact payload that was sent before (same id, occurredAt and sentAt),
// and it always comes after its original, so "distinct events sent" is exactly the number
// of templates taken — the figure the exactness check holds the store to.
import { prng } from '../test/support/events.ts';
import type { EventFactory, Message, Template } from './generate.ts';

export type PlanOptions = {
  readonly factory: EventFactory;
  /** Distinct events; undefined for a plan that runs until its phase's clock stops it. */
  readonly events: number | undefined;
  /** Share of distinct events that are sent a second time. */
  readonly dupRatio: number;
  readonly seed: number;
  /** A resend follows its original by up to this many distinct events (default 20,000). */
  readonly maxResendDelay?: number;
};

/** Messages of one phase, stamped with their send time as they are taken. */
export class Plan {
  readonly limit: number | undefined;
  readonly #o: PlanOptions;
  readonly #rnd: () => number;
  #templates: Template[] | undefined;
  /** Resends by the distinct position after which they go out. */
  readonly #due = new Map<number, Message[]>();
  #scheduled = 0;
  #distinct = 0;
  #resends = 0;

  constructor(options: PlanOptions) {
    this.#o = options;
    this.limit = options.events;
    this.#rnd = prng(options.seed ^ 0x2545f491);
  }

  /** Generate every template now, so that generation is not timed with sending. */
  prepare(): this {
    if (this.limit !== undefined && this.#templates === undefined) {
      this.#templates = Array.from({ length: this.limit }, () => this.#o.factory.next());
    }
    return this;
  }

  /** Distinct events taken so far. */
  get distinct(): number {
    return this.#distinct;
  }

  /** Resends taken so far. */
  get resends(): number {
    return this.#resends;
  }

  get taken(): number {
    return this.#distinct + this.#resends;
  }

  get done(): boolean {
    return this.limit !== undefined && this.#distinct >= this.limit && this.#scheduled === this.#resends;
  }

  /** Up to `max` messages, their payloads stamped with `sentAt`. */
  take(max: number, sentAt: number): Message[] {
    const out: Message[] = [];
    const maxDelay = this.#o.maxResendDelay ?? 20_000;
    while (out.length < max) {
      if (this.limit !== undefined && this.#distinct >= this.limit) {
        // Only resends of the last positions can be left; send them now.
        for (const [pos, msgs] of this.#due) {
          while (msgs.length > 0 && out.length < max) {
            out.push(msgs.shift() as Message);
            this.#resends++;
          }
          if (msgs.length === 0) this.#due.delete(pos);
        }
        break;
      }
      const i = this.#distinct++;
      const t = this.#templates?.[i] ?? this.#o.factory.next();
      const m: Message = { key: t.key, value: t.head + sentAt + t.tail };
      out.push(m);
      if (this.#o.dupRatio > 0 && this.#rnd() < this.#o.dupRatio) {
        let pos = i + 1 + Math.floor(this.#rnd() * maxDelay);
        if (this.limit !== undefined) pos = Math.min(pos, this.limit - 1);
        const list = this.#due.get(pos);
        if (list === undefined) this.#due.set(pos, [m]);
        else list.push(m);
        this.#scheduled++;
      }
      const resends = this.#due.get(i);
      if (resends !== undefined) {
        this.#due.delete(i);
        for (const r of resends) out.push(r);
        this.#resends += resends.length;
      }
    }
    return out;
  }
}
