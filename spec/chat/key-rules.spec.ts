import { MAX_KEYS } from '../../lib/chat/accounts';
import { type Decision, decide, type Intent } from '../../lib/chat/decide';
import type { ChatEvent, UserId } from '../../lib/chat/events';
import type { Caller, NameFacts } from '../../lib/chat/intent';
import type { ChatState } from '../../lib/chat/state';
import * as text from '../../lib/chat/texts';
import { CALLER, identified, joined, restored, stateAfter } from '../support/events';

/** The rules of SSH keys (#21), decided by `decide` alone: the keys a connection's door verified come in its Caller, those tied to a name in its NameFacts. */

const KEY_A = 'SHA256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const KEY_B = 'SHA256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';

/** ann (an operator by --ops) is online, identified by key A; bob without a password; cat identified by password. */
const chat = (...more: ChatEvent[]): ChatState =>
  stateAfter(
    restored(['ann']),
    joined('u1', 'ann'),
    { ...identified('u1', 'ann'), account: 'a1', key: KEY_A },
    joined('u2', 'bob'),
    joined('u3', 'cat'),
    { ...identified('u3', 'cat'), account: 'c1' },
    ...more,
  );
const SSH: Caller = { ...CALLER, keys: [KEY_B, KEY_A] };
const danFacts: NameFacts = { registered: true, account: 'd1' };
const login = (more: Partial<Extract<Intent, { type: 'login' }>>): Decision =>
  decide(stateAfter(restored(['dan'])), { type: 'login', user: 'u9', name: 'dan', at: 5, registered: true, caller: SSH, ...more });
const typed = (user: UserId, line: string, more: Partial<Extract<Intent, { type: 'line' }>> = {}): Decision =>
  decide(chat(), { type: 'line', user, text: line, at: 5, caller: SSH, ...more });

