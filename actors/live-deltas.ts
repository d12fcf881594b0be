// Live counters derived from the events a flush really inserted. Rule: only stored events
// are counted, so the live view never runs ahead of the store.
import type { KeyflowEvent } from './event/index.ts';

/** What one minute gained from one flush. */
export type MinuteDelta = {
  readonly minute: number; // epoch ms of the minute's start
  total: number;
  readonly byType: Map<string, number>;
  readonly users: Set<string>;
  readonly revenueByCurrency: Map<string, number>;
};

/**
 * Group inserted events by the minute they occurred in.
 *
 * @example
 * liveDeltas([{ id: 'a', type: 't', source: 's', occurredAt: 61_000 }])[0]?.minute; // 60_000
 */
export function liveDeltas(events: readonly KeyflowEvent[]): MinuteDelta[] {
  const byMinute = new Map<number, MinuteDelta>();
  for (const e of events) {
    const minute = e.occurredAt - (e.occurredAt % 60_000);
    let d = byMinute.get(minute);
    if (d === undefined) {
      d = { minute, total: 0, byType: new Map(), users: new Set(), revenueByCurrency: new Map() };
      byMinute.set(minute, d);
    }
    d.total++;
    d.byType.set(e.type, (d.byType.get(e.type) ?? 0) + 1);
    if (e.userId !== undefined) d.users.add(e.userId);
    if (e.revenue !== undefined) {
      d.revenueByCurrency.set(e.revenue.currency, (d.revenueByCurrency.get(e.revenue.currency) ?? 0) + e.revenue.amount);
    }
  }
  return [...byMinute.values()];
}
