import { TestScheduler } from 'rxjs/testing';

/** A scheduler for one marble spec, comparing what came with what was expected by Jest's `toEqual`. */
export const scheduler = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
