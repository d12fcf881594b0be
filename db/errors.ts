// The failures db/ reports as errors of their own, each with a stable `code`, so a caller
// can tell a refused migration or a bad cursor from broken infrastructure.

/** An applied migration's file no longer has the checksum it was applied with. */
export class MigrationChecksumError extends Error {
  override readonly name = 'MigrationChecksumError';
  readonly code = 'KEYFLOW_MIGRATION_CHECKSUM';
  readonly file: string;
  constructor(file: string, applied: string, now: string) {
    super(`migration ${file} was changed after it was applied (checksum ${applied.slice(0, 12)}… is now ${now.slice(0, 12)}…); add a new migration instead`);
    this.file = file;
  }
}

/** A migration file failed to apply; its transaction was rolled back. */
export class MigrationFailedError extends Error {
  override readonly name = 'MigrationFailedError';
  readonly code = 'KEYFLOW_MIGRATION_FAILED';
  readonly file: string;
  constructor(file: string, cause: unknown) {
    super(`migration ${file} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.file = file;
  }
}

/** A pagination cursor that this module did not hand out. */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
  readonly code = 'KEYFLOW_INVALID_CURSOR';
  constructor(cursor: string) {
    super(`invalid cursor: ${JSON.stringify(cursor.slice(0, 64))}`);
  }
}
