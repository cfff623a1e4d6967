import { asyncScheduler, defer, EMPTY, finalize, merge, mergeMap, type Observable, type SchedulerLike } from 'rxjs';
import { NO_ACCOUNTS } from './accounts';
import { decide } from './decide';
import { type ChatEvent, isOwnChange, nodeOf, type RosterUser, type UserId } from './events';
import type { Connection, Outgoing } from './outgoing';
import { render, renderForOwnNode, renderUnapplied } from './render';
import { nameKey } from './names';
import { expand, freeVariant } from './roster';
import { type Landing, type Seat, type SessionOptions, sessions, type Waiter, type Waits } from './session';
import { BUS_UP } from './texts';
import { utf8Bytes } from './utf8';

/**
 * The chat: every connection's session merged into one stream, with every event on the bus
 * applied to `state` (the one reduction of the chat) and rendered for its viewers; an event that
 * changes nothing (a name claimed first elsewhere, a departure already seen) shows nothing. When
 * a logged-in user's session ends (input ended or errored, `/quit`, a failed write ends it too),
 * its `finalize` publishes the departure, whichever way it ended, and the state lets them go
 * when it comes back. A session whose user's own change (a login, `/join`, `/nick`...) is on its
 * way waits in `waits` until it is back (every event is, from the bus or, when it cannot carry
 * it, from this node alone); a departure meanwhile is decided once it is over, on the state it left.
 * `state` must be new and used by this subscription alone.
 * Never completes by itself, since a leave can come as long as anyone is connected: the server
 * ends it by unsubscribing, which stops every session; their departures then reach no one
 * here. Never errors on a user's behalf.
 */
