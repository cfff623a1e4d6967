import { COMMANDS } from '../../lib/chat/commands';
import { type Decision, decide, duration, MAX_AWAY_LENGTH, MAX_TOPIC_LENGTH } from '../../lib/chat/decide';
import type { UserId } from '../../lib/chat/events';
import { ChatState, MAX_ROOMS } from '../../lib/chat/state';
import { NO_TRIES } from '../../lib/chat/intent';
import { GOODBYE, PASSWORD_PROMPT, PROMPT } from '../../lib/chat/texts';
import {
  CALLER, given,
  acted, away, back, identified, ignored, joined, left, moved, renamed, said, stateAfter, topic, unignored, whispered,
} from '../support/events';

/** ann, bob and cat in #main, logged in at 0. */
const chat = (): ChatState => stateAfter(joined('u1', 'ann'), joined('u2', 'bob'), joined('u3', 'cat'));
const typed = (state: ChatState, text: string, user: UserId = 'u1', at = 0): Decision => decide(state, { type: 'line', user, text, at });
const replies = (...lines: string[]): Decision => ({ events: [], replies: lines.map((line) => `*** ${line}\n`), quit: false });
const events = (...published: Decision['events']): Decision => ({ events: published, replies: [], quit: false });
const NOTHING: Decision = { events: [], replies: [], quit: false };
/** Asked the password of `name`, over TLS: no warning. */
const prompted = (name: string): Decision => ({ events: [], replies: [PASSWORD_PROMPT], quit: false, password: name, tries: NO_TRIES });

describe('limits', () => {
  it('are 200 characters for a topic and an away reason, and 1000 rooms', () => {
    expect([MAX_TOPIC_LENGTH, MAX_AWAY_LENGTH, MAX_ROOMS]).toEqual([200, 200, 1000]);
  });
});

