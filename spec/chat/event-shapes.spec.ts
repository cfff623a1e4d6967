import { isChatEvent } from '../../lib/chat/event-shapes';

const bob = { id: 'b:1', nick: 'bob', room: '#main', connectedAt: 2 };
const roster = (users: readonly unknown[]) => ({ type: 'roster', node: 'b', users, at: 5 });
const joined = { type: 'joined', user: 'b:1', nick: 'bob', room: '#main', at: 2 };

describe('isChatEvent', () => {
  it('takes a roster with its users\' addresses, and one without any, as a node of the version before sends', () => {
    expect(isChatEvent(roster([{ ...bob, from: '10.0.0.2' }, { ...bob, id: 'b:2', nick: 'cat', from: '' }]))).toBe(true);
    expect(isChatEvent(roster([bob]))).toBe(true);
  });

  it('skips a roster with an address that is not text, and one with a user short of a field', () => {
    expect(isChatEvent(roster([{ ...bob, from: 10 }]))).toBe(false);
    expect(isChatEvent(roster([{ ...bob, from: null }]))).toBe(false);
    expect(isChatEvent(roster([{ id: 'b:1', nick: 'bob', room: '#main' }]))).toBe(false);
  });

  it('takes a join with or without an address, and skips one whose address is not text', () => {
    expect(isChatEvent({ ...joined, from: '10.0.0.2' })).toBe(true);
    expect(isChatEvent(joined)).toBe(true);
    expect(isChatEvent({ ...joined, from: ['10.0.0.2'] })).toBe(false);
  });

  it('skips an entry whose type is a name Object.prototype has (constructor, __proto__, toString...)', () => {
    for (const type of Object.getOwnPropertyNames(Object.prototype)) expect([type, isChatEvent({ ...joined, type })]).toEqual([type, false]);
  });
});
