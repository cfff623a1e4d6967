import { asyncScheduler, firstValueFrom, type Observable, type SchedulerAction, type SchedulerLike, type Subscription } from 'rxjs';
import { KNOWN_ADDRESS_MS, MAX_KNOWN_ADDRESSES, type AccountChange, type Registry, registry } from '../../lib/store/registry';
import type { Verdict } from '../../lib/chat/accounts';
import { memoryStore } from '../../lib/store/memory';
import { accountTable, type Store } from '../../lib/store/store';
import { CheckTooLongError, DEFAULT_GUESS_LIMITS, type GuessLimits } from '../../lib/store/throttle';

// The cheapest scrypt cost: these specs are about when checks run, not about the hash.
const cost = 16;
const DAY_MS = 24 * 60 * 60 * 1000;

let clock: number;
/** asyncScheduler on a clock the spec sets: the known addresses' dates, and the buckets' now. */
class Clocked implements SchedulerLike {
  now(): number {
    return clock;
  }

  schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay?: number, state?: T): Subscription {
    return asyncScheduler.schedule(work, delay, state);
  }
}
const clocked = new Clocked();
let changes: AccountChange[];
let pending: Subscription[];

async function registryWith(limits: GuessLimits = DEFAULT_GUESS_LIMITS): Promise<{ accounts: Registry; store: Store }> {
  const store = memoryStore();
  const accounts = registry(store, await store.load(), { cost, limits, scheduler: clocked, report: (change) => changes.push(change) });
  return { accounts, store };
}

/** Subscribes to `answer$`, to be let go at the end: a check spaced out waits in real time. */
function unanswered(answer$: Observable<unknown>): void {
  pending.push(answer$.subscribe());
}

beforeEach(() => {
  clock = Date.UTC(2026, 0, 1);
  changes = [];
  pending = [];
});
afterEach(() => {
  for (const subscription of pending.splice(0)) subscription.unsubscribe();
});

