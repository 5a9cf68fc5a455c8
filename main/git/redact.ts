/** Hides the userinfo of every URL in `text` (https://user:token@host -> https://***@host): credentials never reach a log or an error. */
export function redactCredentials(text: string): string {
  return text.replace(/([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/@\s'"]+@/g, "$1***@");
}
