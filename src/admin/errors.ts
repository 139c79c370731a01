// Admin use-case failures; the HTTP layer maps them to 404 / 409 and the CLI prints them.
export { ValidationError } from "./representation.ts";

export class NotFoundError extends Error {}
export class ConflictError extends Error {}
