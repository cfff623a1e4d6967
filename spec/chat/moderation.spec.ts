import { map } from 'rxjs';
import { type Decision, decide } from '../../lib/chat/decide';
import { duration, MAX_DURATION_SECONDS, parseDuration } from '../../lib/chat/durations';
import type { Ban, ChatEvent, UserId } from '../../lib/chat/events';
import { CLEAR, DEFAULT_MUTE_MS, MAX_MOTD_LENGTH, MAX_REASON_LENGTH } from '../../lib/chat/operator-commands';
import { MAX_BANS, moderationAction } from '../../lib/chat/moderation';
import type { Outgoing } from '../../lib/chat/outgoing';
import { render } from '../../lib/chat/render';
import { ChatState } from '../../lib/chat/state';
import * as text from '../../lib/chat/texts';
import { CALLER, given, identified, joined, left, renamed, restored, said, stateAfter } from '../support/events';
import { scheduler } from '../support/marbles';

const HOUR = 3_600_000;

/** ann (an operator by --ops, who gave her password) from 10.0.0.1, bob from 10.0.0.2, cat from 10.0.0.1, all in #main. */
const chat = (): ChatState =>
  stateAfter(
    restored(['ann']),
    { ...joined('u1', 'ann'), from: '10.0.0.1' },
    identified('u1', 'ann'),
    { ...joined('u2', 'bob'), from: '10.0.0.2' },
    { ...joined('u3', 'cat'), from: '10.0.0.1' },
  );
const typed = (state: ChatState, text: string, user: UserId = 'u1', at = 0): Decision => decide(state, { type: 'line', user, text, at });
const replies = (...lines: string[]): Decision => ({ events: [], replies: lines.map((line) => `*** ${line}\n`), quit: false });
const events = (...published: ChatEvent[]): Decision => ({ events: published, replies: [], quit: false });
const seen = (state: ChatState, event: ChatEvent): Outgoing[] => render(event, given(state, event));
const send = (to: string, text: string): Outgoing => ({ kind: 'send', to, text });
const broadcast = (room: string, text: string, hiddenFrom: string[] = []): Outgoing => ({ kind: 'broadcast', room, text, hiddenFrom });
const ban = (name: string, more: Partial<Ban> = {}): Ban => ({ name, address: '', until: null, by: 'ann', reason: '', ...more });
const banned = (b: Ban, at = 0): ChatEvent => ({ type: 'banned', user: 'u1', nick: 'ann', ban: b, at });

describe('limits', () => {
  it('are 200 characters for a reason, 400 for the message of the day, a year for a term, 10,000 bans, 10 minutes of mute', () => {
    expect([MAX_REASON_LENGTH, MAX_MOTD_LENGTH, MAX_DURATION_SECONDS, MAX_BANS, DEFAULT_MUTE_MS]).toEqual([200, 400, 31_536_000, 10_000, 600_000]);
  });
});

describe('parseDuration', () => {
  it.each([['30s', 30_000], ['10m', 600_000], ['2h', 7_200_000], ['1d', 86_400_000], ['1W', 604_800_000], ['365d', 31_536_000_000]])(
    'reads %s', (word, ms) => expect(parseDuration(word)).toBe(ms),
  );

  it.each(['0s', '366d', '10', 'm', '1.5h', '-1h', '10m extra'])('refuses %s with why', (word) => {
    expect(parseDuration(word)).toBe('a duration is a number and s, m, h, d or w, from 1s to 365d');
  });

  it('shows a duration in its largest units', () => {
    expect(duration(90_061_000)).toBe('1d 1h 1m 1s');
  });
});

