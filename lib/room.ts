import { catchError, concat, defer, EMPTY, filter, finalize, map, merge, mergeMap, type Observable, of, share, Subject } from 'rxjs';
import { type Input, MAX_LINE_BYTES, OVERLONG_LINE } from './lines';
import { DEFAULT_RATE_LIMITS, LINES_DROPPED, pace, type RateLimits } from './pace';
import * as text from './protocol';
import { cleanText } from './sanitize';
import { login, LOGIN_TIMEOUT_MS, type LoginStep } from './session';

export type ConnectionId = number;

/** One accepted socket, as the room sees it: an id to address replies to, and its input. */
export interface Connection {
  readonly id: ConnectionId;
  readonly input$: Observable<Input>;
}

/**
 * What leaves the room, for the transport to carry out in order: `send` to one connection,
 * `broadcast` to every admitted one, `admit` a logged-in user to the broadcasts, `dismiss` one
 * from them, `close` a connection once what was sent to it is written.
 */
export type Outgoing =
  | { readonly kind: 'send'; readonly to: ConnectionId; readonly text: string }
  | { readonly kind: 'broadcast'; readonly text: string }
  | { readonly kind: 'admit'; readonly to: ConnectionId; readonly nick: string }
  | { readonly kind: 'dismiss'; readonly to: ConnectionId; readonly nick: string }
  | { readonly kind: 'close'; readonly to: ConnectionId };

export interface RoomOptions {
  readonly banner: string;
  readonly maxLineBytes: number;
  readonly loginTimeoutMs: number;
  readonly rateLimits: RateLimits;
}

export const DEFAULT_ROOM_OPTIONS: RoomOptions = {
  banner: text.DEFAULT_BANNER,
  maxLineBytes: MAX_LINE_BYTES,
  loginTimeoutMs: LOGIN_TIMEOUT_MS,
  rateLimits: DEFAULT_RATE_LIMITS,
};

const send = (to: ConnectionId, line: string): Outgoing => ({ kind: 'send', to, text: line });
const broadcast = (line: string): Outgoing => ({ kind: 'broadcast', text: line });
const admit = (to: ConnectionId, nick: string): Outgoing => ({ kind: 'admit', to, nick });
const dismiss = (to: ConnectionId, nick: string): Outgoing => ({ kind: 'dismiss', to, nick });
const close = (to: ConnectionId): Outgoing => ({ kind: 'close', to });

/**
 * The chat room: each connection logs in, then its lines are broadcast to every logged-in user.
 * A user's input ending or erroring (a failed write ends it too) is their disconnect: one
 * `dismiss` and one leave broadcast, whichever way it ends. Completes when `connections$`
 * completes and every session has ended; never errors on a user's behalf.
 */
export function room(connections$: Observable<Connection>, options: RoomOptions = DEFAULT_ROOM_OPTIONS): Observable<Outgoing> {
  return defer(() => {
    const online = new Map<string, string>(); // nick key -> nick as typed
    const departures = new Subject<Outgoing>();

    const chat = (id: ConnectionId, nick: string, input$: Observable<Input>): Observable<Outgoing> =>
      input$.pipe(
        map((input) => (input === OVERLONG_LINE ? input : cleanText(input))),
        filter((input) => input === OVERLONG_LINE || input.trim().length > 0),
        pace(options.rateLimits),
        map((input) => {
          if (input === OVERLONG_LINE) return send(id, text.lineTooLong(options.maxLineBytes));
          if (input === LINES_DROPPED) return send(id, text.SLOW_DOWN);
          return broadcast(text.said(nick, input));
        }),
      );

    const enter = (id: ConnectionId, nick: string, key: string, input$: Observable<Input>): Observable<Outgoing> => {
      online.set(key, nick); // claimed before the next line of anyone's is read: no race for a name
      const admitted$ = of(send(id, text.welcome(nick)), admit(id, nick), broadcast(text.joined(nick)));
      return concat(admitted$, chat(id, nick, input$)).pipe(
        finalize(() => {
          online.delete(key); // removed before the broadcast, which the leaver never receives
          departures.next(dismiss(id, nick));
          departures.next(broadcast(text.left(nick)));
        }),
      );
    };

    const session = ({ id, input$ }: Connection): Observable<Outgoing> => {
      const shared$ = input$.pipe(share()); // one read: chat subscribes before login lets go
      const next = (step: LoginStep): Observable<Outgoing> => {
        if (step.kind === 'refused') return of(send(id, text.nameRefused(step.reason)), send(id, text.PROMPT));
        if (step.kind === 'timed-out') return of(send(id, text.LOGIN_TIMED_OUT), close(id));
        return enter(id, step.nick, step.key, shared$);
      };
      return concat(
        of(send(id, text.greeting(options.banner)), send(id, text.PROMPT)),
        login(shared$, (key) => online.has(key), options.loginTimeoutMs).pipe(mergeMap(next)),
      ).pipe(catchError(() => EMPTY)); // a user's error is their disconnect, not the room's
    };

    return merge(departures, connections$.pipe(mergeMap(session)));
  });
}
