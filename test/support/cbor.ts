/**
 * A tiny CBOR (RFC 8949) encoder for test support.
 *
 * Deliberately independent of the CBOR library that `@simplewebauthn/server` uses to decode, so the
 * soft authenticator does not verify the library against its own encoder. It covers what WebAuthn
 * attestation objects and COSE keys need, plus a little more for tampering tests:
 *
 * - `number` (safe integers only) and `bigint` -> major type 0 / 1
 * - `Uint8Array` (including `Buffer`) -> byte string (major 2, never tag 64)
 * - `string` -> text string (major 3)
 * - arrays -> major 4
 * - `Map` (any key type, insertion order kept) and plain objects (string keys) -> major 5
 * - `false` / `true` / `null` / `undefined` -> simple values 20 / 21 / 22 / 23
 *
 * Non-integer numbers are rejected rather than silently encoded as floats.
 */
export type CborValue =
  | number
  | bigint
  | string
  | boolean
  | null
  | undefined
  | Uint8Array
  | CborValue[]
  | Map<CborValue, CborValue>
  | { [key: string]: CborValue };

const MAX_UINT64 = (1n << 64n) - 1n;

function head(major: number, length: number | bigint): Buffer {
  const n = BigInt(length);
  if (n < 0n || n > MAX_UINT64) {
    throw new RangeError(`CBOR argument out of range: ${n}`);
  }
  const m = major << 5;
  if (n < 24n) {
    return Buffer.from([m | Number(n)]);
  }
  if (n <= 0xffn) {
    return Buffer.from([m | 24, Number(n)]);
  }
  if (n <= 0xffffn) {
    const b = Buffer.alloc(3);
    b[0] = m | 25;
    b.writeUInt16BE(Number(n), 1);
    return b;
  }
  if (n <= 0xffffffffn) {
    const b = Buffer.alloc(5);
    b[0] = m | 26;
    b.writeUInt32BE(Number(n), 1);
    return b;
  }
  const b = Buffer.alloc(9);
  b[0] = m | 27;
  b.writeBigUInt64BE(n, 1);
  return b;
}

function encodeInto(value: CborValue, out: Buffer[]): void {
  if (value === false) {
    out.push(Buffer.from([0xf4]));
  } else if (value === true) {
    out.push(Buffer.from([0xf5]));
  } else if (value === null) {
    out.push(Buffer.from([0xf6]));
  } else if (value === undefined) {
    out.push(Buffer.from([0xf7]));
  } else if (typeof value === 'number' || typeof value === 'bigint') {
    if (typeof value === 'number' && !Number.isSafeInteger(value)) {
      throw new TypeError(`cborEncode supports integers only, got ${value}`);
    }
    const n = BigInt(value);
    out.push(n >= 0n ? head(0, n) : head(1, -1n - n));
  } else if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    out.push(head(3, bytes.length), bytes);
  } else if (value instanceof Uint8Array) {
    out.push(head(2, value.length), Buffer.from(value));
  } else if (Array.isArray(value)) {
    out.push(head(4, value.length));
    for (const item of value) encodeInto(item, out);
  } else if (value instanceof Map) {
    out.push(head(5, value.size));
    for (const [k, v] of value) {
      encodeInto(k, out);
      encodeInto(v, out);
    }
  } else {
    const entries = Object.entries(value);
    out.push(head(5, entries.length));
    for (const [k, v] of entries) {
      encodeInto(k, out);
      encodeInto(v, out);
    }
  }
}

/** Encode one CBOR data item. */
export function cborEncode(value: CborValue): Buffer {
  const out: Buffer[] = [];
  encodeInto(value, out);
  return Buffer.concat(out);
}
