// The event contract of DESIGN.md, as a zod schema. Rule: everything that enters keyflow,
// over HTTP or straight to Kafka, passes this one schema, and what it yields is normalized
// (occurredAt as epoch milliseconds) so that a retry in another spelling is the same event.
import { z } from 'zod';

const MAX_PROPERTIES = 64;

// PostgreSQL text cannot hold NUL, and JSON with a lone UTF-16 surrogate is not valid
// Unicode: an event carrying either would fail every flush of its batch, so it is refused
// here, where it becomes a rejection (HTTP) or a dead letter (Kafka) instead.
// eslint-disable-next-line no-control-regex -- matching NUL is the point
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const text = (min: number, max: number) =>
  z
    .string()
    .min(min)
    .max(max)
    .refine((s) => !UNSTORABLE.test(s), { message: 'must not contain NUL characters or unpaired surrogates' });

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
    .record(text(1, 64), propertyValue)
    .refine((p) => Object.keys(p).length <= MAX_PROPERTIES, { message: `at most ${MAX_PROPERTIES} properties` })
    // The refinement is opaque to JSON Schema; this says the same for /openapi.json.
    .meta({ maxProperties: MAX_PROPERTIES })
    .optional(),
});

/** An event as producers write it (occurredAt as a string or a number). */
export type EventInput = z.input<typeof eventSchema>;

/** A validated, normalized event: occurredAt is epoch milliseconds. */
export type KeyflowEvent = z.output<typeof eventSchema>;

/** One validation problem, addressed by a dotted path into the event. */
export type FieldError = { readonly path: string; readonly message: string };
