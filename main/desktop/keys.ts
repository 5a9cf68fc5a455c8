import { createRequire } from "node:module";
import { invalid } from "../shared/errors.js";

/**
 * Key names -> X keysyms. Accepts X keysym names as xdotool does (`Return`, `Page_Up`,
 * `KP_0`), DOM `KeyboardEvent.key` / `.code` names (`Enter`, `ArrowLeft`, `KeyA`), a few
 * common aliases (`ctrl`, `cmd`, `esc`), and any single character.
 */

// X.Org's keysymdef.h, as shipped by the `x11` package: { XK_<name>: { code, description } }.
const keysymTable = createRequire(import.meta.url)("x11/lib/keysyms.js") as Record<
  string,
  { code: number; description: string | null }
>;

export const KEYSYM = {
  BackSpace: 0xff08,
  Tab: 0xff09,
  Return: 0xff0d,
  Escape: 0xff1b,
  Delete: 0xffff,
  Shift_L: 0xffe1,
  Control_L: 0xffe3,
  Alt_L: 0xffe9,
  Super_L: 0xffeb,
} as const;

// Lower-case alias -> X keysym name (or keysym). Names X already has (Home, Tab, F5, ...)
// need no entry: they resolve case-insensitively from the keysym table.
const ALIASES: Record<string, string | number> = {
  // modifiers
  ctrl: "Control_L",
  control: "Control_L",
  controlleft: "Control_L",
  controlright: "Control_R",
  shift: "Shift_L",
  shiftleft: "Shift_L",
  shiftright: "Shift_R",
  alt: "Alt_L",
  option: "Alt_L",
  altleft: "Alt_L",
  altright: "Alt_R",
  altgr: "ISO_Level3_Shift",
  altgraph: "ISO_Level3_Shift",
  super: "Super_L",
  meta: "Super_L",
  cmd: "Super_L",
  command: "Super_L",
  win: "Super_L",
  windows: "Super_L",
  os: "Super_L",
  metaleft: "Super_L",
  metaright: "Super_R",
  osleft: "Super_L",
  osright: "Super_R",
  hyper: "Hyper_L",
  // editing and navigation (DOM names and common short forms)
  enter: "Return",
  esc: "Escape",
  del: "Delete",
  ins: "Insert",
  arrowleft: "Left",
  arrowright: "Right",
  arrowup: "Up",
  arrowdown: "Down",
  pageup: "Prior",
  pgup: "Prior",
  pagedown: "Next",
  pgdn: "Next",
  capslock: "Caps_Lock",
  numlock: "Num_Lock",
  scrolllock: "Scroll_Lock",
  printscreen: "Print",
  prtsc: "Print",
  contextmenu: "Menu",
  apps: "Menu",
  spacebar: "space",
  // OpenAI computer-use names (CTRL, ENTER, ESC, SPACE, ARROWLEFT resolve above or case-insensitively)
  return: "Return",
  backspace: "BackSpace",
  page_up: "Prior",
  page_down: "Next",
  up_arrow: "Up",
  down_arrow: "Down",
  left_arrow: "Left",
  right_arrow: "Right",
  // DOM `code` names for the keypad and punctuation keys
  numpadadd: "KP_Add",
  numpadsubtract: "KP_Subtract",
  numpadmultiply: "KP_Multiply",
  numpaddivide: "KP_Divide",
  numpaddecimal: "KP_Decimal",
  numpadenter: "KP_Enter",
  numpadequal: "KP_Equal",
  minus: "minus",
  equal: "equal",
  bracketleft: "bracketleft",
  bracketright: "bracketright",
  backslash: "backslash",
  semicolon: "semicolon",
  quote: "apostrophe",
  backquote: "grave",
  comma: "comma",
  period: "period",
  slash: "slash",
  // media keys (XF86keysym.h; not in keysymdef.h)
  audiovolumeup: 0x1008ff13,
  audiovolumedown: 0x1008ff11,
  audiovolumemute: 0x1008ff12,
  mediaplaypause: 0x1008ff14,
  mediastop: 0x1008ff15,
  mediatrackprevious: 0x1008ff16,
  mediatracknext: 0x1008ff17,
};

let exactNames: Map<string, number> | undefined;
let foldedNames: Map<string, number | null> | undefined; // null = ambiguous ignoring case
let legacyByCodePoint: Map<number, number> | undefined;

