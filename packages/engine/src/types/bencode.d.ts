// Minimal types for the untyped `bencode` package (v4): strings decode to Uint8Array.
declare module 'bencode' {
  export type BencodeValue = number | Uint8Array | BencodeValue[] | { [key: string]: BencodeValue };
  const bencode: {
    encode(value: unknown): Uint8Array;
    decode(data: Uint8Array, start?: number, end?: number, encoding?: string): BencodeValue;
  };
  export default bencode;
}