export function chat(
  connections$: Observable<Connection>,
  seat: Seat,
  options: SessionOptions,
  scheduler: SchedulerLike = asyncScheduler,
): Observable<Outgoing> {
  return defer(() => {
    const { state, bus } = seat;
    const waits: Waits = new Map(); // who waits for an own change of their user to come back
    const node = bus.node; // on a cluster, this node
    let rejoining = false; // back from an outage, until this node's roster comes back
    let replaying = false; // events this node showed before an outage, again: applied, not shown
    let apart = false; // this node's users were told the other nodes are out of reach, not yet that they are back
    // On a cluster, this node's connections, and its logged-in users as they are here: what its
    // roster says. The state, once restored from a snapshot, may hold some who left since, or
    // not hold some, and their own events may be lost with Redis.
    const served = new Set<UserId>();
    const locals = new Map<UserId, RosterUser>();
    const giving = new Set<UserId>(); // this node's users asked to give a name up to its owner, until it is done
    const take = (event: ChatEvent): Outgoing[] => {
      const shown = happen(event);
      return replaying ? [] : shown;
    };
    const happen = (event: ChatEvent): Outgoing[] => {
      switch (event.type) {
        case 'restored': return restore(event);
        case 'replaying': replaying = true; return [];
        case 'caught-up': replaying = false; return [];
        case 'roster': return event.node === node ? ownRoster(event) : expand(event, state).flatMap(take);
        case 'node-lost': return expand(event, state).flatMap(take);
        case 'bus-down': return busDown(event);
        default: {
          const shown = state.apply(event).applied ? render(event, state) : renderUnapplied(event, state);
          if (state.applied) took(event);
          if (waits.size > 0 && isOwnChange(event) && !replaying) land(event.user, state.applied ? 'applied' : 'unapplied', bytesTo(event.user, shown));
          return shown;
        }
      }
    };
    // What the state took is told once: replayed events were told already.
    const took = (event: ChatEvent) => {
      if (replaying) return;
      seat.applied?.(event);
      if (node !== undefined) follow(event);
    };
    // Keeps `locals` as this node's sessions see themselves.
    const follow = (event: ChatEvent) => {
      if (event.type === 'joined' && served.has(event.user)) {
        const { user: id, nick, room, at: connectedAt, from } = event;
        locals.set(id, from === undefined ? { id, nick, room, connectedAt } : { id, nick, room, connectedAt, from });
        return;
      }
      if (event.type === 'resumed') return followTakeover(event);
      const local = 'user' in event ? locals.get(event.user) : undefined;
      if (local === undefined) return;
      if (event.type === 'renamed') giving.delete(local.id);
      if (event.type === 'renamed' || event.type === 'returned') locals.set(local.id, { ...local, nick: event.nick });
      else if (event.type === 'moved') locals.set(local.id, { ...local, room: event.room });
      else if (event.type === 'identified') {
        const { account, ...rest } = { ...local, identified: nameKey(event.nick), account: event.account };
        locals.set(local.id, account === undefined ? rest : { ...rest, account });
      }
    };
    // The user goes on under the new connection's id: on this node's roster if it is this node's.
    const followTakeover = ({ user, replaced }: Extract<ChatEvent, { type: 'resumed' }>) => {
      locals.delete(replaced);
      const now = state.user(user);
      if (now === undefined || !served.has(user)) return;
      const account = state.accountOf(user);
      const listed: RosterUser = { id: user, nick: now.nick, room: now.room, connectedAt: now.connectedAt, from: now.from };
      locals.set(user, state.isIdentified(user) ? { ...listed, identified: nameKey(now.nick), ...(account === undefined ? {} : { account }) } : listed);
    };
    const land = (user: UserId, landing: Landing, bytes: number) => {
      const waiter = waits.get(user);
      waits.delete(user);
      waiter?.landed(landing, bytes);
    };
    // Once per outage: a connection to Redis that comes and goes does not repeat the notice.
    const busDown = (event: Extract<ChatEvent, { type: 'bus-down' }>): Outgoing[] => {
      replaying = false; // what comes now is this node's alone, and new
      state.apply(event); // what was on its way still comes back: from Redis, or from this node alone
      const told = apart;
      apart = true;
      return told ? [] : render(event, state);
    };
    // The cluster's state replaces this node's; its users are put back by a roster on the bus.
    const restore = (event: Extract<ChatEvent, { type: 'restored' }>): Outgoing[] => {
      state.apply(event);
      const held = state.members().some((user) => nodeOf(user.id) === event.node);
      if (locals.size > 0 || held) {
        bus.publish({ type: 'roster', node: event.node, users: [...locals.values()], at: scheduler.now() });
        rejoining = event.rejoined;
      } else {
        rejoining = false; // nobody here to tell: whoever comes next is in the one chat
        apart = false;
      }
      releaseWaits();
      return [];
    };
    // An own change on its way when the cluster's state came may never come back: Redis may have
    // lost it, or the snapshot holds it already. Whoever waits for one goes on (a departure is
    // then decided, after the roster), as the roster says their user is, or asked again for a name.
    const releaseWaits = () => {
      for (const user of [...waits.keys()]) land(user, locals.has(user) || state.user(user) !== undefined ? 'applied' : 'unapplied', 0);
    };
    // This node's users saw its joins and departures happen: its own roster shows them only the
    // names it changed, and, the first time after an outage, that the chat is one again.
    const ownRoster = (event: Extract<ChatEvent, { type: 'roster' }>): Outgoing[] => {
      const isRejoin = rejoining && !replaying;
      const back = isRejoin ? rejoined(event) : [];
      const shown = [...back, ...expand(event, state).flatMap((each) => {
        if (!state.apply(each).applied) return [];
        took(each);
        return renderForOwnNode(each, state);
      })];
      if (isRejoin) giveNamesToOwners(); // once its users are back in the state
      return shown;
    };
    // Told once they are back in the state: what they type from then on reaches the cluster.
    const rejoined = (event: Extract<ChatEvent, { type: 'roster' }>): Outgoing[] => {
      rejoining = false;
      apart = false;
      const rooms = new Set(event.users.map((user) => user.room));
      return [...rooms].map((room) => ({ kind: 'broadcast', room, text: BUS_UP, hiddenFrom: [] }));
    };
    // After an outage, a user of this node may hold a name registered elsewhere meanwhile, which
    // this node could not know, without its password: the name is its owner's, so they give it
    // up for a free variant, and are told. Looked at once the cluster is one again and whenever
    // the registered names were read again whole; a rename on its way is not asked twice.
    const giveNamesToOwners = () => {
      if (state.cutOff || rejoining) return;
      const accounts = seat.accounts ?? NO_ACCOUNTS;
      for (const id of locals.keys()) {
        const user = state.user(id);
        if (user === undefined || giving.has(id) || state.isIdentified(id) || !accounts.registered(user.nick)) continue;
        giving.add(id);
        const nick = freeVariant(state, user.nick);
        bus.publish({ type: 'renamed', user: id, from: user.nick, nick, room: user.room, at: scheduler.now(), displaced: true, owner: true });
      }
    };
    const leave = (user: UserId) => {
      served.delete(user);
      giving.delete(user);
      if (waits.has(user)) {
        waits.set(user, departure(user)); // its user's own change is on its way: its room and name are the change's
        return;
      }
      const local = locals.get(user);
      locals.delete(user);
      const at = scheduler.now();
      const { events } = decide(state, { type: 'leave', user, at });
      // Not in the state yet, they are in a roster on its way back: they leave after it.
      if (events.length === 0 && local !== undefined) bus.publish({ type: 'left', user, nick: local.nick, room: local.room, at });
      for (const event of events) bus.publish(event);
    };
    const departure = (user: UserId): Waiter => ({ landed: () => leave(user) }); // decided then: nothing if the join never applied
    const open = sessions({ ...seat, waits }, options, scheduler);
    const serve = (connection: Connection) => {
      const { id } = connection; // the departure holds the id alone, not the connection and its input$
      if (node !== undefined) served.add(id);
      return open(connection).pipe(finalize(() => leave(id)));
    };
    const namesRead$ = (seat.accountsReread$ ?? EMPTY).pipe(mergeMap(() => { giveNamesToOwners(); return EMPTY; }));
    return merge(bus.events$.pipe(mergeMap(take)), connections$.pipe(mergeMap(serve)), namesRead$); // the state applies before any session reads it
  });
}

/** The bytes of what `shown` sends to `user` alone: what their own change cost them in output. */
function bytesTo(user: UserId, shown: readonly Outgoing[]): number {
  let bytes = 0;
  for (const each of shown) if (each.kind === 'send' && each.to === user) bytes += utf8Bytes(each.text);
  return bytes;
}
