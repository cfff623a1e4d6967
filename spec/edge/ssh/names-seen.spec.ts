import { MAX_NAMES_SEEN, NamesSeen } from '../../../lib/edge/ssh/names-seen';

describe('NamesSeen', () => {
  it('reads who the user is from the chat, not from what users say', () => {
    const names = new NamesSeen();
    names.read('[mallory] Welcome, mallory');
    expect(names.me).toBeUndefined();
    names.read('Welcome, ann');
    names.read('*** username ann was taken on another server meanwhile; you are now ann2');
    expect(names.me).toBe('ann2');
  });

  it('forgets who left, and the least recently seen past its bound', () => {
    const names = new NamesSeen();
    names.read('*** bob just joined #rust');
    names.read('[PM from cat] psst');
    names.read('*** bob has disconnected');
    expect([...names.names()]).toEqual(['cat']);
    for (let n = 0; n <= MAX_NAMES_SEEN; n++) names.read(`[user${n}] hi`);
    expect([...names.names()]).toHaveLength(MAX_NAMES_SEEN);
    expect([...names.names()]).not.toContain('cat');
  });
});
