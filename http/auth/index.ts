// The door of http/auth: the guard, the route → scope table and the internal token.
export { guard, ANONYMOUS, NO_KEY } from './guard.ts';
export type { GuardOptions } from './guard.ts';
export { requiredAccess, ACCESS_RULES } from './access.ts';
export type { Access } from './access.ts';
export { deriveInternalToken, INTERNAL_TOKEN_HEADER, keyTable, tokenMatches } from './keys.ts';
export { AuthFailureLimiter } from './failure-limit.ts';
export type { FailureLimitOptions } from './failure-limit.ts';
export { clientAddress, NO_SOCKET } from './client-address.ts';
export { checkKeyless, isLoopbackHost, INGEST_MEDIA_TYPES, KEYLESS_INGEST_PATHS } from './local-only.ts';
