/**
 * The data source for the TypeORM CLI (npm run migration:run / migration:revert).
 * It needs DATABASE_URL; the server itself also runs pending migrations at start.
 */
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './src/db/data-source';

const url = process.env.DATABASE_URL;
if (!url) throw new Error('Set DATABASE_URL to run TypeORM CLI commands, e.g. postgres://postgres@127.0.0.1:5432/chat');

export default new DataSource(dataSourceOptions({ url }));
