import { DataSource, type DataSourceOptions } from 'typeorm';
import { User } from '../chat/users/user.entity';
import { Room } from '../chat/rooms/room.entity';
import { Member } from '../chat/members/member.entity';
import { Message } from '../chat/messages/message.entity';
import { RateLimitLog } from '../chat/messages/rate-limit-log.entity';
import { Reaction } from '../chat/reactions/reaction.entity';
import { InitialSchema1764300000000 } from './migrations/1764300000000-initial-schema';
import { StatementCountingLogger } from './statement-counter';

export const entities = [User, Room, Member, Message, RateLimitLog, Reaction];
export const migrations = [InitialSchema1764300000000];

export interface DataSourceSettings {
  url: string;
  /** Pool size. @default 20 */
  poolSize?: number;
  /** Called for each failed statement (logged, never thrown from here). */
  onQueryError?: (message: string, query: string) => void;
  /** Called when an idle pooled connection fails (the database went away); keeps the process alive. */
  onPoolError?: (error: Error) => void;
}

/** Options shared by the server and the TypeORM CLI (ormconfig.ts). Never `synchronize`: migrations own the schema. */
export function dataSourceOptions(settings: DataSourceSettings): DataSourceOptions {
  return {
    type: 'postgres',
    url: settings.url,
    entities,
    migrations,
    migrationsTableName: 'typeorm_migrations',
    synchronize: false,
    logging: true,
    logger: new StatementCountingLogger(settings.onQueryError),
    poolSize: settings.poolSize ?? 20,
    extra: {
      // A statement that never returns must not hold a request (or a row lock) forever.
      statement_timeout: 15_000,
      connectionTimeoutMillis: 5_000,
      application_name: 'chat-api',
    },
  };
}

export async function openDataSource(settings: DataSourceSettings): Promise<DataSource> {
  const dataSource = new DataSource(dataSourceOptions(settings));
  await dataSource.initialize();
  // pg's pool emits 'error' when an idle client loses its server; unhandled, that would crash the process.
  const pool = (dataSource.driver as unknown as { master?: { on(event: string, cb: (e: Error) => void): void } }).master;
  pool?.on('error', (error) => settings.onPoolError?.(error));
  await dataSource.runMigrations({ transaction: 'each' });
  return dataSource;
}

/** True when the database answers a trivial statement (the readiness probe). */
export function databaseReachable(dataSource: DataSource): Promise<boolean> {
  return dataSource.query('SELECT 1').then(
    () => true,
    () => false,
  );
}
