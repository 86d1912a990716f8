// The `negotiator` package (1.x) ships no types; what src/execution/negotiator-memo.ts uses of it.
declare module 'negotiator' {
  export interface NegotiatorRequest {
    headers: Record<string, string | string[] | undefined>;
  }
  export default class Negotiator {
    constructor(request: NegotiatorRequest);
    mediaType(available?: string[]): string | undefined;
    mediaTypes(available?: string[]): string[];
    charset(available?: string[]): string | undefined;
    charsets(available?: string[]): string[];
    encoding(available?: string[], options?: { preferred?: string[] }): string | undefined;
    encodings(available?: string[], options?: { preferred?: string[] }): string[];
    language(available?: string[]): string | undefined;
    languages(available?: string[]): string[];
  }
}
