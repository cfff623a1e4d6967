import { filter, merge, NEVER, Observable, Subscriber } from 'rxjs';
import { memoryBus } from '../../lib/bus/memory';
import type { ChatEvent } from '../../lib/chat/events';
import { MAX_NAME_LENGTH } from '../../lib/chat/names';
import type { Outgoing } from '../../lib/chat/outgoing';
import { DEFAULT_SESSION_OPTIONS, type SessionOptions } from '../../lib/chat/session-options';
import type { Seat } from '../../lib/chat/loop';
import { session } from '../support/session';
import { ChatState } from '../../lib/chat/state';
import * as text from '../../lib/chat/texts';
import { type Input, INPUT_ENDED, OVERLONG_LINE } from '../../lib/chat/input';
import { given } from '../support/events';
import { scheduler } from '../support/marbles';

const options: SessionOptions = { ...DEFAULT_SESSION_OPTIONS, loginTimeoutMs: 100, rateLimits: { linesPerSecond: 100, burstLines: 1, maxQueuedLines: 1 } };

const send = (line: string): Outgoing => ({ kind: 'send', to: '7', text: line });
const refused = (reason: string) => send(text.nameRefused(reason));
const joined = (nick: string, at: number): ChatEvent => ({ type: 'joined', user: '7', nick, room: '#main', at });
const said = (line: string, at: number): ChatEvent => ({ type: 'said', user: '7', nick: 'ann', room: '#main', text: line, at });
const out = {
  g: send(text.greeting(options.banner)), p: send(text.PROMPT), j: joined('ann', 4), c: { kind: 'close', to: '7', reason: 'login_timeout' }, e: { kind: 'close', to: '7', reason: 'eof' },
} satisfies Record<string, Outgoing | ChatEvent>;

/** A chat where bob is logged in, as the session's seat; the loop applies what it publishes. */
function seat(state = withBob()): Seat {
  return { newState: () => state, bus: memoryBus() };
}

/** A state where bob is logged in. */
const withBob = (): ChatState => given(new ChatState(), { type: 'joined', user: '1', nick: 'bob', room: '#main', at: 0 });

/** What the session sends its user alone. */
const sent = (input$: Observable<Input>, at: Seat): Observable<Outgoing> =>
  session({ id: '7', input$ }, at, options).pipe(filter((value): value is Outgoing => 'kind' in value));

/** The session's replies and the events it published, in the order they happened. */
function observed(input$: Observable<Input>, at: Seat = seat()): Observable<Outgoing | ChatEvent> {
  return merge(session({ id: '7', input$ }, at, options), NEVER); // the chat's bus goes on after the session
}

