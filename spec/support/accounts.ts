import { of } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import type { Accounts, Verdict } from '../../lib/chat/accounts';

/** Registered names where only ann is registered, her password 'right-one', each check taking
 * `checkFrames` frames of virtual time. */
export function annOnlyAccounts(checkFrames: number, cold: TestScheduler['createColdObservable']): Accounts {
  const answer = (verdict: Verdict) => cold(`${'-'.repeat(checkFrames)}(r|)`, { r: verdict });
  return {
    registered: (name) => name === 'ann',
    accountOf: (name) => (name === 'ann' ? 'ann-account' : undefined),
    verify: (_name, password) => answer(password === 'right-one' ? 'right' : 'wrong'),
    change: () => of('failed'),
  };
}
