import type { ChatEvent, RosterUser } from '../../lib/chat/events';
import { nameKey } from '../../lib/chat/names';
import { expand } from '../../lib/chat/roster';
import type { ChatState } from '../../lib/chat/state';
import { render, renderForOwnNode } from '../../lib/chat/render';
import { joined, restored, said, stateAfter } from '../support/events';

const roster = (node: string, users: readonly RosterUser[], at = 50): Extract<ChatEvent, { type: 'roster' }> => ({ type: 'roster', node, users, at });
const user = (id: string, nick: string, connectedAt: number, from = ''): RosterUser => ({ id, nick, room: '#main', connectedAt, from });

/** Expands `event` and applies what it stands for, as the chat does. */
const applyExpanded = (state: ChatState, event: Extract<ChatEvent, { type: 'roster' | 'node-lost' }>): ChatEvent[] => {
  const events = expand(event, state);
  for (const one of events) state.apply(one);
  return events;
};

describe('expand', () => {
  it('puts out a roster\'s user whose name was banned while their node was apart, however they took it, and their node closes them', () => {
    const ban = { name: 'dan', address: '', until: null, by: 'ann', reason: 'spam' };
    const state = stateAfter(restored([], { bans: [ban] }), joined('b:1', 'bob', '#main', 2));
    const events = applyExpanded(state, roster('b', [user('b:1', 'DAN', 2), user('b:2', 'dan', 3)]));
    expect(events).toEqual([
      { type: 'renamed', user: 'b:1', from: 'bob', nick: 'DAN', room: '#main', at: 50 },
      { type: 'banned', user: '', nick: 'ann', ban, at: 50 },
      { type: 'returned', user: 'b:2', nick: 'dan_2', was: 'dan', room: '#main', connectedAt: 3, from: '', at: 50 },
    ]);
    expect(state.isKicked('b:1')).toBe(true);
    const shown = events.flatMap((each) => renderForOwnNode(each, state));
    expect(shown).toContainEqual({ kind: 'send', to: 'b:1', text: '*** you are banned\n' });
    expect(shown).toContainEqual({ kind: 'close', to: 'b:1', reason: 'banned' });
  });

  it('gives a registered name taken on two nodes during an outage to the one who gave its password, earlier login or not, whichever roster comes first', () => {
    const owner: RosterUser = { ...user('b:1', 'erin', 20), identified: nameKey('erin'), account: 'e1' };
    const stranger = user('a:1', 'Erin', 10); // logged in first, with no password: node a did not know the name was registered
    for (const [first, second] of [[owner, stranger], [stranger, owner]] as const) {
      const state = stateAfter();
      applyExpanded(state, roster(first.id.slice(0, 1), [first]));
      applyExpanded(state, roster(second.id.slice(0, 1), [second]));
      expect(state.user('b:1')?.nick).toBe('erin');
      expect(state.isIdentified('b:1')).toBe(true);
      expect(state.user('a:1')?.nick).toBe('Erin_2');
    }
  });

  it('gives a registered name two connections of its owner took apart to the later login, as a takeover would', () => {
    const [early, late] = [{ ...user('a:1', 'erin', 10), identified: nameKey('erin') }, { ...user('b:1', 'erin', 20), identified: nameKey('erin') }];
    for (const [first, second] of [[early, late], [late, early]] as const) {
      const state = stateAfter();
      applyExpanded(state, roster(first.id.slice(0, 1), [first]));
      applyExpanded(state, roster(second.id.slice(0, 1), [second]));
      expect(state.user('b:1')?.nick).toBe('erin');
      expect(state.user('a:1')?.nick).toBe('erin_2');
    }
  });

  it('tells a stranger renamed for the owner why, on every node', () => {
    const state = stateAfter(joined('a:1', 'carol', '#main', 10));
    const owner: RosterUser = { ...user('b:1', 'carol', 20), identified: nameKey('carol') };
    const events = applyExpanded(state, roster('b', [owner]));
    expect(events[0]).toEqual({ type: 'renamed', user: 'a:1', from: 'carol', nick: 'carol_2', room: '#main', at: 50, displaced: true, owner: true });
    expect(events.flatMap((each) => render(each, state))).toContainEqual({
      kind: 'send', to: 'a:1', text: '*** carol is registered and its owner logged in with its password; you are now carol_2\n',
    });
  });

  it('gives the owner back a name a stranger took by /nick while the nodes were apart', () => {
    const state = stateAfter(joined('b:1', 'erin_', '#main', 5), joined('a:1', 'erin', '#main', 10));
    applyExpanded(state, roster('b', [{ ...user('b:1', 'erin', 5), identified: nameKey('erin') }]));
    expect(state.user('b:1')?.nick).toBe('erin');
    expect(state.user('a:1')?.nick).toBe('erin_2');
  });

  it('makes a lost node\'s users leave, each marked as gone with their node', () => {
    const state = stateAfter(joined('a:1', 'ann', '#main', 1), joined('b:1', 'bob', '#side', 2), joined('b:2', 'cat', '#main', 3));
    expect(expand({ type: 'node-lost', node: 'b', at: 9 }, state)).toEqual([
      { type: 'left', user: 'b:1', nick: 'bob', room: '#side', at: 9, nodeGone: true },
      { type: 'left', user: 'b:2', nick: 'cat', room: '#main', at: 9, nodeGone: true },
    ]);
  });

  it('keeps the history of a room a stopped node emptied, for the next one to join', () => {
    const state = stateAfter(joined('b:1', 'bob', '#side', 2), said('b:1', 'bob', 'remember me', '#side'));
    applyExpanded(state, { type: 'node-lost', node: 'b', at: 9 });
    expect(state.online).toBe(0);
    expect(state.history('#side')).toEqual([said('b:1', 'bob', 'remember me', '#side')]);
  });

  it('lets a roster\'s users the chat lost leave, as a choice of theirs, and brings back those it does not hold', () => {
    const state = stateAfter(joined('b:1', 'bob', '#main', 2), joined('b:2', 'cat', '#main', 3));
    expect(expand(roster('b', [user('b:2', 'cat', 3), user('b:3', 'dan', 4)]), state)).toEqual([
      { type: 'left', user: 'b:1', nick: 'bob', room: '#main', at: 50 },
      { type: 'returned', user: 'b:3', nick: 'dan', was: 'dan', room: '#main', connectedAt: 4, from: '', at: 50 },
    ]);
  });

  it('brings back each user with the address their roster gives, and with none known from an older node\'s roster, which gives none', () => {
    const fromNewer = expand(roster('b', [user('b:1', 'bob', 2, '10.0.0.2')]), stateAfter());
    expect(fromNewer).toEqual([{ type: 'returned', user: 'b:1', nick: 'bob', was: 'bob', room: '#main', connectedAt: 2, from: '10.0.0.2', at: 50 }]);
    const fromOlder = expand(roster('b', [{ id: 'b:1', nick: 'bob', room: '#main', connectedAt: 2 }]), stateAfter());
    expect(fromOlder).toEqual([{ type: 'returned', user: 'b:1', nick: 'bob', was: 'bob', room: '#main', connectedAt: 2, from: '', at: 50 }]);
  });

  it('gives a name taken on two nodes during an outage to the earlier login, whichever roster comes first', () => {
    const [early, late] = [user('a:1', 'zed', 10), user('b:1', 'Zed', 20)];
    for (const [first, second] of [[early, late], [late, early]] as const) {
      const state = stateAfter();
      applyExpanded(state, roster(first.id.slice(0, 1), [first]));
      applyExpanded(state, roster(second.id.slice(0, 1), [second]));
      expect(state.user('a:1')?.nick).toBe('zed');
      expect(state.user('b:1')?.nick).toBe('Zed_2');
    }
  });

  it('renames a later holder and tells them, then brings back the earlier login under its name', () => {
    const state = stateAfter(joined('b:1', 'zed', '#main', 20), joined('b:2', 'zed_2', '#main', 21));
    expect(expand(roster('a', [user('a:1', 'ZED', 10)]), state)).toEqual([
      { type: 'renamed', user: 'b:1', from: 'zed', nick: 'zed_3', room: '#main', at: 50, displaced: true },
      { type: 'returned', user: 'a:1', nick: 'ZED', was: 'ZED', room: '#main', connectedAt: 10, from: '', at: 50 },
    ]);
  });

  it('breaks a tie of login times by id, the same on every node', () => {
    const state = stateAfter(joined('b:1', 'zed', '#main', 10));
    expect(expand(roster('a', [user('a:1', 'zed', 10)]), state)).toContainEqual(expect.objectContaining({ type: 'renamed', user: 'b:1' }));
    const other = stateAfter(joined('a:1', 'zed', '#main', 10));
    expect(expand(roster('b', [user('b:1', 'zed', 10)]), other)).toEqual([
      { type: 'returned', user: 'b:1', nick: 'zed_2', was: 'zed', room: '#main', connectedAt: 10, from: '', at: 50 },
    ]);
  });

  it('frees the name of a user the roster removes, for a user of the same node who took it', () => {
    const state = stateAfter(joined('b:1', 'zed', '#main', 10));
    expect(expand(roster('b', [user('b:2', 'zed', 30)]), state)).toEqual([
      { type: 'left', user: 'b:1', nick: 'zed', room: '#main', at: 50 },
      { type: 'returned', user: 'b:2', nick: 'zed', was: 'zed', room: '#main', connectedAt: 30, from: '', at: 50 },
    ]);
  });

  it('moves and renames a user the chat holds to the room and name their roster gives, a taken name to a free variant', () => {
    const state = stateAfter(joined('b:1', 'bob', '#main', 10), joined('b:2', 'cat', '#main', 11), joined('a:1', 'dan', '#main', 12));
    const users = [{ ...user('b:1', 'bob', 10), room: '#games' }, user('b:2', 'dan', 11)];
    expect(applyExpanded(state, roster('b', users))).toEqual([
      { type: 'moved', user: 'b:1', nick: 'bob', from: '#main', room: '#games', at: 50 },
      { type: 'renamed', user: 'b:2', from: 'cat', nick: 'dan_2', room: '#main', at: 50, displaced: true },
    ]);
    expect(state.user('b:1')?.room).toBe('#games');
    expect(state.user('b:2')?.nick).toBe('dan_2');
  });

  it('changes nothing for a user the chat holds as their roster lists them', () => {
    const state = stateAfter(joined('b:1', 'bob', '#main', 10));
    expect(expand(roster('b', [user('b:1', 'bob', 10)]), state)).toEqual([]);
  });

  it('brings a roster\'s user back with the password login it lists', () => {
    const state = stateAfter();
    applyExpanded(state, roster('b', [{ ...user('b:1', 'bob', 10), identified: 'bob' }]));
    expect(state.toJSON().users.map(({ id, identified }) => [id, identified])).toEqual([['b:1', 'bob']]);
  });
});
