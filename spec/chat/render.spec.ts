import type { ChatEvent } from '../../lib/chat/events';
import type { Outgoing } from '../../lib/chat/outgoing';
import { render } from '../../lib/chat/render';
import type { ChatState } from '../../lib/chat/state';
import {
  given,
  acted, away, back, identified, ignored, joined, left, moved, renamed, said, stateAfter, topic, unignored, whispered,
} from '../support/events';

/** What `event` shows, rendered as the chat does: against the state after it. */
const seen = (state: ChatState, event: ChatEvent): Outgoing[] => render(event, given(state, event));
const send = (to: string, text: string): Outgoing => ({ kind: 'send', to, text });
const broadcast = (room: string, text: string, hiddenFrom: string[] = []): Outgoing => ({ kind: 'broadcast', room, text, hiddenFrom });
const enter = (to: string, room: string): Outgoing => ({ kind: 'enter', to, room });
const exit = (to: string): Outgoing => ({ kind: 'exit', to });

/** ann and bob in #main; bob has said a line and done one. */
const chat = (): ChatState => stateAfter(joined('u1', 'ann'), joined('u2', 'bob'), said('u2', 'bob', 'hi'), acted('u2', 'bob', 'waves'));

describe('render', () => {
  describe('joined', () => {
    it('welcomes the joiner with the history, then tells the room, the seed’s texts byte for byte in #main', () => {
      expect(seen(chat(), joined('u3', 'cat'))).toEqual([
        send('u3', 'Welcome, cat\n[bob] hi\n* bob waves\n'),
        enter('u3', '#main'),
        broadcast('#main', '*** cat just joined the chatroom\n'),
      ]);
    });

    it('shows the joiner the topic after the join line', () => {
      const state = given(chat(), topic('u1', 'ann', 'chess'));
      expect(seen(state, joined('u3', 'cat'))).toEqual([
        send('u3', 'Welcome, cat\n[bob] hi\n* bob waves\n'),
        enter('u3', '#main'),
        broadcast('#main', '*** cat just joined the chatroom\n'),
        send('u3', '*** topic of #main: chess\n'),
      ]);
    });

    it('welcomes the first user alone, with no history', () => {
      expect(seen(stateAfter(), joined('u1', 'ann'))).toEqual([
        send('u1', 'Welcome, ann\n'),
        enter('u1', '#main'),
        broadcast('#main', '*** ann just joined the chatroom\n'),
      ]);
    });

    it('names any other room in the join line', () => {
      expect(seen(stateAfter(), joined('u1', 'ann', '#games'))).toEqual([
        send('u1', 'Welcome, ann\n'),
        enter('u1', '#games'),
        broadcast('#games', '*** ann just joined #games\n'),
      ]);
    });

    it('shows nothing when the state did not apply the join: another user claimed the name first', () => {
      expect(seen(chat(), joined('u3', 'BOB'))).toEqual([]);
      expect(seen(chat(), joined('u1', 'anna'))).toEqual([]);
    });
  });

  describe('resumed', () => {
    /** ann, who gave her password, away in #games with its topic, where bob talked; cat ignores her and last whispered to her. */
    const games = (): ChatState => stateAfter(
      joined('u1', 'ann'), identified('u1', 'ann'), joined('u2', 'bob'), joined('u3', 'cat'),
      moved('u1', 'ann', '#main', '#games'), moved('u2', 'bob', '#main', '#games'), topic('u2', 'bob', 'chess', '#games'),
      said('u2', 'bob', 'your move', '#games'), away('u1', 'lunch'), ignored('u3', 'u1', 'ann'), whispered('u3', 'cat', 'u1', 'ann', 'psst'),
    );
    const takeover: ChatEvent = { type: 'resumed', user: 'u9', replaced: 'u1', nick: 'ann', at: 5, from: '10.0.0.9' };

    it('closes the old connection, and shows the new one where the user was, with no line to the room', () => {
      expect(seen(games(), takeover)).toEqual([
        send('u1', '*** you logged in elsewhere\n'),
        { kind: 'close', to: 'u1', reason: 'replaced' },
        send('u9', 'Welcome, ann\n*** your other connection was closed; you go on in #games\n[bob] your move\n'),
        enter('u9', '#games'),
        send('u9', '*** topic of #games: chess\n'),
        send('u9', '*** you are away: lunch\n'),
      ]);
    });

    it('keeps the user as they were under the new id: room, away, password given, who ignores them and whom they answer', () => {
      const state = given(games(), takeover);
      expect(state.user('u1')).toBeUndefined();
      expect(state.userNamed('ANN')).toMatchObject({ id: 'u9', nick: 'ann', room: '#games', away: 'lunch', from: '10.0.0.9', connectedAt: 5, lastWhisperer: 'u3' });
      expect(state.isIdentified('u9')).toBe(true);
      expect(state.ignores('u3', 'u9')).toBe(true);
      expect(state.ignorersIn('#main', 'u9')).toEqual(['u3']);
      expect(state.nicks('#games')).toEqual(['bob', 'ann']);
    });

    it('shows nothing, and changes nothing, once the old connection has left or the name is not theirs', () => {
      expect(seen(given(games(), left('u1', 'ann', '#games')), takeover)).toEqual([]);
      const renamedMeanwhile = given(games(), renamed('u1', 'ann', 'anna', '#games'));
      expect(renamedMeanwhile.apply(takeover)).toBe(false);
      expect(renamedMeanwhile.userNamed('anna')?.id).toBe('u1');
    });
  });

  describe('left', () => {
    it('takes the user out of their room, and tells those who remain', () => {
      expect(seen(chat(), left('u2', 'bob'))).toEqual([exit('u2'), broadcast('#main', '*** bob has disconnected\n')]);
    });

    it('tells the room the user was in', () => {
      const state = given(chat(), moved('u2', 'bob', '#main', '#games'));
      expect(seen(state, left('u2', 'bob', '#games'))).toEqual([exit('u2'), broadcast('#games', '*** bob has disconnected\n')]);
    });
  });

  describe('said and acted', () => {
    /** ann, bob, cat and dan; cat and dan ignore bob, dan from #games. */
    const ignoring = (): ChatState => given(chat(), joined('u3', 'cat'), joined('u4', 'dan'), ignored('u3', 'u2', 'bob'), ignored('u4', 'u2', 'bob'), moved('u4', 'dan', '#main', '#games'));

    it('shows a line to the room, the seed’s text in #main', () => {
      expect(seen(chat(), said('u1', 'ann', 'hello'))).toEqual([broadcast('#main', '[ann] hello\n')]);
      expect(seen(chat(), acted('u1', 'ann', 'waves'))).toEqual([broadcast('#main', '* ann waves\n')]);
    });

    it('hides a line from the sender’s ignorers in that room only', () => {
      expect(seen(ignoring(), said('u2', 'bob', 'yo'))).toEqual([broadcast('#main', '[bob] yo\n', ['u3'])]);
      expect(seen(ignoring(), acted('u2', 'bob', 'shrugs'))).toEqual([broadcast('#main', '* bob shrugs\n', ['u3'])]);
      expect(seen(ignoring(), said('u1', 'ann', 'hey'))).toEqual([broadcast('#main', '[ann] hey\n')]);
    });

    it('shows the line again once the ignorer unignores', () => {
      const state = given(ignoring(), unignored('u3', 'u2', 'bob'));
      expect(seen(state, said('u2', 'bob', 'yo'))).toEqual([broadcast('#main', '[bob] yo\n')]);
    });
  });

  describe('renamed', () => {
    it('tells the room the old and new name', () => {
      expect(seen(chat(), renamed('u1', 'ann', 'anna'))).toEqual([broadcast('#main', '*** ann is now known as anna\n')]);
    });

    it('shows nothing when the state did not apply the rename: another user holds the name', () => {
      expect(seen(chat(), renamed('u1', 'ann', 'Bob'))).toEqual([]);
    });

    it('tells a user the chat renamed why, besides the room', () => {
      expect(seen(chat(), { ...renamed('u1', 'ann', 'ann_2'), displaced: true })).toEqual([
        broadcast('#main', '*** ann is now known as ann_2\n'),
        send('u1', '*** username ann was taken on another server meanwhile; you are now ann_2\n'),
      ]);
    });
  });

  describe('moved', () => {
    it('tells the old room, then shows the mover the new room’s history, join line and topic', () => {
      const state = given(chat(), joined('u3', 'cat', '#games'), said('u3', 'cat', 'e4', '#games'), topic('u3', 'cat', 'chess', '#games'));
      expect(seen(state, moved('u1', 'ann', '#main', '#games'))).toEqual([
        broadcast('#main', '*** ann moved to #games\n'),
        exit('u1'),
        send('u1', '[cat] e4\n'),
        enter('u1', '#games'),
        broadcast('#games', '*** ann just joined #games\n'),
        send('u1', '*** topic of #games: chess\n'),
      ]);
    });

    it('leaves out of the history the lines of those the mover ignores', () => {
      const state = given(chat(), joined('u3', 'cat'), ignored('u3', 'u2', 'bob'), moved('u3', 'cat', '#main', '#games'), said('u1', 'ann', 'after'));
      expect(seen(state, moved('u3', 'cat', '#games', '#main'))).toEqual([
        broadcast('#games', '*** cat moved to #main\n'),
        exit('u3'),
        send('u3', '[ann] after\n'),
        enter('u3', '#main'),
        broadcast('#main', '*** cat just joined the chatroom\n'),
      ]);
    });

    it('sends nothing before the join line into a new room without history', () => {
      expect(seen(chat(), moved('u1', 'ann', '#main', '#new'))).toEqual([
        broadcast('#main', '*** ann moved to #new\n'),
        exit('u1'),
        enter('u1', '#new'),
        broadcast('#new', '*** ann just joined #new\n'),
      ]);
    });
  });

  describe('whispered', () => {
    it('shows the recipient the message and the sender what they sent', () => {
      expect(seen(chat(), whispered('u1', 'ann', 'u2', 'bob', 'psst'))).toEqual([
        send('u2', '[PM from ann] psst\n'),
        send('u1', '[PM to bob] psst\n'),
      ]);
    });

    it('hides the message from a recipient who ignores the sender, who is not told', () => {
      const state = given(chat(), ignored('u2', 'u1', 'ann'));
      expect(seen(state, whispered('u1', 'ann', 'u2', 'bob', 'psst'))).toEqual([send('u1', '[PM to bob] psst\n')]);
    });

    it('tells the sender that the recipient is away, and why', () => {
      const state = given(chat(), away('u2', 'lunch'));
      expect(seen(state, whispered('u1', 'ann', 'u2', 'bob', 'psst'))).toEqual([
        send('u2', '[PM from ann] psst\n'),
        send('u1', '[PM to bob] psst\n'),
        send('u1', '*** bob is away: lunch\n'),
      ]);
    });
  });

  it('tells the sender that the recipient is away, with no reason when none was given', () => {
    expect(seen(given(chat(), away('u2', '')), whispered('u1', 'ann', 'u2', 'bob', 'psst'))[2]).toEqual(send('u1', '*** bob is away\n'));
  });

  describe('replies to one user', () => {
    it.each([
      ['away', away('u1', 'lunch'), '*** you are away: lunch\n'],
      ['away with no reason', away('u1', ''), '*** you are away\n'],
      ['back', back('u1'), '*** you are back\n'],
      ['ignored', ignored('u1', 'u2', 'bob'), '*** you are ignoring bob\n'],
      ['unignored', unignored('u1', 'u2', 'bob'), '*** you are no longer ignoring bob\n'],
    ])('shows %s to the user alone', (_type, event, line) => {
      expect(seen(chat(), event)).toEqual([send('u1', line)]);
    });
  });

  describe('topic', () => {
    it('tells the room who set which topic', () => {
      expect(seen(chat(), topic('u1', 'ann', 'chess'))).toEqual([broadcast('#main', '*** ann set the topic: chess\n')]);
    });

    it('tells the room who cleared the topic', () => {
      expect(seen(given(chat(), topic('u2', 'bob', 'chess')), topic('u1', 'ann', ''))).toEqual([broadcast('#main', '*** ann cleared the topic\n')]);
    });
  });
});
