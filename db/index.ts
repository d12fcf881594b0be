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
export { getEvent, listDeadLetters } from './queries.ts';
export type { StoredEvent, DeadLetterView, DeadLetterPage } from './queries.ts';
export { reportEvents } from './report-events.ts';
export type { ReportEventsQuery, ReportGroup, ReportGroupKey, EventsReport } from './report-events.ts';
export { reportRevenue, normalizeDecimal } from './report-revenue.ts';
export type { ReportRevenueQuery, RevenueGroupKey, RevenueGroup, CurrencyRevenue, RevenueReport, Decimal } from './report-revenue.ts';
export { reportDemographics, AGE_BUCKETS } from './report-demographics.ts';
export type { ReportDemographicsQuery, DemographicDimension, DemographicGroup, DemographicsReport } from './report-demographics.ts';
export type { ReportFilters, ReportWindow } from './report-sql.ts';
export { listEvents } from './event-list.ts';
export type { EventListQuery, EventListPage, EventPosition } from './event-list.ts';
export { getUserProfile, RECENT_EVENTS } from './users-profile.ts';
export type { UserProfile } from './users-profile.ts';
export { MigrationChecksumError, MigrationFailedError, InvalidCursorError } from './errors.ts';
export { coverWindow } from './cover.ts';
export type { Cover, CoverOptions, Range } from './cover.ts';
