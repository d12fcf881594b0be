// The lifecycle of a worker or of the supervisor. Rule: a state changes only along its
// owner's table of transitions; any other change throws, naming its owner (`worker 3`,
// `supervisor`) and both states, so a lifecycle bug fails loudly instead of leaving a
// process half-stopped.
import type { LifecycleState } from './protocol.ts';

export type { LifecycleState } from './protocol.ts';

/** Which states each state may move to. */
export type Transitions = Readonly<Record<LifecycleState, readonly LifecycleState[]>>;

/** starting → running → draining → stopped; failed from anything not yet stopped, and final. */
export const TRANSITIONS: Transitions = {
  starting: ['running', 'draining', 'failed'],
  running: ['draining', 'failed'],
  draining: ['stopped', 'failed'],
  stopped: [],
  failed: [],
};

/** One owner's lifecycle state, changed only along its transitions. */
export class Lifecycle {
  readonly #who: string;
  readonly #transitions: Transitions;
  #state: LifecycleState;

  constructor(who: string, transitions: Transitions = TRANSITIONS, initial: LifecycleState = 'starting') {
    this.#who = who;
    this.#transitions = transitions;
    this.#state = initial;
  }

  get state(): LifecycleState {
    return this.#state;
  }

  /** True when the state may move to `next`. */
  can(next: LifecycleState): boolean {
    return this.#transitions[this.#state].includes(next);
  }

  /** Move to `next`; throws when the table does not allow it. */
  to(next: LifecycleState): void {
    if (!this.can(next)) throw new Error(`${this.#who}: illegal transition ${this.#state} → ${next}`);
    this.#state = next;
  }
}
