import type { Inbox } from '../../lib/chat/asks';
import { Gate, MAX_HELD_LINES } from '../../lib/chat/gate';
import type { Intent } from '../../lib/chat/intent';

const inbox: Inbox = { answer: () => undefined };
const line = (text: string): Intent => ({ type: 'line', user: 'u1', text, at: 0 });

describe('Gate', () => {
  it('holds 100 intents by default', () => {
    expect(MAX_HELD_LINES).toBe(100);
  });

  it('holds nothing for a user with no own change on its way', () => {
    const gate = new Gate();
    expect(gate.holds('u1')).toBe(false);
    expect(gate.hold('u1', line('hi'))).toBe(false);
    expect(gate.landed('u1')).toBeUndefined();
  });

  it('lets nothing wait for a change that came back before anything was asked', () => {
    const gate = new Gate();
    gate.expect('u1', false, inbox);
    expect(gate.landed('u1')).toEqual({ inbox, login: false, waiting: false, leaving: false });
    expect(gate.holds('u1')).toBe(false);
  });

  it('holds what is asked while the change is on its way, and after it is back until it is released, in order', () => {
    const gate = new Gate();
    gate.expect('u1', true, inbox);
    gate.hold('u1', line('a'));
    expect(gate.landed('u1')).toEqual({ inbox, login: true, waiting: true, leaving: false });
    expect(gate.hold('u1', line('b'))).toBe(true); // back, not yet released: it still waits its turn
    expect(gate.release('u1')).toEqual([line('a'), line('b')]);
    expect(gate.holds('u1')).toBe(false);
  });

  it(`drops what is asked past ${MAX_HELD_LINES} held`, () => {
    const gate = new Gate();
    gate.expect('u1', false, inbox);
    for (let n = 0; n < MAX_HELD_LINES; n += 1) expect(gate.hold('u1', line(`${n}`))).toBe(true);
    expect(gate.hold('u1', line('one too many'))).toBe(false);
  });

  it('makes a departure wait for the change on its way, and drops what it held', () => {
    const gate = new Gate();
    gate.expect('u1', false, inbox);
    gate.hold('u1', line('a'));
    expect(gate.leaveAfter('u1')).toBe(true);
    expect(gate.landed('u1')).toEqual({ inbox, login: false, waiting: false, leaving: true });
    expect(gate.holds('u1')).toBe(false);
  });

  it('lets a departure go at once once the change is back, what waited going with the session', () => {
    const gate = new Gate();
    gate.expect('u1', false, inbox);
    gate.hold('u1', line('a'));
    gate.landed('u1');
    expect(gate.leaveAfter('u1')).toBe(false);
    expect(gate.release('u1')).toEqual([]);
  });

  it('puts what waited for a login that did not apply before what waits for the login decided again', () => {
    const gate = new Gate();
    gate.expect('u1', true, inbox);
    gate.hold('u1', line('a'));
    gate.landed('u1');
    const held = gate.release('u1');
    expect(gate.holdFirst('u1', held)).toBe(false); // no login on its way again: they go
    gate.expect('u1', true, inbox);
    gate.hold('u1', line('b'));
    expect(gate.holdFirst('u1', held)).toBe(true);
    gate.landed('u1');
    expect(gate.release('u1')).toEqual([line('a'), line('b')]);
  });
});
