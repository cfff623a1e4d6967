import type { Observer, TeardownLogic, Unsubscribable } from 'rxjs';

/** `InputSubscriber.input` once it reads its input no more. */
const STOPPED = Symbol('stopped reading');

/** What ends the reading of an input. */
type Teardown = Unsubscribable | (() => void);

const tearDown = (teardown: Teardown): void => (typeof teardown === 'function' ? teardown() : teardown.unsubscribe());

/**
 * An observer of a connection's input that is its own subscription. RxJS 7's `subscribe` takes
 * an observer that has `closed`, `add`, `remove` and `unsubscribe` for a Subscriber, and makes no
 * SafeSubscriber, observer wrapper and finalizer array of its own: 292 bytes less for every
 * connection, idle or not (bench/README.md, "Memory per idle user"), about a tenth of what an
 * idle user costs. So it keeps a subscriber's promises to its input: it takes nothing after the
 * input's end or its own, and then runs the input's teardown. Should RxJS stop taking such an
 * observer as it is, session.spec's "is given no Subscriber of RxJS" fails: then drop this class.
 */
export abstract class InputSubscriber<T> implements Observer<T> {
  // The input's teardown, STOPPED once it ran.
  private input: Teardown | typeof STOPPED | undefined;

  abstract next(value: T): void;
  abstract error(err: unknown): void;
  abstract complete(): void;

  /** Stops reading the input; a subclass adds its own teardown. */
  unsubscribe(): void {
    this.stopReading();
  }

  /** True once it reads its input no more. */
  get closed(): boolean {
    return this.input === STOPPED;
  }

  /** Keeps a teardown of the input, run when it stops reading it (at once if it has). */
  add(teardown: TeardownLogic): void {
    if (teardown === undefined || teardown === this) return;
    const before = this.input;
    if (before === STOPPED) tearDown(teardown);
    else this.input = before === undefined ? teardown : () => { tearDown(before); tearDown(teardown); };
  }

  /** A subscriber's: it holds no subscription that could be taken out. */
  remove(): void {}

  protected stopReading(): void {
    const teardown = this.input;
    this.input = STOPPED;
    if (teardown !== undefined && teardown !== STOPPED) tearDown(teardown);
  }
}
