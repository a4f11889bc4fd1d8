// The jmespath package ships no types (and @types/jmespath omits compile): the two calls used.
declare module 'jmespath' {
  /** Parses an expression; throws on a syntax error. */
  export function compile(expression: string): unknown;
  export function search(data: unknown, expression: string): unknown;
  const jmespath: { compile: typeof compile; search: typeof search };
  export default jmespath;
}
