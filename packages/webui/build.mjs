// Builds the web page of `ct serve` into dist/: one bundled, minified script and one stylesheet
// with content-hashed names under dist/assets/, and dist/index.html naming them. Run by the
// workspace build (after tsc has type-checked src/ with tsconfig.json). Fails when the page's
// JS and CSS pass the budget of 200 KB.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

const BUDGET_BYTES = 200 * 1024;
const here = path.dirname(new URL(import.meta.url).pathname);
const dist = path.join(here, 'dist');
rmSync(dist, { recursive: true, force: true });
mkdirSync(path.join(dist, 'assets'), { recursive: true });

const result = await build({
  entryPoints: { app: path.join(here, 'src/main.ts'), style: path.join(here, 'src/style.css') },
  bundle: true, minify: true, format: 'esm', target: 'es2022', platform: 'browser',
  outdir: path.join(dist, 'assets'), entryNames: '[name]-[hash]', metafile: true, logLevel: 'warning',
});
const outputs = Object.entries(result.metafile.outputs).map(([file, o]) => ({ file: path.basename(file), bytes: o.bytes }));
const js = outputs.find((o) => o.file.startsWith('app-') && o.file.endsWith('.js'));
const css = outputs.find((o) => o.file.startsWith('style-') && o.file.endsWith('.css'));
const total = outputs.reduce((n, o) => n + o.bytes, 0);
if (total > BUDGET_BYTES) throw new Error(`the web page's JS and CSS are ${total} bytes, over the budget of ${BUDGET_BYTES}`);
const html = readFileSync(path.join(here, 'src/index.html'), 'utf8')
  .replace('%APP_JS%', `/assets/${js.file}`).replace('%APP_CSS%', `/assets/${css.file}`);
writeFileSync(path.join(dist, 'index.html'), html);
writeFileSync(path.join(dist, 'budget.json'), `${JSON.stringify({ bytes: total, budget: BUDGET_BYTES, files: outputs })}\n`);
