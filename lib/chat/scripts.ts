/**
 * Script mixing, at UTS #39's "highly restrictive" level: a text keeps to it when all its
 * characters share one script, or when they are covered by Latin with the scripts of Japanese,
 * Chinese or Korean. A character's scripts are its Script_Extensions; one of the Common or
 * Inherited script fits any script. Mixing is what lets `bоb` (Cyrillic о) pass for `bob`.
 */

// The ISO 15924 codes of every script of Unicode 17, but Common, Inherited and Unknown. Latin
// comes first because most names are Latin and the search stops at the first match. The spec
// checks that every letter, mark and digit this Node knows is of one of them.
const SCRIPT_CODES: readonly string[] = [
  'Latn', 'Adlm', 'Aghb', 'Ahom', 'Arab', 'Armi', 'Armn', 'Avst', 'Bali', 'Bamu', 'Bass', 'Batk',
  'Beng', 'Berf', 'Bhks', 'Bopo', 'Brah', 'Brai', 'Bugi', 'Buhd', 'Cakm', 'Cans', 'Cari', 'Cham',
  'Cher', 'Chrs', 'Copt', 'Cpmn', 'Cprt', 'Cyrl', 'Deva', 'Diak', 'Dogr', 'Dsrt', 'Dupl', 'Egyp',
  'Elba', 'Elym', 'Ethi', 'Gara', 'Geor', 'Glag', 'Gong', 'Gonm', 'Goth', 'Gran', 'Grek', 'Gujr',
  'Gukh', 'Guru', 'Hang', 'Hani', 'Hano', 'Hatr', 'Hebr', 'Hira', 'Hluw', 'Hmng', 'Hmnp', 'Hung',
  'Ital', 'Java', 'Kali', 'Kana', 'Kawi', 'Khar', 'Khmr', 'Khoj', 'Kits', 'Knda', 'Krai', 'Kthi',
  'Lana', 'Laoo', 'Lepc', 'Limb', 'Lina', 'Linb', 'Lisu', 'Lyci', 'Lydi', 'Mahj', 'Maka', 'Mand',
  'Mani', 'Marc', 'Medf', 'Mend', 'Merc', 'Mero', 'Miao', 'Mlym', 'Modi', 'Mong', 'Mroo', 'Mtei',
  'Mult', 'Mymr', 'Nagm', 'Nand', 'Narb', 'Nbat', 'Newa', 'Nkoo', 'Nshu', 'Ogam', 'Olck', 'Onao',
  'Orkh', 'Orya', 'Osge', 'Osma', 'Ougr', 'Palm', 'Pauc', 'Perm', 'Phag', 'Phli', 'Phlp', 'Phnx',
  'Prti', 'Rjng', 'Rohg', 'Runr', 'Samr', 'Sarb', 'Saur', 'Sgnw', 'Shaw', 'Shrd', 'Sidd', 'Sidt',
  'Sind', 'Sinh', 'Sogd', 'Sogo', 'Sora', 'Soyo', 'Sund', 'Sunu', 'Sylo', 'Syrc', 'Tagb', 'Takr',
  'Tale', 'Talu', 'Taml', 'Tang', 'Tavt', 'Tayo', 'Telu', 'Tfng', 'Tglg', 'Thaa', 'Thai', 'Tibt',
  'Tirh', 'Tnsa', 'Todr', 'Tols', 'Toto', 'Tutg', 'Ugar', 'Vaii', 'Vith', 'Wara', 'Wcho', 'Xpeo',
  'Xsux', 'Yezi', 'Yiii', 'Zanb',
];

// Latin with Japanese (Han, Hiragana, Katakana), with Chinese (Han, Bopomofo), with Korean.
const COVERING_SETS: readonly (readonly string[])[] = [
  ['Latn', 'Hani', 'Hira', 'Kana'],
  ['Latn', 'Hani', 'Bopo'],
  ['Latn', 'Hani', 'Hang'],
];

/** A text made only of characters that fit one of these scripts. */
const keepsTo = (codes: readonly string[]): RegExp =>
  new RegExp(`^[\\p{scx=Zyyy}\\p{scx=Zinh}${codes.map((code) => `\\p{scx=${code}}`).join('')}]*$`, 'u');

/** The script with its test, or none for a script newer than this Node's Unicode. */
function knownScript(code: string): { code: string; only: RegExp }[] {
  try {
    return [{ code, only: keepsTo([code]) }];
  } catch {
    return []; // the engines field allows Node 20.0, whose Unicode 15 lacks 11 of these scripts
  }
}

const SCRIPTS = SCRIPT_CODES.flatMap(knownScript);
const COVERS = COVERING_SETS.map(keepsTo);
const SCRIPT_NAMES = new Intl.DisplayNames('en', { type: 'script', fallback: 'code' });

/** The English names of the scripts a text mixes, or undefined when it is highly restrictive. */
export function mixedScripts(text: string): string[] | undefined {
  if (SCRIPTS.some(({ only }) => only.test(text)) || COVERS.some((only) => only.test(text))) return undefined;
  return scriptsIn(text).map((code) => SCRIPT_NAMES.of(code) ?? code);
}

/** One script code for each script the text uses, in order: a character that fits one named already adds none. */
function scriptsIn(text: string): string[] {
  const codes: string[] = [];
  for (const char of text) {
    const fits = SCRIPTS.filter(({ only }) => only.test(char)).map(({ code }) => code);
    const first = fits[0];
    const isCommon = fits.length === SCRIPTS.length;
    if (first !== undefined && !isCommon && !fits.some((code) => codes.includes(code))) codes.push(first);
  }
  return codes;
}
