/** The keys (and the channel) of a cluster's data under `prefix`. */
export function redisStoreKeys(prefix: string) {
  return {
    /** Hash: name key -> the account as JSON. */
    accounts: `${prefix}accounts`,
    /** Hash: name key -> the name as `/op` gave it. */
    ops: `${prefix}ops`,
    opAccounts: `${prefix}op-accounts`,
    /** Hash: name key -> the ban as JSON, with `at`, when it was made, which orders them. */
    bans: `${prefix}bans`,
    /** String: the message of the day. */
    motd: `${prefix}motd`,
    /** Hash: name key -> when someone last logged in with its password (ms), apart from the
     * account, so that a login writes a number and never rewrites a record it may not know all of. */
    logins: `${prefix}logins`,
    /** String per address group and window (its start, in ms), counting its registrations; it expires with its window. */
    registrations: (group: string, windowStart: number) => `${prefix}registrations:${group}:${windowStart}`,
    /** Channel: the name key of each account changed, and nothing else. */
    accountsChanged: `${prefix}accounts-changed`,
    /** Hash: the key an account was kept under -> the account, as JSON, that lost its name to an older lookalike (rekey.ts). */
    displaced: `${prefix}displaced`,
    /** Hash (level, at, next) of a name's recent wrong password checks, expiring once they leaked away. */
    guessesOf: (nameKey: string) => `${prefix}guesses:${nameKey}`,
  };
}
