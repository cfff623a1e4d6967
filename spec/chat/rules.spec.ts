import { MAX_PASSWORD_TRIES, MAX_UNCHECKED_TRIES, type Verdict } from '../../lib/chat/accounts';
import { type Decision, decide, type Intent } from '../../lib/chat/decide';
import type { ChatEvent, UserId } from '../../lib/chat/events';
import { type Caller, NO_TRIES, type Tries } from '../../lib/chat/intent';
import type { ChatState } from '../../lib/chat/state';
import * as text from '../../lib/chat/texts';
import { CALLER, identified, joined, restored, stateAfter } from '../support/events';

/**
 * Every rule of the chat, each decided by `decide` alone on a state and an intent: who may take
 * a name (at login, by /nick), when a password is needed and whether it was given, bans, mutes,
 * operators and their grants, and changes to registered names. What a connection tried so far
 * comes in the intent (Caller), what a name is now (NameFacts) from the accounts driver.
 */

/** ann (an operator by --ops, who gave her password, account a1) from 10.0.0.1; bob (no password) from 10.0.0.2. */
const chat = (...more: ChatEvent[]): ChatState =>
  stateAfter(
    restored(['ann'], { bans: [{ name: 'eve', address: '10.0.0.66', until: null, by: 'ann', reason: '' }] }),
    { ...joined('u1', 'ann'), from: '10.0.0.1' },
    { ...identified('u1', 'ann'), account: 'a1' },
    { ...joined('u2', 'bob'), from: '10.0.0.2' },
    ...more,
  );
const PLAIN: Caller = { ...CALLER, secure: false };
const tried = (tries: Partial<Tries>, caller: Caller = CALLER): Caller => ({ ...caller, tries: { ...NO_TRIES, ...tries } });
const login = (name: string, more: Partial<Extract<Intent, { type: 'login' }>> = {}): Decision =>
  decide(chat(), { type: 'login', user: 'u9', name, at: 5, caller: CALLER, ...more });
const checked = (verdict: Verdict, caller: Caller = CALLER, late = false, state = chat()): Decision =>
  decide(state, { type: 'password-checked', user: 'u9', name: 'dan', verdict, at: 5, facts: { registered: true, account: 'd1' }, caller, late });
const typed = (line: string, more: Partial<Extract<Intent, { type: 'line' }>> = {}, user: UserId = 'u2', state = chat()): Decision =>
  decide(state, { type: 'line', user, text: line, at: 5, ...more });
const danJoined: ChatEvent = { type: 'joined', user: 'u9', nick: 'dan', room: '#main', at: 5 };
const danIdentified: ChatEvent = { type: 'identified', user: 'u9', nick: 'dan', at: 5, account: 'd1' };

