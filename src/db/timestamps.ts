import { types as pgTypes } from 'pg';

/** PostgreSQL's type OID of `timestamptz`. */
const TIMESTAMPTZ = 1184;

/** `2026-11-24 12:00:00.123456+00` as PostgreSQL prints a UTC timestamptz (DateStyle ISO). */
const UTC_TEXT = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?\+00$/;

/**
 * A timestamptz as the API returns it: ISO-8601 in UTC with milliseconds
 * (`2026-11-24T12:00:00.123Z`, what `Date#toISOString` prints), cut from the
 * text PostgreSQL sends instead of parsed into a Date and printed back. The
 * session runs in UTC (src/db/data-source.ts); any other text (an offset,
 * a BC date) goes through Date, and `infinity` stays as it is (the DateTime
 * scalar then refuses to serialise it, and the error is masked).
 */
export function isoTimestamp(text: string): string {
  const match = UTC_TEXT.exec(text);
  if (match) return `${match[1]}T${match[2]}.${(match[3] ?? '').padEnd(3, '0').slice(0, 3)}Z`;
  const date = new Date(text.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00'));
  return Number.isNaN(date.getTime()) ? text : date.toISOString();
}

/** pg's `types` option: timestamptz as ISO strings, everything else as pg parses it. */
export const driverTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === TIMESTAMPTZ && format !== 'binary') return isoTimestamp;
    return pgTypes.getTypeParser(oid, format);
  },
};
