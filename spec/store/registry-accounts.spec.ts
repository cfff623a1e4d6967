import { firstValueFrom } from 'rxjs';
import type { AccountRequest } from '../../lib/chat/accounts';
import { type AccountChange, REGISTRATION_WINDOW_MS, registry } from '../../lib/store/registry';
import { memoryStore } from '../../lib/store/memory';
import { type AccountRecord, accountTable, type Store } from '../../lib/store/store';
import { accountRecord } from '../../lib/store/validation';

const DAY = 24 * 60 * 60_000;
const PASSWORD = 'correct-horse';
/** scrypt's cheapest cost: these specs check rules, not hashes. */
const CHEAP = { cost: 16, delayMs: 0 };

let clock: number;
let store: Store;
let changes: AccountChange[];

beforeEach(() => {
  clock = 10 * DAY;
  store = memoryStore();
  changes = [];
});

/** A registry on `store` that the specs' clock drives. */
function accounts(overrides: { maxRegistrationsPerHour?: number; accountExpiryMs?: number; neverExpires?: (name: string) => boolean } = {}, loaded: readonly (readonly [string, AccountRecord])[] = []) {
  return registry(store, { accounts: accountTable(loaded), displaced: [] }, { ...CHEAP, maxRegistrationsPerHour: 3, accountExpiryMs: 30 * DAY, now: () => clock, report: (change) => changes.push(change), ...overrides });
}
const ask = (of: ReturnType<typeof accounts>, request: AccountRequest, from = '10.0.0.1') => firstValueFrom(of.change(request, from));
const register = (of: ReturnType<typeof accounts>, name: string, from = '10.0.0.1') => ask(of, { kind: 'register', name, password: PASSWORD }, from);

describe('registry: registrations per address', () => {
  it('registers at most the limit from one address in an hour, then again in the next', async () => {
    const names = accounts();
    expect(await Promise.all(['ann', 'bob', 'cid'].map((name) => register(names, name)))).toEqual(['done', 'done', 'done']);
    expect(await register(names, 'dan')).toBe('limited');
    expect(names.registered('dan')).toBe(false);
    expect(changes).toContainEqual({ kind: 'registrations-limited', name: 'dan', from: '10.0.0.1' });
    expect(await register(names, 'eve', '10.0.0.2')).toBe('done'); // another address has its own count
    clock += REGISTRATION_WINDOW_MS;
    expect(await register(names, 'dan')).toBe('done');
  });

  it('counts an IPv6 /64 as one address', async () => {
    const names = accounts({ maxRegistrationsPerHour: 1 });
    expect(await register(names, 'ann', '2001:db8:0:1::1')).toBe('done');
    expect(await register(names, 'bob', '2001:db8:0:1:ffff::2')).toBe('limited');
    expect(await register(names, 'bob', '2001:db8:0:2::1')).toBe('done');
  });

  it('registers none with a limit of 0', async () => {
    expect(await register(accounts({ maxRegistrationsPerHour: 0 }), 'ann')).toBe('limited');
  });
});

describe('registry: SSH keys', () => {
  const KEY_A = 'SHA256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
  const KEY_B = 'SHA256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';

  it('ties the key given at registration, adds and removes keys, and answers which keys open a name', async () => {
    const names = accounts();
    expect(await ask(names, { kind: 'register', name: 'ann', password: PASSWORD, key: KEY_A })).toBe('done');
    expect(names.keysOf?.('ANN')).toEqual([KEY_A]);
    expect(await ask(names, { kind: 'add-key', name: 'ann', key: KEY_B })).toBe('done');
    expect(names.keysOf?.('ann')).toEqual([KEY_A, KEY_B]);
    expect((await store.load()).accounts['ann']?.keys).toEqual([KEY_A, KEY_B]);
    expect(await ask(names, { kind: 'remove-key', name: 'ann', key: KEY_A })).toBe('done');
    expect(names.keysOf?.('ann')).toEqual([KEY_B]);
    expect(changes.map((change) => change.kind)).toEqual(['registered', 'key-added', 'key-removed']);
  });

  it('keeps the keys through a password change, and drops them with the account', async () => {
    const names = accounts();
    await ask(names, { kind: 'register', name: 'ann', password: PASSWORD, key: KEY_A });
    expect(await ask(names, { kind: 'password', name: 'ann', password: PASSWORD, newPassword: 'battery-staple' })).toBe('done');
    expect(names.keysOf?.('ann')).toEqual([KEY_A]);
    expect(await ask(names, { kind: 'unregister', name: 'ann', password: 'battery-staple' })).toBe('done');
    expect(names.keysOf?.('ann')).toEqual([]);
    expect(await ask(names, { kind: 'add-key', name: 'ann', key: KEY_B })).toBe('not-registered');
  });
});

