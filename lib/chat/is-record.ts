/** True for an object read from JSON (not null, not an array), whose fields are yet to be checked. */
export const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
