/** Test people: invited through the admin API, enrolled through the real enrollment page, signed in for real. */
import {
  AuthenticatorOptions,
  Device,
  enroll,
  openLoginPage,
  Session,
  signInWithButton,
  VirtualCredential,
} from './browser';
import { AdminApi, GROUPS, Invite, uniqueName } from './stack';

export const admin = new AdminApi();

export interface Person {
  username: string;
  invite: Invite;
  device: Device;
  credential: VirtualCredential;
}

/** A new user in `groups` with one passkey, on a fresh device (not signed in). */
export async function enrolledPerson(
  session: Session,
  {
    groups = [GROUPS.user],
    prefix = 'user',
    label = 'Test laptop',
    authenticator = {},
  }: { groups?: string[]; prefix?: string; label?: string; authenticator?: AuthenticatorOptions } = {},
): Promise<Person> {
  const username = uniqueName(prefix);
  const invite = await admin.createInvite(username, groups, { displayName: `Test ${prefix}` });
  const device = await session.device(authenticator);
  const credential = await enroll(device, invite, label);
  return { username, invite, device, credential };
}

/** A new user, enrolled and signed in with their username (the button flow); the page is in Airflow's UI. */
export async function signedInPerson(
  session: Session,
  options: Parameters<typeof enrolledPerson>[1] = {},
): Promise<Person> {
  const person = await enrolledPerson(session, options);
  await openLoginPage(person.device);
  await signInWithButton(person.device, person.username);
  return person;
}

/** The claims of a JWT (not verified: for looking, in tests). */
export function jwtClaims(token: string): Record<string, unknown> {
  const payload = token.split('.')[1];
  if (!payload) throw new Error('not a JWT');
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}
