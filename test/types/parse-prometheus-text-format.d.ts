// The parser ships no types: it answers prom2json's shape (test/metrics.test.ts reads it).
declare module "parse-prometheus-text-format" {
  export default function parsePrometheusTextFormat(text: string): unknown[];
}