describe('operators', () => {
  it('are users who gave the password of a name in --ops or /op, while they hold that name: an /op of another name they take is not theirs', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const steps = {
        r: restored(['ann']), a: joined('u1', 'ann'), i: identified('u1', 'ann'), n: renamed('u1', 'ann', 'anna'), b: renamed('u1', 'anna', 'ann'),
        o: { type: 'opped', user: 'u1', nick: 'ann', name: 'ANNA', at: 0 } satisfies ChatEvent,
      };
      const events$ = cold('ra-i-n-b-n-o', steps);
      const state = new ChatState();
      expectObservable(events$.pipe(map((event) => given(state, event).isOperator('u1')))).toBe('ff-t-f-t-f-f', { t: true, f: false });
    });
  });

  it('tells a user whose /nick sets down or picks up their operator status', () => {
    const state = chat();
    expect(seen(state, renamed('u1', 'ann', 'anna'))).toEqual([
      broadcast('#main', '*** ann is now known as anna\n'),
      send('u1', '*** you are not an operator as anna; as ann you are one again\n'),
    ]);
    expect(seen(state, renamed('u1', 'anna', 'ann'))).toEqual([broadcast('#main', '*** anna is now known as ann\n'), send('u1', '*** you are an operator\n')]);
    expect(seen(state, renamed('u2', 'bob', 'bobby'))).toEqual([broadcast('#main', '*** bob is now known as bobby\n')]);
  });

  it('refuses an operator command from anyone else with one line, and /motd TEXT too', () => {
    for (const line of ['/op bob', '/deop ann', '/kick ann', '/ban ann', '/unban ann', '/bans', '/mute ann', '/unmute ann', '/motd hi']) {
      const command = line.slice(1).split(' ')[0] ?? '';
      expect(typed(chat(), line, 'u2')).toEqual({ events: [], replies: [`*** only operators may use /${command}\n`], quit: false });
    }
  });

  it('/op needs a user online who gave their password; /deop spares --ops names', () => {
    const state = given(chat(), identified('u2', 'bob'));
    expect(typed(chat(), '/op bob')).toEqual(replies('bob has not logged in with the password of a registered name'));
    expect(typed(state, '/op BOB')).toEqual(events({ type: 'opped', user: 'u1', nick: 'ann', name: 'bob', at: 0 }));
    expect(typed(state, '/op dan')).toEqual(replies('no such user: dan'));
    expect(typed(state, '/op ann')).toEqual(replies('ann is already an operator'));
    expect(typed(state, '/deop ann')).toEqual(replies('ann is an operator by configuration (--ops)'));
    expect(typed(state, '/deop bob')).toEqual(replies('bob is not an operator'));
    given(state, { type: 'opped', user: 'u1', nick: 'ann', name: 'bob', at: 0 });
    expect(state.isOperator('u2')).toBe(true);
    expect(typed(state, '/deop bob')).toEqual(events({ type: 'deopped', user: 'u1', nick: 'ann', name: 'bob', at: 0 }));
    expect(state.moderation.saved(0).ops).toEqual(['bob']);
    given(state, left('u2', 'bob'));
    expect(typed(state, '/deop BOB')).toEqual(events({ type: 'deopped', user: 'u1', nick: 'ann', name: 'bob', at: 0 })); // as opped, however typed
  });

  it("grants /op to the account whose password its holder gave: the name's next account is no operator, a grant saved before accounts is by name", () => {
    const state = given(chat(), { ...identified('u2', 'bob'), account: 'first' });
    expect(typed(state, '/op bob')).toEqual(events({ type: 'opped', user: 'u1', nick: 'ann', name: 'bob', account: 'first', at: 0 }));
    given(state, { type: 'opped', user: 'u1', nick: 'ann', name: 'bob', account: 'first', at: 0 });
    expect(state.isOperator('u2')).toBe(true);
    expect(state.moderation.saved(0)).toMatchObject({ ops: ['bob'], opAccounts: { bob: 'first' } });
    given(state, left('u2', 'bob'), joined('u4', 'bob'), { ...identified('u4', 'bob'), account: 'second' });
    expect(state.isOperator('u4')).toBe(false);
    const before = stateAfter(restored([], { ops: ['bob'] }), joined('u4', 'bob'), { ...identified('u4', 'bob'), account: 'second' });
    expect(before.isOperator('u4')).toBe(true);
    const loaded = stateAfter(restored([], { ops: ['bob'], opAccounts: { bob: 'first' } }), joined('u4', 'bob'), { ...identified('u4', 'bob'), account: 'second' });
    expect(loaded.isOperator('u4')).toBe(false);
  });

  it('tells the new operator, and the one who made them; an operator at login is told so', () => {
    const state = chat();
    expect(seen(state, { type: 'opped', user: 'u1', nick: 'ann', name: 'bob', at: 0 })).toEqual([
      send('u2', '*** ann made you an operator\n'), send('u1', '*** bob is now an operator\n'),
    ]);
    expect(seen(state, { type: 'deopped', user: 'u1', nick: 'ann', name: 'bob', at: 0 })).toEqual([
      send('u2', '*** ann took back your operator status\n'), send('u1', '*** bob is no longer an operator\n'),
    ]);
    expect(seen(chat(), identified('u1', 'ann'))).toEqual([send('u1', '*** you are an operator\n')]);
    expect(seen(chat(), identified('u2', 'bob'))).toEqual([]);
  });
});

