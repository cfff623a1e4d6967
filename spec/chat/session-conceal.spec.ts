import { filter, type Observable, of } from 'rxjs';
import { memoryBus } from '../../lib/bus/memory';
import type { Accounts, Verdict } from '../../lib/chat/accounts';
import type { Outgoing } from '../../lib/chat/outgoing';
import { DEFAULT_SESSION_OPTIONS, type SessionOptions } from '../../lib/chat/session-options';
import { session } from '../support/session';
import * as text from '../../lib/chat/texts';
import { BUDGET_SPENT, INPUT_ENDED, type Input } from '../../lib/chat/input';
import { scheduler } from '../support/marbles';
import { annOnlyAccounts } from '../support/accounts';

const options: SessionOptions = { ...DEFAULT_SESSION_OPTIONS, loginTimeoutMs: 100 };

const send = (line: string): Outgoing => ({ kind: 'send', to: '7', text: line });
const out = {
  g: send(text.greeting(options.banner)), p: send(text.PROMPT), w: send(text.PASSWORD_IN_CLEAR), q: send(text.PASSWORD_PROMPT),
  x: send(text.WRONG_PASSWORD), h: { kind: 'conceal', to: '7', hidden: true }, s: { kind: 'conceal', to: '7', hidden: false },
} satisfies Record<string, Outgoing>;


/** What the session tells its connection's door, the chat's events left out. */
function told(input$: Observable<Input>, registry: Accounts, secure = false, sessionOptions = options): Observable<Outgoing> {
  const seat = { bus: memoryBus(), accounts: registry };
  return session({ id: '7', input$, secure, from: '10.0.0.1' }, seat, sessionOptions).pipe(filter((out): out is Outgoing => 'kind' in out));
}

describe('session: what is typed at the password prompt is hidden by the door', () => {
  it('hides it before each password prompt and shows it again once the password line is read, before its answer', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const input = cold<Input>('----a-----b---------c', { a: 'ann', b: 'wrong-one', c: 'right-one' });
      expectObservable(told(input, annOnlyAccounts(2, cold)), '^-------------------------!').toBe('(gp)(whq)-s-(xhq)---s--', out);
    });
  });

  it('shows it again before the close when the login times out, the input ends, or the login bytes run out, at the prompt', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const timeout = { ...out, t: send(text.besidePrompt(text.LOGIN_TIMED_OUT)), c: { kind: 'close', to: '7', reason: 'login_timeout' } };
      expectObservable(told(cold<Input>('----a', { a: 'ann' }), annOnlyAccounts(0, cold), true)).toBe('(gp)(hq) 92ms (stc|)', timeout);
      const ended = { ...out, c: { kind: 'close', to: '7', reason: 'eof' } };
      expectObservable(told(cold<Input>('----a----e', { a: 'ann', e: INPUT_ENDED }), annOnlyAccounts(0, cold), true)).toBe('(gp)(hq)-(sc|)', ended);
      const spent = { ...out, b: send(text.tooMuchLoginInput(options.maxLoginBytes)), c: { kind: 'close', to: '7', reason: 'login_limit' } };
      expectObservable(told(cold<Input>('----a----b', { a: 'ann', b: BUDGET_SPENT }), annOnlyAccounts(0, cold), true)).toBe('(gp)(hq)-(sbc|)', spent);
    });
  });

  it('is shown already when a failed check sends the user back to the username prompt', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const input = cold<Input>('----a----b', { a: 'ann', b: 'right-one' });
      const failing = { ...annOnlyAccounts(0, cold), verify: () => of<Verdict>('failed') };
      expectObservable(told(input, failing, true), '^---------!').toBe('(gp)(hq)-(sfp)', { ...out, f: send(text.CHECK_FAILED) });
    });
  });

  it('is never hidden where there is no password prompt: a name with no password, or one refused for want of TLS', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const bob = cold<Input>('----b-c', { b: 'bob', c: 'hi' });
      expectObservable(told(bob, annOnlyAccounts(0, cold)), '^---------!').toBe('(gp)', out); // the join is the chat's to render
      const ann = cold<Input>('----a', { a: 'ann' });
      const needsTls = { ...options, requireTlsForPasswords: true };
      expectObservable(told(ann, annOnlyAccounts(0, cold), false, needsTls), '^---------!').toBe('(gp)(tp)', { ...out, t: send(text.nameNeedsTls('ann')) });
    });
  });
});
