import { filter, type Observable } from 'rxjs';
import { memoryBus } from '../../lib/bus/memory';
import { type ChatEvent, MAIN_ROOM } from '../../lib/chat/events';
import { MAX_NAME_LENGTH } from '../../lib/chat/names';
import type { Outgoing } from '../../lib/chat/outgoing';
import { DEFAULT_SESSION_OPTIONS, MAX_LOGIN_BYTES, MAX_NAME_ATTEMPTS, type SessionOptions } from '../../lib/chat/session-options';
import type { Seat } from '../../lib/chat/loop';
import { session } from '../support/session';
import { ChatState } from '../../lib/chat/state';
import * as text from '../../lib/chat/texts';
import { BUDGET_SPENT, type Input, OVERLONG_LINE } from '../../lib/chat/input';
import { scheduler } from '../support/marbles';

const options: SessionOptions = { ...DEFAULT_SESSION_OPTIONS, maxNameAttempts: 3, maxLoginBytes: 1000, loginTimeoutMs: 100 };
const send = (line: string): Outgoing => ({ kind: 'send', to: '7', text: line });
const refused = (reason: string) => send(text.nameRefused(reason));
const out = {
  g: send(text.greeting(options.banner)),
  p: send(text.PROMPT),
  e: refused('username must not be empty'),
  o: refused(`username too long (max ${MAX_NAME_LENGTH} characters)`),
  t: refused('username bob is taken'),
  m: send(text.TOO_MANY_NAME_ATTEMPTS),
  b: send(text.tooMuchLoginInput(1000)),
  c: { kind: 'close', to: '7', reason: 'login_limit' },
} satisfies Record<string, Outgoing>;
const lines = { e: '', o: OVERLONG_LINE, t: 'bob', a: 'ann', s: BUDGET_SPENT, h: 'hello' } satisfies Record<string, Input>;

/** A chat where bob is logged in, and the events the session's loop published (it applies them). */
function chatWithBob(): { seat: Seat; published: ChatEvent[] } {
  const state = new ChatState();
  state.apply({ type: 'joined', user: '1', nick: 'bob', room: MAIN_ROOM, at: 0 });
  const bus = memoryBus();
  const published: ChatEvent[] = [];
  bus.events$.subscribe((event) => published.push(event));
  return { seat: { newState: () => state, bus }, published };
}

/** What the session sends its user alone. */
const sent = (input$: Observable<Input>, seat: Seat, sessionOptions: SessionOptions): Observable<Outgoing> =>
  session({ id: '7', input$ }, seat, sessionOptions).pipe(filter((value): value is Outgoing => 'kind' in value));

describe('login limits', () => {
  it('allows 10 usernames to be refused by default, and 64 KiB before login', () => {
    expect(MAX_NAME_ATTEMPTS).toBe(10);
    expect(MAX_LOGIN_BYTES).toBe(64 * 1024);
    expect(DEFAULT_SESSION_OPTIONS).toMatchObject({ maxNameAttempts: MAX_NAME_ATTEMPTS, maxLoginBytes: MAX_LOGIN_BYTES });
  });

  it('closes a connection at its last refused username: the reason, why it closes, and no prompt', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold<Input>('----e----o----t', lines);
      const expected = '         (gp)(ep)-(op)-(tmc|)';
      expectObservable(sent(input, chatWithBob().seat, options)).toBe(expected, out);
      expectSubscriptions(input.subscriptions).toBe('^-------------!');
    });
  });

  it('counts every refusal, an over-long line and a taken name too, up to the default 10th', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const defaults = { ...DEFAULT_SESSION_OPTIONS, loginTimeoutMs: 1000 };
      const input = cold<Input>('----e----o----t----e----o----t----e----o----t----e', lines);
      const expected = '         (gp)(ep)-(op)-(tp)-(ep)-(op)-(tp)-(ep)-(op)-(tp)-(emc|)';
      expectObservable(sent(input, chatWithBob().seat, defaults)).toBe(expected, out);
      expectSubscriptions(input.subscriptions).toBe('^ 48ms !');
    });
  });

  it('takes a valid name after nine refusals', () => {
    scheduler().run(({ cold, expectObservable, flush }) => {
      const defaults = { ...DEFAULT_SESSION_OPTIONS, loginTimeoutMs: 1000 };
      const { seat, published } = chatWithBob();
      const input = cold<Input>('----e----o----t----e----o----t----e----o----t----a', lines);
      const expected = '         (gp)(ep)-(op)-(tp)-(ep)-(op)-(tp)-(ep)-(op)-(tp)--';
      expectObservable(sent(input, seat, defaults), '^ 50ms !').toBe(expected, out);
      flush();
      expect(published).toEqual([{ type: 'joined', user: '7', nick: 'ann', room: MAIN_ROOM, at: 49 }]);
    });
  });

  it('closes a connection that spends its byte budget before login, whatever it was typing', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold<Input>('----e----s----a', lines);
      const expected = '         (gp)(ep)-(bc|)';
      expectObservable(sent(input, chatWithBob().seat, options)).toBe(expected, out);
      expectSubscriptions(input.subscriptions).toBe('^--------!');
    });
  });

  it('ignores the byte budget once logged in', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions, flush }) => {
      const { seat, published } = chatWithBob();
      const input = cold<Input>('----e----o----a----s----h', lines);
      const expected = '         (gp)(ep)-(op)-';
      expectObservable(sent(input, seat, options), '^ 30ms !').toBe(expected, out);
      expectSubscriptions(input.subscriptions).toBe('^ 30ms !');
      flush();
      expect(published.map(({ type }) => type)).toEqual(['joined', 'said']);
    });
  });
});
