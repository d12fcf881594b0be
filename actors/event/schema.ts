// The event contract of DESIGN.md, as a zod schema. Rule: everything that enters keyflow,
// over HTTP or straight to Kafka, passes this one schema, and what it yields is normalized
// (occurredAt as epoch milliseconds) so that a retry in another spelling is the same event.
import { z } from 'zod';
import { isStorableText, UNSTORABLE_MESSAGE } from './text.ts';

const MAX_PROPERTIES = 64;

// PostgreSQL text cannot hold NUL, and JSON with a lone UTF-16 surrogate is not valid
// Unicode: an event carrying either would fail every flush of its batch, so it is refused
// here, where it becomes a rejection (HTTP) or a dead letter (Kafka) instead. Lengths are
// code points (zod's min/max count them; see text.ts).
const text = (min: number, max: number) =>
  z
    .string()
    .min(min)
    .max(max)
    .refine(isStorableText, { message: UNSTORABLE_MESSAGE });

// JSON.parse makes "__proto__" an own key, but a plain object built from it drops the key
// (assigning __proto__ sets the prototype): refused by name rather than silently lost.
const propertyKey = text(1, 64).refine((k) => k !== '__proto__', { message: 'the property name "__proto__" is reserved' });

const occurredAt = z
  .union([
    z.iso.datetime({ offset: true, message: 'must be an RFC 3339 date-time' }),
    z.number().int().nonnegative(),
  ])
  .transform((v, ctx) => {
    const ms = typeof v === 'number' ? v : Date.parse(v);
    // 0001-01-01 to 9999-12-31 is the range PostgreSQL and RFC 3339 agree on: year 0 is
    // valid RFC 3339 but PostgreSQL refuses it, which would make the event a poison pill.
    if (!Number.isFinite(ms) || ms < -62_135_596_800_000 || ms > 253_402_300_799_999) {
      ctx.addIssue({ code: 'custom', message: 'is not a representable instant' });
      return z.NEVER;
    }
    return ms;
  });

const propertyValue = z.union([text(0, 1024), z.number().finite(), z.boolean(), z.null()]);

const propertiesRecord = z.record(propertyKey, propertyValue);
const { $schema: _dialect, ...propertiesJsonSchema } = z.toJSONSchema(propertiesRecord, { io: 'input' }) as Record<string, unknown>;

/** The schema of one incoming event. Unknown top-level fields are rejected by name. */
export const eventSchema = z.strictObject({
  id: text(1, 128),
  type: text(1, 64),
  source: text(1, 64),
  occurredAt,
  userId: text(1, 128).optional(),
  sessionId: text(1, 128).optional(),
  funnelStage: z.enum(['top', 'bottom']).optional(),
  revenue: z
    .strictObject({
      amount: z.number().finite().min(-1e12).max(1e12),
      currency: z.string().regex(/^[A-Z]{3}$/, 'must be a 3-letter ISO 4217 code'),
    })
    .optional(),
  user: z
    .strictObject({
      age: z.number().int().min(0).max(150).optional(),
      gender: text(1, 32).optional(),
      country: text(1, 64).optional(),
      city: text(1, 128).optional(),
    })
    .optional(),
  properties: z
    .custom<Record<string, unknown>>((p) => !(typeof p === 'object' && p !== null && Object.hasOwn(p, '__proto__')), {
      message: 'the property name "__proto__" is reserved',
      path: ['__proto__'],
    })
    .pipe(propertiesRecord)
    .refine((p) => Object.keys(p).length <= MAX_PROPERTIES, { message: `at most ${MAX_PROPERTIES} properties` })
    // The custom check and the refinement are opaque to JSON Schema: /openapi.json gets the
    // record's own schema (generated from it, so it cannot drift) and the property cap.
    .meta({ ...propertiesJsonSchema, maxProperties: MAX_PROPERTIES })
    .optional(),
});

/** An event as producers write it (occurredAt as a string or a number). */
export type EventInput = z.input<typeof eventSchema>;

/** A validated, normalized event: occurredAt is epoch milliseconds. */
export type KeyflowEvent = z.output<typeof eventSchema>;

/** One validation problem, addressed by a dotted path into the event. */
export type FieldError = { readonly path: string; readonly message: string };
