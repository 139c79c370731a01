// Certificate serial numbers as Keycloak prints them (keycloak-x509.md §3.1): decimal (BigInteger.toString) and
// "hex": lower-case hex of BigInteger.toByteArray(), the minimal two's-complement bytes (161 → 00a1, 15 → 0f,
// −1234 → fb2e). Computed from the INTEGER's contents, so non-minimal encodings normalise exactly as in Java.
import { hexOf } from "./der.ts";

export function serialBigInt(content: Uint8Array): bigint {
  if (content.length === 0) return 0n;
  let n = 0n;
  for (const b of content) n = (n << 8n) | BigInt(b);
  return (content[0] as number) & 0x80 ? n - (1n << BigInt(content.length * 8)) : n;
}

export const serialDecimal = (content: Uint8Array): string => serialBigInt(content).toString();

/** BigInteger.toByteArray(): the fewest bytes that hold the value in two's complement, sign bit included. */
export function minimalTwosComplement(n: bigint): Uint8Array {
  let bits = 0;
  for (let v = n < 0n ? -n - 1n : n; v > 0n; v >>= 1n) bits++;
  const len = Math.floor(bits / 8) + 1;
  const out = new Uint8Array(len);
  let v = n < 0n ? (1n << BigInt(len * 8)) + n : n;
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

export const serialHex = (content: Uint8Array): string => hexOf(minimalTwosComplement(serialBigInt(content)));
