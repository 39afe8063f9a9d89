/**
 * Debian's chromium, headless, driven by puppeteer-core (which downloads no browser). Also makes
 * a real WebM video with the browser's own encoder (canvas -> MediaRecorder), so the media tests
 * need no ffmpeg.
 */
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { ROOT } from './procs.js';

/** Where tests leave screenshots (kept by CI as artefacts; README's come from here). */
export const ARTIFACTS = path.join(ROOT, 'tests', 'artifacts');

export async function launchBrowser(): Promise<Browser> {
  await mkdir(ARTIFACTS, { recursive: true });
  return puppeteer.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    // Root in a container: no sandbox. Media may start without a gesture (the test clicks anyway).
    args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    protocolTimeout: 60_000,
  });
}

/** A WebM (VP8) of `seconds` of changing colours, `width` x `height`, recorded in `page`. */
export async function recordWebm(page: Page, seconds: number, width = 320, height = 240): Promise<Buffer> {
  const base64 = await page.evaluate(async (ms: number, w: number, hh: number) => {
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = hh;
    document.body.append(canvas);
    const g = canvas.getContext('2d')!;
    const recorder = new MediaRecorder(canvas.captureStream(25), { mimeType: 'video/webm;codecs=vp8', videoBitsPerSecond: 2_000_000 });
    const chunks: Blob[] = [];
    recorder.ondataavailable = (e) => chunks.push(e.data);
    let frame = 0;
    const timer = setInterval(() => {
      g.fillStyle = `hsl(${(frame * 7) % 360}, 80%, 50%)`;
      g.fillRect(0, 0, w, hh);
      g.fillStyle = '#fff';
      g.font = '40px sans-serif';
      g.fillText(`ct ${frame++}`, 20, hh / 2);
    }, 40);
    recorder.start(200);
    await new Promise((r) => setTimeout(r, ms));
    const stopped = new Promise((r) => { recorder.onstop = r; });
    recorder.stop();
    await stopped;
    clearInterval(timer);
    const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(s);
  }, seconds * 1000, width, height);
  return Buffer.from(base64, 'base64');
}
