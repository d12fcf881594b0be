// CSV answers for reports and time series (RFC 4180). Rule: a CSV answer carries exactly the
// numbers of the JSON answer of the same request — the route builds both from one result —
// with one header row, CRLF line ends, and quoting wherever a field needs it; and no cell
// is a formula when the file is opened in a spreadsheet (OWASP CSV injection): a text cell
// starting with =, +, -, @, tab or CR gets a leading ', a plain number (`-19.99`) stays.
import type { Context } from 'hono';

/**
 * Whether the client asked for CSV: `format=csv`, or an Accept header that prefers
 * text/csv. `format=json` wins over Accept.
 *
 * @example
 * if (wantsCsv(c)) return csvResponse(c, ['type', 'count'], groups.map((g) => [g.type, g.count]));
 */
export function wantsCsv(c: Context): boolean {
  const format = c.req.query('format');
  if (format !== undefined) return format === 'csv';
  const accept = c.req.header('accept') ?? '';
  return /(^|,)\s*text\/csv\s*(;|,|$)/i.test(accept);
}

/** A `text/csv` answer: the header row, then one row per array (null/undefined → empty field). */
export function csvResponse(c: Context, header: readonly string[], rows: readonly (readonly unknown[])[], filename = 'keyflow.csv'): Response {
  const lines = [header.map(field).join(',')];
  for (const r of rows) lines.push(r.map(field).join(','));
  return c.body(`${lines.join('\r\n')}\r\n`, 200, {
    'content-type': 'text/csv; charset=utf-8; header=present',
    'content-disposition': `inline; filename="${filename}"`,
  });
}

/** A spreadsheet reads a cell starting with one of these as a formula (OWASP). */
const FORMULA_START = /^[=+\-@\t\r]/;
/** A plain decimal number, as keyflow writes counts and money: safe to leave as it is. */
const PLAIN_NUMBER = /^[+-]?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * One RFC 4180 field: neutralized when a spreadsheet would read it as a formula, then quoted
 * when it holds a comma, a quote, CR or LF (or starts/ends with space).
 *
 * @example
 * field('=HYPERLINK("http://x")'); // '"\'=HYPERLINK(""http://x"")"'
 * field('-19.99'); // '-19.99'
 */
export function field(v: unknown): string {
  if (v === null || v === undefined) return '';
  const raw = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  const s = FORMULA_START.test(raw) && !PLAIN_NUMBER.test(raw) ? `'${raw}` : raw;
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}
