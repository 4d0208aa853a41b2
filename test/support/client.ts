import { randomUUID } from 'node:crypto';
import { signToken } from '../../src/auth/token';
import { TEST_JWT_SECRET } from './server';

export interface GraphQLResponse<T = Record<string, any>> {
  status: number;
  headers: Headers;
  data: T | null | undefined;
  errors: { message: string; extensions: { code: string; [k: string]: unknown }; path?: (string | number)[] }[] | undefined;
  extensions: { sqlStatements?: number; sqlRows?: number } | undefined;
}

/** One GraphQL request over HTTP POST, as a client sends it. */
export async function gql<T = Record<string, any>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  token: string | null = null,
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token !== null && { authorization: `Bearer ${token}` }),
      ...headers,
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: GraphQLResponse['errors']; extensions?: GraphQLResponse['extensions'] };
  return { status: res.status, headers: res.headers, data: body.data, errors: body.errors, extensions: body.extensions };
}

/** The data of a request that must succeed; fails the test with the errors otherwise. */
export async function ok<T = Record<string, any>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  token: string | null = null,
): Promise<T> {
  const res = await gql<T>(url, query, variables, token);
  if (res.errors?.length) throw new Error(`Expected success, got: ${JSON.stringify(res.errors)}`);
  return res.data as T;
}

/** The error code of a request that must fail. */
export async function errorCode(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  token: string | null = null,
): Promise<string> {
  const res = await gql(url, query, variables, token);
  if (!res.errors?.length) throw new Error(`Expected an error, got data: ${JSON.stringify(res.data)}`);
  return res.errors[0].extensions.code;
}

export interface TestUser {
  id: string;
  token: string;
  companyId: string | null;
  name: string;
}

let userCounter = 0;

/**
 * The company of users made without one: real deployments scope users to a
 * company, so the default user has one (company-less users are made with
 * `companyId: null`, and the company rules are tested from both sides).
 */
export const DEFAULT_COMPANY_ID = randomUUID();

/** A user with a valid token (the users row appears on their first request). */
export async function makeUser(options: { companyId?: string | null; name?: string; expiresIn?: string | number } = {}): Promise<TestUser> {
  const id = randomUUID();
  const name = options.name ?? `User ${++userCounter}`;
  const companyId = options.companyId === undefined ? DEFAULT_COMPANY_ID : options.companyId;
  const token = await signToken(TEST_JWT_SECRET, {
    userId: id,
    name,
    ...(companyId !== null && { companyId }),
    expiresIn: options.expiresIn ?? '1h',
  });
  return { id, token, companyId, name };
}

/** Makes the user known to the server (their row, with their name and company). */
export async function signIn(url: string, user: TestUser): Promise<TestUser> {
  await ok(url, '{ me { id } }', {}, user.token);
  return user;
}

/** A user with a valid token, known to the server already (the row of their first request): most tests' "someone". */
export async function newUser(url: string, options: Parameters<typeof makeUser>[0] = {}): Promise<TestUser> {
  return signIn(url, await makeUser(options));
}

/** The same user with a token naming another company (or none). */
export function asCompany(user: TestUser, companyId: string | null): Promise<string> {
  return signToken(TEST_JWT_SECRET, { userId: user.id, name: user.name, ...(companyId !== null && { companyId }), expiresIn: '1h' });
}
