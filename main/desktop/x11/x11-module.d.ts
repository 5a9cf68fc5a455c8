// The `x11` package ships no types; we wrap it once in connection.ts and type our wrapper.
declare module "x11" {
  const x11: any;
  export default x11;
}
