/**
 * `POST /v1/registration/invite`: the enrollment page asks which account a link enrolls before the passkey prompt.
 * It must not use the link up, must say nothing about links that cannot be used, and is limited like ceremony starts.
 */
import { InvitesService } from '@app/accounts';
import { SoftAuthenticator } from '../support/soft-authenticator';
import { createInvite, enrollPasskey, startTestApp, TEST_CONTEXT, TestApp } from '../support/test-app';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

const lookup = (inviteToken: unknown) => t.http.post('/v1/registration/invite').send({ inviteToken });

it('names the account and the expiry without using the link: enrollment still works afterwards', async () => {
  const token = await createInvite(t, { username: 'peeked', displayName: 'Pia Peek', groups: ['g'] });
  for (let i = 0; i < 2; i++) {
    const res = await lookup(token);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      username: 'peeked',
      displayName: 'Pia Peek',
      expiresAt: expect.any(String),
      existingAccount: false,
    });
  }
  await enrollPasskey(t, new SoftAuthenticator(), { inviteToken: token });
});

it('refuses a used, revoked or unknown link with the same 400, and bad input with 400 (never a 5xx)', async () => {
  const used = await createInvite(t, { username: 'used-link' });
  await enrollPasskey(t, new SoftAuthenticator(), { inviteToken: used });
  const revoked = await t.app.get(InvitesService).create(TEST_CONTEXT, { username: 'revoked-link' });
  await t.app.get(InvitesService).revoke(TEST_CONTEXT, revoked.id);
  const bodies = [];
  for (const token of [used, revoked.token, 'x'.repeat(43)]) {
    const res = await lookup(token);
    expect(res.status).toBe(400);
    bodies.push({ code: res.body.code, message: res.body.message });
  }
  expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
  expect(bodies[0]).toEqual({
    code: 'invalid_invite',
    message: expect.stringContaining('ask an administrator for a new one'),
  });
  for (const bad of [null, 42, '', 'not base64url!', 'a'.repeat(200)]) expect((await lookup(bad)).status).toBe(400);
});

it('a re-enrollment link says it is for an existing account', async () => {
  const first = await createInvite(t, { username: 'returning' });
  await enrollPasskey(t, new SoftAuthenticator(), { inviteToken: first });
  const again = await createInvite(t, { username: 'returning' });
  expect((await lookup(again)).body).toMatchObject({ username: 'returning', existingAccount: true });
});
