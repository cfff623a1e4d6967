import { nameKey } from '../../lib/chat/names';
import { rekeyAccounts } from '../../lib/store/rekey';
import type { AccountRecord } from '../../lib/store/store';

const record = (name: string, registeredAt?: number): AccountRecord => ({
  name, salt: 'c2FsdA==', hash: `${name}-hash`, cost: 1024, ...(registeredAt === undefined ? {} : { registeredAt }),
});

describe('rekeyAccounts', () => {
  it('moves nothing when every account is under the key its name has', () => {
    const accounts = [[nameKey('bob'), record('bob')], [nameKey('alice'), record('alice', 5)]] as const;
    expect(rekeyAccounts(accounts)).toEqual({ accounts, displaced: [], changedKeys: [] });
  });

  it('moves an account kept under an older key to the key its name has now', () => {
    const { accounts, displaced, changedKeys } = rekeyAccounts([['alice', record('alice')], ['bob', record('bob')]]);
    expect(accounts).toEqual([['allce', record('alice')], ['bob', record('bob')]]);
    expect(displaced).toEqual([]);
    expect(changedKeys).toEqual(['alice', 'allce']);
  });

  it('gives a key two accounts now share to the older, and displaces the younger with the key it had', () => {
    const moved = rekeyAccounts([['aiice', record('aIice', 20)], ['alice', record('alice', 10)]]);
    expect(moved.accounts).toEqual([['allce', record('alice', 10)]]);
    expect(moved.displaced).toEqual([['aiice', record('aIice', 20)]]);
    expect([...moved.changedKeys].sort()).toEqual(['aiice', 'alice', 'allce']);
  });

  it('counts an account without a registration time as older than one with it, and between equals the smaller key', () => {
    const untimed = rekeyAccounts([['alice', record('alice', 1)], ['aiice', record('aIice')]]);
    expect(untimed.accounts).toEqual([['allce', record('aIice')]]);
    const equals = rekeyAccounts([['alice', record('alice')], ['aiice', record('aIice')]]);
    expect(equals.accounts).toEqual([['allce', record('aIice')]]);
    expect(equals.displaced).toEqual([['alice', record('alice')]]);
  });

  it('keeps the displaced one when the older is already under the new key', () => {
    const moved = rekeyAccounts([['allce', record('aLLce', 1)], ['alice', record('alice', 2)]]);
    expect(moved.accounts).toEqual([['allce', record('aLLce', 1)]]);
    expect(moved.displaced).toEqual([['alice', record('alice', 2)]]);
    expect(moved.changedKeys).toEqual(['alice']);
  });
});
