/**
 * American Soundex, as Byndle's matching uses it for first and last names (byndle.md: "Our
 * matching routines uses SOUNDEX to allow some variations or misspelling in certain variables").
 * Norwegian and other Nordic letters are folded to ASCII first, because Soundex only knows A-Z
 * and would otherwise drop them (and with them the sound they carry).
 */
const FOLD: Record<string, string> = {
  Æ: 'AE',
  Ø: 'O',
  Å: 'AA',
  Ä: 'A',
  Ö: 'O',
  É: 'E',
  È: 'E',
  Ü: 'U',
};

const CODES: Record<string, string> = {
  B: '1',
  F: '1',
  P: '1',
  V: '1',
  C: '2',
  G: '2',
  J: '2',
  K: '2',
  Q: '2',
  S: '2',
  X: '2',
  Z: '2',
  D: '3',
  T: '3',
  L: '4',
  M: '5',
  N: '5',
  R: '6',
};

export function foldNordic(s: string): string {
  return s
    .toUpperCase()
    .replace(/[ÆØÅÄÖÉÈÜ]/g, (ch) => FOLD[ch] ?? ch)
    .replace(/[^A-Z]/g, '');
}

/** "Hansen" and "Hanssen" both give H525; an empty or letterless name gives "". */
export function soundex(name: string): string {
  const s = foldNordic(name);
  const first = s[0];
  if (!first) return '';
  let out = first;
  // The first letter's own code counts for adjacency: "Pfister" is P236, not P123.
  let prev = CODES[first] ?? '';
  for (let i = 1; i < s.length && out.length < 4; i++) {
    const ch = s[i] as string;
    const code = CODES[ch];
    if (code) {
      if (code !== prev) out += code;
      prev = code;
    } else if (ch !== 'H' && ch !== 'W') {
      // A vowel separates two equal codes (they are coded twice); H and W do not.
      prev = '';
    }
  }
  return out.padEnd(4, '0');
}
