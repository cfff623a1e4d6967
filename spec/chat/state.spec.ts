import { defer, map, type Observable, type OperatorFunction, scan } from 'rxjs';
import type { ChatEvent } from '../../lib/chat/events';
import { ChatState, HISTORY_BYTES, HISTORY_LINES, historyLineBytes, MAX_ROOMS } from '../../lib/chat/state';
import {
  given,
  acted, away, back, ignored, joined, left, moved, renamed, said, stateAfter, topic, unignored, whispered,
} from '../support/events';
import { scheduler } from '../support/marbles';

/** The reducer run by `scan`; each subscription starts from an empty chat. */
const chatState = (historyLines?: number): OperatorFunction<ChatEvent, ChatState> =>
  (events$) => defer(() => events$.pipe(scan((state, event) => given(state, event), new ChatState(historyLines))));

/** `state` with `events` applied, in order. */
const stateAfterInto = (state: ChatState, events: readonly ChatEvent[]): ChatState => events.reduce((into, event) => given(into, event), state);

/** What `look` reads of the state after each event, as a snapshot. */
const after = <T>(events$: Observable<ChatEvent>, look: (state: ChatState) => T, historyLines?: number): Observable<T> =>
  events$.pipe(chatState(historyLines), map(look));

describe('HISTORY_LINES', () => {
  it('is 20 lines', () => {
    expect(HISTORY_LINES).toBe(20);
  });
});