describe('the rules of the chat, as decide decides them', () => {
  describe('who may take a name at login', () => {
    it('lets a free, valid name in', () => {
      expect(login('dan').events).toEqual([danJoined]);
    });

    it('refuses a name someone holds, or one that breaks a name rule, counting the refusal', () => {
      expect(login('BOB')).toEqual({ events: [], replies: [text.nameRefused('username bob is taken'), text.PROMPT], quit: false, tries: { ...NO_TRIES, refusals: 1 } });
      expect(login('d an').replies[0]).toBe(text.nameRefused('username must not contain spaces'));
    });

    it('refuses a name too long to read as any other', () => {
      expect(decide(chat(), { type: 'overlong-name', user: 'u9', at: 5, caller: CALLER }).tries).toEqual({ ...NO_TRIES, refusals: 1 });
    });

    it('closes the connection at its last refused name, with no prompt', () => {
      expect(login('bob', { caller: tried({ refusals: 9 }) })).toEqual({
        events: [], replies: [text.nameRefused('username bob is taken'), text.TOO_MANY_NAME_ATTEMPTS], quit: false, tries: { ...NO_TRIES, refusals: 10 }, close: 'login_limit',
      });
    });

    it('refuses and closes a banned name, and any login from a banned address but an operator who gives their password', () => {
      expect(login('EVE')).toMatchObject({ replies: [text.YOU_ARE_BANNED], banned: true });
      expect(login('dan', { from: '10.0.0.66' })).toMatchObject({ banned: true });
      expect(login('ann', { from: '10.0.0.66', registered: true, account: 'a1' }).events).toEqual([
        { type: 'resumed', user: 'u9', replaced: 'u1', nick: 'ann', at: 5, from: '10.0.0.66' },
      ]);
    });
  });

  describe('when a password is needed', () => {
    it('asks a registered name its password before anything else', () => {
      expect(login('dan', { registered: true })).toEqual({ events: [], replies: [text.PASSWORD_PROMPT], quit: false, password: 'dan', tries: NO_TRIES });
    });

    it('warns a plain connection once that its password crosses in clear', () => {
      expect(login('dan', { registered: true, caller: PLAIN }).replies).toEqual([text.PASSWORD_IN_CLEAR, text.PASSWORD_PROMPT]);
      expect(login('dan', { registered: true, caller: tried({ warned: true }, PLAIN) }).replies).toEqual([text.PASSWORD_PROMPT]);
    });

    it('refuses it over a plain connection when passwords need TLS, without counting a refused name', () => {
      const caller: Caller = { ...PLAIN, rules: { ...PLAIN.rules, requireTlsForPasswords: true } };
      expect(login('dan', { registered: true, caller })).toEqual({ events: [], replies: [text.nameNeedsTls('dan'), text.PROMPT], quit: false });
    });
  });

  describe('whether the password was given', () => {
    it('logs the user in with the right one, and the chat learns whose password it was', () => {
      expect(checked('right')).toMatchObject({ events: [danJoined, danIdentified], tries: { ...NO_TRIES, proved: 'dan' } });
    });

    it('counts a wrong one and asks again, up to MAX_PASSWORD_TRIES, then closes', () => {
      expect(checked('wrong')).toMatchObject({ replies: [text.WRONG_PASSWORD, text.PASSWORD_PROMPT], password: 'dan', tries: { wrong: 1 } });
      expect(checked('wrong', tried({ wrong: MAX_PASSWORD_TRIES - 1 }))).toMatchObject({ replies: [text.WRONG_PASSWORD, text.TOO_MANY_PASSWORD_TRIES], close: 'wrong_password' });
    });

    it('counts one not checked apart, with a higher bound: guesses elsewhere must not close its owner out', () => {
      expect(checked('unchecked', tried({ wrong: MAX_PASSWORD_TRIES - 1 }))).toMatchObject({ replies: [text.PASSWORD_UNCHECKED, text.PASSWORD_PROMPT], tries: { unchecked: 1 } });
      expect(checked('unchecked', tried({ unchecked: MAX_UNCHECKED_TRIES - 1 }))).toMatchObject({ close: 'login_limit' });
    });

    it('asks for a username again when the check failed, or the password is that of an account that lost the name', () => {
      expect(checked('failed').replies).toEqual([text.CHECK_FAILED, text.PROMPT]);
      expect(checked('displaced').replies).toEqual([text.nameDisplaced('dan'), text.PROMPT]);
    });

    it('closes, past the login deadline, where it would wait for another line', () => {
      expect(checked('wrong', CALLER, true)).toMatchObject({ replies: [text.WRONG_PASSWORD, text.LOGIN_TIMED_OUT], close: 'login_timeout' });
      expect(checked('failed', CALLER, true)).toMatchObject({ replies: [text.CHECK_FAILED, text.PROMPT, text.besidePrompt(text.LOGIN_TIMED_OUT)], close: 'login_timeout' });
    });

    it("takes over one's own ghost (the same account, back on a new connection), and renames whoever holds the name without its password", () => {
      const ghost = chat({ type: 'joined', user: 'u7', nick: 'dan', room: '#main', at: 0 }, { type: 'identified', user: 'u7', nick: 'dan', account: 'd1', at: 0 });
      expect(checked('right', CALLER, false, ghost).events[0]).toEqual({ type: 'resumed', user: 'u9', replaced: 'u7', nick: 'dan', at: 5 });
      const squatter = chat({ type: 'joined', user: 'u7', nick: 'dan', room: '#main', at: 0 });
      expect(checked('right', CALLER, false, squatter).events.slice(0, 2)).toEqual([
        { type: 'renamed', user: 'u7', from: 'dan', nick: 'dan_2', room: '#main', at: 5, displaced: true, owner: true }, danJoined,
      ]);
    });

    it('decides again a login with its password that did not apply; without one, the name is taken', () => {
      const unapplied = (caller: Caller): Decision =>
        decide(chat(), { type: 'login-unapplied', user: 'u9', name: 'dan', at: 5, facts: { registered: true, account: 'd1' }, caller, late: false });
      expect(unapplied(tried({ proved: 'dan' })).events).toEqual([danJoined, danIdentified]);
      expect(unapplied(CALLER).replies).toEqual([text.nameRefused('username dan is taken'), text.PROMPT]);
    });
  });

  describe('/nick', () => {
    it('refuses a name someone holds, or a banned one', () => {
      expect(typed('/nick ANN').replies).toEqual([text.reply('username ann is taken')]);
      expect(typed('/nick eve').replies).toEqual([text.nameBanned('eve')]);
    });

    it('refuses a registered name to whoever did not give its password, for the account that holds it now', () => {
      expect(typed('/nick dan', { named: { registered: true, account: 'd1' } }).replies).toEqual([text.nameRegistered('dan')]);
      const back = chat({ type: 'renamed', user: 'u1', from: 'ann', nick: 'anna', room: '#main', at: 1 });
      expect(typed('/nick ann', { named: { registered: true, account: 'a1' } }, 'u1', back).events).toHaveLength(1);
      expect(typed('/nick ann', { named: { registered: true, account: 'a2' } }, 'u1', back).replies).toEqual([text.nameRegistered('ann')]);
    });
  });

  describe('who keeps a name registered elsewhere during an outage', () => {
    const owner = (user: UserId, registered: boolean, state = chat()): Decision =>
      decide(state, { type: 'name-owner', user, named: { registered, account: 'b1' }, at: 9 });

    it('gives it up for a free variant, told why, when its holder did not give its password', () => {
      expect(owner('u2', true).events).toEqual([
        { type: 'renamed', user: 'u2', from: 'bob', nick: 'bob_2', room: '#main', at: 9, displaced: true, owner: true },
      ]);
    });

    it('leaves it to a holder who gave its password, to a name nobody registered, and to nobody while the node is apart', () => {
      expect(owner('u1', true).events).toEqual([]);
      expect(owner('u2', false).events).toEqual([]);
      const apart = chat();
      apart.keepNode(''); // the users here are this node's: their ids have no node prefix
      expect(owner('u2', true, apart).events).toEqual([]);
    });
  });

  describe('operators, grants and mutes', () => {
    it('lets operators alone moderate', () => {
      expect(typed('/kick ann').replies).toEqual([text.reply('only operators may use /kick')]);
      expect(typed('/kick bob', {}, 'u1').events[0]).toMatchObject({ type: 'kicked', target: 'u2' });
    });

    it('grants operator only to a user who gave the password of their name, for that account', () => {
      expect(typed('/op bob', {}, 'u1').replies).toEqual([text.reply('bob has not logged in with the password of a registered name')]);
      const proven = chat({ type: 'identified', user: 'u2', nick: 'bob', account: 'b1', at: 1 });
      expect(typed('/op bob', {}, 'u1', proven).events[0]).toMatchObject({ type: 'opped', name: 'bob', account: 'b1' });
    });

    it("keeps a muted user's topic to themselves", () => {
      const muted = chat({ type: 'muted', user: 'u1', nick: 'ann', name: 'bob', until: 100, at: 1 });
      expect(typed('/topic chess', {}, 'u2', muted)).toEqual({ events: [], replies: [text.topicSet('bob', 'chess')], quit: false });
    });
  });

  describe('/register, /password and /unregister', () => {
    it('asks the accounts driver for one change at a time', () => {
      expect(typed('/register secret-one').account).toEqual({ kind: 'register', name: 'bob', password: 'secret-one' });
      expect(typed('/register secret-one', { busy: true }).replies).toEqual([text.ACCOUNT_BUSY]);
    });

    it('refuses a password that breaks the rules', () => {
      expect(typed('/register short').replies).toEqual([text.reply('a password is one word of 8 to 128 characters')]);
    });

    it('warns a plain connection once, or refuses it when passwords need TLS', () => {
      expect(typed('/register secret-one', { caller: PLAIN })).toMatchObject({ replies: [text.PASSWORD_IN_CLEAR], tries: { warned: true } });
      const caller: Caller = { ...PLAIN, rules: { ...PLAIN.rules, requireTlsForPasswords: true } };
      expect(typed('/password secret-one secret-two', { caller })).toEqual({ events: [], replies: [text.PASSWORDS_NEED_TLS], quit: false });
    });

    it("lets an operator release another's registered name, and no operator's name until it is /deop'd", () => {
      expect(typed('/unregister dan', { named: { registered: true, account: 'd1' } }, 'u1').account).toEqual({ kind: 'release', name: 'dan', by: 'ann' });
      expect(typed('/unregister secret-one', { named: { registered: false } }, 'u1').account).toEqual({ kind: 'unregister', name: 'ann', password: 'secret-one' });
      const opped = chat({ type: 'opped', user: 'u1', nick: 'ann', name: 'dan', account: 'd1', at: 1 });
      expect(typed('/unregister dan', { named: { registered: true } }, 'u1', opped).replies).toEqual([text.reply("dan is an operator's name: /deop it first")]);
    });

    it('tells how a change ended, and a name registered is proved by its new owner', () => {
      const changed = (outcome: 'done' | 'failed'): Decision =>
        decide(chat(), { type: 'account-changed', user: 'u2', request: { kind: 'register', name: 'bob', password: 'secret-one' }, outcome, facts: { registered: true, account: 'b1' }, at: 5 });
      expect(changed('done')).toEqual({ events: [{ type: 'identified', user: 'u2', nick: 'bob', at: 5, account: 'b1' }], replies: [text.accountOutcome('register', 'done', 'bob')], quit: false });
      expect(changed('failed').events).toEqual([]);
    });
  });
});
