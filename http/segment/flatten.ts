// Segment properties are nested JSON; a keyflow event's properties are one flat map of
// scalars. Rule: nothing is dropped on the way — a nested object becomes dotted keys
// (`cart.items`), an array (or an empty object) becomes its JSON text, and a scalar stays
// itself — and flattening stops as soon as the key count passes the cap, so a huge object
// costs no more than the cap to look at.

/** A flat property value, as the event schema takes it. */
export type FlatValue = string | number | boolean | null;

/**
 * Flatten `value` (a JSON object) into `[dotted key, scalar]` entries, appending to `out`.
 * Returns false as soon as `out` holds more than `maxKeys` entries.
 *
 * @example
 * const out: [string, FlatValue][] = [];
 * flattenInto({ cart: { items: 2, skus: ['a'] } }, '', out, 64); // out: [['cart.items', 2], ['cart.skus', '["a"]']]
 */
export function flattenInto(value: Readonly<Record<string, unknown>>, prefix: string, out: [string, FlatValue][], maxKeys: number): boolean {
  for (const [k, v] of Object.entries(value)) {
    const key = prefix === '' ? k : `${prefix}.${k}`;
    if (isPlainObject(v) && Object.keys(v).length > 0) {
      if (!flattenInto(v, key, out, maxKeys)) return false;
      continue;
    }
    out.push([key, scalar(v)]);
    if (out.length > maxKeys) return false;
  }
  return true;
}

/** A JSON value as a flat property value: scalars as they are, anything else as JSON text. */
export function scalar(v: unknown): FlatValue {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  return JSON.stringify(v) ?? String(v);
}

/** A JSON object (not null, not an array). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
