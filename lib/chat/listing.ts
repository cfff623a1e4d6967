import * as text from './texts';
import { utf8Bytes } from './utf8';

/** The most names `/who` (and its aliases) or `/ignore` lists; the rest are counted. */
export const MAX_LISTED_NAMES = 200;
/** The most rooms `/rooms` lists; the rest are counted. */
export const MAX_LISTED_ROOMS = 200;
/** The most bans `/bans` lists, one a line; the rest are counted. */
export const MAX_LISTED_BANS = 100;
/** The most bytes of one listing line; an item is never split, so a longer item has a line of its own. */
export const MAX_LISTING_LINE_BYTES = 1024;
/** The most bytes one listing writes, before the line that counts what it left out. */
export const MAX_LISTING_BYTES = 32 * 1024;

const SEPARATOR = ', ';
/** `*** ` and the newline around each line's text. */
const REPLY_BYTES = utf8Bytes(text.reply(''));

/**
 * `head` and `items`, comma-separated, as one reply of lines of at most MAX_LISTING_LINE_BYTES
 * each (one text, so one write): at most `maxItems` items and MAX_LISTING_BYTES, then
 * `... and N more` of the `total`. Reads no more of `items` than it lists, and one more.
 */
export function listing(head: string, items: Iterable<string>, total: number, maxItems: number): string {
  const lines: string[] = [];
  let line: string[] = []; // the items of the line being made, joined once it is full
  let lineBytes = REPLY_BYTES + utf8Bytes(head);
  let written = 0; // bytes of `lines`
  let listed = 0; // items on `lines`
  const reply = () => text.reply(`${lines.length === 0 ? head : ''}${line.join(SEPARATOR)}`);
  for (const item of items) {
    if (listed + line.length === maxItems) break;
    const itemBytes = utf8Bytes(item);
    if (line.length > 0 && lineBytes + SEPARATOR.length + itemBytes > MAX_LISTING_LINE_BYTES) {
      if (written + lineBytes > MAX_LISTING_BYTES) break;
      lines.push(reply());
      written += lineBytes;
      listed += line.length;
      line = [];
      lineBytes = REPLY_BYTES;
    }
    lineBytes += (line.length === 0 ? 0 : SEPARATOR.length) + itemBytes;
    line.push(item);
  }
  if (written + lineBytes <= MAX_LISTING_BYTES) {
    lines.push(reply());
    listed += line.length;
  }
  if (listed < total) lines.push(text.andMore(total - listed));
  return lines.join('');
}

/** `replies`, whole lines each, at most `maxItems` and MAX_LISTING_BYTES, then `... and N more` of the `total`, as one reply. */
export function lineByLine(replies: Iterable<string>, total: number, maxItems: number): string {
  const lines: string[] = [];
  let written = 0;
  for (const reply of replies) {
    const bytes = utf8Bytes(reply);
    if (lines.length === maxItems || written + bytes > MAX_LISTING_BYTES) break;
    lines.push(reply);
    written += bytes;
  }
  return lines.length < total ? [...lines, text.andMore(total - lines.length)].join('') : lines.join('');
}
