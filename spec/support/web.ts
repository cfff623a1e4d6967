import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { type ClientOptions, WebSocket } from 'ws';

/** A spec's WebSocket client: every message it got, kept until a spec takes them. */
export interface WebClient {
  readonly ws: WebSocket;
  /** The messages up to and including the first that holds `expected`; rejects if the connection closes first. */
  until(expected: string): Promise<string[]>;
  /** Sends one text message. */
  say(message: string): void;
  /** The close code and reason, once the connection has closed. */
  readonly closed: Promise<{ code: number; reason: string }>;
}

/** Opens a WebSocket to `url` and reads in the background; resolves once it is open. */
export async function connectWeb(url: string, options: ClientOptions = {}, protocols: string[] = []): Promise<WebClient> {
  const ws = new WebSocket(url, protocols, options);
  ws.on('error', () => {}); // a refusal is a case under test
  let unread: string[] = [];
  let ended = false;
  let wake = () => {};
  ws.on('message', (data: Buffer) => {
    unread.push(data.toString('utf8'));
    wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.once('close', (code: number, reason: Buffer) => {
      ended = true;
      wake();
      resolve({ code, reason: reason.toString() });
    });
  });
  await once(ws, 'open');
  const until = async (expected: string): Promise<string[]> => {
    for (;;) {
      const at = unread.findIndex((message) => message.includes(expected));
      if (at >= 0) {
        const taken = unread.slice(0, at + 1);
        unread = unread.slice(at + 1);
        return taken;
      }
      if (ended) throw new Error(`closed before ${JSON.stringify(expected)}; unread: ${JSON.stringify(unread.slice(-10))}`);
      await new Promise<void>((resolve) => (wake = resolve));
    }
  };
  return { ws, until, say: (message) => ws.send(message), closed };
}

/** How a WebSocket that is not let on ends: the HTTP status of its refusal, or the socket's error code. */
export function refusal(url: string, options: ClientOptions = {}): Promise<number | string> {
  const ws = new WebSocket(url, options);
  return new Promise((resolve) => {
    ws.once('unexpected-response', (_request: unknown, response: IncomingMessage) => {
      resolve(response.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', (error: Error) => resolve('code' in error && typeof error.code === 'string' ? error.code : error.message === 'socket hang up' ? 'ECONNRESET' : error.message));
    ws.once('open', () => {
      resolve('open');
      ws.terminate();
    });
  });
}
