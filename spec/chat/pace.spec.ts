import { Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { LINES_DROPPED, Pace, type RateLimits } from '../../lib/chat/pace';

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
// 100 lines per second: one line every 10 frames once the burst is spent.
const limits: RateLimits = { linesPerSecond: 100, burstLines: 2, maxQueuedLines: 3 };

/** A Pace as an operator, so that marbles can drive it: `end` on complete, `stop` on teardown. */
const pace = (rates: RateLimits) => (source$: Observable<string>) =>
  new Observable<string | typeof LINES_DROPPED>((subscriber) => {
    const paced = new Pace<string>(rates, { paced: (value) => subscriber.next(value), drained: () => subscriber.complete() });
    const upstream = source$.subscribe({
      next: (value) => paced.push(value),
      error: (err: unknown) => subscriber.error(err),
      complete: () => paced.end(),
    });
    return () => {
      upstream.unsubscribe();
      paced.stop();
    };
  });

describe('Pace', () => {
  it('passes lines within the burst at once', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('ab|').pipe(pace(limits))).toBe('ab|');
    });
  });

  it('delays lines over the rate, in order, and completes after the last one', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('(abcd|)').pipe(pace(limits))).toBe('(ab) 6ms c 9ms (d|)');
    });
  });

  it('refills the burst while the user is quiet', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('(ab) 16ms (cd)').pipe(pace(limits))).toBe('(ab) 16ms (cd)');
    });
  });

  it('drops lines past the queue limit with one notice per burst', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('(abcdefg) 91ms (hijklmn)');
      const expected = '   (abx) 5ms c 9ms d 9ms e 69ms (hiy) 5ms j 9ms k 9ms l';
      expectObservable(source.pipe(pace(limits))).toBe(expected, {
        a: 'a', b: 'b', c: 'c', d: 'd', e: 'e', h: 'h', i: 'i', j: 'j', k: 'k', l: 'l', x: LINES_DROPPED, y: LINES_DROPPED,
      });
    });
  });

  it('passes an error on at once, with the delayed lines gone with the connection', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('(abc)-#');
      expectObservable(source.pipe(pace(limits))).toBe('(ab)--#');
      expectSubscriptions(source.subscriptions).toBe('^-----!');
    });
  });

  it('sends nothing more once stopped, and never reports drained', () => {
    const testScheduler = scheduler();
    testScheduler.run(({ flush }) => {
      const sink = { paced: jest.fn(), drained: jest.fn() };
      const paced = new Pace<string>(limits, sink);
      ['a', 'b', 'c', 'd'].forEach((value) => paced.push(value));
      paced.end();
      paced.stop();
      flush();
      expect(sink.paced.mock.calls).toEqual([['a'], ['b']]);
      expect(sink.drained).not.toHaveBeenCalled();
    });
  });

  it('reports each dropped value, where the output marks only the first', () => {
    scheduler().run(({ flush }) => {
      const sink = { paced: jest.fn(), drained: jest.fn(), dropped: jest.fn() };
      const paced = new Pace<string>({ linesPerSecond: 1, burstLines: 1, maxQueuedLines: 1 }, sink);
      ['a', 'b', 'c', 'd', 'e'].forEach((value) => paced.push(value));
      flush();
      expect(sink.paced.mock.calls).toEqual([['a'], [LINES_DROPPED], ['b']]);
      expect(sink.dropped).toHaveBeenCalledTimes(3);
    });
  });

  it('stops its timers when unsubscribed', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('(abc)');
      expectObservable(source.pipe(pace(limits)), '^--!').toBe('(ab)');
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });
});
