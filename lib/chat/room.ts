import { defer, finalize, merge, mergeMap, type Observable, Subject } from 'rxjs';
import { type Input, MAX_LINE_BYTES } from '../edge/lines';
import { DEFAULT_RATE_LIMITS, type RateLimits } from './pace';
import * as text from './texts';
import { type Lobby, LOGIN_TIMEOUT_MS, nickKey, session } from './session';

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

/**
 * The chat room: each connection's session (login, then chat) merged into one stream. When a
 * logged-in user's session ends (input ended or errored, a failed write ends it too), `finalize`
 * frees their name and emits one `dismiss` and one leave broadcast, whichever way it ended.
 * Never completes by itself, since a leave can come as long as anyone is connected: the server
 * ends it by unsubscribing, which stops every session without leave lines. Never errors on a
 * user's behalf.
 */
export function room(connections$: Observable<Connection>, options: RoomOptions = DEFAULT_ROOM_OPTIONS): Observable<Outgoing> {
  return defer(() => {
    const online = new Map<string, string>(); // nick key -> nick as typed: the users map
    const members = new Map<ConnectionId, string>(); // connection -> nick, for the departure
    const departures = new Subject<Outgoing>();
    const lobby: Lobby = {
      isTaken: (key) => online.has(key),
      enter: (id, nick, key) => {
        online.set(key, nick);
        members.set(id, nick);
      },
    };
    const leave = (id: ConnectionId) => {
      const nick = members.get(id);
      if (nick === undefined) return; // never logged in
      members.delete(id);
      online.delete(nickKey(nick)); // removed before the broadcast, which the leaver never receives
      departures.next({ kind: 'dismiss', to: id, nick });
      departures.next({ kind: 'broadcast', text: text.left(nick) });
    };
    const follow = (connection: Connection) => session(connection, lobby, options).pipe(finalize(() => leave(connection.id)));
    return merge(departures, connections$.pipe(mergeMap(follow)));
  });
}