describe('SSH keys, as decide decides them', () => {
  describe('a login with a key tied to the name', () => {
    it('needs no password: the user is in and identified with the account and the key, and told which key', () => {
      const decision = login({ keyed: { ...danFacts, key: KEY_A } });
      expect(decision.password).toBeUndefined();
      expect(decision.replies).toEqual([text.keyOpened(KEY_A)]);
      expect(decision.events).toEqual([
        { type: 'joined', user: 'u9', nick: 'dan', room: '#main', at: 5 },
        { type: 'identified', user: 'u9', nick: 'dan', at: 5, account: 'd1', key: KEY_A },
      ]);
      expect(decision.tries?.proved).toBe('dan');
    });

    it('takes over the owner\'s ghost, as the right password does', () => {
      const state = stateAfter(joined('u1', 'dan'), { ...identified('u1', 'dan'), account: 'd1' });
      const decision = decide(state, { type: 'login', user: 'u9', name: 'dan', at: 5, registered: true, caller: SSH, keyed: { ...danFacts, key: KEY_A } });
      expect(decision.events[0]).toMatchObject({ type: 'resumed', user: 'u9', replaced: 'u1' });
    });

    it('asks for the password when no key of the connection is tied to the name', () => {
      expect(login({})).toMatchObject({ events: [], replies: [text.PASSWORD_PROMPT], password: 'dan' });
    });
  });

  describe('/register over SSH', () => {
    it('ties the first verified key to the name, and says so when the client offered several', () => {
      const decision = typed('u2', '/register longenough');
      expect(decision.account).toEqual({ kind: 'register', name: 'bob', password: 'longenough', key: KEY_B });
      expect(decision.replies).toEqual([text.firstOfKeys(KEY_B, 2)]);
    });

    it('ties no key from a connection without one', () => {
      expect(typed('u2', '/register longenough', { caller: CALLER }).account).toEqual({ kind: 'register', name: 'bob', password: 'longenough' });
    });

    it('tells the registration with the key tied', () => {
      const decision = decide(chat(), { type: 'account-changed', user: 'u2', request: { kind: 'register', name: 'bob', password: 'longenough', key: KEY_B }, outcome: 'done', facts: { registered: true, account: 'b1' }, at: 5 });
      expect(decision.replies).toEqual([text.accountOutcome('register', 'done', 'bob'), text.keyTied(KEY_B, 'bob')]);
    });
  });

  describe('/keys', () => {
    const owned = (keys: readonly string[]): Partial<Extract<Intent, { type: 'line' }>> => ({ named: { registered: true, account: 'c1', keys } });

    it('lists the keys tied to the owner\'s name', () => {
      expect(typed('u3', '/keys', owned([KEY_A, KEY_B])).replies).toEqual([text.reply(`key ${KEY_A}`), text.reply(`key ${KEY_B}`)]);
      expect(typed('u3', '/keys', owned([])).replies).toEqual([text.reply('no key opens cat')]);
    });

    it('is refused to a user not identified with a registered name', () => {
      expect(typed('u2', '/keys', { named: { registered: false } }).replies).toEqual([text.reply("/keys is for a registered name's owner, logged in with its password or key")]);
      expect(typed('u2', '/keys add', { named: { registered: true, keys: [] } }).account).toBeUndefined();
    });

    it('ties the connection\'s first key with add, not twice, and not past the bound', () => {
      expect(typed('u3', '/keys add', owned([]))).toMatchObject({ account: { kind: 'add-key', name: 'cat', key: KEY_B }, replies: [text.firstOfKeys(KEY_B, 2)] });
      expect(typed('u3', '/keys add', owned([KEY_B])).replies).toEqual([text.reply(`your key ${KEY_B} already opens cat`)]);
      const full = Array.from({ length: MAX_KEYS }, (_, index) => `SHA256:${String(index).padStart(43, 'k')}`);
      expect(typed('u3', '/keys add', owned(full)).replies).toEqual([text.reply(`cat has ${MAX_KEYS} keys, the most it may: remove one first`)]);
    });

    it('refuses add from a connection with no verified key', () => {
      expect(typed('u3', '/keys add', { ...owned([]), caller: CALLER }).replies).toEqual([text.reply('this connection has no verified key: log in over SSH with a key to add it')]);
    });

    it('unties a key the name has, and refuses one it has not', () => {
      expect(typed('u3', `/keys remove ${KEY_A}`, owned([KEY_A])).account).toEqual({ kind: 'remove-key', name: 'cat', key: KEY_A });
      expect(typed('u3', `/keys remove ${KEY_B}`, owned([KEY_A])).replies).toEqual([text.reply(`no such key of cat: ${KEY_B}`)]);
    });

    it('shows its usage for anything else, and waits for a change under way', () => {
      expect(typed('u3', '/keys drop', owned([])).replies).toEqual([text.reply('usage: /keys [add|remove FP]')]);
      expect(typed('u3', '/keys add', { ...owned([]), busy: true }).replies).toEqual([text.ACCOUNT_BUSY]);
    });

    it('tells how a key change ended', () => {
      const changed = (kind: 'add-key' | 'remove-key') => decide(chat(), { type: 'account-changed', user: 'u3', request: { kind, name: 'cat', key: KEY_A }, outcome: 'done', at: 5 }).replies;
      expect(changed('add-key')).toEqual([text.keyOutcome('add-key', 'done', KEY_A, 'cat')]);
      expect(changed('remove-key')).toEqual([`*** key ${KEY_A} no longer opens cat\n`]);
    });
  });

  describe('/whois', () => {
    it('shows the login key to the user themselves and to operators, never to others', () => {
      expect(typed('u1', '/whois ann').replies[0]).toContain(`logged in with key ${KEY_A}`);
      const state = chat({ type: 'opped', user: 'u1', nick: 'ann', name: 'cat', account: 'c1', at: 1 });
      expect(decide(state, { type: 'line', user: 'u3', text: '/whois ann', at: 5 }).replies[0]).toContain(KEY_A);
      expect(typed('u2', '/whois ann').replies[0]).not.toContain('SHA256');
    });
  });
});
