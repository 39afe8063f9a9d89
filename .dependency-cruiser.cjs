/**
 * Import rules, checked in every test run (scripts/test.sh): no cycles anywhere, packages depend
 * one way (cli -> fusefs -> engine), and inside the engine each folder imports only from the
 * layers below it. The layers, bottom first (DESIGN.md explains each folder):
 */
const LAYERS = [
  ['util', 'types'], // pure helpers and declarations of untyped packages
  ['wire', 'hash', 'limits'], // protocol codecs and constants; SHA-1 workers; rate limits
  ['metainfo', 'layout'], // torrents and the piece <-> file mapping
  ['storage', 'picker', 'cache'], // files on disk; which block to request; the bounded cache's bookkeeping
  ['peer'], // one connection's protocol state and its extensions (BEP 10, 9, 11)
  ['discovery', 'stream'], // trackers, DHT, magnets; readers of files
  ['torrent'], // one swarm
  ['session'], // the process-wide part
  ['http'], // the HTTP Range server on top of a session
];

const engine = (folders) => `^packages/engine/src/(${folders.join('|')})/`;
const layerRules = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `engine-layer-${layer.join('-')}`,
  comment: `${layer.join(', ')} may import only from the layers below it`,
  severity: 'error',
  from: { path: engine(layer) },
  to: { path: engine(LAYERS.slice(i + 1).flat()) },
}));

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    { name: 'engine-stays-alone', severity: 'error', from: { path: '^packages/engine/' }, to: { path: '^packages/(fusefs|cli)/' } },
    { name: 'fusefs-below-cli', severity: 'error', from: { path: '^packages/fusefs/' }, to: { path: '^packages/cli/' } },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules|native)/' },
    tsConfig: { fileName: 'tsconfig.base.json' },
    tsPreCompilationDeps: true,
  },
};