describe('session', () => {
  it('refuses each bad attempt with its reason and the prompt, then publishes the join of the accepted name, trimmed', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold<Input>('----e----t----a', { e: '', t: 'BOB', a: ' Ann\t' });
      expectObservable(observed(input)).toBe('(gp)(ep)-(tp)-j', {
        ...out, e: refused('username must not be empty'), t: refused('username bob is taken'), j: joined('Ann', 14),
      });
      expectSubscriptions(input.subscriptions).toBe('^');
    });
  });

  it('refuses an over-long line as a name', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const input = cold<Input>('----o', { o: OVERLONG_LINE });
      expectObservable(observed(input), '^-------!').toBe('(gp)(op)', {
        ...out, o: refused(`username too long (max ${MAX_NAME_LENGTH} characters)`),
      });
    });
  });

  it('times out a connection that never logs in, asks for it to be closed and stops reading it', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold<Input>('-');
      expectObservable(sent(input, seat())).toBe('(gp) 96ms (tc|)', {
        ...out, t: send(text.besidePrompt(text.LOGIN_TIMED_OUT)),
      });
      expectSubscriptions(input.subscriptions).toBe('^ 99ms !');
    });
  });

  it('stops its login timer once logged in', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const input = cold<Input>('----a 200ms |', { a: 'ann' });
      expectObservable(sent(input, seat())).toBe('(gp) 201ms (e|)', out);
    });
  });

  it('asks for the connection to be closed, and stops its timer, when the input ends before a login', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(sent(cold<Input>('----|'), seat())).toBe('(gp)(e|)', out);
    });
  });

  it('completes, not errors, when the input errors: a user\'s error is their disconnect', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(sent(cold<Input>('----a----#', { a: 'ann' }), seat())).toBe('(gp)-----|', out);
    });
  });

  it('asks for the connection to be closed, and completes, once its delayed lines are out when the input ends', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const input = cold<Input>('----a----(xy|)', { a: 'ann', x: 'x', y: 'y' });
      expectObservable(sent(input, seat())).toBe('(gp)------ 9ms (e|)', out);
    });
  });

  it('completes at once when the input errors, dropping the lines still delayed', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const input = cold<Input>('----a----(xy)#', { a: 'ann', x: 'x', y: 'y' });
      expectObservable(observed(input)).toBe('(gp)j----x', { ...out, x: said('x', 9) });
    });
  });

  it("keeps pacing the delayed lines after the peer's end (a half-close), then asks for the close", () => {
    scheduler().run(({ cold, expectObservable }) => {
      const input = cold<Input>('----a----(xyE)', { a: 'ann', x: 'x', y: 'y', E: INPUT_ENDED });
      expectObservable(observed(input)).toBe('(gp)j----x 9ms (ye)', { ...out, x: said('x', 9), y: said('y', 19) });
    });
  });

  it("drops the delayed lines, and completes at once, when the connection is lost after its peer's end", () => {
    scheduler().run(({ cold, expectObservable }) => {
      const lost = cold<Input>('----a----(xyE)-#', { a: 'ann', x: 'x', y: 'y', E: INPUT_ENDED }, new Error('EPIPE'));
      expectObservable(observed(lost), '^-------------------------!').toBe('(gp)j----x', { ...out, x: said('x', 9) });
      const closed = cold<Input>('----a----(xyE)-|', { a: 'ann', x: 'x', y: 'y', E: INPUT_ENDED });
      expectObservable(sent(closed, seat())).toBe('(gp) 11ms |', out);
    });
  });

  it('stops reading and drops the delayed lines when unsubscribed', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold<Input>('----a----(xy)', { a: 'ann', x: 'x', y: 'y' });
      expectObservable(observed(input), '^------------!').toBe('(gp)j----x', { ...out, x: said('x', 9) });
      expectSubscriptions(input.subscriptions).toBe('^------------!');
    });
  });

  it('ends only its own session, quietly, when handling a line throws', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const state = withBob();
      const broken = seat(state);
      jest.spyOn(state, 'userNamed').mockImplementation(() => {
        throw new Error('bug');
      });
      expectObservable(sent(cold<Input>('----a', { a: 'ann' }), broken)).toBe('(gp)|', out);
    });
  });

  it('decides on cleaned lines, skips blank ones, and paces them', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const input = cold<Input>('----a----(xbyo|)', { a: 'ann', x: 'x\x07', b: ' ', y: 'y', o: OVERLONG_LINE });
      expectObservable(observed(input)).toBe('(gp)j----(xs) 6ms (ye)', {
        ...out, x: said('x', 9), y: said('y', 19), s: send(text.SLOW_DOWN),
      });
    });
  });

  it('replies to a command alone, and closes after /quit', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold<Input>('----a----b 20ms q----x', { a: 'ann', b: '/back', q: '/quit bye', x: 'after' });
      expectObservable(observed(input)).toBe('(gp)j----n 20ms (qc)', {
        ...out, n: send(text.reply('you are not away')), q: send(text.GOODBYE), c: { kind: 'close', to: '7', reason: 'quit' },
      });
      expectSubscriptions(input.subscriptions).toBe('^ 29ms !');
    });
  });

  describe('as its input\'s own subscriber', () => {
    /** An input that keeps the subscriber it is given and counts its teardowns. */
    function input() {
      const seen: { reader?: Subscriber<Input>; teardowns: number } = { teardowns: 0 };
      const input$ = new Observable<Input>((subscriber) => {
        seen.reader = subscriber;
        return () => (seen.teardowns += 1);
      });
      return { input$, seen };
    }

    it('is given no Subscriber of RxJS between its input and itself', () => {
      const { input$, seen } = input();
      session({ id: '7', input$ }, seat(), options).subscribe().unsubscribe();
      expect(seen.reader).toBeDefined();
      expect(seen.reader).not.toBeInstanceOf(Subscriber);
    });

    it('runs the input\'s teardown once when the input ends, and reads nothing after', () => {
      const { input$, seen } = input();
      const replies: (Outgoing | ChatEvent)[] = [];
      let completed = false;
      session({ id: '7', input$ }, seat(), options).subscribe({ next: (reply) => replies.push(reply), complete: () => (completed = true) });
      seen.reader?.complete();
      seen.reader?.next('ann');
      seen.reader?.complete();
      expect(seen.teardowns).toBe(1);
      expect(seen.reader?.closed).toBe(true);
      expect(replies).toEqual([out.g, out.p, out.e]); // the end of input asks for the close
      expect(completed).toBe(true);
    });

    it('runs the input\'s teardown once when the session ends', () => {
      const { input$, seen } = input();
      session({ id: '7', input$ }, seat(), options).subscribe().unsubscribe();
      seen.reader?.error(new Error('ECONNRESET'));
      expect(seen.teardowns).toBe(1);
    });
  });
});