describe('/kick', () => {
  it('needs a user online other than the operator and not one, and a reason of at most MAX_REASON_LENGTH', () => {
    expect(typed(chat(), '/kick')).toEqual(replies('usage: /kick NAME [REASON]'));
    expect(typed(chat(), '/kick dan')).toEqual(replies('no such user: dan'));
    expect(typed(chat(), '/kick ann')).toEqual(replies('you cannot kick yourself'));
    expect(typed(chat(), `/kick bob ${'x'.repeat(MAX_REASON_LENGTH + 1)}`)).toEqual(replies(`reason too long (max ${MAX_REASON_LENGTH} characters)`));
    expect(typed(chat(), '/kick bob  be nice ', 'u1', 5)).toEqual(events({
      type: 'kicked', user: 'u1', nick: 'ann', target: 'u2', targetNick: 'bob', room: '#main', reason: 'be nice', at: 5,
    }));
  });

  it('tells the room why (the operator too, from another room), tells the user, and closes their connection', () => {
    const state = given(chat(), { type: 'moved', user: 'u1', nick: 'ann', from: '#main', room: '#ops', at: 0 });
    const kick: ChatEvent = { type: 'kicked', user: 'u1', nick: 'ann', target: 'u2', targetNick: 'bob', room: '#main', reason: 'spam', at: 0 };
    expect(seen(state, kick)).toEqual([
      broadcast('#main', '*** bob was kicked by ann: spam\n', ['u2']),
      send('u1', '*** bob was kicked by ann: spam\n'),
      send('u2', '*** you were kicked by ann: spam\n'),
      { kind: 'close', to: 'u2', reason: 'kick' },
    ]);
  });
});

