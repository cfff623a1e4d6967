import { NEVER } from 'rxjs';
import { LiveData } from './live-data';
import type { Store } from './store';
import { WindowCounter } from './window-counter';

/** A store in memory, for a server whose registrations may end with it. */
export function memoryStore(): Store {
  const live = new LiveData();
  const registrations = new WindowCounter();
  return {
    load: async () => live.data(),
    account: async (key) => live.accounts.get(key),
    change: async (change) => {
      if (!live.accepts(change)) return false;
      if (change.type === 'account') live.setAccount(change.key, change.record);
      else live.setModeration(live.moderationAfter(change));
      return true;
    },
    loggedIn: async (key, at) => live.loggedIn(key, at),
    countRegistration: async (group, windowMs, at) => registrations.count(group, windowMs, at),
    accountsChanged$: NEVER,
    close: async () => {},
  };
}
