import { merge } from 'rxjs';
import { ChecksBusyError, CheckQueue } from '../../lib/store/check-queue';
import { scheduler } from '../support/marbles';

const busy = new ChecksBusyError('too many password checks at once');

describe('CheckQueue', () => {
  it('runs two hashes at once and the others in turn, in the order asked', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const queue = new CheckQueue(2, 10, 10);
      const [a, b, c, d] = [cold('---(a|)'), cold('---(b|)'), cold('---(c|)'), cold('---(d|)')] as const;
      expectObservable(merge(queue.run('10.0.0.1', a), queue.run('10.0.0.2', b))).toBe('---(ab|)');
      expectObservable(merge(queue.run('10.0.0.3', c), queue.run('10.0.0.4', d))).toBe('------(cd|)');
      expectSubscriptions(a.subscriptions).toBe('^--!');
      expectSubscriptions(c.subscriptions).toBe('---^--!');
      expectSubscriptions(d.subscriptions).toBe('---^--!');
    });
  });

  it('does not compute a hash past the queue bound, or past one address group\'s share, and frees the share as hashes end', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const queue = new CheckQueue(1, 2, 2);
      const work = () => cold('--(x|)');
      const ownShare = merge(queue.run('10.0.0.1', work()), queue.run('10.0.0.1', work()));
      expectObservable(ownShare).toBe('--x-(x|)');
      expectObservable(queue.run('10.0.0.1', work())).toBe('#', {}, busy); // its share is taken
      expectObservable(queue.run('10.0.0.2', work())).toBe('------(x|)'); // another address still gets a turn
      expectObservable(queue.run('10.0.0.3', work())).toBe('#', {}, busy); // the queue is full
    });
  });

  it('never computes a hash whose asker went away before its turn', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const queue = new CheckQueue(1, 10, 10);
      const first = cold('----(x|)');
      const gone = cold('--(y|)');
      const last = cold('--(z|)');
      expectObservable(queue.run('10.0.0.1', first)).toBe('----(x|)');
      expectObservable(queue.run('10.0.0.2', gone), '--!').toBe('');
      expectObservable(queue.run('10.0.0.3', last)).toBe('------(z|)');
      expectSubscriptions(gone.subscriptions).toBe([]);
    });
  });

  it("takes an owner's hash first, and past a full queue, within its address's share", () => {
    scheduler().run(({ cold, expectObservable }) => {
      const queue = new CheckQueue(1, 1, 2);
      const work = (value: string) => cold(`--(${value}|)`);
      expectObservable(queue.run('10.0.0.1', work('a'))).toBe('--(a|)');
      expectObservable(queue.run('10.0.0.2', work('b'))).toBe('--------(b|)'); // after both owners'
      expectObservable(queue.run('10.0.0.3', work('c'))).toBe('#', {}, busy);
      expectObservable(queue.run('192.0.2.7', work('o'), true)).toBe('----(o|)');
      expectObservable(queue.run('192.0.2.7', work('p'), true)).toBe('------(p|)');
      expectObservable(queue.run('192.0.2.7', work('q'), true)).toBe('#', {}, busy); // past its share
    });
  });
});