describe('/ban', () => {
  it('bans an online user’s name and address, for good unless given a term; not the operator’s own address', () => {
    expect(typed(chat(), '/ban bob 2h spam and eggs', 'u1', 5)).toEqual(events(banned(ban('bob', { address: '10.0.0.2', until: 5 + 2 * HOUR, reason: 'spam and eggs' }), 5)));
    expect(typed(chat(), '/ban bob spam')).toEqual(events(banned(ban('bob', { address: '10.0.0.2', reason: 'spam' }))));
    expect(typed(chat(), '/ban cat')).toEqual(events(banned(ban('cat'))));
    expect(typed(chat(), '/ban dan 1d')).toEqual(events(banned(ban('dan', { until: 86_400_000 }))));
  });

  it('refuses the operator, other operators, bad names, bad terms and long reasons', () => {
    expect(typed(chat(), '/ban')).toEqual(replies('usage: /ban NAME [DURATION] [REASON]'));
    expect(typed(chat(), '/ban ann')).toEqual(replies('you cannot ban yourself'));
    expect(typed(chat(), '/ban Ann')).toEqual(replies('you cannot ban yourself'));
    expect(typed(stateAfter(restored(['ann', 'zed'])), '/ban zed', 'u1')).toEqual({ events: [], replies: [], quit: false }); // not logged in
    expect(typed(given(chat(), restored(['ann', 'zed'])), '/ban zed')).toEqual(replies('zed is an operator'));
    expect(typed(chat(), '/ban d\x1bn')).toEqual(replies('username must not contain control characters'));
    expect(typed(chat(), '/ban bob 400d')).toEqual(replies('a duration is a number and s, m, h, d or w, from 1s to 365d'));
    expect(typed(chat(), `/ban bob ${'x'.repeat(MAX_REASON_LENGTH + 1)}`)).toEqual(replies(`reason too long (max ${MAX_REASON_LENGTH} characters)`));
  });

  it('bans the address of a user back from an outage as their roster gave it', () => {
    const dan: ChatEvent = { type: 'returned', user: 'b:4', nick: 'dan', was: 'dan', room: '#main', connectedAt: 0, from: '10.0.0.4', at: 0 };
    expect(typed(given(chat(), dan), '/ban dan')).toEqual(events(banned(ban('dan', { address: '10.0.0.4' }))));
  });

  it('refuses past MAX_BANS, but for a new term of a name already banned', () => {
    const state = chat();
    for (let i = 0; i < MAX_BANS; i++) given(state, banned(ban(`u${i}`)));
    expect(typed(state, '/ban dan')).toEqual(replies(`too many bans (max ${MAX_BANS})`));
    expect(typed(state, '/ban u7 1h')).toEqual(events(banned(ban('u7', { until: HOUR }))));
  });

  it('keeps a ban by name (lookalikes too) and address until its term, one per name, and /unban lifts it by either', () => {
    const state = given(chat(), banned(ban('bob', { address: '10.0.0.2', until: 10 })), banned(ban('dan')));
    expect(state.moderation.banOfName('BOB', 9)).toEqual(ban('bob', { address: '10.0.0.2', until: 10 }));
    expect(state.moderation.banOfAddress('10.0.0.2', 9)?.name).toBe('bob');
    expect(state.moderation.banOfAddress('10.0.0.2', 10)).toBeUndefined();
    expect(state.moderation.bans(10)).toEqual([ban('dan')]);
    given(state, banned(ban('bob', { address: '10.0.0.2', until: 20 }), 5));
    expect(state.moderation.bans(5).map(({ name, until }) => [name, until])).toEqual([['dan', null], ['bob', 20]]);
    expect(typed(state, '/unban 10.0.0.2', 'u1', 5)).toEqual(events({ type: 'unbanned', user: 'u1', nick: 'ann', target: '10.0.0.2', at: 5 }));
    expect(typed(state, '/unban eve')).toEqual(replies('eve is not banned'));
    expect(typed(state, '/unban DAN', 'u1', 5)).toEqual(events({ type: 'unbanned', user: 'u1', nick: 'ann', target: 'dan', at: 5 })); // as the ban holds it
    expect(typed(state, '/unban dan extra')).toEqual(replies('usage: /unban NAME|ADDRESS'));
    given(state, { type: 'unbanned', user: 'u1', nick: 'ann', target: '10.0.0.2', at: 5 });
    expect(state.moderation.saved(5)).toEqual({ ops: [], opAccounts: {}, bans: [ban('dan')], motd: '' });
  });

  it('refuses /nick to a banned name or a lookalike of it, as login does', () => {
    const state = given(chat(), banned(ban('dan', { until: 10 })));
    expect(typed(state, '/nick DAN', 'u2', 5)).toEqual({ events: [], replies: ['*** username DAN is banned\n'], quit: false });
    expect(typed(state, '/nick d\u0430n', 'u2', 5)).toEqual(replies('username must not mix scripts (Latin and Cyrillic)'));
    expect(typed(state, '/nick dan', 'u2', 10)).toEqual(events(renamed('u2', 'bob', 'dan', '#main', 10)));
  });

  it('bans an address by its group: an IPv6 address by its /64, an IPv4-mapped one as its IPv4 address; /unban of any address of it lifts it', () => {
    const state = given(chat(), banned(ban('bob', { address: '2001:db8:0:1::2' })), banned(ban('dan', { address: '10.0.0.4' })));
    expect(state.moderation.banOfAddress('2001:db8:0:1:ffff::9', 0)?.name).toBe('bob');
    expect(state.moderation.banOfAddress('2001:db8:0:2::2', 0)).toBeUndefined();
    expect(state.moderation.banOfAddress('::ffff:10.0.0.4', 0)?.name).toBe('dan');
    expect(typed(state, '/unban 2001:db8:0:1::77', 'u1', 5)).toEqual(events({ type: 'unbanned', user: 'u1', nick: 'ann', target: '2001:db8:0:1::77', at: 5 }));
    given(state, { type: 'unbanned', user: 'u1', nick: 'ann', target: '2001:db8:0:1::77', at: 5 });
    expect(state.moderation.bans(5).map(({ name }) => name)).toEqual(['dan']);
  });

  it('leaves the address out of a ban of a user in the operator\'s own /64', () => {
    const state = stateAfter(restored(['ann']), { ...joined('u1', 'ann'), from: '2001:db8:0:1::1' }, identified('u1', 'ann'), { ...joined('u2', 'bob'), from: '2001:db8:0:1::2' });
    expect(typed(state, '/ban bob')).toEqual(events(banned(ban('bob'))));
  });

  it('refuses a banned name at login and closes, before any password', () => {
    const state = given(chat(), banned(ban('dan', { until: 10 })));
    expect(decide(state, { type: 'login', user: 'u9', name: 'DAN', at: 9, caller: CALLER })).toEqual({ events: [], replies: ['*** you are banned\n'], quit: false, banned: true });
    expect(decide(state, { type: 'login', user: 'u9', name: 'dan', at: 10, from: '10.0.0.9', caller: CALLER })).toEqual(events({ ...joined('u9', 'dan', '#main', 10), from: '10.0.0.9' }));
  });

  it('shows the operator the ban and puts an online user out, their room told', () => {
    expect(seen(chat(), banned(ban('bob', { address: '10.0.0.2', until: 0, reason: 'spam' })))).toEqual([
      send('u1', '*** bob (10.0.0.2) is banned until 1970-01-01T00:00:00.000Z by ann: spam\n'),
      broadcast('#main', '*** bob was banned by ann: spam\n', ['u2']),
      send('u2', '*** you are banned\n'),
      { kind: 'close', to: 'u2', reason: 'banned' },
    ]);
    expect(seen(chat(), banned(ban('dan')))).toEqual([send('u1', '*** dan is banned for good by ann\n')]);
  });

  it('lists the bans in force, in words no ban of the name "nobody" can be taken for', () => {
    expect(typed(chat(), '/bans')).toEqual({ events: [], replies: ['*** there are no bans\n'], quit: false });
    expect(typed(given(chat(), banned(ban('nobody'))), '/bans')).toEqual({ events: [], replies: ['*** nobody is banned for good by ann\n'], quit: false });
    const state = given(chat(), banned(ban('dan')), banned(ban('eve', { until: 5 })));
    expect(typed(state, '/bans', 'u1', 5)).toEqual({ events: [], replies: ['*** dan is banned for good by ann\n'], quit: false });
  });
});

