import { type AccountRequest, unregisterRequest } from '../../lib/chat/accounts';

const registered = (name: string): boolean => ['bob', 'root'].includes(name.toLowerCase());
const byOperator = (word: string): AccountRequest => ({ kind: 'unregister', name: 'ann', password: word, byOperator: true });

describe('unregisterRequest', () => {
  it("releases a registered name other than the operator's own, by any of its spellings", () => {
    expect(unregisterRequest(byOperator('bob'), registered)).toEqual({ kind: 'release', name: 'bob', by: 'ann' });
    expect(unregisterRequest(byOperator('BOB'), registered)).toEqual({ kind: 'release', name: 'BOB', by: 'ann' });
  });

  it("is the operator's own unregister when the word is no registered name, or their own", () => {
    expect(unregisterRequest(byOperator('correct-horse'), registered)).toEqual({ kind: 'unregister', name: 'ann', password: 'correct-horse' });
    const own: AccountRequest = { kind: 'unregister', name: 'Bob', password: 'bob', byOperator: true };
    expect(unregisterRequest(own, registered)).toEqual({ kind: 'unregister', name: 'Bob', password: 'bob' });
  });

  it('leaves anyone else’s request as it is: their word is their password', () => {
    const mine: AccountRequest = { kind: 'unregister', name: 'cat', password: 'bob' };
    expect(unregisterRequest(mine, registered)).toBe(mine);
    const register: AccountRequest = { kind: 'register', name: 'cat', password: 'bob' };
    expect(unregisterRequest(register, registered)).toBe(register);
  });
});
