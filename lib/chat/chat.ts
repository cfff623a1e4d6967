import { asyncScheduler, defer, EMPTY, finalize, merge, mergeMap, type Observable, of, type SchedulerLike, Subject, take as first } from 'rxjs';
import { Gate } from './gate';
import { type Seat, serving } from './loop';
import { NO_ACCOUNTS } from './accounts';
import { decide } from './decide';
import type { Delivery, StateAnswer, StateQuestion } from './bus';
import { type ChatEvent, isOwnChange, nodeOf, type UserId } from './events';
import type { Connection } from './connection';
import type { Outgoing } from './outgoing';
import { render, renderCutOff, renderForOwnNode, renderRejoined, renderUnapplied } from './render';
import { expand } from './roster';
import { isSavedModeration, type SavedModerationEvent } from './moderation';
import type { SessionOptions } from './session-options';
import { NOT_SAVED } from './texts';
import { utf8Bytes } from './utf8';
import { ChatState } from './state';
import { viewOf } from './view';

/**
 * The chat, one loop of values: each connection's session turns its lines into intents, which
 * the loop (`serving`) decides on `state` and whose events it publishes on the bus; every event
 * on the bus is applied to `state` (the one reduction of the chat) and rendered for its viewers,
 * with what a session is owed (replies, a close) delivered to it as values. An event that
 * changes nothing (a name claimed first elsewhere, a departure already seen) shows nothing. When
 * a logged-in user's session ends (input ended or errored, `/quit`, a failed write ends it too),
 * its `finalize` publishes the departure, whichever way it ended, and the state lets them go
 * when it comes back. While a user's own change (a login, `/join`, `/nick`...) is on its way,
 * their intents wait in the gate until it is back (every event is, from the bus or, when it
 * cannot carry it, from this node alone); a departure meanwhile is decided once it is over, on
 * the state it left. A moderation change made here goes to the store driver once applied; its
 * operator is told when it could not be kept.
 * On a cluster's bus, what the bus signals of this node's link to the others is applied too: an
 * outage keeps this node's users alone, told once; the cluster's state restored replaces this
 * one, and this node's roster, back, puts its users back in it and says the chat is one again;
 * an event replayed is applied and not shown; what the bus asks of the state gets values.
 * Each subscription makes its own state (`seat.newState`), which nothing else changes; the node
 * reads it through the view handed to `seat.viewed`.
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
    const { bus } = seat;
    const state = seat.newState?.() ?? new ChatState();
    seat.viewed?.(viewOf(state));
    if (seat.loaded !== undefined) state.apply(seat.loaded);
    const changes = new Subject<SavedModerationEvent>(); // moderation made here, for the store driver: of a cluster's nodes, its maker's alone keeps it
    const gate = new Gate(); // whose intents wait for an own change of their user to come back
    const loop = serving(seat, state, gate, options, scheduler);
    const node = bus.node; // on a cluster, this node
    const giving = new Set<UserId>(); // this node's users asked to give a name up to its owner, until it is done
    // This node's users who left while its roster was on its way, not in the state yet: they leave after it.
    const departing = new Set<UserId>();
    const take = (delivery: Delivery): Outgoing[] => {
      switch (delivery.type) {
        case 'replayed': return happen(delivery.event, false);
        case 'bus-down': return state.keepNode(delivery.node) ? renderCutOff(state) : [];
        case 'restored': return restore(delivery);
        case 'rejoined': return rejoined(delivery.roster);
        case 'asked': bus.answer?.(answer(delivery.question)); return [];
        default: return happen(delivery, true);
      }
    };
    // An event shown (and told) once: applied again when the bus replays it, and nothing more.
    const happen = (event: ChatEvent, shown: boolean): Outgoing[] => {
      switch (event.type) {
        case 'roster': return event.node === node ? ownRoster(event, shown) : expand(event, state).flatMap((each) => happen(each, shown));
        case 'node-lost': return expand(event, state).flatMap((each) => happen(each, shown));
        default: {
          if (!shown) {
            state.apply(event);
            return [];
          }
          const applied = state.apply(event);
          const out = applied ? render(event, state) : renderUnapplied(event, state);
          if (applied) seat.applied?.(event);
          if (event.type === 'renamed') giving.delete(event.user); // the rename asked is done, or went elsewhere
          if (applied && isSavedModeration(event) && (node === undefined || nodeOf(event.user) === node)) changes.next(event);
          if (isOwnChange(event)) land(event.user, applied, bytesTo(event.user, out));
          return out;
        }
      }
    };
    const land = (user: UserId, applied: boolean, bytes: number) => {
      if (loop.landed(user, applied, bytes)) leave(user); // they left while it was on its way
    };
    // What the bus asks of the state, answered from it as it is at this point of the bus.
    const answer = (question: StateQuestion): StateAnswer => question.type === 'roster'
      ? { type: 'roster', users: node === undefined ? [] : state.rosterOf(node) }
      : { type: 'snapshot', outline: state.outline(), changes: state.historyChanges(question.since) };
    // The cluster's state replaces this node's; its users are put back by its roster, on its way.
    const restore = (signal: Extract<Delivery, { type: 'restored' }>): Outgoing[] => {
      state.restore(signal.state, signal.rejoining);
      if (!signal.rejoining) releaseWaits();
      if (!signal.rejoining) settleDepartures();
      return [];
    };
    // An own change on its way when the cluster's state came may never come back: Redis may have
    // lost it, or the snapshot holds it already. Once this node's users are back in that state,
    // whoever waits for one goes on (a departure is decided then); a login the state does not hold
    // is asked for a name again.
    const releaseWaits = () => {
      for (const user of gate.waiting()) land(user, state.user(user) !== undefined, 0);
    };
    // This node's users saw its joins and departures happen: its own roster shows them only the
    // names it changed.
    const ownRoster = (event: Extract<ChatEvent, { type: 'roster' }>, shown: boolean): Outgoing[] => {
      const out = expand(event, state).flatMap((each) => {
        if (!state.apply(each) || !shown) return [];
        seat.applied?.(each);
        return renderForOwnNode(each, state);
      });
      settleDepartures();
      return out;
    };
    // Back among the others: told once they are back in the state, if they were told they were apart.
    const rejoined = (roster: Extract<ChatEvent, { type: 'roster' }>): Outgoing[] => {
      const told = state.rejoin();
      const shown = [...(told ? renderRejoined(roster.users) : []), ...ownRoster(roster, true)];
      releaseWaits();
      if (told) giveNamesToOwners(); // once its users are back in the state
      return shown;
    };
    const settleDepartures = () => {
      const leaving = [...departing];
      departing.clear();
      leaving.forEach(leave);
    };
    // After an outage, a user of this node may hold a name registered elsewhere meanwhile, which
    // this node could not know: decide says who gives it up to its owner. Asked once the cluster
    // is one again and whenever the registered names were read again whole; a rename on its way
    // is not asked twice.
    const giveNamesToOwners = () => {
      if (node === undefined) return;
      const accounts = seat.accounts ?? NO_ACCOUNTS;
      for (const { id, nick } of state.members()) {
        if (nodeOf(id) !== node || giving.has(id)) continue;
        const account = accounts.accountOf(nick);
        const named = { registered: accounts.registered(nick), ...(account === undefined ? {} : { account }) };
        const { events } = decide(state, { type: 'name-owner', user: id, named, at: scheduler.now() });
        if (events.length > 0) giving.add(id);
        for (const event of events) bus.publish(event);
      }
    };
    const leave = (user: UserId) => {
      giving.delete(user);
      if (gate.leaveAfter(user)) return; // its user's own change is on its way: its room and name are the change's
      const { events } = decide(state, { type: 'leave', user, at: scheduler.now() });
      if (events.length === 0 && state.rejoining) departing.add(user); // in the roster on its way back, maybe
      for (const event of events) bus.publish(event);
    };
    const serve = (connection: Connection) => {
      const { id } = connection; // the departure holds the id alone, not the connection and its input$
      return loop.open(connection).pipe(finalize(() => {
        loop.ended(id);
        leave(id);
      }));
    };
    const namesRead$ = (seat.accountsReread$ ?? EMPTY).pipe(mergeMap(() => { giveNamesToOwners(); return EMPTY; }));
    const kept$ = changes.pipe(mergeMap((change) => keep(seat, change)));
    return merge(bus.events$.pipe(mergeMap(take)), kept$, connections$.pipe(mergeMap(serve), mergeMap(loop.handle)), namesRead$); // the state applies before any session reads it
  });
}

/** What the store driver said of keeping `change`, as its operator is told: nothing once kept. */
function keep({ store }: Seat, change: SavedModerationEvent): Observable<Outgoing> {
  if (store === undefined) return EMPTY;
  return store.keep(change).pipe(first(1), mergeMap((outcome) => (outcome === 'kept' ? EMPTY : of<Outgoing>({ kind: 'send', to: change.user, text: NOT_SAVED }))));
}

/** The bytes of what `shown` sends to `user` alone: what their own change cost them in output. */
function bytesTo(user: UserId, shown: readonly Outgoing[]): number {
  let bytes = 0;
  for (const each of shown) if (each.kind === 'send' && each.to === user) bytes += utf8Bytes(each.text);
  return bytes;
}
