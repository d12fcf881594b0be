// The door of db/: PostgreSQL storage for keyflow (postgres.js). Other folders import from
// here only. Test helpers live in ./testing.ts, which is not part of this door.
export { connectDb } from './connect.ts';
export type { Sql, Tx, ConnectOptions } from './connect.ts';
export { migrate } from './migrate.ts';
export type { MigrateOptions } from './migrate.ts';
export { ensurePartitions, partitionName } from './partitions.ts';
export type { EnsurePartitionsOptions, EnsurePartitionsResult } from './partitions.ts';
export { runMaintenance } from './maintenance.ts';
export type { MaintenanceOptions, MaintenanceResult } from './maintenance.ts';
export { flushBatch } from './flush.ts';
export type { DeadLetterRow, FlushBatch, FlushOptions, FlushResult } from './flush.ts';
export { getEvent, reportEvents, listDeadLetters } from './queries.ts';
export type {
  StoredEvent,
  ReportEventsQuery,
  ReportGroup,
  ReportGroupKey,
  EventsReport,
  DeadLetterView,
  DeadLetterPage,
} from './queries.ts';
export { listEvents } from './event-list.ts';
export type { EventListQuery, EventListPage, EventPosition } from './event-list.ts';
export { getUserProfile, RECENT_EVENTS } from './users-profile.ts';
export type { UserProfile } from './users-profile.ts';
export { MigrationChecksumError, MigrationFailedError, InvalidCursorError } from './errors.ts';
export { coverWindow } from './cover.ts';
export type { Cover, CoverOptions, Range } from './cover.ts';
