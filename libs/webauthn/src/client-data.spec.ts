import { AppError } from '@app/errors';
import { readClientData } from './client-data';

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('readClientData', () => {
  it('reads the challenge a browser signed', () => {
    expect(readClientData(encode({ type: 'webauthn.get', challenge: 'abcdefghijklmnopqrstuv' }))).toEqual({
      challenge: 'abcdefghijklmnopqrstuv',
      crossOrigin: false,
    });
  });

  it.each([
    ['not base64url', '!!!'],
    ['not JSON', Buffer.from('{nope').toString('base64url')],
    ['JSON null', encode(null)],
    ['no challenge', encode({ type: 'webauthn.get' })],
    ['a numeric challenge', encode({ challenge: 1234567890 })],
    ['a short challenge', encode({ challenge: 'abc' })],
    ['a non-string', 42],
  ])('rejects %s as a 4xx, never a crash', (_label, input) => {
    expect(() => readClientData(input)).toThrow(AppError);
  });
});
