/** What went wrong, in one line: an Error's message, or anything else thrown as a string. */
export const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));
