import type { ChatEvent, StateData } from '../../lib/chat/events';
import { MAX_WIRE_ID_LENGTH, eventProblem, stateProblem } from '../../lib/chat/wire';
import { acted, away, joined, moved, renamed, said, topic, whispered } from '../support/events';

const limits = { maxLineBytes: 10 };
const problem = (event: ChatEvent) => eventProblem(event, limits);

describe('eventProblem', () => {
  it('takes every event a user could have caused', () => {
    const fine: ChatEvent[] = [
      joined('n1:1', 'ann'), said('n1:1', 'ann', 'hé\thi'), acted('n1:1', 'ann', 'waves'), renamed('n1:1', 'ann', 'Anna_2'),
      moved('n1:1', 'ann', '#main', '#games-2'), whispered('n1:1', 'ann', 'n2:1', 'bob', 'psst'), away('n1:1', 'lunch'), topic('n1:1', 'ann', 'chess'),
      { type: 'roster', node: 'n1', users: [{ id: 'n1:1', nick: 'ann', room: '#main', connectedAt: 0, from: '::1', identified: 'ann' }], at: 0 },
      { type: 'banned', user: 'n1:1', nick: 'ann', ban: { name: 'bob', address: '10.0.0.2', until: null, by: 'ann', reason: 'spam' }, at: 0 },
      { type: 'motd', user: 'n1:1', nick: 'ann', text: '', at: 0 },
      { type: 'resumed', user: 'n2:7', replaced: 'n1:1', nick: 'ann', at: 0, from: '10.0.0.9' },
      { ...renamed('n1:1', 'ann', 'ann_2'), displaced: true, owner: true },
      { type: 'identified', user: 'n1:1', nick: 'ann', account: '0123456789abcdef01234567', at: 0 },
      { type: 'opped', user: 'n1:1', nick: 'ann', name: 'bob', account: 'salt:l3HWoQkqt+KPpKS9NeyyAw==', at: 0 },
    ];
    expect(fine.map(problem)).toEqual(fine.map(() => undefined));
  });

  it('refuses names, rooms and texts that typed input could not give, saying which field', () => {
    const cases: [ChatEvent, string][] = [
      [joined('n1:1', 'ann\nlogin #1 root'), 'nick: username must not contain control characters'],
      [joined('n1:1', 'ann', '#Main'), 'room is not a room name'],
      [joined('n1:1', 'ann', 'main'), 'room is not a room name'],
      [said('n1:1', 'ann', 'x'.repeat(11)), 'text is longer than 10 bytes'],
      [said('n1:1', 'ann', 'ééééé!'), 'text is longer than 10 bytes'], // 11 bytes in UTF-8, in 6 characters
      [said('n1:1', 'ann', '\x1b[2Jhi'), 'text holds control characters'],
      [renamed('n1:1', '*x', 'ann'), 'from: username must not start with *'],
      [moved('n1:1', 'ann', '#a b', '#main'), 'from is not a room name'],
      [whispered('n1:1', 'ann', 'n2:1', 'b\u043eb', 'hi'), 'toNick: username must not mix scripts'],
      [away('n1:1', 'a'.repeat(201)), 'reason is longer than 200 characters'],
      [topic('n1:1', 'ann', 't'.repeat(100_000)), 'topic is longer than 200 characters'],
      [{ type: 'motd', user: 'n1:1', nick: 'ann', text: 'm'.repeat(401), at: 0 }, 'motd is longer than 400 characters'],
      [{ type: 'kicked', user: 'n1:1', nick: 'ann', target: 'n2:1', targetNick: 'bob', room: '#main', reason: 'r\u2028', at: 0 }, 'reason holds control characters'],
      [{ type: 'banned', user: 'n1:1', nick: 'ann', ban: { name: 'b[o]b', address: '', until: null, by: 'ann', reason: '' }, at: 0 }, 'ban name: username must not contain [ or ]'],
      [{ type: 'node-lost', node: 'n'.repeat(MAX_WIRE_ID_LENGTH + 1), at: 0 }, 'node is not an id'],
      [{ type: 'roster', node: 'n1', users: [{ id: 'n1:1', nick: 'ghost\u200b', room: '#main', connectedAt: 0 }], at: 0 }, 'nick: username must not contain invisible characters'],
      [{ type: 'roster', node: 'n1', users: [{ id: 'n1:1', nick: 'ann', room: '#main', connectedAt: 0, from: 'x\ny' }], at: 0 }, 'from is not an id'],
      [{ ...said('n1:1', 'ann', 'hi'), at: Number.NaN }, 'at is not a time'],
      [{ type: 'muted', user: 'n1:1', nick: 'ann', name: 'bob', until: Number.POSITIVE_INFINITY, at: 0 }, 'until is not a time'],
      [{ type: 'resumed', user: 'n2:7', replaced: 'n1:1\nlogin #1 root', nick: 'ann', at: 0 }, 'replaced is not an id'],
      [{ type: 'identified', user: 'n1:1', nick: 'ann', account: 'a'.repeat(MAX_WIRE_ID_LENGTH + 1), at: 0 }, 'account is not an id'],
      [{ type: 'opped', user: 'n1:1', nick: 'ann', name: 'bob', account: 'x\ty', at: 0 }, 'account is not an id'],
      [{ type: 'roster', node: 'n1', users: [{ id: 'n1:1', nick: 'ann', room: '#main', connectedAt: 0, identified: 'ann', account: 'x\ny' }], at: 0 }, 'account is not an id'],
    ];
    expect(cases.map(([event]) => problem(event))).toEqual(cases.map(([, why]) => expect.stringContaining(why)));
  });
});

describe('stateProblem', () => {
  const user = { id: 'n1:1', nick: 'ann', room: '#main', away: null, connectedAt: 0, activeAt: 0, ignores: [], lastWhisperer: null, from: '', identified: null };
  const room = { room: '#main', topic: 'chess', history: [said('n1:1', 'ann', 'hi')] };

  it('takes a state nodes could hold, and refuses one with a user, a room or a line they could not', () => {
    expect(stateProblem({ users: [user], rooms: [room] }, limits)).toBeUndefined();
    const bad: [StateData, string][] = [
      [{ users: [{ ...user, nick: 'a\rb' }], rooms: [] }, 'user n1:1: nick: username must not contain control characters'],
      [{ users: [{ ...user, away: 'x'.repeat(201) }], rooms: [] }, 'away is longer than 200 characters'],
      [{ users: [], rooms: [{ ...room, room: '#MAIN' }] }, 'room is not a room name'],
      [{ users: [], rooms: [{ ...room, topic: '\x07' }] }, 'topic holds control characters'],
      [{ users: [], rooms: [{ ...room, history: [said('n1:1', 'ann', 'x'.repeat(11))] }] }, 'history: text is longer than 10 bytes'],
    ];
    for (const [state, why] of bad) expect(stateProblem(state, limits)).toContain(why);
  });
});
