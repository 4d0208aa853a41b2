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

export function requireLength(name: string, value: string, min: number, max: number): string {
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
  const json = JSON.stringify(value);
  // jsonb cannot store the NUL character either.
  if (json.includes('\\u0000')) throw new BadInputError(`${name} must not contain the NUL character`);
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > maxBytes) {
    throw new BadInputError(`${name} must be at most ${maxBytes} bytes of JSON, got ${bytes}`);
  }
  return value as Record<string, unknown>;
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