describe('/mute', () => {
  const muted = (until: number, at = 0): ChatEvent => ({ type: 'muted', user: 'u1', nick: 'ann', name: 'bob', until, at });

  it('mutes for DEFAULT_MUTE_MS or the term given, and /unmute lifts it', () => {
    expect(typed(chat(), '/mute BOB', 'u1', 5)).toEqual(events(muted(5 + DEFAULT_MUTE_MS, 5)));
    expect(typed(chat(), '/mute bob 30s')).toEqual(events(muted(30_000)));
    expect(typed(chat(), '/mute bob soon')).toEqual(replies('a duration is a number and s, m, h, d or w, from 1s to 365d'));
    expect(typed(chat(), '/mute ann')).toEqual(replies('you cannot mute yourself'));
    expect(typed(chat(), '/unmute bob')).toEqual(replies('bob is not muted'));
    expect(typed(given(chat(), muted(10)), '/unmute bob', 'u1', 9)).toEqual(events({ type: 'unmuted', user: 'u1', nick: 'ann', name: 'bob', at: 9 }));
  });

  it('sends a muted user’s lines and private messages to them alone, keeps them out of history, and tells only the operator', () => {
    const state = chat();
    expect(seen(state, muted(10))).toEqual([send('u1', '*** bob is muted until 1970-01-01T00:00:00.010Z: their lines reach only them\n')]);
    expect(seen(state, said('u2', 'bob', 'buy', '#main', 9))).toEqual([send('u2', '[bob] buy\n')]);
    expect(seen(state, { type: 'whispered', user: 'u2', nick: 'bob', to: 'u3', toNick: 'cat', text: 'psst', at: 9 })).toEqual([send('u2', '[PM to cat] psst\n')]);
    expect(seen(state, said('u2', 'bob', 'heard', '#main', 10))).toEqual([broadcast('#main', '[bob] heard\n')]);
    expect(state.history('#main').map(({ text }) => text)).toEqual(['heard']);
  });

  it('holds the name it was given to (and its lookalikes) for its term, whoever logs in under it', () => {
    const state = given(chat(), muted(10), renamed('u2', 'bob', 'rob'), left('u2', 'rob'));
    given(state, joined('u4', 'BOB'));
    expect(state.isMuted('u4', 9)).toBe(true);
    expect(state.isMuted('u4', 10)).toBe(false);
  });

  it('follows the muted user through /nick while they are online, and leaves no name they passed through muted', () => {
    const state = given(chat(), muted(10), renamed('u2', 'bob', 'rob'), renamed('u2', 'rob', 'bobby'));
    expect(state.isMuted('u2', 9)).toBe(true);
    expect(state.isMuted('u2', 10)).toBe(false);
    given(state, left('u2', 'bobby'), joined('u4', 'ROB'), joined('u5', 'bobby'));
    expect(state.isMuted('u4', 0)).toBe(false);
    expect(state.isMuted('u5', 0)).toBe(false);
    expect(typed(state, '/unmute rob')).toEqual(replies('ROB is not muted'));
  });

  it('follows whoever takes the muted name through their next /nick', () => {
    const state = given(chat(), muted(10), left('u2', 'bob'), joined('u4', 'bob'), renamed('u4', 'bob', 'dodger'));
    expect(state.isMuted('u4', 9)).toBe(true);
  });

  it('lifts it all with /unmute of the name the muted user holds now: that user, and the name it was given to', () => {
    const state = given(chat(), muted(10), renamed('u2', 'bob', 'rob'));
    const lifted = typed(state, '/unmute rob');
    expect(lifted).toEqual(events({ type: 'unmuted', user: 'u1', nick: 'ann', name: 'rob', at: 0 }));
    for (const event of lifted.events) given(state, event);
    expect(state.isMuted('u2', 0)).toBe(false);
    given(state, left('u2', 'rob'), joined('u4', 'bob'));
    expect(state.isMuted('u4', 0)).toBe(false);
  });

  it('lifts the mute that followed its user when the name it was given to is unmuted', () => {
    const state = given(chat(), muted(10), renamed('u2', 'bob', 'rob'));
    given(state, { type: 'unmuted', user: 'u1', nick: 'ann', name: 'bob', at: 0 });
    expect(state.isMuted('u2', 0)).toBe(false);
  });

  it('lets a muted user set the topic for their eyes alone: they read the usual line, nothing is set', () => {
    const state = given(chat(), muted(10));
    expect(typed(state, '/topic buy my stuff', 'u2', 9)).toEqual({ events: [], replies: [text.topicSet('bob', 'buy my stuff')], quit: false });
    expect(typed(state, '/topic buy my stuff', 'u2', 10)).toEqual(events({ type: 'topic', user: 'u2', nick: 'bob', room: '#main', topic: 'buy my stuff', at: 10 }));
  });
});

