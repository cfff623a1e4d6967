import { COMMANDS } from '../../lib/chat/commands';
import { decide, MAX_AWAY_LENGTH, MAX_TOPIC_LENGTH } from '../../lib/chat/decide';
import type { ChatEvent, UserId } from '../../lib/chat/events';
import {
  lineByLine, listing, MAX_LISTED_BANS, MAX_LISTED_NAMES, MAX_LISTED_ROOMS, MAX_LISTING_BYTES, MAX_LISTING_LINE_BYTES,
} from '../../lib/chat/listing';
import { MAX_MOTD_LENGTH, MAX_REASON_LENGTH } from '../../lib/chat/operator-commands';
import { MAX_BANS } from '../../lib/chat/moderation';
import { REPLY_BYTES_PER_LINE } from '../../lib/chat/pace';
import { type ChatState, MAX_ROOMS } from '../../lib/chat/state';
import { andMore } from '../../lib/chat/texts';
import { utf8Bytes } from '../../lib/chat/utf8';
import { away, given, identified, ignored, joined, restored, stateAfter, topic } from '../support/events';

const bytes = (lines: readonly string[]): number => lines.reduce((sum, line) => sum + Buffer.byteLength(line), 0);
const longest = (lines: readonly string[]): number => Math.max(...lines.map((line) => Buffer.byteLength(line)));
const names = (count: number): string[] => Array.from({ length: count }, (_, index) => `u${index}`);
/** The lines of a text, each with its newline. */
const linesOf = (text: string): string[] => text.split(/(?<=\n)/);
/** The lines the line `/who` and the rest answer, typed by u0, an operator. */
const replies = (state: ChatState, line: string, user: UserId = 'u0'): readonly string[] =>
  linesOf(decide(state, { type: 'line', user, text: line, at: 1 }).replies.join(''));

describe('limits', () => {
  it('are 200 names, 200 rooms and 100 bans a listing, lines of 1 KiB, 32 KiB a listing', () => {
    expect([MAX_LISTED_NAMES, MAX_LISTED_ROOMS, MAX_LISTED_BANS]).toEqual([200, 200, 100]);
    expect([MAX_LISTING_LINE_BYTES, MAX_LISTING_BYTES]).toEqual([1024, 32 * 1024]);
  });
});

describe('utf8Bytes', () => {
  it.each(['', 'ann', 'é', '€', '😀', 'a😀b', '\ud800', '\udc00x', 'ｂｏｂ'])('counts %j as Buffer.byteLength does', (value) => {
    expect(utf8Bytes(value)).toBe(Buffer.byteLength(value));
  });
});

describe('listing', () => {
  it('lists a short list on one line', () => {
    expect(listing('3 in #main: ', ['ann', 'bob', 'cat'], 3, 10)).toBe('*** 3 in #main: ann, bob, cat\n');
  });

  it('stops at its most items and says how many more', () => {
    expect(listing('5 in #main: ', names(5), 5, 2)).toBe(`*** 5 in #main: u0, u1\n${andMore(3)}`);
  });

  it('reads no more of the items than it lists, and one more', () => {
    let read = 0;
    function* counted(): Generator<string> {
      for (;;) {
        read += 1;
        yield 'x';
      }
    }
    listing('', counted(), 1_000_000, 10);
    expect(read).toBe(11);
  });

  it('breaks the list into lines of at most MAX_LISTING_LINE_BYTES, never inside an item', () => {
    const items = names(300).map((name) => `${name} ${'y'.repeat(90)}`);
    const lines = linesOf(listing('300 in #main: ', items, 300, 300));
    expect(longest(lines)).toBeLessThanOrEqual(MAX_LISTING_LINE_BYTES);
    expect(lines.map((line) => line.slice(4, -1)).join(', ')).toBe(`300 in #main: ${items.join(', ')}`);
  });

  it('gives an item longer than a line a line of its own', () => {
    const long = 'z'.repeat(2000);
    expect(listing('', ['a', long, 'b'], 3, 3)).toBe(`*** a\n*** ${long}\n*** b\n`);
  });

  it('writes at most MAX_LISTING_BYTES, counted in UTF-8, then says how many more', () => {
    const items = names(MAX_LISTED_NAMES).map((name) => `${name} (away: ${'😀'.repeat(MAX_AWAY_LENGTH)})`);
    const lines = linesOf(listing('1500 in #main: ', items, 1500, MAX_LISTED_NAMES));
    const last = lines.at(-1) ?? '';
    expect(bytes(lines.slice(0, -1))).toBeLessThanOrEqual(MAX_LISTING_BYTES);
    expect(last).toBe(andMore(1500 - (lines.length - 1)));
  });

  it('answers in one text, so in one write', () => {
    expect(decide(stateAfter(joined('u0', 'ann'), joined('u1', 'bob')), { type: 'line', user: 'u0', text: '/who', at: 0 }).replies).toEqual(['*** 2 in #main: ann, bob\n']);
  });

  it('lists whole lines one a line, within the same bounds', () => {
    expect(lineByLine(['*** a\n', '*** b\n', '*** c\n'], 5, 2)).toBe(`*** a\n*** b\n${andMore(3)}`);
    const long = names(100).map((name) => `*** ${name} ${'w'.repeat(1000)}\n`);
    const lines = linesOf(lineByLine(long, 100, 100));
    expect(bytes(lines.slice(0, -1))).toBeLessThanOrEqual(MAX_LISTING_BYTES);
    expect(lines.at(-1)).toBe(andMore(100 - (lines.length - 1)));
  });
});

