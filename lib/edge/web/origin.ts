import type { IncomingMessage } from 'node:http';

/** An origin as compared: lower case, no trailing slash. */
const normal = (origin: string): string => origin.trim().toLowerCase().replace(/\/+$/, '');

/**
 * True when `request` may open the WebSocket: it has no Origin (not a browser: a browser always
 * sends one, so no page can leave it out), or its Origin is the page's own (the scheme the client
 * used, and the Host it asked for) or one of `allowed`.
 */
export function originAllowed(request: IncomingMessage, secure: boolean, allowed: readonly string[]): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  const host = request.headers.host;
  const own = host === undefined ? undefined : `${secure ? 'https' : 'http'}://${host}`;
  const given = normal(origin);
  return (own !== undefined && given === normal(own)) || allowed.some((each) => normal(each) === given);
}