describe('/motd', () => {
  const motd = (text: string): ChatEvent => ({ type: 'motd', user: 'u1', nick: 'ann', text, at: 0 });

  it('shows the message of the day to anyone; an operator sets it, and clears it with CLEAR', () => {
    expect(typed(chat(), '/motd', 'u2')).toEqual({ events: [], replies: ['*** there is no message of the day\n'], quit: false });
    expect(typed(chat(), '/motd be kind')).toEqual(events(motd('be kind')));
    expect(typed(chat(), `/motd ${CLEAR}`)).toEqual(events(motd('')));
    expect(typed(chat(), `/motd ${'x'.repeat(MAX_MOTD_LENGTH + 1)}`)).toEqual(replies(`message of the day too long (max ${MAX_MOTD_LENGTH} characters)`));
    expect(typed(given(chat(), motd('be kind')), '/motd', 'u2')).toEqual({ events: [], replies: ['*** MOTD: be kind\n'], quit: false });
  });

  it('is shown after Welcome; without one, the welcome is the seed’s', () => {
    const state = chat();
    expect(seen(state, motd('be kind'))).toEqual([send('u1', '*** message of the day set\n')]);
    expect(seen(state, joined('u4', 'dan'))[0]).toEqual(send('u4', 'Welcome, dan\n*** MOTD: be kind\n'));
    expect(seen(state, motd(''))).toEqual([send('u1', '*** message of the day cleared\n')]);
    expect(seen(state, joined('u5', 'eve'))[0]).toEqual(send('u5', 'Welcome, eve\n'));
  });
});