describe('what one command can make the server write', () => {
  const USERS = 1500;
  const ascii = 'r'.repeat(MAX_AWAY_LENGTH);
  const emoji = '😀'.repeat(MAX_AWAY_LENGTH); // 800 bytes: the most bytes a reason can be

  /** The attack: 1500 users in #main, each away with a reason of 200 characters. */
  function crowd(reason: string): ChatState {
    const events: ChatEvent[] = [restored(['u0']), joined('u0', 'u0'), identified('u0', 'u0')];
    for (let index = 1; index < USERS; index += 1) events.push(joined(`u${index}`, `u${index}`), away(`u${index}`, reason));
    return stateAfter(...events);
  }

  it.each(['/who', '/names', '/users'])('%s lists at most MAX_LISTED_NAMES in lines of bounded length, then how many more', (line) => {
    const lines = replies(crowd('lunch'), line);
    expect(lines[0]?.startsWith(`*** ${USERS} in #main: u0, u1 (away: lunch), u2 (away: lunch)`)).toBe(true);
    expect(lines.at(-1)).toBe(andMore(USERS - MAX_LISTED_NAMES));
    expect(lines.join('').match(/\(away: lunch\)/g)).toHaveLength(MAX_LISTED_NAMES - 1);
    expect(longest(lines)).toBeLessThanOrEqual(MAX_LISTING_LINE_BYTES);
  });

  it.each([['ASCII', ascii], ['emoji', emoji]])('/who with every reason 200 characters long (%s) writes at most MAX_LISTING_BYTES', (_, reason) => {
    const lines = replies(crowd(reason), '/who');
    const listed = lines.join('').split(`(away: ${reason})`).length; // those away listed, and u0, who is not
    expect(bytes(lines.slice(0, -1))).toBeLessThanOrEqual(MAX_LISTING_BYTES);
    expect(lines.at(-1)).toBe(andMore(USERS - listed));
    expect(longest(lines)).toBeLessThanOrEqual(MAX_LISTING_LINE_BYTES);
  });

  it('/rooms lists at most MAX_LISTED_ROOMS, then how many more', () => {
    const state = crowd('');
    for (let index = 1; index < MAX_ROOMS; index += 1) given(state, topic(`u${index}`, `u${index}`, 'x'), { type: 'moved', user: `u${index}`, nick: `u${index}`, from: '#main', room: `#room-${index}`, at: 0 });
    expect(state.rooms()).toHaveLength(MAX_ROOMS);
    const lines = replies(state, '/rooms');
    expect(lines[0]?.startsWith('*** rooms: #main (')).toBe(true);
    expect(lines.at(-1)).toBe(andMore(MAX_ROOMS - MAX_LISTED_ROOMS));
    expect(longest(lines)).toBeLessThanOrEqual(MAX_LISTING_LINE_BYTES);
  });

  it('/ignore alone lists at most MAX_LISTED_NAMES of those ignored, then how many more', () => {
    const state = crowd('');
    for (let index = 1; index < USERS; index += 1) given(state, ignored('u0', `u${index}`, `u${index}`));
    const lines = replies(state, '/ignore');
    expect(lines[0]?.startsWith('*** you are ignoring u1, u2, ')).toBe(true);
    expect(lines.at(-1)).toBe(andMore(USERS - 1 - MAX_LISTED_NAMES));
    expect(longest(lines)).toBeLessThanOrEqual(MAX_LISTING_LINE_BYTES);
  });

  it('/bans lists at most MAX_LISTED_BANS, then how many more', () => {
    const state = crowd('');
    const reason = '😀'.repeat(MAX_REASON_LENGTH);
    for (let index = 0; index < MAX_BANS; index += 1) {
      given(state, { type: 'banned', user: 'u0', nick: 'u0', ban: { name: `b${index}`, address: '', until: null, by: 'u0', reason }, at: 0 });
    }
    const lines = replies(state, '/bans');
    expect(lines[0]).toBe(`*** b0 is banned for good by u0: ${reason}\n`);
    expect(lines.length).toBeLessThanOrEqual(MAX_LISTED_BANS + 1);
    expect(bytes(lines.slice(0, -1))).toBeLessThanOrEqual(MAX_LISTING_BYTES);
    expect(lines.at(-1)).toBe(andMore(MAX_BANS - (lines.length - 1)));
  });

  it('/help costs no more than a line: under REPLY_BYTES_PER_LINE', () => {
    expect(bytes(replies(crowd(''), '/help'))).toBeLessThan(REPLY_BYTES_PER_LINE);
  });

  describe('whatever the chat holds', () => {
    let state: ChatState;
    beforeAll(() => {
      state = crowd(emoji);
      given(state, topic('u0', 'u0', '😀'.repeat(MAX_TOPIC_LENGTH)));
      given(state, { type: 'motd', user: 'u0', nick: 'u0', text: '😀'.repeat(MAX_MOTD_LENGTH), at: 0 });
      for (let index = 1; index < USERS; index += 1) given(state, ignored('u0', `u${index}`, `u${index}`));
    });

    it.each(COMMANDS.flatMap(({ name }) => [`/${name}`, `/${name} u7`]))('%s writes at most MAX_LISTING_BYTES and a line', (line) => {
      expect(bytes(replies(state, line))).toBeLessThanOrEqual(MAX_LISTING_BYTES + MAX_LISTING_LINE_BYTES);
    });
  });
});
