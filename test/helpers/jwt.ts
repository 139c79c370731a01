// Reads a JWT's header and payload (no verification: openid-client verifies the tokens it receives).
const part = (jwt: string, i: number): Record<string, unknown> => {
  const p = jwt.split(".")[i];
  if (!p) throw new Error(`not a JWT: ${jwt.slice(0, 20)}`);
  return JSON.parse(Buffer.from(p, "base64url").toString("utf8")) as Record<string, unknown>;
};
export const decodeProtectedHeader = (jwt: string) => part(jwt, 0);
export const decodeJwt = (jwt: string) => part(jwt, 1);
