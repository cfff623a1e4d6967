import { asyncScheduler, Observable, type SchedulerAction, type SchedulerLike, type Subscription } from 'rxjs';
import { LINES_DROPPED, REPLY_BYTES_PER_LINE, replyCost, Pace, type RateLimits } from '../../lib/chat/pace';
import { scheduler } from '../support/marbles';

// 100 lines per second: one line every 10 frames once the burst is spent.
const limits: RateLimits = { linesPerSecond: 100, burstLines: 2, maxQueuedLines: 3 };

/**
 * A Pace as an operator, so that marbles can drive it: `end` on complete, `stop` on teardown.
 * `costs` stands for what a value makes the server write: as it goes out, it charges that many lines.
 */
const pace = (rates: RateLimits, costs: Readonly<Record<string, number>> = {}, scheduler: SchedulerLike = asyncScheduler) => (source$: Observable<string>) =>
  new Observable<string | typeof LINES_DROPPED>((subscriber) => {
    const paced: Pace<string> = new Pace<string>(rates, {
      paced: (value) => {
        subscriber.next(value);
        if (typeof value === 'string') paced.charge(costs[value] ?? 0);
      },
      drained: () => subscriber.complete(),
    }, scheduler);
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

/** A clock that runs on while timers fire late: an event loop that a busy turn held up. */
class LateTimers implements SchedulerLike {
  constructor(private readonly lagMs: number) {}
  now(): number {
    return asyncScheduler.now();
  }
  schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
    return asyncScheduler.schedule(work, delay + this.lagMs, state);
  }
}

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
      paced.push('e');
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

  it('keeps the order when its timers fire late: a line never overtakes one that waits', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const late = new LateTimers(50);
      // b waits for its token, due at 10, its timer late till 60; by 30, c's token has come, but b is first.
      expectObservable(cold('(ab) 26ms c').pipe(pace({ ...limits, burstLines: 1 }, {}, late))).toBe('a 59ms b 59ms c');
    });
  });

  it('stops its timers when unsubscribed', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('(abc)');
      expectObservable(source.pipe(pace(limits)), '^--!').toBe('(ab)');
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  describe('charging what a line costs beyond itself', () => {
    it('counts a line token per whole 4 KiB written to the user', () => {
      expect(REPLY_BYTES_PER_LINE).toBe(4096);
      expect([0, 4095, 4096, 8191, 8192, 40_000].map((bytes) => replyCost(bytes))).toEqual([0, 0, 1, 1, 2, 9]);
      expect([replyCost(5000, 1000), replyCost(5000, 0), replyCost(5000, -1)]).toEqual([5, 0, 0]);
    });

    it('delays the next line by the lines charged, as if they had been sent', () => {
      scheduler().run(({ cold, expectObservable }) => {
        // w costs 3 more lines: with a burst of 2, the debt is 2 lines, paid by 20 ms, then b's own 10.
        expectObservable(cold('(wb)').pipe(pace(limits, { w: 3 }))).toBe('w 29ms b');
      });
    });

    it('holds back the lines already waiting until a charge made meanwhile is paid', () => {
      scheduler().run(({ cold, expectObservable }) => {
        // a and b pass; w waits its turn (10 ms), then costs 3: c waits 30 ms more than its 10.
        expectObservable(cold('(abwc)').pipe(pace(limits, { w: 3 }))).toBe('(ab) 6ms w 39ms c');
      });
    });

    it('paces a user who keeps asking for big replies to one reply per its cost, like a flooder', () => {
      scheduler().run(({ cold, expectObservable }) => {
        // One reply costing 4 more lines: one line in five goes, every 50 ms at 100 lines/s.
        const asks = cold('w 9ms w 9ms w 9ms w 9ms w 9ms w 9ms w 9ms w');
        expectObservable(asks.pipe(pace({ ...limits, maxQueuedLines: 100 }, { w: 4 })), '^ 199ms !').toBe('w 39ms w 49ms w 49ms w 49ms w');
      });
    });

    it('drops what passes the queue however large the debt, with one notice', () => {
      scheduler().run(({ cold, expectObservable }) => {
        expectObservable(cold('(wabcde)').pipe(pace(limits, { w: 100 })), '^ 100ms !').toBe('(wx)', { w: 'w', x: LINES_DROPPED });
      });
    });

    it('slows nobody but the user it is charged to', () => {
      scheduler().run(({ cold, expectObservable }) => {
        expectObservable(cold('(wb)').pipe(pace(limits, { w: 50 }))).toBe('w 499ms b');
        expectObservable(cold('(ab)').pipe(pace(limits))).toBe('(ab)');
      });
    });
  });
});
