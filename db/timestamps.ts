// Reading PostgreSQL dates and timestamps back into Date. Rule: every instant PostgreSQL
// hands back is the instant it stored, year 0001 included. postgres.js's default parser is
// `new Date(text)`, whose legacy grammar reads "0001-01-01 00:00:00+00" as 2001 (and 0049
// as 2049, 0099 as 1999); this one reads the server's ISO output field by field.

const DAY_MS = 86_400_000;
const ISO = /^(\d{4,})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?)?(?:([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?)?( BC)?$/;

/**
 * Parse a date, timestamp or timestamptz in PostgreSQL's ISO output (DateStyle ISO, which
 * keyflow's sessions use); a timestamp without a zone is UTC (the session's zone).
 *
 * @example
 * parsePgTimestamp('0001-01-01 00:00:00+00').toISOString(); // '0001-01-01T00:00:00.000Z'
 */
export function parsePgTimestamp(text: string): Date {
  if (text === 'infinity') return new Date(8.64e15);
  if (text === '-infinity') return new Date(-8.64e15);
  const m = ISO.exec(text);
  if (m === null) return new Date(text);
  const [, y, mo, d, h, mi, s, frac, sign, oh, om, os, bc] = m;
  const year = bc === undefined ? Number(y) : 1 - Number(y);
  // Date.UTC maps years 0..99 to 1900..1999; setUTCFullYear takes the year as given.
  const day = new Date(0);
  day.setUTCFullYear(year, Number(mo) - 1, Number(d));
  const ms = frac === undefined ? 0 : Math.floor(Number(`0.${frac}`) * 1000 + 1e-6);
  const offsetS = sign === undefined ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 3600 + Number(om ?? 0) * 60 + Number(os ?? 0));
  const t = Math.floor(day.getTime() / DAY_MS) * DAY_MS + ((Number(h ?? 0) * 60 + Number(mi ?? 0)) * 60 + Number(s ?? 0) - offsetS) * 1000 + ms;
  return new Date(t);
}
