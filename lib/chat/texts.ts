/**
 * Every text chatd sends. Each text carries its own line ending so that the prompt, the one
 * text without a newline, is written byte for byte as the protocol shows it.
 */

export const DEFAULT_BANNER = "Welcome to Jen's chat server!";

export const PROMPT = 'Please enter your username: ';

/** The first line a connection receives. */
export const greeting = (banner: string): string => `${banner}\n`;

/** Sent to the new user alone, before the join is broadcast. */
export const welcome = (nick: string): string => `Welcome, ${nick}\n`;

/** Broadcast to everyone, the joiner included. */
export const joined = (nick: string): string => `*** ${nick} just joined the chatroom\n`;

/** Broadcast for every non-empty line, the sender included. */
export const said = (nick: string, text: string): string => `[${nick}] ${text}\n`;

/** Broadcast to those who remain, once per user. */
export const left = (nick: string): string => `*** ${nick} has disconnected\n`;

/** Why a username was refused; the prompt follows on the same connection. */
export const nameRefused = (reason: string): string => `*** ${reason}\n`;

/** Sent to the sender of a line over the limit; the line is dropped, the connection stays. */
export const lineTooLong = (maxLineBytes: number): string =>
  `*** line too long (max ${maxLineBytes} bytes)\n`;

export const LOGIN_TIMED_OUT = '*** login timed out\n';

/** Sent once per burst when a flooding user's queue is full and lines start being dropped. */
export const SLOW_DOWN = '*** slow down\n';

export const SERVER_FULL = '*** server full\n';

export const SHUTTING_DOWN = '*** server shutting down\n';
