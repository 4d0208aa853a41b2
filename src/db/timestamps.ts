import { types as pgTypes } from 'pg';

/** PostgreSQL's type OID of `timestamptz`. */
const TIMESTAMPTZ = 1184;

/** `2026-11-24 12:00:00.123456+00` as PostgreSQL prints a UTC timestamptz (DateStyle ISO). */
const UTC_TEXT = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?\+00$/;

const DASH = 45;
const SPACE = 32;
const DOT = 46;

/**
 * A timestamptz as the API returns it: ISO-8601 in UTC with milliseconds
 * (`2026-11-24T12:00:00.123Z`, what `Date#toISOString` prints), cut from the
 * text PostgreSQL sends instead of parsed into a Date and printed back. The
 * session runs in UTC (src/db/data-source.ts); any other text (an offset,
 * a BC date) goes through Date, and `infinity` stays as it is (the DateTime
 * scalar then refuses to serialise it, and the error is masked).
 */
export function isoTimestamp(text: string): string {
  // The usual shape, cut at known positions (a page of history has a timestamp or more per row):
  // `YYYY-MM-DD HH:MM:SS+00`, or with a fraction of 1 to 6 digits, which PostgreSQL prints without trailing zeros.
  const n = text.length;
  if (n >= 22 && n <= 29 && n !== 23 && text.charCodeAt(4) === DASH && text.charCodeAt(10) === SPACE && text.endsWith('+00')) {
    if (n === 22) return `${text.slice(0, 10)}T${text.slice(11, 19)}.000Z`;
    if (text.charCodeAt(19) === DOT) return n >= 26 ? `${text.slice(0, 10)}T${text.slice(11, 23)}Z` : `${text.slice(0, 10)}T${text.slice(11, n - 3)}${n === 24 ? '00' : '0'}Z`;
  }
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

/**
 * The column transformer of every timestamptz: values reach the domain as the
 * API's ISO strings whether the driver gave the text (named statements, read
 * with driverTypes) or TypeORM made a Date of it (its own find and save).
 */
export const isoTimestamps = {
  from: (value: Date | string | null | undefined): string | null => {
    if (value === null || value === undefined) return null;
    return value instanceof Date ? value.toISOString() : isoTimestamp(value);
  },
  to: (value: string | Date | null | undefined): string | Date | null | undefined => value,
};

/** The same for a timestamptz[] column. */
export const isoTimestampArrays = {
  from: (values: (Date | string)[] | null | undefined): string[] | null =>
    values === null || values === undefined ? null : values.map((v) => isoTimestamps.from(v) as string),
  to: (values: string[] | null | undefined): string[] | null | undefined => values,
};