describe('decide', () => {
  describe('login', () => {
    const login = (state: ChatState, name: string, user = 'u9', at = 7): Decision => decide(state, { type: 'login', user, name, at, caller: CALLER });
    const refused = (reason: string): Decision => ({ events: [], replies: [`*** ${reason}\n`, PROMPT], quit: false, tries: { ...NO_TRIES, refusals: 1 } });

    it('joins #main under the name as typed, trimmed', () => {
      expect(login(chat(), '  dan ')).toEqual(events(joined('u9', 'dan', '#main', 7)));
    });

    it.each([
      ['Bob', 'username bob is taken'],
      ['BOB', 'username bob is taken'],
      ['ｂｏｂ', 'username bob is taken'],
      ['b\u043eb', 'username bob is taken'], // a lookalike of a name in use is told whose
      ['d\u043en', 'username must not mix scripts (Latin and Cyrillic)'],
      ['', 'username must not be empty'],
      ['   ', 'username must not be empty'],
      ['d\x1ban', 'username must not contain control characters'],
      ['d an', 'username must not contain spaces'],
      ['d'.repeat(33), 'username too long (max 32 characters)'],
      ['*dan', 'username must not start with * (server notices do)'],
    ])('refuses %j, saying why, and prompts again', (name, reason) => {
      expect(login(chat(), name)).toEqual(refused(reason));
    });

    it('names a taken name in its holder’s spelling, whichever lookalike was typed', () => {
      const state = stateAfter(joined('u1', 'Ape'));
      expect(login(state, '\u0430\u0440\u0435')).toEqual(refused('username Ape is taken')); // all Cyrillic
    });
  });

  describe('login with a registered name', () => {
    type Extra = { readonly registered?: boolean; readonly account?: string; readonly from?: string };
    const login = (state: ChatState, name: string, extra: Extra = {}): Decision => decide(state, { type: 'login', user: 'u9', name, at: 7, caller: CALLER, ...extra });
    /** ann in #main, who gave her password; bob, who holds his name without one. */
    const held = (): ChatState => stateAfter(joined('u1', 'ann'), identified('u1', 'ann'), joined('u2', 'bob'));

    it('asks its password first, held by an open connection or not', () => {
      expect(login(held(), 'ANN', { registered: true })).toEqual(prompted('ANN'));
      expect(login(held(), 'dan', { registered: true })).toEqual(prompted('dan'));
    });

    it('takes over, with the password, the connection that holds it with the password too: the same owner, back', () => {
      expect(login(held(), 'Ann', { registered: true, account: 'a1', from: '10.0.0.9' })).toEqual(
        events({ type: 'resumed', user: 'u9', replaced: 'u1', nick: 'ann', at: 7, from: '10.0.0.9' }),
      );
    });

    it("renames whoever holds it with the password of an account since unregistered, and logs the new account's owner in", () => {
      const state = stateAfter(joined('u1', 'ann'), { ...identified('u1', 'ann'), account: 'old' });
      expect(login(state, 'ann', { registered: true, account: 'a1' })).toEqual(events(
        { type: 'renamed', user: 'u1', from: 'ann', nick: 'ann_2', room: '#main', at: 7, displaced: true, owner: true },
        joined('u9', 'ann', '#main', 7),
      ));
      expect(login(state, 'ann', { registered: true, account: 'old' })).toEqual(events({ type: 'resumed', user: 'u9', replaced: 'u1', nick: 'ann', at: 7 }));
    });

    it('renames, with the password, whoever holds it without, and logs its owner in', () => {
      expect(login(held(), 'bob', { registered: true, account: 'b1' })).toEqual(events(
        { type: 'renamed', user: 'u2', from: 'bob', nick: 'bob_2', room: '#main', at: 7, displaced: true, owner: true },
        joined('u9', 'bob', '#main', 7),
      ));
    });

    it('never takes over an unregistered name: nothing proves who is who', () => {
      expect(login(held(), 'bob')).toEqual({ events: [], replies: ['*** username bob is taken\n', PROMPT], quit: false, tries: { ...NO_TRIES, refusals: 1 } });
    });
  });

  describe('login from a banned address', () => {
    type Extra = { readonly registered?: boolean; readonly account?: string };
    const BANNED: Decision = { events: [], replies: ['*** you are banned\n'], quit: false, banned: true };
    const ban = { name: 'nat', address: '10.0.0.5', until: null, by: 'ann', reason: '' };
    /** nat's address banned; ann an operator by --ops, bob one by an /op given to account b1. */
    const state = (): ChatState => stateAfter(
      { type: 'moderation-loaded', fixedOps: ['ann'], ops: ['bob'], opAccounts: { bob: 'b1' }, bans: [ban], motd: '', at: 0 },
    );
    const login = (name: string, extra: Extra = {}): Decision => decide(state(), { type: 'login', user: 'u9', name, at: 7, from: '10.0.0.5', caller: CALLER, ...extra });

    it('refuses anyone but an operator, registered or not', () => {
      expect(login('dan')).toEqual(BANNED);
      expect(login('dan', { registered: true })).toEqual(BANNED);
      expect(login('ann')).toEqual(BANNED); // an operator's name, unregistered: nothing to prove it
    });

    it("lets an operator who shares the address in with their password, and no one with another account's", () => {
      expect(login('ann', { registered: true })).toEqual(prompted('ann'));
      expect(login('ann', { registered: true, account: 'a1' })).toEqual(events({ ...joined('u9', 'ann', '#main', 7), from: '10.0.0.5' }));
      expect(login('bob', { registered: true, account: 'b1' })).toEqual(events({ ...joined('u9', 'bob', '#main', 7), from: '10.0.0.5' }));
      expect(login('bob', { registered: true, account: 'b2' })).toEqual(BANNED);
    });
  });

  describe('a line', () => {
    it('does nothing for a user who is not logged in', () => {
      expect(typed(chat(), 'hello', 'u9')).toEqual(NOTHING);
      expect(typed(chat(), '/who', 'u9')).toEqual(NOTHING);
    });

    it('says a chat line in the speaker’s room', () => {
      const state = stateAfter(joined('u1', 'ann', '#games'));
      expect(typed(state, 'hello', 'u1', 3)).toEqual(events(said('u1', 'ann', 'hello', '#games', 3)));
    });

    it.each([
      ['//nick bob', '/nick bob'],
      ['//', '/'],
      ['x'.repeat(10_000), 'x'.repeat(10_000)],
    ])('says %j as the chat line %j', (line, text) => {
      expect(typed(chat(), line)).toEqual(events(said('u1', 'ann', text)));
    });

    it.each([
      ['/frobnicate now', 'unknown command /frobnicate (try /help)'],
      ['/FROB', 'unknown command /FROB (try /help)'],
      ['/', 'unknown command / (try /help)'],
    ])('answers the unknown command %j', (line, reply) => {
      expect(typed(chat(), line)).toEqual(replies(reply));
    });
  });

  describe('leave', () => {
    it('publishes the departure from the user’s room, once they are logged in', () => {
      const state = stateAfter(joined('u1', 'ann'), moved('u1', 'ann', '#main', '#games'));
      expect(decide(state, { type: 'leave', user: 'u1', at: 4 })).toEqual(events(left('u1', 'ann', '#games', 4)));
      expect(decide(state, { type: 'leave', user: 'u9', at: 4 })).toEqual(NOTHING);
    });
  });

  describe('/help', () => {
    it('lists every command, one line each, arguments ignored', () => {
      const decision = typed(chat(), '/help me please');
      expect(decision.replies).toHaveLength(COMMANDS.length);
      expect(decision.replies[0]).toBe('*** /help                         list the commands\n');
      expect(decision.replies[4]).toBe('*** /msg NAME TEXT                a private message to NAME, in any room (also /w)\n');
      expect(decision.replies.map((line) => /^\*\*\* \/(\w+)/.exec(line)?.[1])).toEqual(COMMANDS.map(({ name }) => name));
      expect(decision.events).toEqual([]);
    });

    it('lines every description up in one column, past the longest usage', () => {
      const { replies: lines } = typed(chat(), '/help');
      const columns = lines.map((line, at) => line.indexOf(` ${COMMANDS[at]?.help ?? '?'}\n`));
      expect(new Set(columns).size).toBe(1);
      expect(lines.find((line) => line.startsWith('*** /ban '))).toBe('*** /ban NAME [DURATION] [REASON] (operators) disconnect and refuse NAME and their address (e.g. 2h; for good if not given)\n');
    });
  });

  describe('/who, /names, /users', () => {
    it.each(['/who', '/names', '/users', '/WHO extra'])('%s lists the room, with away reasons', (line) => {
      const state = given(chat(), away('u2', 'lunch'));
      expect(typed(state, line)).toEqual(replies('3 in #main: ann, bob (away: lunch), cat'));
    });

    it('lists the asker’s room alone', () => {
      const state = given(chat(), moved('u1', 'ann', '#main', '#games'));
      expect(typed(state, '/who')).toEqual(replies('1 in #games: ann'));
      expect(typed(state, '/who', 'u2')).toEqual(replies('2 in #main: bob, cat'));
    });
  });

  describe('/nick', () => {
    it('renames the user in their room', () => {
      expect(typed(chat(), '/nick anna', 'u1', 5)).toEqual(events(renamed('u1', 'ann', 'anna', '#main', 5)));
    });

    it('allows a change of case of one’s own name', () => {
      expect(typed(chat(), '/nick Ann')).toEqual(events(renamed('u1', 'ann', 'Ann')));
    });

    it.each([
      ['/nick', 'usage: /nick NEW'],
      ['/nick   ', 'usage: /nick NEW'],
      ['/nick ann', 'you are already ann'],
      ['/nick bob', 'username bob is taken'],
      ['/nick BOB', 'username bob is taken'],
      ['/nick ｂｏｂ', 'username bob is taken'],
      ['/nick b\u043eb', 'username bob is taken'],
      ['/nick d\u043en', 'username must not mix scripts (Latin and Cyrillic)'],
      ['/nick an na', 'username must not contain spaces'],
      ['/nick a\x1bnn', 'username must not contain control characters'],
      ['/nick a\u200bnn', 'username must not contain invisible characters'],
      [`/nick ${'a'.repeat(33)}`, 'username too long (max 32 characters)'],
      ['/nick [ann]', 'username must not contain [ or ] (chat lines put names in them)'],
    ])('answers %j with %j', (line, reply) => {
      expect(typed(chat(), line)).toEqual(replies(reply));
    });
  });

  describe('/me', () => {
    it('acts in the user’s room', () => {
      expect(typed(chat(), '/me waves at  all')).toEqual(events(acted('u1', 'ann', 'waves at  all')));
    });

    it('shows its usage when there is nothing to do', () => {
      expect(typed(chat(), '/me')).toEqual(replies('usage: /me ACTION'));
      expect(typed(chat(), '/me   ')).toEqual(replies('usage: /me ACTION'));
    });
  });

  describe('/msg, /w', () => {
    it.each(['/msg', '/w'])('%s whispers to a user found by any spelling of their name', (command) => {
      expect(typed(chat(), `${command} BOB hi  there`, 'u1', 2)).toEqual(events(whispered('u1', 'ann', 'u2', 'bob', 'hi  there', 2)));
    });

    it('whispers to a user in another room', () => {
      const state = given(chat(), moved('u2', 'bob', '#main', '#games'));
      expect(typed(state, '/msg bob hi')).toEqual(events(whispered('u1', 'ann', 'u2', 'bob', 'hi')));
    });

    it('whispers to an away user: the away notice is render’s', () => {
      expect(typed(given(chat(), away('u2', 'lunch')), '/w bob hi')).toEqual(events(whispered('u1', 'ann', 'u2', 'bob', 'hi')));
    });

    it.each([
      ['/msg', 'usage: /msg NAME TEXT'],
      ['/msg bob', 'usage: /msg NAME TEXT'],
      ['/w bob   ', 'usage: /msg NAME TEXT'],
      ['/msg zed hi', 'no such user: zed'],
      [`/msg ${'z'.repeat(300)} hi`, `no such user: ${'z'.repeat(300)}`],
      ['/msg ann hi', 'you cannot send a private message to yourself'],
      ['/msg ANN hi', 'you cannot send a private message to yourself'],
    ])('answers %j with %j', (line, reply) => {
      expect(typed(chat(), line)).toEqual(replies(reply));
    });
  });

  describe('/reply, /r', () => {
    it.each(['/reply', '/r'])('%s whispers to the last who whispered to the user', (command) => {
      const state = given(chat(), whispered('u2', 'bob', 'u1', 'ann', 'psst'), whispered('u3', 'cat', 'u1', 'ann', 'hey'));
      expect(typed(state, `${command} yes?`)).toEqual(events(whispered('u1', 'ann', 'u3', 'cat', 'yes?')));
    });

    it('answers when nobody has whispered yet, or the whisperer has left', () => {
      expect(typed(chat(), '/r hi')).toEqual(replies('nobody has sent you a private message'));
      const state = given(chat(), whispered('u2', 'bob', 'u1', 'ann', 'psst'), left('u2', 'bob'));
      expect(typed(state, '/reply hi')).toEqual(replies('whoever sent you your last private message has left'));
    });

    it('does not reach a newcomer who took the departed whisperer’s name', () => {
      const state = given(chat(), whispered('u2', 'bob', 'u1', 'ann', 'psst'), left('u2', 'bob'), joined('u4', 'bob'));
      expect(typed(state, '/r hi')).toEqual(replies('whoever sent you your last private message has left'));
    });

    it('shows its usage when there is nothing to say', () => {
      expect(typed(chat(), '/reply')).toEqual(replies('usage: /reply TEXT'));
    });
  });

  describe('/away', () => {
    it('marks the user away, with no reason when none is given', () => {
      expect(typed(chat(), '/away', 'u1', 3)).toEqual(events(away('u1', '', 3)));
      expect(typed(chat(), '/away at  lunch ')).toEqual(events(away('u1', 'at  lunch')));
    });

    it('takes a reason of MAX_AWAY_LENGTH characters, counted as code points, and refuses one more', () => {
      const longest = '\u{1f415}'.repeat(MAX_AWAY_LENGTH);
      expect(typed(chat(), `/away ${longest}`)).toEqual(events(away('u1', longest)));
      expect(typed(chat(), `/away ${'x'.repeat(MAX_AWAY_LENGTH + 1)}`)).toEqual(replies('away reason too long (max 200 characters)'));
    });

    it('changes the reason of a user who is away already', () => {
      expect(typed(given(chat(), away('u1', 'lunch')), '/away meeting')).toEqual(events(away('u1', 'meeting')));
    });
  });

  describe('/back', () => {
    it('ends an away, and answers a user who was not away', () => {
      expect(typed(given(chat(), away('u1', 'lunch')), '/back', 'u1', 8)).toEqual(events(back('u1', 8)));
      expect(typed(chat(), '/back')).toEqual(replies('you are not away'));
    });
  });

  describe('/ignore', () => {
    it('ignores a user found by any spelling, naming them in their own', () => {
      expect(typed(chat(), '/ignore BOB')).toEqual(events(ignored('u1', 'u2', 'bob')));
    });

    it('lists whom the user ignores when given no name', () => {
      expect(typed(chat(), '/ignore')).toEqual(replies('you are ignoring nobody'));
      const state = given(chat(), ignored('u1', 'u3', 'cat'), ignored('u1', 'u2', 'bob'));
      expect(typed(state, '/ignore')).toEqual(replies('you are ignoring cat, bob'));
    });

    it.each([
      ['/ignore zed', 'no such user: zed'],
      ['/ignore bob cat', 'usage: /ignore [NAME]'],
      ['/ignore ann', 'you cannot ignore yourself'],
      ['/ignore Bob', 'you already ignore bob'],
    ])('answers %j with %j', (line, reply) => {
      expect(typed(given(chat(), ignored('u1', 'u2', 'bob')), line)).toEqual(replies(reply));
    });
  });

  describe('/unignore', () => {
    it('unignores an ignored user', () => {
      expect(typed(given(chat(), ignored('u1', 'u2', 'bob')), '/unignore Bob')).toEqual(events(unignored('u1', 'u2', 'bob')));
    });

    it.each([
      ['/unignore', 'usage: /unignore NAME'],
      ['/unignore cat', 'you are not ignoring cat'],
      ['/unignore zed', 'you are not ignoring zed'],
    ])('answers %j with %j', (line, reply) => {
      expect(typed(given(chat(), ignored('u1', 'u2', 'bob')), line)).toEqual(replies(reply));
    });
  });

  describe('/join', () => {
    const ROOM_RULE = 'room names are 1 to 32 of a-z 0-9 - _, with or without a leading #';

    it.each([
      ['/join games', '#games'],
      ['/join #Games', '#games'],
      ['/join GAMES', '#games'],
    ])('%s moves the user to %s', (line, room) => {
      expect(typed(chat(), line, 'u1', 6)).toEqual(events(moved('u1', 'ann', '#main', room, 6)));
    });

    it.each([
      ['/join', 'usage: /join ROOM'],
      ['/join #', ROOM_RULE],
      [`/join ${'a'.repeat(33)}`, ROOM_RULE],
      ['/join Bad!', ROOM_RULE],
      ['/join two words', ROOM_RULE],
      ['/join a\x1bb', ROOM_RULE],
      ['/join main', 'you are already in #main'],
      ['/join #MAIN', 'you are already in #main'],
    ])('answers %j with %j', (line, reply) => {
      expect(typed(chat(), line)).toEqual(replies(reply));
    });

    it('makes no room beyond MAX_ROOMS, but moves a user to one that exists', () => {
      const state = stateAfter(...Array.from({ length: MAX_ROOMS }, (_, i) => joined(`u${i}`, `user${i}`, `#r${i}`)), joined('x', 'extra', '#r0'));
      expect(typed(state, '/join new', 'u0')).toEqual(replies('too many rooms (max 1000)'));
      expect(typed(state, '/join r5', 'u0')).toEqual(events(moved('u0', 'user0', '#r0', '#r5')));
    });

    it('makes a new room at MAX_ROOMS when the move empties the user\'s own room, or another room is empty', () => {
      const state = stateAfter(...Array.from({ length: MAX_ROOMS }, (_, i) => joined(`u${i}`, `user${i}`, `#r${i}`)));
      expect(typed(state, '/join new', 'u1')).toEqual(events(moved('u1', 'user1', '#r1', '#new')));
      given(state, topic('u2', 'user2', 'kept', '#r2'), moved('u2', 'user2', '#r2', '#r3'));
      expect(typed(state, '/join new', 'u3')).toEqual(events(moved('u3', 'user3', '#r3', '#new')));
    });
  });

  describe('/rooms', () => {
    it('lists every room with how many are in it, a kept empty room too', () => {
      const state = given(
        chat(), moved('u1', 'ann', '#main', '#games'), topic('u1', 'ann', 'chess', '#games'),
        moved('u1', 'ann', '#games', '#main'), moved('u2', 'bob', '#main', '#dev'),
      );
      expect(typed(state, '/rooms')).toEqual(replies('rooms: #main (2), #games (0), #dev (1)'));
    });
  });

  describe('/topic', () => {
    it('shows the topic, or that there is none', () => {
      expect(typed(chat(), '/topic')).toEqual(replies('#main has no topic'));
      expect(typed(given(chat(), topic('u2', 'bob', 'chess')), '/topic')).toEqual(replies('topic of #main: chess'));
    });

    it('clears the topic with "-", as /motd - clears the motd; there must be one to clear', () => {
      const state = given(chat(), topic('u2', 'bob', 'chess'));
      expect(typed(state, '/topic -', 'u1', 4)).toEqual(events(topic('u1', 'ann', '', '#main', 4)));
      expect(typed(given(state, topic('u1', 'ann', '', '#main', 4)), '/topic')).toEqual(replies('#main has no topic'));
      expect(typed(chat(), '/topic -')).toEqual(replies('#main has no topic'));
    });

    it('sets the topic of the user’s room, up to MAX_TOPIC_LENGTH characters', () => {
      expect(typed(chat(), '/topic all  about chess', 'u1', 4)).toEqual(events(topic('u1', 'ann', 'all  about chess', '#main', 4)));
      const longest = 'é'.repeat(MAX_TOPIC_LENGTH);
      expect(typed(chat(), `/topic ${longest}`)).toEqual(events(topic('u1', 'ann', longest)));
      expect(typed(chat(), `/topic ${'x'.repeat(MAX_TOPIC_LENGTH + 1)}`)).toEqual(replies('topic too long (max 200 characters)'));
    });
  });

  describe('/whois', () => {
    it('tells where a user is, for how long connected and idle', () => {
      const state = stateAfter(joined('u1', 'ann'), joined('u2', 'bob', '#main', 1_000), said('u2', 'bob', 'hi', '#main', 65_000));
      expect(typed(state, '/whois BOB', 'u1', 3_726_000)).toEqual(replies('bob: in #main, connected for 1h 2m 5s, idle for 1h 1m 1s'));
    });

    it('tells that a user is away, and why', () => {
      const state = given(chat(), away('u2', 'lunch'), moved('u2', 'bob', '#main', '#games', 2_000));
      expect(typed(state, '/whois bob', 'u1', 5_000)).toEqual(replies('bob: in #games, away: lunch, connected for 5s, idle for 3s'));
    });

    it.each([
      ['/whois', 'usage: /whois NAME'],
      ['/whois ann extra', 'usage: /whois NAME'],
      ['/whois zed', 'no such user: zed'],
    ])('answers %j with %j', (line, reply) => {
      expect(typed(chat(), line)).toEqual(replies(reply));
    });
  });

  describe('/quit', () => {
    it.each(['/quit', '/quit bye all', '/QUIT'])('%s says goodbye and ends the connection, publishing nothing itself', (line) => {
      expect(typed(chat(), line)).toEqual({ events: [], replies: [GOODBYE], quit: true });
    });
  });

  describe('text arguments', () => {
    it('are taken as they come: cleaning them is the session’s, before decide', () => {
      expect(typed(chat(), '/topic a\x1b[2Jb')).toEqual(events(topic('u1', 'ann', 'a\x1b[2Jb')));
    });
  });
});

describe('duration', () => {
  it.each([
    [0, '0s'],
    [999, '0s'],
    [-5_000, '0s'],
    [5_000, '5s'],
    [60_000, '1m 0s'],
    [240_000, '4m 0s'],
    [3_600_000, '1h 0m 0s'],
    [3_723_000, '1h 2m 3s'],
    [86_400_000, '1d 0h 0m 0s'],
    [90_061_000, '1d 1h 1m 1s'],
    [40 * 86_400_000, '40d 0h 0m 0s'],
  ])('shows %i ms as %j', (ms, shown) => {
    expect(duration(ms)).toBe(shown);
  });
});

describe('/uptime', () => {
  it('answers with the time since the chat started, to the user alone', () => {
    const state = new ChatState(0, Date.UTC(2025, 0, 1));
    given(state, { type: 'joined', user: '1', nick: 'ann', room: '#main', at: 0 });
    const later = Date.UTC(2025, 0, 2, 1, 2, 3);
    expect(decide(state, { type: 'line', user: '1', text: '/uptime', at: later })).toEqual({
      events: [], replies: ['*** up for 1d 1h 2m 3s, since 2025-01-01T00:00:00.000Z\n'], quit: false,
    });
  });
});
