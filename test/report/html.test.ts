import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtml } from '../../src/report/html.js';
import { okReport, staleAckReport } from './fixtures.js';

/** The opening tag and body of one chart, or undefined when it is absent. */
const svg = (html: string, id: string): string | undefined => new RegExp(`<svg id="${id}"[\\s\\S]*?</svg>`).exec(html)?.[0];
const count = (s: string, re: RegExp): number => s.match(re)?.length ?? 0;

describe('renderHtml', () => {
  const html = renderHtml(staleAckReport());
  const ok = renderHtml(okReport());

  it('is one HTML document', () => {
    for (const h of [html, ok]) {
      expect(h.startsWith('<!DOCTYPE html>')).toBe(true);
      expect(h.trimEnd().endsWith('</html>')).toBe(true);
      expect(count(h, /<style>/g)).toBe(1);
    }
  });

  it('escapes report text', () => {
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;');
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('&lt;img src=&quot;https://evil.example/x.png&quot;&gt;');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;b&gt;ack=12345&lt;/b&gt;');
    expect(html).toContain('<code>client &lt;eth0&gt;.pcap</code>');
  });

  it('fetches nothing: no external src/href, no CSS url() or @import, and a CSP that forbids it', () => {
    for (const h of [html, ok]) {
      expect(h).not.toMatch(/\b(?:src|href|xlink:href)\s*=\s*["']?\s*(?:[a-z]+:)?\/\//i);
      expect(h).not.toMatch(/url\(|@import/i);
      expect(h).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
    }
    // URLs in report text stay plain text.
    expect(html).toContain('see https://example.com/tw');
    // In-page links are fine.
    expect(html).toMatch(/href="#remedy-pooling"/);
    expect(html).toMatch(/id="remedy-pooling"/);
  });

  it('has the Markdown report content', () => {
    expect(html).toContain('Reused source ports hit TIME_WAIT on the server (stale ACK, RST, SYN retry)');
    expect(html).toContain('tcp.port == 40001 &amp;&amp; frame.number &gt;= 4409');
    expect(html).toContain('frames 4409, 4410, 4411');
    expect(html).toMatch(/<th>setting<\/th>/);
    expect(html).toContain('removed in Linux 4.12 &amp; breaks clients behind NAT');
    expect(html).toContain('stale-ack/<wbr>client.pcap/<wbr>4410');
    expect(html).toContain('TIME_WAIT 60 s, client port range 32768-60999');
    expect(html).toContain('2023-11-14T22:13:20.000Z');
    expect(html).toContain('tcpdiag 0.1.0, report schema 2');
  });

  it('draws the timeline: one bar per non-empty bucket, lines for retransmits and stale ACKs, units on the axes', () => {
    const s = svg(html, 'chart-timeline')!;
    expect(s).toBeDefined();
    expect(s).toMatch(/<title id="chart-timeline-title">[^<]*per 100 ms<\/title>/);
    const series = (cls: string): string => new RegExp(`<g class="${cls}">(<rect[\\s\\S]*?)</g>`).exec(s)?.[1] ?? '';
    const b = staleAckReport().timeline.buckets;
    expect(count(series('s-conn'), /<rect /g)).toBe(b.filter((x) => x.newConnections > 0).length);
    expect(count(series('s-rtx'), /<rect /g)).toBe(b.filter((x) => x.synRetransmits > 0).length);
    expect(count(series('s-stale'), /<rect /g)).toBe(b.filter((x) => x.staleAcks > 0).length);
    expect(s).toContain('time since 2023-11-14T22:13:20.000Z (s)');
    expect(s).toContain('>per 100 ms</text>');
    expect(s).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('draws the rate against the sustainable rate, and leaves the line out when there is none', () => {
    const s = svg(html, 'chart-rate')!;
    expect(s).toContain('new connections (1/s)');
    expect(s).toContain('sustainable 471/s');
    expect(s).toContain('stroke-dasharray');
    expect(s).not.toMatch(/NaN|Infinity|undefined/);

    const none = staleAckReport();
    none.timeline.sustainablePerS = 0;
    const s0 = svg(renderHtml(none), 'chart-rate')!;
    expect(s0).not.toContain('s-limit');
    expect(s0).not.toMatch(/sustainable \d/);

    const far = staleAckReport();
    far.timeline.sustainablePerS = 28_232;
    const sf = svg(renderHtml(far), 'chart-rate')!;
    expect(sf).toContain('off the scale');
    expect(sf).not.toContain('<g class="s-limit">');
  });

  it('draws the ladder: one arrow per packet, previous connection set apart, stale ACK marked', () => {
    const s = svg(html, 'chart-ladder')!;
    expect(s).toContain('<title id="chart-ladder-title">Packet ladder: 10.0.0.5:40001 -&gt; 10.0.0.9:3306');
    expect(count(s, /<g class="pkt/g)).toBe(9);
    expect(count(s, /<g class="pkt prev/g)).toBe(3);
    expect(count(s, /<g class="pkt bad/g)).toBe(2); // stale ACK and RST
    expect(s).toContain('#4410  +300.180 ms');
    expect(s).toContain('ACK seq=901 ack=501 (stale ACK)');
    expect(s).not.toContain('[previous connection]');
    expect(s).toContain('299.600 ms later: a new connection on the same ports');
    expect(s).toContain('10.0.0.9:3306');
  });

  it('renders the all-OK report without charts or empty sections', () => {
    expect(ok).toContain('class="verdict ok"');
    expect(ok).toContain('nothing to chart');
    expect(ok).not.toContain('<svg');
    for (const id of ['causes', 'remedies', 'withheld', 'findings', 'ladder']) expect(ok).not.toContain(`id="${id}"`);
    expect(ok).toContain('stopped</span> truncated record at byte 24');
    expect(ok).not.toMatch(/NaN|undefined/);
  });

  it('keeps a ladder without a previous connection and a single bucket drawable', () => {
    const r = staleAckReport();
    r.ladder = { title: 'odd title', client: 'client', server: 'server', packets: [{ frame: 1, tUsec: 5, fromClient: true, label: 'SYN seq=1' }] };
    r.timeline.buckets = [{ tUsec: 0, newConnections: 0, synRetransmits: 0, staleAcks: 0 }];
    const h = renderHtml(r);
    expect(svg(h, 'chart-ladder')).toContain('client');
    expect(svg(h, 'chart-timeline')).toBeDefined();
    expect(h).not.toMatch(/NaN|Infinity/);
  });
});

const CHROMIUM = '/usr/bin/chromium';

describe.skipIf(!existsSync(CHROMIUM))('renderHtml in headless Chromium', () => {
  let dir: string;
  let browser: import('playwright-core').Browser;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tcpdiag-html-'));
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function open(name: string, html: string) {
    const file = join(dir, name);
    writeFileSync(file, html);
    const url = pathToFileURL(file).href;
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(`console ${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('request', (r) => requests.push(r.url()));
    const res = await page.goto(url, { waitUntil: 'load' });
    return { page, errors, requests, url, ok: res?.ok() ?? false };
  }

  it('loads cleanly, fetches only itself, and shows the charts and verdict', async () => {
    const { page, errors, requests, url, ok } = await open('report.html', renderHtml(staleAckReport()));
    expect(ok).toBe(true);
    for (const id of ['chart-timeline', 'chart-rate', 'chart-ladder']) {
      const box = await page.locator(`svg#${id}`).boundingBox();
      expect(box, id).not.toBeNull();
      expect(box!.width).toBeGreaterThan(100);
      expect(box!.height).toBeGreaterThan(100);
    }
    await expect(page.locator('#verdict').isVisible()).resolves.toBe(true);
    expect(await page.locator('#verdict').innerText()).toContain('Reused source ports hit TIME_WAIT on the server <script>alert(1)</script>');
    // Escaped markup must stay text, not become elements.
    expect(await page.locator('body script, body img').count()).toBe(0);
    expect(await page.locator('#chart-ladder g.pkt').count()).toBe(9);
    // The whole page must fit the charts: nothing wider than the viewport.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1200);
    // For a human to look at: the page, and the two charts at full resolution.
    await page.screenshot({ path: '/tmp/tcpdiag-report.png', fullPage: true });
    await page.locator('#chart-ladder').screenshot({ path: '/tmp/tcpdiag-ladder.png' });
    await page.locator('#chart-timeline').screenshot({ path: '/tmp/tcpdiag-timeline.png' });
    await page.emulateMedia({ media: 'print' });
    expect((await page.locator('svg#chart-rate').boundingBox())!.width).toBeGreaterThan(100);
    expect(errors).toEqual([]);
    expect(requests).toEqual([url]);
    await page.close();
  }, 60_000);

  it('shows the all-OK report', async () => {
    const { page, errors, requests, url, ok } = await open('ok.html', renderHtml(okReport()));
    expect(ok).toBe(true);
    expect(await page.locator('#verdict').isVisible()).toBe(true);
    expect(await page.locator('#verdict').innerText()).toMatch(/No problem found/);
    expect(await page.locator('svg').count()).toBe(0);
    await page.screenshot({ path: '/tmp/tcpdiag-report-ok.png', fullPage: true });
    expect(errors).toEqual([]);
    expect(requests).toEqual([url]);
    await page.close();
  }, 60_000);
});
