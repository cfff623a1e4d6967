import { nameKey } from '../../lib/chat/names';
import { type AccountRecord, accountTable, boundGrants, EMPTY_DATA, grantBindings, readData, type StoreData } from '../../lib/store/store';

const account = (name: string, id?: string): AccountRecord => ({ name, salt: `salt-of-${name}`, hash: 'aGFzaA==', cost: 1024, ...(id === undefined ? {} : { id }) });

describe('boundGrants', () => {
  it('binds each /op kept before grants named accounts to the account registered under the name as opped, and keeps those that name one', () => {
    const data: StoreData = {
      ...EMPTY_DATA,
      // name keys changed: the older alice keeps the key, aIice (with the grant) was displaced
      accounts: accountTable([[nameKey('alice'), account('alice', 'older')], [nameKey('bob'), account('Bob')]]),
      displaced: [account('aIice', 'younger')],
      ops: ['aIice', 'bob', 'cat', 'dan'],
      opAccounts: { dan: 'dans' },
    };
    const bound = boundGrants(data);
    expect(new Map(Object.entries(bound.opAccounts))).toEqual(new Map([
      ['dan', 'dans'], [nameKey('aIice'), 'younger'], [nameKey('bob'), 'salt:salt-of-Bob'], [nameKey('cat'), ''],
    ]));
    expect(nameKey('aIice')).toBe(nameKey('alice')); // the key is the older alice's now
    expect(grantBindings(data, bound, 5).map((change) => change.type === 'opped' && [change.name, change.account])).toEqual([
      ['aIice', 'younger'], ['bob', 'salt:salt-of-Bob'], ['cat', ''],
    ]);
  });
});

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
