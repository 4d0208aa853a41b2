import { isUUID } from 'class-validator';
import { BadInputError } from './errors';

/** Input rules shared by the services. Messages name what was expected and what came. */

const MAX_SHOWN = 40;
const show = (value: unknown): string => {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return JSON.stringify(text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}...` : text);
};

/** Characters as people count them (code points), not UTF-16 units. */
export const characterCount = (text: string): number => [...text].length;

export function requireUuid(name: string, value: string): string {
  if (typeof value !== 'string' || !isUUID(value)) {
    throw new BadInputError(`${name} must be a UUID, got ${show(value)}`);
  }
  return value.toLowerCase();
}

export function requireUuids(name: string, values: string[], max: number): string[] {
  if (values.length > max) {
    throw new BadInputError(`${name} may name at most ${max} users, got ${values.length}`);
  }
  return values.map((v) => requireUuid(name, v));
}

export function requireIntInRange(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new BadInputError(`${name} must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}

/** A UTF-16 surrogate without its pair: not a character, and PostgreSQL's jsonb refuses its escape. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function requireWellFormed(name: string, value: string): string {
  if (LONE_SURROGATE.test(value)) throw new BadInputError(`${name} must be well-formed Unicode (it has a lone surrogate)`);
  return value;
}

export function requireLength(name: string, value: string, min: number, max: number): string {
  requireWellFormed(name, value);
  const n = characterCount(value);
  if (n < min || n > max) {
    throw new BadInputError(`${name} must be ${min}-${max} characters, got ${n}`);
  }
  return value;
}

export function requireNotBlank(name: string, value: string): string {
  if (value.trim() === '') throw new BadInputError(`${name} must not be blank`);
  return value;
}

export function requireJsonObject(name: string, value: unknown, maxBytes: number): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new BadInputError(`${name} must be a JSON object, got ${Array.isArray(value) ? 'an array' : show(value)}`);
  }
  requireWellFormedJson(name, value);
  const json = JSON.stringify(value);
  // jsonb cannot store the NUL character either.
  if (json.includes('\\u0000')) throw new BadInputError(`${name} must not contain the NUL character`);
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > maxBytes) {
    throw new BadInputError(`${name} must be at most ${maxBytes} bytes of JSON, got ${bytes}`);
  }
  return value as Record<string, unknown>;
}

function requireWellFormedJson(name: string, value: unknown, depth = 0): void {
  if (typeof value === 'string') {
    requireWellFormed(name, value);
  } else if (value !== null && typeof value === 'object') {
    // JSON that fits in 16 KiB cannot nest deeper than this in any useful way; deeper is refused, not recursed.
    if (depth > 100) throw new BadInputError(`${name} nests deeper than 100 levels`);
    for (const [key, item] of Object.entries(value)) {
      requireWellFormed(name, key);
      requireWellFormedJson(name, item, depth + 1);
    }
  }
}

/** PostgreSQL text cannot hold NUL; refuse it up front instead of failing in the driver. */
export function requireNoNul(name: string, value: string): string {
  if (value.includes('\u0000')) throw new BadInputError(`${name} must not contain the NUL character`);
  return value;
}

export function requireValidDate(name: string, value: Date): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new BadInputError(`${name} must be a valid date-time`);
  }
  return value;
}

/** A valid date-time in years `minYear`-`maxYear` (UTC): PostgreSQL would store a BC year, which nothing reads back. */
export function requireDateInRange(name: string, value: Date, minYear: number, maxYear: number): Date {
  requireValidDate(name, value);
  const year = value.getUTCFullYear();
  if (year < minYear || year > maxYear) {
    throw new BadInputError(`${name} must be a date-time in the years ${minYear}-${maxYear}, got ${value.toISOString()}`);
  }
  return value;
}
