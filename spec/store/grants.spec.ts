import { nameKey } from '../../lib/chat/names';
import { boundGrants, grantBindings } from '../../lib/store/grants';
import { type AccountRecord, accountTable, EMPTY_DATA, type StoreData } from '../../lib/store/store';

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
