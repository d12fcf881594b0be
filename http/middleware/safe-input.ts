// One rule for every path segment and query parameter of every route. Rule: a string that
// PostgreSQL cannot store or that is not Unicode (NUL, an unpaired surrogate) never reaches
// a handler — it is a 400 naming the parameter or the path — and neither does a query
// parameter given twice (a handler reading the first would answer for half the question).
import type { MiddlewareHandler } from 'hono';
import { isStorableText, truncateCodePoints, UNSTORABLE_MESSAGE } from '../../actors/index.ts';
import type { EdgeEnv } from '../env.ts';
import { InvalidPathError, InvalidQueryError } from '../errors.ts';

/**
 * The middleware (mounted for every path by createApp).
 *
 * @example
 * app.use(safeInput());
 */
export function safeInput(): MiddlewareHandler<EdgeEnv> {
  return async function refuseUnsafeInput(c, next) {
    // c.req.path is the decoded path Hono routes by, so it holds what :params will hold.
    if (!isStorableText(c.req.path)) {
      throw new InvalidPathError(`the path ${UNSTORABLE_MESSAGE}`, { details: [{ path: '(path)', message: UNSTORABLE_MESSAGE }] });
    }
    if (c.req.url.includes('?')) {
      const details: { path: string; message: string }[] = [];
      for (const [name, values] of Object.entries(c.req.queries())) {
        const shown = truncateCodePoints(JSON.stringify(name), 64);
        if (!isStorableText(name)) details.push({ path: shown, message: `the parameter name ${UNSTORABLE_MESSAGE}` });
        else if (values.length > 1) details.push({ path: name, message: `given ${values.length} times; give it once (lists are comma-separated)` });
        else if (values.some((v) => !isStorableText(v))) details.push({ path: name, message: UNSTORABLE_MESSAGE });
      }
      if (details.length > 0) throw new InvalidQueryError(details.map((d) => `${d.path}: ${d.message}`).join('; '), { details });
    }
    return next();
  };
}
