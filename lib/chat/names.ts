/**
 * The username rules. A name is printed on everyone's terminal in server notices (`*** bob
 * just joined`) and chat lines (`[bob] hi`), so it must not pass for another user's name or for
 * one of those lines; people keep their own names in any script.
 */

import unhomoglyph from 'unhomoglyph';
import { hasControl } from './sanitize';
import { mixedScripts } from './scripts';

/** The longest username, in characters (code points, counted in NFC). */
export const MAX_NAME_LENGTH = 32;

// Format characters (U+202E, U+200B, U+2066...) and the other default-ignorables (Hangul
// fillers, variation selectors) draw nothing, or reorder what is drawn around them.
const INVISIBLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}]/u;
// Unassigned code points and noncharacters (which are unassigned too): no one knows how they draw.
const UNASSIGNED = /\p{Cn}/u;
const SPACE = /\s/u;
const NAME_CHARACTERS = /^[\p{L}\p{M}\p{Nd}_.-]*$/u;
const LIST = new Intl.ListFormat('en', { type: 'conjunction' });

/** Why a trimmed username breaks the rules, as the text after `*** `, or undefined when it keeps them; uniqueness aside. */
export function nameProblem(name: string): string | undefined {
  if (name.length === 0) return 'username must not be empty';
  if (hasControl(name)) return 'username must not contain control characters';
  if (INVISIBLE.test(name)) return 'username must not contain invisible characters';
  if (UNASSIGNED.test(name)) return 'username must not contain unassigned characters';
  if (SPACE.test(name)) return 'username must not contain spaces';
  // Counted in NFC so that a name is as long whichever way the client composed its accents.
  if ([...name.normalize('NFC')].length > MAX_NAME_LENGTH) return `username too long (max ${MAX_NAME_LENGTH} characters)`;
  return shapeProblem(name) ?? scriptProblem(name);
}

// A dot above an i or a j (or a dotless ı, which it dots again) draws nothing a reader can see:
// `ali̇ce` passes for `alice` in most fonts. UTS #39 flags it; the key drops it, and a name is refused with it.
const DOT_OVER_SOFT_DOTTED = /[ij\u0131\u0237]\u0307/u;
// The same in a key, where every i is already an l.
const DOT_OVER_KEY_I = /([jl\u0237])\u0307/gu;

/** Why a visible name still could not be told from a line or another name: its first character, brackets, symbols. */
function shapeProblem(name: string): string | undefined {
  if (/^\p{M}/u.test(name)) return 'username must not start with a combining mark';
  if (DOT_OVER_SOFT_DOTTED.test(name.normalize('NFD'))) return 'username must not put a dot above an i or a j (it hides in the letter)';
  if (name.startsWith('*')) return 'username must not start with * (server notices do)';
  if (/[[\]]/.test(name)) return 'username must not contain [ or ] (chat lines put names in them)';
  if (!NAME_CHARACTERS.test(name)) return 'username may only contain letters, digits and _ - .';
  return undefined;
}

/** Why the name's scripts let it pass for another: `bоb` with a Cyrillic о is Latin and Cyrillic. */
function scriptProblem(name: string): string | undefined {
  const scripts = mixedScripts(name);
  return scripts === undefined ? undefined : `username must not mix scripts (${LIST.format(scripts)})`;
}

/**
 * The key under which two names are one user: the UTS #39 confusables skeleton of the name,
 * NFKC-normalized and case-folded, so `Bob`, `ｂｏｂ` and `bоb` (Cyrillic о) are all `bob`.
 * Folding case first hides what a capital passes for: the skeleton is folded and taken again
 * (a 0 passes for a capital O, so `B0B` is `bob`), and `i` is `l`, since a capital I passes
 * for an l: `aIice` is `aiice` by case and `alice` by look, so all three are one name. A dot
 * above an i or a j hides in the letter, so the key leaves it out (`ali̇ce` is `alice`). Only
 * compared, never shown to users: `m` becomes `rn`. Keys an older chatd kept are moved at start
 * (lib/store/rekey.ts).
 */
export const nameKey = (name: string): string =>
  skeleton(caseFold(skeleton(caseFold(name.normalize('NFKC'))))).replaceAll(SMALL_I, 'l').replace(DOT_OVER_KEY_I, '$1');

// After the skeleton every i-like letter (ı, ι, і, ｉ) is this one, any accent apart (NFD).
const SMALL_I = 'i';

// JavaScript has no full case folding; upper then lower case is the nearest it has: it also
// makes `ß` and `ss` one, and `ΟΔΟΣ` and `οδοσ` (the final sigma).
const caseFold = (text: string): string => text.toUpperCase().toLowerCase();

// UTS #39: NFD, each character mapped by Unicode's confusables.txt (unhomoglyph's data), NFD again.
const skeleton = (text: string): string => unhomoglyph(text.normalize('NFD')).normalize('NFD');