describe('a node cut off from the cluster', () => {
  const cutOff = (state: ChatState): ChatState => {
    state.keepNode('');
    return state;
  };

  it('refuses with one line, changing nothing, what would be saved: /op, /deop, /ban, /unban, /motd TEXT', () => {
    const state = given(chat(), identified('u2', 'bob'), { type: 'opped', user: 'u1', nick: 'ann', name: 'cat', at: 0 }, banned(ban('dan')));
    for (const line of ['/op bob', '/deop cat', '/ban bob', '/ban eve 1h', '/unban dan', '/motd hi', `/motd ${CLEAR}`]) {
      expect(typed(cutOff(state), line)).toEqual({ events: [], replies: [text.NOT_SAVED_APART], quit: false });
    }
  });

  it('still answers what changes nothing saved: /kick, /mute, /bans, /motd, and each usage or refusal as before', () => {
    const state = cutOff(chat());
    expect(typed(state, '/kick bob').events).toHaveLength(1);
    expect(typed(state, '/mute bob').events).toHaveLength(1);
    expect(typed(state, '/bans')).toEqual({ events: [], replies: ['*** there are no bans\n'], quit: false });
    expect(typed(state, '/motd')).toEqual({ events: [], replies: ['*** there is no message of the day\n'], quit: false });
    expect(typed(state, '/ban')).toEqual(replies('usage: /ban NAME [DURATION] [REASON]'));
    expect(typed(state, '/op bob')).toEqual(replies('bob has not logged in with the password of a registered name'));
    expect(typed(state, '/ban bob', 'u2')).toEqual({ events: [], replies: ['*** only operators may use /ban\n'], quit: false });
  });

  it('saves again once the cluster\'s state is back', () => {
    const state = cutOff(chat());
    state.restore(chat().toJSON(), true);
    expect(typed(state, '/ban bob')).toEqual(events(banned(ban('bob', { address: '10.0.0.2' }))));
  });
});

describe('moderation-loaded', () => {
  it('starts a state from what was saved, and JSON round-trips every moderation event', () => {
    const event = restored(['ann'], { ops: ['bob'], bans: [ban('dan', { until: 5 })], motd: 'hi' });
    expect(JSON.parse(JSON.stringify(event))).toEqual(event);
    const state = stateAfter(event);
    expect(state.moderation.saved(0)).toEqual({ ops: ['bob'], opAccounts: {}, bans: [ban('dan', { until: 5 })], motd: 'hi' });
    expect(state.moderation.isFixedOp('ANN')).toBe(true);
    expect(render(event, state)).toEqual([]);
  });

  it('replaces what was saved when loaded again, as a node back from an outage does, and keeps the mutes, which are never saved', () => {
    const state = given(chat(), banned(ban('bob')), { type: 'muted', user: 'u1', nick: 'ann', name: 'cat', until: 10, at: 0 });
    given(state, restored(['ann'], { ops: ['dan'], bans: [ban('eve')], motd: 'meanwhile' }));
    expect(state.moderation.saved(0)).toEqual({ ops: ['dan'], opAccounts: {}, bans: [ban('eve')], motd: 'meanwhile' });
    expect(state.isMuted('u3', 9)).toBe(true);
  });
});

describe('moderationAction', () => {
  it('says what each operator action was, by whom, on whom', () => {
    expect(moderationAction(banned(ban('bob', { address: '10.0.0.2', until: 0, reason: 'spam' })))).toEqual({
      action: 'ban', by: 'ann', target: 'bob', detail: '10.0.0.2, until 1970-01-01T00:00:00.000Z, spam',
    });
    expect(moderationAction({ type: 'motd', user: 'u1', nick: 'ann', text: 'hi', at: 0 })).toEqual({ action: 'motd', by: 'ann', target: '', detail: 'hi' });
    expect(moderationAction(identified('u1', 'ann'))).toBeUndefined();
  });
});
