// Number formatting shared by the terminal table and the Markdown report.

export const int = (n: number): string => Math.round(n).toLocaleString('en-US');
export const ms = (n: number): string => (n >= 100 ? int(n) : n.toFixed(1));
export const ratio = (n: number | null): string => (n === null ? '—' : n >= 10 ? `${n.toFixed(1)}×` : `${n.toFixed(2)}×`);
export const secs = (msValue: number): string => `${(msValue / 1000).toFixed(1)} s`;

/** `main 61 MiB · worker-0 118 MiB · …`, threads in name order. */
export function heapList(heap: Readonly<Record<string, number>>): string {
  return Object.keys(heap).sort().map((t) => `${t} ${int(heap[t]!)} MiB`).join(' · ');
}
