import { from, NEVER, type Observable, of, queueScheduler, Subject } from 'rxjs';
import { memoryBus } from '../../lib/bus/memory';
import type { Accounts, Verdict } from '../../lib/chat/accounts';
import type { Answer, Inbox } from '../../lib/chat/asks';
import type { Bus } from '../../lib/chat/bus';
import type { ChatEvent } from '../../lib/chat/events';
import { Gate } from '../../lib/chat/gate';
import type { Intent } from '../../lib/chat/intent';
import { type Seat, serving } from '../../lib/chat/loop';
import { DEFAULT_SESSION_OPTIONS } from '../../lib/chat/session-options';
import { ChatState } from '../../lib/chat/state';
import * as text from '../../lib/chat/texts';
import { CALLER, joined } from '../support/events';

/** Only ann is registered, as account a1; a check answers `verdict$`. */
const registry = (verdict$: Observable<Verdict> = of('right')): Accounts => ({
  registered: (name) => name === 'ann',
  accountOf: (name) => (name === 'ann' ? 'a1' : undefined),
  verify: () => verdict$,
  change: () => of('failed'),
});

/** What happened, in order: the answers to the session, and the events published. */
function loopOf(bus: Bus = memoryBus(), accounts: Accounts = registry()) {
  const seen: (Answer | ChatEvent)[] = [];
  const state = new ChatState();
  state.apply(joined('1', 'bob'));
  const gate = new Gate();
  const seat: Seat = { bus, accounts };
  const loop = serving(seat, state, gate, DEFAULT_SESSION_OPTIONS, queueScheduler);
  const inbox: Inbox = { answer: (answer) => seen.push(answer) };
  const ask = (intent: Intent) => from(loop.handle({ kind: 'decide', intent, inbox })).subscribe();
  return { seen, state, loop, inbox, ask };
}

/** A bus that keeps what is published, as a cluster's does until Redis hands it back. */
const slowBus = (): Bus & { readonly published: ChatEvent[] } => {
  const published: ChatEvent[] = [];
  return { publish: (event) => published.push(event), events$: new Subject<ChatEvent>(), published };
};

describe('serving', () => {
  it('adds what the accounts driver says of a name before deciding: a registered name is asked its password', () => {
    const { seen, ask } = loopOf();
    ask({ type: 'login', user: '7', name: 'ann', at: 0, caller: CALLER });
    expect(seen).toEqual([
      { kind: 'decided', decision: { events: [], replies: [text.PASSWORD_PROMPT], quit: false, password: 'ann', tries: CALLER.tries } },
      { kind: 'done' },
    ]);
  });

  it('hands the decision to its session before its events go to the bus, and says when it is done', () => {
    const bus = memoryBus();
    const { seen, ask } = loopOf(bus);
    bus.events$.subscribe((event) => seen.push(event));
    ask({ type: 'login', user: '7', name: 'cat', at: 3, caller: CALLER });
    expect(seen.map((each) => ('kind' in each ? each.kind : each.type))).toEqual(['decided', 'joined', 'done']);
  });

  it("holds a user's intents while an own change of theirs is on its way, and decides them on the state it makes once it is back", () => {
    const bus = slowBus();
    const { seen, state, loop, ask } = loopOf(bus);
    ask({ type: 'line', user: '1', text: '/join #games', at: 1 });
    ask({ type: 'line', user: '1', text: 'hi', at: 2 });
    expect(bus.published.map(({ type }) => type)).toEqual(['moved']); // 'hi' waits
    const [moved] = bus.published;
    if (moved === undefined) throw new Error('no move');
    expect(loop.landed('1', state.apply(moved), 0)).toBe(false);
    expect(bus.published.slice(1)).toEqual([{ type: 'said', user: '1', nick: 'bob', room: '#games', text: 'hi', at: 2 }]);
    expect(seen.filter((answer) => 'kind' in answer && answer.kind === 'landed')).toEqual([{ kind: 'landed', applied: true, bytes: 0 }]);
  });

  it('answers a password check with what the accounts driver says, and lets it go when its session ends', () => {
    const { seen, loop, inbox } = loopOf();
    from(loop.handle({ kind: 'verify', user: '7', name: 'ann', password: 'secret-one', from: '', inbox })).subscribe();
    expect(seen).toEqual([{ kind: 'verdict', name: 'ann', verdict: 'right' }]);
    const waiting = loopOf(memoryBus(), registry(NEVER));
    let over = false;
    from(waiting.loop.handle({ kind: 'verify', user: '7', name: 'ann', password: 'secret-one', from: '', inbox: waiting.inbox })).subscribe({ complete: () => (over = true) });
    waiting.loop.ended('7');
    expect(over).toBe(true);
    expect(waiting.seen).toEqual([]);
  });
});