describe('registry', () => {
  it('checks at most the free guesses made at once from one address, spaces the next, and does not check those past the longest wait', async () => {
    const { accounts } = await registryWith({ ...DEFAULT_GUESS_LIMITS, maxWaitMs: 1000 });
    const names = ['ann', 'bob', 'cy', 'dee', 'eve', 'fay', 'gus', 'hal'];
    for (const name of names) await firstValueFrom(accounts.change({ kind: 'register', name, password: 'right-one' }, `10.1.0.${names.indexOf(name)}`));
    const answers: Promise<Verdict>[] = [];
    for (const [index, name] of names.entries()) {
      const guess$ = accounts.verify(name, 'wrong-one', '10.0.0.1');
      if (index === 3) unanswered(guess$); // spaced out by a second
      else answers.push(firstValueFrom(guess$));
    }
    expect(await Promise.all(answers)).toEqual(['wrong', 'wrong', 'wrong', 'unchecked', 'unchecked', 'unchecked', 'unchecked']);
    expect(changes).toContainEqual({ kind: 'slowed', what: 'address', key: '10.0.0.1' });
    expect(accounts.passwordFigures()).toMatchObject({ wrong: 3, unchecked: 4, waits: 1 });
  });

  it("checks the owner's known address group at once while strangers guess the name, and a new address waits for the name's turn", async () => {
    const { accounts } = await registryWith({ ...DEFAULT_GUESS_LIMITS, freeWrongChecks: 1, firstSpacingMs: 1000, maxWaitMs: 1000 });
    await firstValueFrom(accounts.change({ kind: 'register', name: 'ann', password: 'right-one' }, '2001:db8:1:2::5'));
    expect(await firstValueFrom(accounts.verify('ann', 'guess-one', '10.0.0.1'))).toBe('wrong');
    unanswered(accounts.verify('ann', 'guess-two', '10.0.0.2')); // the name's next turn, a second away
    expect(await firstValueFrom(accounts.verify('ann', 'guess-three', '10.0.0.3'))).toBe('unchecked');
    expect(await firstValueFrom(accounts.verify('ann', 'right-one', '192.0.2.8'))).toBe('unchecked'); // a stranger, for all it knows
    expect(await firstValueFrom(accounts.change({ kind: 'unregister', name: 'ann', password: 'right-one' }, '192.0.2.9'))).toBe('unchecked');
    expect(await firstValueFrom(accounts.verify('ann', 'right-one', '2001:db8:1:2::77'))).toBe('right'); // the owner's /64
  });

  it('remembers the address group of each right password with the account, the latest first, for KNOWN_ADDRESS_MS, at most MAX_KNOWN_ADDRESSES', async () => {
    const { accounts, store } = await registryWith();
    await firstValueFrom(accounts.change({ kind: 'register', name: 'ann', password: 'right-one' }, '10.0.0.1'));
    expect((await store.account('ann'))?.seenFrom).toEqual([{ group: '10.0.0.1', at: clock }]);
    for (let host = 2; host <= 12; host += 1) {
      clock += DAY_MS;
      expect(await firstValueFrom(accounts.verify('ann', 'right-one', `10.0.0.${host}`))).toBe('right');
    }
    const seen = (await store.account('ann'))?.seenFrom ?? [];
    expect(seen).toHaveLength(MAX_KNOWN_ADDRESSES);
    expect(seen[0]).toEqual({ group: '10.0.0.12', at: clock });
    expect(seen.map((each) => each.group)).not.toContain('10.0.0.2');
    clock += KNOWN_ADDRESS_MS - 4 * DAY_MS; // those from 10.0.0.3 to .8, on days 2 to 7, are known no more
    await firstValueFrom(accounts.verify('ann', 'right-one', '10.0.0.12'));
    expect((await store.account('ann'))?.seenFrom?.map((each) => each.group)).toEqual(['10.0.0.12', '10.0.0.11', '10.0.0.10', '10.0.0.9']);
  });

  it('writes the account again for a known address no more than once a day', async () => {
    const { accounts, store } = await registryWith();
    await firstValueFrom(accounts.change({ kind: 'register', name: 'ann', password: 'right-one' }, '10.0.0.1'));
    const registered = await store.account('ann');
    clock += DAY_MS - 1;
    await firstValueFrom(accounts.verify('ann', 'right-one', '10.0.0.1'));
    expect(await store.account('ann')).toEqual({ ...registered, lastLoginAt: expect.any(Number) }); // the login noted (a line in a file), the account not written again
    clock += 1;
    await firstValueFrom(accounts.verify('ann', 'right-one', '10.0.0.1'));
    expect((await store.account('ann'))?.seenFrom).toEqual([{ group: '10.0.0.1', at: clock }]);
  });

  it('keeps the known addresses and the fields it does not know through a change of password', async () => {
    const { accounts, store } = await registryWith();
    await firstValueFrom(accounts.change({ kind: 'register', name: 'ann', password: 'right-one' }, '10.0.0.1'));
    const kept = await store.account('ann');
    if (kept === undefined) throw new Error('ann is not registered');
    const fromALaterVersion = { ...kept, later: { field: 1 } };
    await store.change({ type: 'account', key: 'ann', record: fromALaterVersion, expected: kept.hash });
    await accounts.refresh({ key: 'ann' });
    expect(await firstValueFrom(accounts.change({ kind: 'password', name: 'ann', password: 'right-one', newPassword: 'new-one-here' }, '10.0.0.2'))).toBe('done');
    expect(await store.account('ann')).toMatchObject({ later: { field: 1 }, seenFrom: [{ group: '10.0.0.2', at: clock }, { group: '10.0.0.1', at: clock }] });
    expect(await firstValueFrom(accounts.verify('ann', 'new-one-here', '10.0.0.3'))).toBe('right');
  });

  it('answers a check the store never answers as failed, once the longest wait and a grace have passed', async () => {
    const store = memoryStore();
    const hanging: Store = { ...store, account: () => new Promise(() => {}) };
    const limits = { ...DEFAULT_GUESS_LIMITS, maxWaitMs: 10 };
    const accounts = registry(hanging, { accounts: accountTable([['ann', { name: 'ann', salt: 'c2FsdA==', hash: 'aGFzaA==', cost }]]), displaced: [] }, { cost, limits, answerGraceMs: 10, scheduler: clocked, report: (change) => changes.push(change) });
    expect(await firstValueFrom(accounts.verify('ann', 'right-one', '10.0.0.1'))).toBe('failed');
    expect(changes).toEqual([{ kind: 'check-failed', error: new CheckTooLongError() }]);
    expect(accounts.passwordFigures()).toMatchObject({ failed: 1 });
  });

  it('answers a check whose hash cannot be computed as failed, and reports it', async () => {
    const { accounts, store } = await registryWith();
    await store.change({ type: 'account', key: 'ann', record: { name: 'ann', salt: 'c2FsdA==', hash: 'aGFzaA==', cost: 3 }, expected: null });
    await accounts.refresh({ key: 'ann' });
    expect(await firstValueFrom(accounts.verify('ann', 'right-one', '10.0.0.1'))).toBe('failed');
    expect(changes).toContainEqual({ kind: 'check-failed', error: expect.any(Error) });
    expect(accounts.passwordFigures()).toMatchObject({ failed: 1 });
  });
});
