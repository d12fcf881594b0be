// The schemas several routes share, registered under the names /openapi.json gives them in
// `components.schemas`. Rule: a shape that more than one route answers with is declared
// once, here, as a zod schema, and every route's RouteDoc points at that one schema, so the
// published components are exactly what the routes' own types are built from.
import { z } from 'zod';
import { eventSchema } from '../../actors/index.ts';

/**
 * Where component names live: zod's global registry, which `.meta({ id })` writes to. A
 * schema with an `id` is emitted once under components.schemas and `$ref`ed; other metadata
 * (`description`, or a keyword zod cannot derive from a refinement) is copied into its JSON.
 */
export const componentRegistry = z.globalRegistry;

/** The request schema of one event (DESIGN.md *The event*), as producers write it. */
export const eventComponent = eventSchema.meta({ id: 'Event', description: 'One event as a producer writes it (DESIGN.md, The event)' });

/** An instant as the API answers it: RFC 3339 in UTC with milliseconds (toISOString). */
export const isoInstant = z.iso.datetime();

/**
 * A stored event in API shape: the request schema's fields, with `occurredAt` normalized to
 * RFC 3339 UTC and the time keyflow received it beside it.
 */
export const storedEventSchema = eventSchema
  .extend({ occurredAt: isoInstant, receivedAt: isoInstant })
  .meta({ id: 'StoredEvent', description: 'An event as stored: occurredAt in UTC, plus receivedAt' });

/** One validation problem, addressed by a dotted path. */
export const fieldErrorSchema = z
  .object({ path: z.string(), message: z.string() })
  .meta({ id: 'FieldError' });

/**
 * The error body of DESIGN.md: `{ error: { code, message, details? } }`. Some answers carry
 * more fields beside `error` (the ingest summary of a 400, the checks of a 503 /readyz).
 */
export const errorSchema = z
  .looseObject({
    error: z.object({ code: z.string().min(1), message: z.string(), details: z.unknown().optional() }),
  })
  .meta({ id: 'Error', description: 'Every error answer: { error: { code, message, details? } }' });

/** A non-negative integer count, as JSON numbers carry it. */
export const count = z.number().int().nonnegative();

/** Money as an exact decimal string (`"19.99"`, `"-5"`), never a float. */
export const decimalString = z.string().regex(/^-?\d+(\.\d+)?$/, 'an exact decimal string');
