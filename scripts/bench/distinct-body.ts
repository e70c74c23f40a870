/** The bytes of distinct avatar n in the bench: a real body with n appended, so every avatar differs. */
export function distinctBody(base: Buffer, n: number): Buffer {
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(n % 2 ** 32);
  return Buffer.concat([base, tail]);
}
