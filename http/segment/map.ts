// One Segment message → one keyflow event (DESIGN.md, *Segment-compatible ingestion*).
// Rule: the mapping is a pure function of the message, the call and the write key's name —
// taken as sent (no clock-skew rewrite), so a resent message is the very same event and is
// stored once — and whatever keyflow's event schema would refuse is refused here, by the
// message's own field names, as a value (a rejection with a reason), never an exception.
import { expiredMessage, futureMessage, validateEvent, type FieldError, type KeyflowEvent, type ValidateOptions } from '../../actors/index.ts';
import { flattenInto, isPlainObject, scalar, type FlatValue } from './flatten.ts';

/** The calls of Segment's spec. */
export const SEGMENT_CALLS = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const;
export type SegmentCall = (typeof SEGMENT_CALLS)[number];

/** Why a message was rejected: the label of the rejection metric. */
export const REJECT_REASONS = [
  'not_an_object',
  'unknown_type',
  'too_large',
  'no_message_id',
  'no_timestamp',
  'too_many_properties',
  'invalid_revenue',
  'expired',
  'future',
  'invalid_field',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export type Mapped =
  | { readonly ok: true; readonly event: KeyflowEvent }
  | { readonly ok: false; readonly reason: RejectReason; readonly errors: readonly FieldError[] };

export type MapOptions = ValidateOptions & {
  /** The event's source: the write key's name (`segment` without keys). */
  readonly source: string;
  /** The call the route implies (/v1/track…); a batch item names its own `type`. */
  readonly call?: SegmentCall;
};

/** The property cap of the event schema. */
export const MAX_PROPERTIES = 64;

const DECIMAL = /^-?(\d+)(?:\.(\d+))?$/;

/**
 * Map one message.
 *
 * @example
 * mapMessage({ type: 'track', event: 'Order Completed', messageId: 'm1', timestamp: '2026-12-01T00:00:00Z', userId: 'u1', properties: { total: 9.5 } }, { source: 'web' });
 * // { ok: true, event: { id: 'm1', type: 'Order Completed', source: 'web', occurredAt: 1796083200000, userId: 'u1', revenue: { amount: 9.5, currency: 'USD' }, properties: { total: 9.5 } } }
 */
export function mapMessage(message: unknown, o: MapOptions): Mapped {
  if (!isPlainObject(message)) return reject('not_an_object', '(message)', 'must be a JSON object');
  const call = o.call ?? callOf(message['type']);
  if (call === undefined) return reject('unknown_type', 'type', `must be one of ${SEGMENT_CALLS.join(', ')}`);

  const id = message['messageId'];
  if (typeof id !== 'string' || id === '') return reject('no_message_id', 'messageId', 'is required (a non-empty string): it is the event id');

  const tsField = present(message['timestamp']) ? 'timestamp' : present(message['originalTimestamp']) ? 'originalTimestamp' : undefined;
  if (tsField === undefined) return reject('no_timestamp', 'timestamp', 'timestamp or originalTimestamp is required: with messageId it is the event identity');

  let type: unknown = call;
  if (call === 'track') {
    type = message['event'];
    if (typeof type !== 'string') return reject('invalid_field', 'event', 'is required for a track call (a string, the event type)');
  }

  const paths = new Map<string, string>([['id', 'messageId'], ['type', call === 'track' ? 'event' : 'type'], ['source', '(write key name)'], ['occurredAt', tsField]]);
  const event: Record<string, unknown> = { id, type, source: o.source, occurredAt: message[tsField] };

  const userField = text(message['userId']) !== undefined ? 'userId' : text(message['anonymousId']) !== undefined ? 'anonymousId' : undefined;
  if (userField !== undefined) {
    event['userId'] = text(message[userField]);
    paths.set('userId', userField);
  }

  // Properties: the message's own, the page/screen name, the anonymous id, flattened.
  const entries: [string, FlatValue][] = [];
  const props = message['properties'];
  if (present(props) && !isPlainObject(props)) return reject('invalid_field', 'properties', 'must be a JSON object');
  if (isPlainObject(props) && !flattenInto(props, '', entries, MAX_PROPERTIES)) return tooMany();
  if ((call === 'page' || call === 'screen') && present(message['name'])) {
    entries.push(['name', scalar(message['name'])]);
    paths.set('properties.name', 'name');
  }
  const anonymousId = text(message['anonymousId']);
  if (anonymousId !== undefined) {
    entries.push(['anonymousId', anonymousId]);
    paths.set('properties.anonymousId', 'anonymousId');
  }
  if (entries.length > 0) {
    // Object.fromEntries defines "__proto__" as an own key, which the schema then refuses by name.
    const properties = Object.fromEntries(entries);
    if (Object.keys(properties).length > MAX_PROPERTIES) return tooMany();
    event['properties'] = properties;
  }

  if (isPlainObject(props)) {
    const revenueField = present(props['revenue']) ? 'revenue' : present(props['total']) ? 'total' : undefined;
    if (revenueField !== undefined) {
      const amount = money(props[revenueField]);
      if (amount === undefined) return reject('invalid_revenue', `properties.${revenueField}`, 'must be a number or a decimal string (at most 15 significant digits)');
      const currency = props['currency'];
      if (present(currency) && typeof currency !== 'string') return reject('invalid_revenue', 'properties.currency', 'must be a 3-letter ISO 4217 code');
      event['revenue'] = { amount, currency: typeof currency === 'string' ? currency.toUpperCase() : 'USD' };
      paths.set('revenue.amount', `properties.${revenueField}`);
      paths.set('revenue.currency', 'properties.currency');
    }
  }

  if (call === 'identify' && isPlainObject(message['traits'])) {
    const user = profileOf(message['traits'], paths);
    if (Object.keys(user).length > 0) event['user'] = user;
  }

  const v = validateEvent(event, o);
  if (v.ok) return v;
  const { retention, future } = o;
  const expired = retention !== undefined && v.errors.some((e) => e.path === 'occurredAt' && e.message === expiredMessage(retention.cutoffMs, retention.days));
  const ahead = future !== undefined && v.errors.some((e) => e.path === 'occurredAt' && e.message === futureMessage(future.cutoffMs, future.maxFutureMs));
  return { ok: false, reason: expired ? 'expired' : ahead ? 'future' : 'invalid_field', errors: v.errors.map((e) => ({ path: renamed(e.path, paths), message: e.message })) };
}

/** The identify traits that make the user's profile, as the event's `user` takes them. */
function profileOf(traits: Readonly<Record<string, unknown>>, paths: Map<string, string>): Record<string, unknown> {
  const user: Record<string, unknown> = {};
  const address = isPlainObject(traits['address']) ? traits['address'] : {};
  const age = traits['age'];
  if (present(age)) {
    // A numeric string ("31") is a number in most tracking plans; anything else is checked as sent.
    user['age'] = typeof age === 'string' && /^\d{1,3}$/.test(age) ? Number(age) : age;
    paths.set('user.age', 'traits.age');
  }
  if (present(traits['gender'])) {
    user['gender'] = traits['gender'];
    paths.set('user.gender', 'traits.gender');
  }
  for (const field of ['country', 'city'] as const) {
    const [value, path] = present(address[field]) ? [address[field], `traits.address.${field}`] : [traits[field], `traits.${field}`];
    if (present(value)) {
      user[field] = value;
      paths.set(`user.${field}`, path);
    }
  }
  return user;
}

/**
 * A money amount: a finite number, or a decimal string whose value a double holds exactly as
 * written (the event keeps amounts as numbers; "19.99" and 19.99 are the same amount).
 */
function money(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = DECIMAL.exec(v.trim());
  if (m === null) return undefined;
  const n = Number(v);
  // 15 significant digits always survive a double's round trip; more might not.
  const digits = `${m[1] ?? ''}${m[2] ?? ''}`.replace(/^0+/, '').replace(/0+$/, '');
  return digits.length <= 15 && Number.isFinite(n) ? n : undefined;
}

function callOf(type: unknown): SegmentCall | undefined {
  return typeof type === 'string' && (SEGMENT_CALLS as readonly string[]).includes(type) ? (type as SegmentCall) : undefined;
}

/** A user id as Segment sends it: a non-empty string (a number is taken as its text). */
function text(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function present(v: unknown): boolean {
  return v !== undefined && v !== null;
}

function renamed(path: string, paths: ReadonlyMap<string, string>): string {
  const exact = paths.get(path);
  if (exact !== undefined) return exact;
  if (path === '(event)') return '(message)';
  return path;
}

function reject(reason: RejectReason, path: string, message: string): Mapped {
  return { ok: false, reason, errors: [{ path, message }] };
}

function tooMany(): Mapped {
  return reject('too_many_properties', 'properties', `at most ${MAX_PROPERTIES} properties once flattened (nested keys count one each)`);
}
