import { type AccountRecord, accountTable, EMPTY_DATA } from '../../lib/store/store';
import { readData } from '../../lib/store/validation';

const account = (name: string, id?: string): AccountRecord => ({ name, salt: `salt-of-${name}`, hash: 'aGFzaA==', cost: 1024, ...(id === undefined ? {} : { id }) });

describe('readData', () => {
  const ban = (reason: string) => ({ name: 'dan', address: '10.0.0.2', until: null, by: 'ann', reason });

  it('leaves out what no user could have typed: a motd with escapes or too long, a ban with such a reason, an account with such a name', () => {
    const evil = 'evil\u001b[2J\u001b]0;owned\u0007\nroot\t2020';
    const read = readData({
      accounts: { ann: account('ann'), evil: account(evil) },
      displaced: [account('bob'), account('\u202eeve')],
      bans: [ban('spam'), ban('x'.repeat(100_000)), ban('\u001b[2J')],
      motd: `\u001b[2J\u202e${'x'.repeat(50_000)}`,
    });
    expect(read).toEqual({ ...EMPTY_DATA, accounts: accountTable([['ann', account('ann')]]), displaced: [account('bob')], bans: [ban('spam')], motd: '' });
  });

  it('keeps a motd and bans an operator could have typed', () => {
    const read = readData({ accounts: {}, bans: [{ ...ban('flooding'), until: 5 }], motd: 'welcome to #main, be kind' });
    expect(read).toEqual({ ...EMPTY_DATA, bans: [{ ...ban('flooding'), until: 5 }], motd: 'welcome to #main, be kind' });
  });
});