function loadTable(): void {
  if (exactNames) return;
  exactNames = new Map();
  foldedNames = new Map();
  legacyByCodePoint = new Map();
  for (const [key, { code, description }] of Object.entries(keysymTable)) {
    if (!key.startsWith("XK_")) continue;
    const name = key.slice(3);
    exactNames.set(name, code);
    const folded = name.toLowerCase();
    const seen = foldedNames.get(folded);
    if (seen === undefined) foldedNames.set(folded, code);
    else if (seen !== code) foldedNames.set(folded, null);
    // Descriptions of character keysyms start with "(<char>)".
    const m = description ? /^\((.+?)\) /u.exec(description) : null;
    if (m && [...m[1]].length === 1 && code > 0xff && code < 0x1000000) {
      const cp = m[1].codePointAt(0)!;
      if (!legacyByCodePoint.has(cp)) legacyByCodePoint.set(cp, code);
    }
  }
}

/** The keysym that types `ch` (one code point): Latin-1 keysyms are the code point, others 0x01000000|cp. */
export function keysymForChar(ch: string): number {
  const cp = ch.codePointAt(0);
  if (cp === undefined || [...ch].length !== 1) throw invalid(`expected exactly one character, got ${JSON.stringify(ch)}`);
  switch (cp) {
    case 0x0a:
    case 0x0d:
      return KEYSYM.Return;
    case 0x09:
      return KEYSYM.Tab;
    case 0x08:
      return KEYSYM.BackSpace;
    case 0x1b:
      return KEYSYM.Escape;
    case 0x7f:
      return KEYSYM.Delete;
  }
  if (cp < 0x20 || (cp >= 0x80 && cp < 0xa0)) throw invalid(`cannot type control character U+${cp.toString(16).padStart(4, "0")}`);
  if (cp <= 0xff) return cp;
  return (0x01000000 | cp) >>> 0;
}

/**
 * The legacy (pre-Unicode) keysym for a character, if X has one (`EuroSign` for €).
 * A keymap may carry the character under that keysym instead of the Unicode one.
 */
export function legacyKeysymForChar(ch: string): number | undefined {
  loadTable();
  return legacyByCodePoint!.get(ch.codePointAt(0) ?? -1);
}

/** Resolves one key name to an X keysym; throws a 400 for unknown names. */
export function resolveKeysym(name: string): number {
  if (typeof name !== "string" || name.length === 0) throw invalid("key name must be a non-empty string");
  if ([...name].length === 1) return keysymForChar(name);
  loadTable();
  const exact = exactNames!.get(name);
  if (exact !== undefined) return exact;
  const folded = name.toLowerCase();
  const alias = ALIASES[folded];
  if (alias !== undefined) return typeof alias === "number" ? alias : exactNames!.get(alias)!;
  const dom = /^(?:key([a-z])|digit([0-9])|numpad([0-9]))$/.exec(folded);
  if (dom) {
    if (dom[1]) return dom[1].charCodeAt(0);
    if (dom[2]) return dom[2].charCodeAt(0);
    return exactNames!.get(`KP_${dom[3]}`)!;
  }
  const caseless = foldedNames!.get(folded);
  if (typeof caseless === "number") return caseless;
  const hex = /^0x([0-9a-f]{1,8})$/.exec(folded);
  if (hex) return parseInt(hex[1], 16);
  throw invalid(`unknown key name "${name}"`);
}

/**
 * Splits a chord such as `ctrl+shift+t` into keysyms, in press order. A literal `+` key
 * is accepted as the last part (`ctrl++`) or as `plus`.
 */
export function parseChord(text: string): number[] {
  return splitChord(text).map(resolveKeysym);
}

/** The key names of a chord (`ctrl+shift+t` -> ctrl, shift, t), in press order, unresolved. */
export function splitChord(text: string): string[] {
  if (typeof text !== "string" || text.trim().length === 0) throw invalid("key chord must be a non-empty string");
  const trimmed = text.trim();
  if (trimmed === "+") return ["+"];
  // split on every '+' except one that is itself the final key
  const parts = trimmed.split(/\+(?=.)/).map((p) => (p === "+" ? p : p.trim()));
  if (parts.some((p) => p.length === 0)) throw invalid(`malformed key chord "${text}"`);
  return parts;
}
