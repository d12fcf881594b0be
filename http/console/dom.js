// Building the page from data. Rule: every value that came from the API (event ids, types,
// properties…) enters the document as text, never as markup, so an event cannot script the
// console; elements are made with createElement, never with innerHTML.

const SVG_NS = 'http://www.w3.org/2000/svg';

function fill(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    // Through the CSSOM: the page's Content-Security-Policy refuses style attributes.
    else if (k === 'style' && typeof v === 'object') for (const [p, x] of Object.entries(v)) el.style.setProperty(p, String(x));
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** An HTML element: h('b', { class: 'x' }, 'text', child). */
export function h(tag, attrs, ...children) {
  return fill(document.createElement(tag), attrs, children);
}

/** An SVG element: s('rect', { x: 0, y: 0, width: 4, height: 9 }). */
export function s(tag, attrs, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), attrs, children);
}

/** Replace the children of `el`. */
export function put(el, ...children) {
  el.replaceChildren();
  return fill(el, {}, children);
}

/** Show an error (an ApiError or anything thrown) in `el`, or hide `el` when `error` is undefined. */
export function showError(el, error, what = '') {
  if (error === undefined) {
    el.hidden = true;
    el.replaceChildren();
    return;
  }
  el.hidden = false;
  const status = typeof error?.status === 'number' && error.status > 0 ? `${error.status} ` : '';
  const code = error?.code ? `${status}${error.code}` : status.trim() || 'error';
  const hint = error?.status === 401 ? ' — enter a valid API key at the top right' : '';
  put(el,
    h('strong', {}, what === '' ? code : `${what}: ${code}`),
    ' ',
    h('span', {}, String(error?.message ?? error), hint),
    error?.details === undefined ? null : h('pre', { class: 'details' }, JSON.stringify(error.details, null, 2)),
  );
}

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

/** 12345 → "12,345" (in the browser's locale). */
export function fmtInt(n) {
  return typeof n === 'number' && Number.isFinite(n) ? integer.format(n) : '–';
}

/** A rate: one decimal below 100, whole numbers above. */
export function fmtRate(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '–';
  return n < 100 ? decimal.format(n) : integer.format(n);
}

/** 12345 → "12.3k": for axis labels. */
export function fmtShort(n) {
  if (n >= 1e9) return `${+(n / 1e9).toFixed(1)}G`;
  if (n >= 1e6) return `${+(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${+(n / 1e3).toFixed(0)}k`;
  if (n >= 1e3) return `${+(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n * 100) / 100);
}

/** An instant in the browser's time zone, seconds included. */
export function fmtTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

/** The browser's IANA time zone name. */
export const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

/** A colour per series, distinguishable in light and dark themes (see --c0…--c7 in the CSS). */
export function seriesColor(i) {
  return `var(--c${i % 8})`;
}
