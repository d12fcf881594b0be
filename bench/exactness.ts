// The exactness check every bench run ends with. Rule: a run whose store does not hold
// exactly the distinct events it sent — each once, each counted once in the rollups, none
// dead-lettered, nothing foreign — fails, however fast it was.
import type { StoreFacts } from './measure.ts';

export type Exactness = {
  readonly ok: boolean;
  /** Distinct events sent (resends not counted), per phase and in total. */
  readonly expected: number;
  readonly expectedPerPhase: Readonly<Record<string, number>>;
  readonly stored: number;
  readonly rollupSum: number;
  readonly problems: readonly string[];
};

/** A run whose store disagrees with what was sent. */
export class ExactnessError extends Error {
  override readonly name = 'ExactnessError';
  readonly code = 'KEYFLOW_BENCH_INEXACT';
  readonly problems: readonly string[];
  constructor(scenario: string, problems: readonly string[]) {
    super(`bench ${scenario}: EXACTNESS CHECK FAILED\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

/**
 * Judge the store against what was sent.
 *
 * @example
 * const x = checkExactness({ main: 200_000 }, await storeFacts(sql, tag));
 * if (!x.ok) throw new ExactnessError('steady', x.problems);
 */
export function checkExactness(expectedPerPhase: Readonly<Record<string, number>>, facts: StoreFacts): Exactness {
  const expected = Object.values(expectedPerPhase).reduce((a, b) => a + b, 0);
  const problems: string[] = [];
  const diff = (n: number) => (n > expected ? `${fmt(n - expected)} more` : `${fmt(expected - n)} missing`);
  if (facts.distinctIds !== expected) problems.push(`PostgreSQL holds ${fmt(facts.distinctIds)} distinct events but ${fmt(expected)} were sent (${diff(facts.distinctIds)})`);
  if (facts.rows !== facts.distinctIds) problems.push(`${fmt(facts.rows - facts.distinctIds)} events are stored more than once`);
  if (facts.rollupSum !== expected) problems.push(`rollups_minute counts ${fmt(facts.rollupSum)} events but ${fmt(expected)} distinct were sent (${diff(facts.rollupSum)})`);
  if (facts.foreign > 0) problems.push(`${fmt(facts.foreign)} stored events were not sent by this run`);
  if (facts.deadLetters > 0) problems.push(`${fmt(facts.deadLetters)} messages were dead-lettered (every event sent was valid)`);
  for (const [phase, n] of Object.entries(expectedPerPhase)) {
    const got = facts.perPhase[phase] ?? { ids: 0, maxIndex: -1 };
    if (got.ids !== n) problems.push(`phase ${phase}: ${fmt(got.ids)} of ${fmt(n)} distinct events stored`);
    else if (n > 0 && got.maxIndex !== n - 1) problems.push(`phase ${phase}: stored ids do not match the ids sent (highest index ${got.maxIndex}, expected ${n - 1})`);
  }
  for (const phase of Object.keys(facts.perPhase)) {
    if (!(phase in expectedPerPhase)) problems.push(`phase ${phase}: events stored for a phase that sent none`);
  }
  return { ok: problems.length === 0, expected, expectedPerPhase, stored: facts.distinctIds, rollupSum: facts.rollupSum, problems };
}

const fmt = (n: number) => n.toLocaleString('en-US');