describe('ChatState', () => {
  describe('joined and left', () => {
    it('keeps who is in a room through joins, renames and leaves', () => {
      scheduler().run(({ cold, expectObservable }) => {
        const events = { a: joined('u1', 'ann'), b: joined('u2', 'bob'), r: renamed('u1', 'ann', 'anna'), l: left('u2', 'bob') };
        const events$ = cold('a-b-r-l', events);
        const expected = '    w-x-y-z';
        expectObservable(after(events$, (state) => state.nicks('#main')))
          .toBe(expected, { w: ['ann'], x: ['ann', 'bob'], y: ['anna', 'bob'], z: ['anna'] });
      });
    });

    it('ignores a join whose name key is held: the first claim wins, case and lookalikes alike', () => {
      scheduler().run(({ cold, expectObservable }) => {
        const events = { a: joined('u1', 'bob'), b: joined('u2', 'Bob'), c: joined('u3', 'b\u043eb'), d: joined('u4', 'ｂｏｂ') };
        const events$ = cold('a-b-c-d', events);
        const expected = '    w-w-w-w';
        expectObservable(after(events$, (state) => state.members().map(({ id, nick }) => `${id}:${nick}`))).toBe(expected, { w: ['u1:bob'] });
      });
    });

    it('ignores a second join of the same user under another name', () => {
      scheduler().run(({ cold, expectObservable }) => {
        const events$ = cold('a-b', { a: joined('u1', 'ann'), b: joined('u1', 'bob', '#games') });
        const expected = '    x-x';
        expectObservable(after(events$, (state) => [state.nicks(), state.rooms()]))
          .toBe(expected, { x: [['ann'], [{ room: '#main', count: 1, topic: undefined }]] });
      });
    });

    it('frees the name of whoever left, for anyone to take, and ignores a leave of nobody', () => {
      scheduler().run(({ cold, expectObservable }) => {
        const events = { a: joined('u1', 'bob'), l: left('u1', 'bob'), n: left('u9', 'nobody'), b: joined('u2', 'BOB') };
        const events$ = cold('a-l-n-b', events);
        const expected = '    w-x-x-y';
        expectObservable(after(events$, (state) => state.userNamed('bob')?.id)).toBe(expected, { w: 'u1', x: undefined, y: 'u2' });
      });
    });

    it('keeps when a user connected, and starts them active then, in #main with nothing else set', () => {
      expect(stateAfter(joined('u1', 'ann', '#main', 5000)).user('u1')).toEqual({
        id: 'u1', nick: 'ann', room: '#main', away: undefined, connectedAt: 5000, activeAt: 5000, lastWhisperer: undefined, from: '',
      });
    });
  });

  describe('said and acted', () => {
    const a = said('u1', 'ann', 'one');
    const b = acted('u2', 'bob', 'waves');
    const c = said('u1', 'ann', 'three');
    const g = said('u3', 'cat', 'elsewhere', '#games');

    it('keeps the last lines of each room, at most historyLines, oldest first', () => {
      scheduler().run(({ cold, expectObservable }) => {
        const events = { j: joined('u1', 'ann'), k: joined('u2', 'bob'), l: joined('u3', 'cat', '#games'), a, b, c, g };
        const events$ = cold('jkl-a-b-g-c', events);
        const expected = '    www-x-y-y-z';
        const history$ = after(events$, (state) => state.history('#main'), 2);
        expectObservable(history$).toBe(expected, { w: [], x: [a], y: [a, b], z: [b, c] });
      });
    });

    it('keeps the history of a room apart from the others', () => {
      const state = stateAfter(joined('u1', 'ann'), joined('u3', 'cat', '#games'), a, g);
      expect(state.history('#main')).toEqual([a]);
      expect(state.history('#games')).toEqual([g]);
      expect(state.history('#nowhere')).toEqual([]);
    });

    it('keeps none when historyLines is 0', () => {
      scheduler().run(({ cold, expectObservable }) => {
        const events$ = cold('j-a-c', { j: joined('u1', 'ann'), a, c });
        const expected = '    x-x-x';
        expectObservable(after(events$, (state) => state.history('#main'), 0)).toBe(expected, { x: [] });
      });
    });

    it('keeps HISTORY_LINES lines by default', () => {
      const lines = Array.from({ length: HISTORY_LINES + 5 }, (_, i) => said('u1', 'ann', `line ${i}`));
      const history = stateAfter(joined('u1', 'ann'), ...lines).history('#main');
      expect(history).toEqual(lines.slice(5));
    });

    it('makes the speaker active when they speak', () => {
      scheduler().run(({ cold, expectObservable }) => {
        const events = { j: joined('u1', 'ann', '#main', 10), a: said('u1', 'ann', 'hi', '#main', 20), b: acted('u1', 'ann', 'x', '#main', 30) };
        const events$ = cold('j-a-b', events);
        const expected = '    x-y-z';
        expectObservable(after(events$, (state) => state.user('u1')?.activeAt)).toBe(expected, { x: 10, y: 20, z: 30 });
      });
    });

    it('keeps no line for a room that does not exist', () => {
      expect(stateAfter(joined('u1', 'ann'), said('u1', 'ann', 'hi', '#gone')).rooms()).toEqual([{ room: '#main', count: 1, topic: undefined }]);
    });
  });

  describe('the history of all rooms together', () => {
    // Ten bytes a line: eight of text and 'an' as the sender's name.
    const line = (room: string, n: number) => said('u1', 'an', `${room.slice(1, 2)}-line-${n}`, room);
    const [m1, m2, m3, g1, g2, p1] = [line('#main', 1), line('#main', 2), line('#main', 3), line('#games', 1), line('#games', 2), line('#pub', 1)];
    const inRooms = [joined('u1', 'an'), joined('u2', 'bo', '#games'), joined('u3', 'cy', '#pub')];
    const histories = (state: ChatState) => ['#main', '#games', '#pub'].map((room) => state.history(room).map((event) => event.text));
    /** `into` restored from a snapshot of `state`, as a cluster's bus hands it over. */
    const restoredInto = (into: ChatState, state: ChatState): ChatState => {
      into.restore(JSON.parse(JSON.stringify(state.toJSON())), false);
      return into;
    };

    it('counts a line by the UTF-8 bytes of its text and its sender\'s name', () => {
      expect(historyLineBytes(m1)).toBe(10);
      expect(historyLineBytes(said('u1', 'é', 'a\u{1f415}\u4e2d'))).toBe(2 + 1 + 4 + 3);
      expect(HISTORY_BYTES).toBe(16 * 1024 * 1024);
    });

    it('is bounded in bytes: past the bound the least recently used room loses its oldest lines first', () => {
      scheduler().run(({ cold, expectObservable }) => {
        const big = said('u1', 'an', 'x'.repeat(38));
        const events$ = cold('abcdefg', { a: m1, b: g1, c: m2, d: p1, e: g2, f: m3, g: big });
        const expected = '    uvwxyzZ';
        const state$ = defer(() => events$.pipe(scan((state, event) => given(state, event), stateAfterInto(new ChatState(HISTORY_LINES, 0, 40), inRooms))));
        expectObservable(state$.pipe(map(histories))).toBe(expected, {
          u: [['m-line-1'], [], []],
          v: [['m-line-1'], ['g-line-1'], []],
          w: [['m-line-1', 'm-line-2'], ['g-line-1'], []],
          x: [['m-line-1', 'm-line-2'], ['g-line-1'], ['p-line-1']],
          y: [['m-line-2'], ['g-line-1', 'g-line-2'], ['p-line-1']], // #main was the least recently used
          z: [['m-line-2', 'm-line-3'], ['g-line-1', 'g-line-2'], []], // then #pub
          Z: [['x'.repeat(38)], [], []], // a line of the whole bound leaves room for itself alone
        });
      });
    });

    it('takes whichever bound is reached first, lines per room or bytes in all', () => {
      const state = stateAfterInto(new ChatState(2, 0, 1000), [...inRooms, m1, m2, m3, g1]);
      expect(histories(state)).toEqual([['m-line-2', 'm-line-3'], ['g-line-1'], []]);
      expect(state.historySize).toBe(30);
      expect(histories(stateAfterInto(new ChatState(20, 0, 0), [...inRooms, m1, g1]))).toEqual([[], [], []]);
    });

    it('gets back the bytes of a room that goes with its history', () => {
      const state = stateAfterInto(new ChatState(HISTORY_LINES, 0, 20), [...inRooms, g1, g2, left('u2', 'bo', '#games'), m1, m2]);
      expect(state.historySize).toBe(20);
      expect(histories(state)).toEqual([['m-line-1', 'm-line-2'], [], []]);
    });

    it('drops, once restored from a snapshot, the lines the state it came from drops', () => {
      const running = stateAfterInto(new ChatState(HISTORY_LINES, 0, 40), [...inRooms, g1, m1, p1, g2]);
      const restored = restoredInto(new ChatState(HISTORY_LINES, 0, 40), running);
      expect(histories(restored)).toEqual(histories(running));
      for (const state of [running, restored]) given(state, m2, line('#pub', 2));
      expect(histories(restored)).toEqual([['m-line-1', 'm-line-2'], ['g-line-2'], ['p-line-2']]); // #pub, then #games, were the least recently used
      expect(histories(restored)).toEqual(histories(running));
    });

    it('keeps no more of a snapshot than its own bound allows', () => {
      const running = stateAfterInto(new ChatState(HISTORY_LINES, 0, 1000), [...inRooms, m1, g1, m2, p1]);
      const restored = restoredInto(new ChatState(HISTORY_LINES, 0, 20), running);
      expect(histories(restored)).toEqual([['m-line-2'], [], ['p-line-1']]);
      expect(restored.historySize).toBe(20);
    });

    it('says which rooms\' histories changed since a version, none of those it restored, and every room that has one', () => {
      const running = stateAfterInto(new ChatState(HISTORY_LINES, 0, 1000), [...inRooms, m1, g1]);
      const restored = restoredInto(new ChatState(HISTORY_LINES, 0, 1000), running);
      const first = restored.historyChanges(0);
      expect([...first.changed.keys()]).toEqual([]);
      expect(first.kept).toEqual(['#main', '#games']);
      given(restored, p1, g2);
      const second = restored.historyChanges(first.version);
      expect([...second.changed]).toEqual([['#pub', [p1]], ['#games', [g1, g2]]]);
      given(restored, m2);
      expect([...restored.historyChanges(second.version).changed.keys()]).toEqual(['#main']);
      expect(restored.outline().rooms.map((room) => room.history)).toEqual([[], [], []]);
    });
  });

  describe('renamed', () => {
    it('frees the old name and takes the new one', () => {
      scheduler().run(({ cold, expectObservable }) => {
        const events = { a: joined('u1', 'ann'), r: renamed('u1', 'ann', 'anna'), b: joined('u2', 'Ann'), c: joined('u3', 'ANNA') };
        const events$ = cold('a-r-b-c', events);
        const expected = '    w-x-y-y';
        expectObservable(after(events$, (state) => state.members().map(({ id, nick }) => `${id}:${nick}`)))
          .toBe(expected, { w: ['u1:ann'], x: ['u1:anna'], y: ['u1:anna', 'u2:Ann'] });
      });
    });

    it('ignores a rename to a name another user holds, and a rename of nobody', () => {
      scheduler().run(({ cold, expectObservable }) => {
        const events = { a: joined('u1', 'ann'), b: joined('u2', 'bob'), r: renamed('u1', 'ann', 'b\u043eb'), n: renamed('u9', 'x', 'zed') };
        const events$ = cold('ab-r-n', events);
        const expected = '    wx-x-x';
        expectObservable(after(events$, (state) => [state.nicks(), state.userNamed('zed')]))
          .toBe(expected, { w: [['ann'], undefined], x: [['ann', 'bob'], undefined] });
      });
    });

    it('allows a change of case, and makes the user active', () => {
      const state = stateAfter(joined('u1', 'ann', '#main', 1), renamed('u1', 'ann', 'Ann', '#main', 9));
      expect(state.userNamed('ANN')).toMatchObject({ id: 'u1', nick: 'Ann', activeAt: 9 });
    });
  });

  describe('moved', () => {
    it('counts who is in each room, and a room with nobody and no topic disappears with its history', () => {
      scheduler().run(({ cold, expectObservable }) => {
        const events = {
          a: joined('u1', 'ann'), b: joined('u2', 'bob'), m: moved('u1', 'ann', '#main', '#games'),
          s: said('u1', 'ann', 'hi', '#games'), n: moved('u1', 'ann', '#games', '#main'), l: left('u2', 'bob'),
        };
        const events$ = cold('ab-m-s-n-l', events);
        const expected = '    vw-x-x-y-z';
        expectObservable(after(events$, (state) => state.rooms().map(({ room, count }) => `${room} ${count}`))).toBe(expected, {
          v: ['#main 1'], w: ['#main 2'], x: ['#main 1', '#games 1'], y: ['#main 2'], z: ['#main 1'],
        });
      });
      const state = stateAfter(
        joined('u1', 'ann'), moved('u1', 'ann', '#main', '#games'), said('u1', 'ann', 'hi', '#games'), moved('u1', 'ann', '#games', '#main'),
      );
      expect(state.history('#games')).toEqual([]);
    });

    it('keeps a room with a topic when its last user leaves it, history and all', () => {
      scheduler().run(({ cold, expectObservable }) => {
        const events = {
          a: joined('u1', 'ann'), b: joined('u2', 'bob'), m: moved('u1', 'ann', '#main', '#games'), t: topic('u1', 'ann', 'chess', '#games'),
          s: said('u1', 'ann', 'e4', '#games'), n: moved('u1', 'ann', '#games', '#main'), l: left('u1', 'ann'),
        };
        const events$ = cold('ab-m-t-s-n-l', events);
        const expected = '    uv-w-x-x-y-z';
        expectObservable(after(events$, (state) => state.rooms().map(({ room, count, topic }) => `${room} ${count} ${topic}`))).toBe(expected, {
          u: ['#main 1 undefined'], v: ['#main 2 undefined'], w: ['#main 1 undefined', '#games 1 undefined'],
          x: ['#main 1 undefined', '#games 1 chess'], y: ['#main 2 undefined', '#games 0 chess'], z: ['#main 1 undefined', '#games 0 chess'],
        });
      });
      const state = stateAfter(joined('u1', 'ann'), moved('u1', 'ann', '#main', '#games'), topic('u1', 'ann', 'chess', '#games'),
        said('u1', 'ann', 'e4', '#games'), moved('u1', 'ann', '#games', '#main'));
      expect(state.history('#games')).toEqual([said('u1', 'ann', 'e4', '#games')]);
    });

    it('lets a room whose topic was cleared go when its last user leaves it', () => {
      const state = stateAfter(joined('u1', 'ann'), moved('u1', 'ann', '#main', '#games'), topic('u1', 'ann', 'chess', '#games'), topic('u1', 'ann', '', '#games'));
      expect(state.topic('#games')).toBeUndefined();
      given(state, moved('u1', 'ann', '#games', '#main'));
      expect(state.rooms().map(({ room }) => room)).toEqual(['#main']);
    });

    it('keeps a room its users left with their node, history and all, until a user leaves it by choice', () => {
      const gone = (user: string, nick: string) => ({ ...left(user, nick, '#games'), nodeGone: true } as const);
      scheduler().run(({ cold, expectObservable }) => {
        const events = {
          a: joined('n1:1', 'ann', '#games'), s: said('n1:1', 'ann', 'e4', '#games'), l: gone('n1:1', 'ann'),
          b: joined('n2:1', 'bob', '#games'), m: left('n2:1', 'bob', '#games'),
        };
        const events$ = cold('a-s-l-b-m', events);
        const expected = '    u-v-w-x-y';
        expectObservable(after(events$, (state) => [state.rooms().map(({ room, count }) => `${room} ${count}`), state.history('#games').length])).toBe(expected, {
          u: [['#games 1'], 0], v: [['#games 1'], 1], w: [['#games 0'], 1], x: [['#games 1'], 1], y: [[], 0],
        });
      });
      expect(stateAfter(joined('n1:1', 'ann', '#games'), gone('n1:1', 'ann')).rooms()).toEqual([]); // nothing said: nothing kept
    });

    it('moves the user, makes them active, and ignores a move to where they are or of nobody', () => {
      scheduler().run(({ cold, expectObservable }) => {
        const events = {
          a: joined('u1', 'ann', '#main', 1), m: moved('u1', 'ann', '#main', '#games', 5),
          s: moved('u1', 'ann', '#main', '#games', 7), n: moved('u9', 'x', '#main', '#x'),
        };
        const events$ = cold('a-m-s-n', events);
        const expected = '    w-x-x-x';
        expectObservable(after(events$, (state) => [state.user('u1')?.room, state.user('u1')?.activeAt, state.rooms().map(({ room }) => room)]))
          .toBe(expected, { w: ['#main', 1, ['#main']], x: ['#games', 5, ['#games']] });
      });
    });
    it('makes space past MAX_ROOMS by letting the oldest empty room go, topic and all', () => {
      const full = stateAfter(
        joined('t', 'topical', '#kept'), topic('t', 'topical', 'old news', '#kept'), moved('t', 'topical', '#kept', '#main'),
        ...Array.from({ length: MAX_ROOMS - 2 }, (_, i) => joined(`u${i}`, `user${i}`, `#r${i}`)),
      );
      expect(full.rooms()).toHaveLength(MAX_ROOMS);
      given(full, joined('n', 'newcomer', '#new'));
      expect(full.rooms()).toHaveLength(MAX_ROOMS);
      expect(full.rooms().map(({ room }) => room)).not.toContain('#kept');
      expect(full.topic('#kept')).toBeUndefined();
    });
  });

  describe('whispered', () => {
    it('makes the sender the recipient’s last whisperer, and the sender active', () => {
      scheduler().run(({ cold, expectObservable }) => {
        const events = {
          a: joined('u1', 'ann'), b: joined('u2', 'bob'), c: joined('u3', 'cat'),
          w: whispered('u1', 'ann', 'u2', 'bob', 'psst', 4), x: whispered('u3', 'cat', 'u2', 'bob', 'hey', 6),
        };
        const events$ = cold('abc-w-x', events);
        const expected = '    ppp-q-r';
        expectObservable(after(events$, (state) => [state.user('u2')?.lastWhisperer, state.user('u1')?.lastWhisperer, state.user('u1')?.activeAt]))
          .toBe(expected, { p: [undefined, undefined, 0], q: ['u1', undefined, 4], r: ['u3', undefined, 4] });
      });
    });
  });

  describe('away and back', () => {
    it('keeps the reason until the user is back', () => {
      scheduler().run(({ cold, expectObservable }) => {
        const events = { a: joined('u1', 'ann'), w: away('u1', 'lunch'), x: away('u1', 'meeting'), b: back('u1'), n: away('u9', 'ghost') };
        const events$ = cold('a-w-x-b-n', events);
        const expected = '    p-q-r-p-p';
        expectObservable(after(events$, (state) => state.members().map((user) => user.away)))
          .toBe(expected, { p: [undefined], q: ['lunch'], r: ['meeting'] });
      });
    });
  });

  describe('ignored and unignored', () => {
    it('keeps whom each user ignores until they unignore them', () => {
      scheduler().run(({ cold, expectObservable }) => {
        const events = {
          a: joined('u1', 'ann'), b: joined('u2', 'bob'), c: joined('u3', 'cat'),
          i: ignored('u1', 'u2', 'bob'), j: ignored('u1', 'u3', 'cat'), u: unignored('u1', 'u2', 'bob'),
        };
        const events$ = cold('abc-i-j-u', events);
        const expected = '    www-x-y-z';
        expectObservable(after(events$, (state) => [state.ignoredBy('u1'), state.ignores('u1', 'u2')]))
          .toBe(expected, { w: [[], false], x: [['u2'], true], y: [['u2', 'u3'], true], z: [['u3'], false] });
      });
    });

    it('ignores an ignore of someone who is not logged in, or by someone who is not', () => {
      const state = stateAfter(joined('u1', 'ann'), ignored('u1', 'u9', 'ghost'), ignored('u9', 'u1', 'ann'));
      expect(state.ignoredBy('u1')).toEqual([]);
      expect(state.ignoredBy('u9')).toEqual([]);
      expect(state.ignorersIn('#main', 'u1')).toEqual([]);
    });

    it('forgets a departed user in the sets of those who ignored them', () => {
      scheduler().run(({ cold, expectObservable }) => {
        const events = {
          a: joined('u1', 'ann'), b: joined('u2', 'bob'), c: joined('u3', 'cat'),
          i: ignored('u1', 'u2', 'bob'), j: ignored('u3', 'u2', 'bob'), l: left('u2', 'bob'), r: joined('u4', 'bob'),
        };
        const events$ = cold('abc-ij-l-r', events);
        const expected = '    www-xy-w-w';
        expectObservable(after(events$, (state) => [state.ignoredBy('u1'), state.ignoredBy('u3')]))
          .toBe(expected, { w: [[], []], x: [['u2'], []], y: [['u2'], ['u2']] });
      });
    });

    it('finds the ignorers of a sender in one room only', () => {
      const state = stateAfter(
        joined('u1', 'ann'), joined('u2', 'bob'), joined('u3', 'cat'), joined('u4', 'dan'),
        ignored('u1', 'u2', 'bob'), ignored('u3', 'u2', 'bob'), ignored('u4', 'u1', 'ann'), moved('u3', 'cat', '#main', '#games'),
      );
      expect(state.ignorersIn('#main', 'u2')).toEqual(['u1']);
      expect(state.ignorersIn('#games', 'u2')).toEqual(['u3']);
      expect(state.ignorersIn('#main', 'u1')).toEqual(['u4']);
      expect(state.ignorersIn('#main', 'u4')).toEqual([]);
    });

    it('forgets the ignores of a user who left', () => {
      const state = stateAfter(joined('u1', 'ann'), joined('u2', 'bob'), ignored('u1', 'u2', 'bob'), left('u1', 'ann'));
      expect(state.ignoredBy('u1')).toEqual([]);
      expect(state.ignorersIn('#main', 'u2')).toEqual([]);
    });
  });

  describe('topic', () => {
    it('sets the topic of an existing room, and of no room that does not exist', () => {
      scheduler().run(({ cold, expectObservable }) => {
        const events = {
          a: joined('u1', 'ann'), t: topic('u1', 'ann', 'welcome'), u: topic('u1', 'ann', 'hello'), g: topic('u1', 'ann', 'x', '#ghost'),
        };
        const events$ = cold('a-t-u-g', events);
        const expected = '    w-x-y-y';
        expectObservable(after(events$, (state) => [state.topic('#main'), state.topic('#ghost'), state.rooms().length]))
          .toBe(expected, { w: [undefined, undefined, 1], x: ['welcome', undefined, 1], y: ['hello', undefined, 1] });
      });
    });
  });

  describe('a cluster\'s events', () => {
    const returned = (from: string): ChatEvent => ({ type: 'returned', user: 'b:1', nick: 'bob', was: 'bob', room: '#main', connectedAt: 3, from, at: 9 });

    it('takes back a user from a roster with the address it gave, logged in when they first did', () => {
      const bob = stateAfter(returned('10.0.0.2')).user('b:1');
      expect(bob).toMatchObject({ nick: 'bob', from: '10.0.0.2', connectedAt: 3 });
      expect(stateAfter(returned('')).toJSON().users[0]?.from).toBe('');
    });

    it('is cut off from the cluster from bus-down until restored, keeping only its own node\'s users meanwhile', () => {
      const state = stateAfter(joined('a:1', 'ann'), joined('b:1', 'bob'));
      const look = () => `${state.cutOff ? 'apart' : 'one'}:${state.nicks().join(',')}`;
      expect(look()).toBe('one:ann,bob');
      expect(state.keepNode('a')).toBe(true);
      expect(look()).toBe('apart:ann');
      state.restore({ users: [], rooms: [] }, true);
      expect(look()).toBe('one:');
    });

    it('says once per outage that its users are to be told, and once that they are back, when its roster is', () => {
      const state = stateAfter(joined('a:1', 'ann'));
      expect([state.keepNode('a'), state.rejoining]).toEqual([true, false]);
      state.restore(state.toJSON(), true);
      expect([state.keepNode('a'), state.rejoining]).toEqual([false, false]); // dropped again before it was one
      state.restore(state.toJSON(), true);
      expect(state.rejoining).toBe(true);
      expect(state.rejoin()).toBe(true);
      expect([state.rejoining, state.rejoin()]).toEqual([false, false]);
      state.restore({ users: [], rooms: [] }, false); // a first start: nobody was told anything
      expect([state.rejoining, state.rejoin()]).toEqual([false, false]);
    });

    it('lists a node\'s users as its roster does: address and password login as the state holds them', () => {
      const state = stateAfter(
        { ...joined('a:1', 'ann', '#main', 4), from: '10.0.0.1' }, joined('a:2', 'cy'), joined('b:1', 'bob'),
        { type: 'identified', user: 'a:2', nick: 'cy', account: 'acct', at: 5 },
      );
      expect(state.rosterOf('a')).toEqual([
        { id: 'a:1', nick: 'ann', room: '#main', connectedAt: 4, from: '10.0.0.1' },
        { id: 'a:2', nick: 'cy', room: '#main', connectedAt: 0, identified: 'cy', account: 'acct' },
      ]);
    });
  });

  describe('events as values', () => {
    const all: ChatEvent[] = [
      joined('u1', 'ann', '#main', 1), joined('u2', 'bob', '#main', 2), joined('u3', 'cat', '#main', 3),
      said('u1', 'ann', 'hi \u00e9\u{1f415}', '#main', 4), acted('u2', 'bob', 'waves', '#main', 5),
      renamed('u1', 'ann', 'anna', '#main', 6), moved('u3', 'cat', '#main', '#games', 7),
      whispered('u1', 'anna', 'u2', 'bob', 'psst', 8), away('u2', 'lunch', 9), back('u2', 10),
      ignored('u1', 'u2', 'bob', 11), unignored('u1', 'u2', 'bob', 12), ignored('u2', 'u1', 'anna', 13),
      topic('u3', 'cat', 'chess', '#games', 14), said('u3', 'cat', 'e4', '#games', 15), left('u3', 'cat', '#games', 16),
    ];
    const look = (state: ChatState) =>
      [state.members(), state.rooms(), state.history('#main'), state.history('#games'), state.ignoredBy('u1'), state.ignoredBy('u2')];

    /** Values keyed a, b, c... for a marble of one frame each. */
    const keyed = <T>(values: readonly T[]): Record<string, T> =>
      Object.fromEntries(values.map((value, i) => [String.fromCharCode(97 + i), value]));

    it('round-trip through JSON unchanged', () => {
      expect(all.map((event) => JSON.parse(JSON.stringify(event)))).toEqual(all);
    });

    it('give the same state, event after event, after a round trip through JSON', () => {
      scheduler().run(({ cold, expectObservable }) => {
        const marble = 'abcdefghijklmnop';
        const travelled: ChatEvent[] = JSON.parse(JSON.stringify(all));
        const direct = new ChatState();
        const snapshots = all.map((event) => look(given(direct, event)));
        const events$ = cold(marble, keyed(travelled));
        expectObservable(after(events$, look)).toBe(marble, keyed(snapshots));
      });
    });
  });

  describe('lookups', () => {
    it('return copies that leave the state as it was', () => {
      const state = stateAfter(joined('u1', 'ann'), joined('u2', 'bob'), said('u1', 'ann', 'hi'), ignored('u1', 'u2', 'bob'));
      state.nicks().push('eve');
      state.members().pop();
      state.history('#main').pop();
      state.ignoredBy('u1').pop();
      state.rooms().pop();
      expect(state.nicks()).toEqual(['ann', 'bob']);
      expect(state.history('#main')).toHaveLength(1);
      expect(state.ignoredBy('u1')).toEqual(['u2']);
      expect(state.rooms()).toHaveLength(1);
    });

    it('find a user by any spelling of their name', () => {
      const state = stateAfter(joined('u1', 'Bob'));
      expect(state.userNamed('bob')?.id).toBe('u1');
      expect(state.userNamed('b\u043eb')?.id).toBe('u1');
      expect(state.userNamed('bobby')).toBeUndefined();
      expect(state.user('u9')).toBeUndefined();
    });
  });
});