describe('registry: expiry', () => {
  it('lets a name nobody logged into since its registration go after the expiry, and keeps one logged into', async () => {
    const names = accounts();
    await register(names, 'ann');
    await register(names, 'bob');
    expect(await firstValueFrom(names.verify('bob', PASSWORD, '10.0.0.9'))).toBe('right');
    clock += 30 * DAY - 1;
    expect(names.registered('ann')).toBe(true);
    clock += 1;
    expect(names.registered('ann')).toBe(false); // at once, before it is dropped
    expect(await firstValueFrom(names.verify('ann', PASSWORD, '10.0.0.9'))).toBe('wrong');
    expect(names.registered('bob')).toBe(true);
    await names.expire();
    expect(Object.hasOwn((await store.load()).accounts, 'ann')).toBe(false);
    expect((await store.load()).accounts['bob']?.lastLoginAt).toBe(10 * DAY);
    expect(changes).toContainEqual({ kind: 'expired', name: 'ann', registeredAt: 10 * DAY });
  });

  it('lets someone else register an expired name before it is dropped', async () => {
    const names = accounts();
    await register(names, 'ann');
    clock += 31 * DAY;
    expect(await register(names, 'ann', '10.0.0.2')).toBe('done');
    expect((await store.load()).accounts['ann']?.registeredAt).toBe(clock);
  });

  it("never expires an operator's name", async () => {
    const names = accounts({ neverExpires: (name) => name === 'root' });
    await register(names, 'root');
    clock += 1000 * DAY;
    await names.expire();
    expect(names.registered('root')).toBe(true);
  });

  it('never expires an account registered before registration times were kept', async () => {
    const old = [['ann', { name: 'ann', salt: 'c2FsdA==', hash: 'aGFzaA==', cost: 16 }]] as const;
    await store.change({ type: 'account', key: 'ann', record: old[0][1], expected: null });
    const names = accounts({}, old);
    clock += 1000 * DAY;
    await names.expire();
    expect(names.registered('ann')).toBe(true);
  });
});

describe('registry: records', () => {
  it('keeps the fields it does not know through a password change', async () => {
    const names = accounts();
    await register(names, 'ann');
    const kept = (await store.load()).accounts['ann'];
    if (kept === undefined) throw new Error('not registered');
    const later = accountRecord({ ...kept, knownAddresses: ['10.0.0.1'] }) ?? null; // as a later version writes it
    await store.change({ type: 'account', key: 'ann', record: later, expected: kept.hash });
    expect(await ask(names, { kind: 'password', name: 'ann', password: PASSWORD, newPassword: 'battery-staple' })).toBe('done');
    const changed = (await store.load()).accounts['ann'];
    expect(changed).toEqual(expect.objectContaining({ knownAddresses: ['10.0.0.1'], registeredAt: kept.registeredAt }));
    expect(changed?.hash).not.toBe(kept.hash);
  });

  it('releases a name for an operator without its password, and says who did', async () => {
    const names = accounts();
    await register(names, 'Ann');
    expect(await ask(names, { kind: 'release', name: 'ann', by: 'root' }, '10.0.0.5')).toBe('done');
    expect(names.registered('ann')).toBe(false);
    expect(changes).toContainEqual({ kind: 'released', name: 'Ann', by: 'root', from: '10.0.0.5' });
    expect(await ask(names, { kind: 'release', name: 'ann', by: 'root' })).toBe('not-registered');
  });
});
