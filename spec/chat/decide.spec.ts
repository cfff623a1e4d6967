import { decide } from '../../lib/chat/decide';
import { ChatState } from '../../lib/chat/state';

describe('decide', () => {
  it('answers /uptime with the time since the chat started, to the user alone', () => {
    const state = new ChatState(0, Date.UTC(2025, 0, 1));
    state.apply({ type: 'joined', user: '1', nick: 'ann', room: '#main', at: 0 });
    const later = Date.UTC(2025, 0, 2, 1, 2, 3);
    expect(decide(state, { type: 'line', user: '1', text: '/uptime', at: later })).toEqual({
      events: [], replies: ['*** up for 1d 1h 2m 3s, since 2025-01-01T00:00:00.000Z\n'], quit: false,
    });
  });
});
