// The parts of magnet-uri (untyped, ESM) that discovery/magnet.ts uses.
declare module 'magnet-uri' {
  export interface MagnetUri {
    infoHash?: string;
    name?: string | string[];
    announce?: string[];
    peerAddresses?: string[];
    xt?: string | string[];
  }
  export function decode(uri: string): MagnetUri;
  const magnet: { decode: typeof decode; (uri: string): MagnetUri };
  export default magnet;
}
