// The browser end-to-end harness: one temp dir per test, ternd with a temp
// config, a local HTTP server for the pages (and a same-origin proxy to
// ternd's WHIP/WHEP endpoints), headless Debian chromium through
// playwright-core, bounded waits, and cleanup of everything started.
//
//   const t = await Harness.start('whip_whep', {budgetMs: 80_000});
//   const d = await t.startTernd({http: true});      // SKIPs if ternd lacks [http]
//   const base = await t.serve();                     // http://127.0.0.1:PORT/
//   const ctx = await t.browser('a');                 // fresh --user-data-dir
//   const page = await t.page(ctx, 'publisher', base + 'client.html');
//   ...
//   await t.pass('...');                              // or t.fail(...) / t.skip(...)
//
// On failure every open page is screenshotted (<label>.png) and its console
// log written (<label>.console.log) in the test's temp dir, next to ternd.out /
// ternd.err and the demo service's log; the dir is kept and its path printed.
// TERN_E2E_KEEP=1 keeps it after a pass too.
import {spawn, execFile} from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const E2E_DIR = path.resolve(HERE, '..');
export const PAGES_DIR = path.join(E2E_DIR, 'pages');
export const CHROMIUM = process.env.TERN_CHROMIUM || '/usr/bin/chromium';

// The flags of docs/e2e.md. --allow-loopback-in-peer-connection lets Chromium
// gather 127.0.0.1 candidates (it skips loopback by default), so every packet
// stays on lo.
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--allow-loopback-in-peer-connection',
  '--autoplay-policy=no-user-gesture-required',
];

export class SkipError extends Error {}

export function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) throw new Error(`unexpected argument ${argv[i]}`);
    out[m[1]] = m[2] !== undefined ? m[2] : argv[++i];
  }
  return out;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function freePort(type = 'tcp') {
  if (type === 'udp') {
    const dgram = await import('node:dgram');
    return new Promise((resolve, reject) => {
      const s = dgram.createSocket('udp4');
      s.on('error', reject);
      s.bind(0, '127.0.0.1', () => {
        const p = s.address().port;
        s.close(() => resolve(p));
      });
    });
  }
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

// Polls fn() until it returns a truthy value or timeoutMs passes; returns the
// last value (falsy on timeout).
export async function waitFor(fn, timeoutMs, stepMs = 250) {
  const end = Date.now() + timeoutMs;
  let v;
  for (;;) {
    v = await fn();
    if (v || Date.now() >= end) return v;
    await sleep(stepMs);
  }
}

function log(name, msg) {
  const t = new Date().toISOString().slice(11, 23);
  console.log(`[${t}] [${name}] ${msg}`);
}

export class Harness {
  static async start(name, {budgetMs = 80_000} = {}) {
    // TERN_E2E_BUDGET_MS shrinks (or grows) every test's budget: a way to
    // see the timeout path (screenshots, cleanup) work.
    if (process.env.TERN_E2E_BUDGET_MS) budgetMs = Number(process.env.TERN_E2E_BUDGET_MS);
    const t = new Harness(name, budgetMs);
    await t.init();
    return t;
  }

  constructor(name, budgetMs) {
    this.name = name;
    this.budgetMs = budgetMs;
    this.args = parseArgs(process.argv.slice(2));
    this.children = [];  // {proc, label}
    this.contexts = [];
    this.pages = [];     // {page, label, console: []}
    this.servers = [];
    this.t0 = Date.now();
    this.done = false;
  }

  async init() {
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), `tern-e2e-${this.name}.`));
    this.log(`temp dir ${this.tmp}`);
    // Bounded: a watchdog fails the test (with screenshots) when the budget
    // is spent; a hard exit follows if even that hangs.
    this.watchdog = setTimeout(() => {
      this.fail(`time budget of ${this.budgetMs} ms spent`).catch(() => process.exit(1));
      setTimeout(() => { this.killChildren(); process.exit(1); }, 10_000).unref();
    }, this.budgetMs);
    this.watchdog.unref();
    const hard = () => this.killChildren();
    process.on('exit', hard);
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
      process.on(sig, () => {
        this.log(`${sig}: stopping`);
        this.killChildren();
        process.exit(1);
      });
    }
    process.on('unhandledRejection', (e) => {
      this.fail(`unhandled rejection: ${e && e.stack ? e.stack : e}`).catch(() => process.exit(1));
    });
  }

  log(msg) { log(this.name, `+${((Date.now() - this.t0) / 1000).toFixed(1)}s ${msg}`); }

  // Tools: --ternd, --ternctl from the command line (meson passes them).
  get ternd() { return this.args.ternd || process.env.TERND; }
  get ternctlPath() { return this.args.ternctl || process.env.TERNCTL; }

  spawnLogged(label, cmd, argv, opts = {}) {
    const out = fs.openSync(path.join(this.tmp, `${label}.out`), 'w');
    const err = fs.openSync(path.join(this.tmp, `${label}.err`), 'w');
    const proc = spawn(cmd, argv, {stdio: ['ignore', out, err], ...opts});
    fs.closeSync(out);
    fs.closeSync(err);
    const rec = {proc, label, exited: null};
    proc.on('exit', (code, sig) => { rec.exited = {code, sig}; });
    this.children.push(rec);
    return rec;
  }

  readLog(label, which = 'err') {
    try { return fs.readFileSync(path.join(this.tmp, `${label}.${which}`), 'utf8'); } catch { return ''; }
  }

  // ternd on 127.0.0.1 with a control socket in the temp dir, [http] when
  // asked. SKIPs (honestly) when this ternd does not know [http].
  // addresses: the socket driver's addresses (a veth address for the netns
  // tests); driverToml replaces the [socket] section (e.g. [driver] kind =
  // "dpdk" + [dpdk]); extraToml is appended ([turn]); udpPort fixes the port.
  async startTernd({http: wantHttp = false, workers = 1, addresses = ['127.0.0.1'], driverToml = null,
                    extraToml = '', udpPort = 0} = {}) {
    if (!this.ternd) throw new Error('no --ternd given');
    const udp = udpPort || await freePort('udp');
    const sock = path.join(this.tmp, 'ternd.sock');
    const driver = driverToml !== null ? driverToml
                                       : `[socket]\naddresses = [${addresses.map((a) => `"${a}"`).join(', ')}]\n`;
    let toml = `[engine]\nworkers = ${workers}\nstats_interval_s = 0\n\n[udp]\nbase_port = ${udp}\n\n` +
               `${driver}\n[control]\nsocket = "${sock}"\n`;
    if (extraToml) toml += `\n${extraToml}\n`;
    let httpPort = 0;
    if (wantHttp) {
      httpPort = await freePort('tcp');
      toml += `\n[http]\nlisten = "127.0.0.1:${httpPort}"\n`;
    }
    const conf = path.join(this.tmp, 'ternd.toml');
    fs.writeFileSync(conf, toml);
    this.log(`ternd: UDP ${udp}${wantHttp ? `, HTTP ${httpPort}` : ''}, socket ${sock}`);
    const rec = this.spawnLogged('ternd', this.ternd, ['--config', conf]);
    this.terndRec = rec;
    const ok = await waitFor(() => rec.exited || fs.existsSync(sock), 10_000, 100);
    if (rec.exited || !ok) {
      const err = this.readLog('ternd');
      if (wantHttp && /unknown section/.test(err) && /\[http\]|http/.test(err)) {
        throw new SkipError(`ternd has no [http] section (no WHIP/WHEP yet): ${err.trim().split('\n')[0]}`);
      }
      throw new Error(`ternd did not start (${rec.exited ? `exit ${JSON.stringify(rec.exited)}` : 'no socket after 10 s'}): ${err}`);
    }
    this.sock = sock;
    this.udpPort = udp;
    if (wantHttp) {
      this.terndHttp = `http://127.0.0.1:${httpPort}`;
      const up = await waitFor(async () => {
        try {
          await httpRequest(`${this.terndHttp}/`, {method: 'GET'});
          return true;
        } catch { return false; }
      }, 5_000, 100);
      if (!up) throw new Error(`ternd's HTTP listener on ${this.terndHttp} does not answer`);
    }
    return {sock, udpPort: udp, http: this.terndHttp};
  }

  // examples/demo/server.py against this ternd; resolves to its page URL.
  // host: where it listens (a veth address when the browser runs in a
  // network namespace; the browser then needs secureOrigin(url)).
  async startDemo(serverPy, host = '127.0.0.1') {
    const port = await freePort('tcp');
    const rec = this.spawnLogged('demo', 'python3', [serverPy, '--control-socket', this.sock, '--listen', `${host}:${port}`]);
    const url = `http://${host}:${port}/`;
    const up = await waitFor(async () => {
      if (rec.exited) return true;
      try { return (await httpRequest(url)).status === 200; } catch { return false; }
    }, 10_000, 100);
    if (rec.exited || !up) throw new Error(`demo service did not start: ${this.readLog('demo')}`);
    this.log(`demo service at ${url}`);
    return url;
  }

  // One JSON-RPC call on ternd's Unix socket (one JSON object per line).
  // Resolves to the result; rejects with an Error carrying .code/.data.
  ctl(method, params = {}, timeoutMs = 5_000) {
    return jsonRpcCall(this.sock, method, params, timeoutMs);
  }

  // A connection subscribed to event topics (events.subscribe): .events
  // holds every {topic, seq, data} received; .waitFor(pred, ms) resolves to
  // the first matching event or null. Closed with the harness.
  async subscribe(topics, timeoutMs = 5_000) {
    const sub = new EventSubscription(this.sock);
    this.servers.push(sub);  // closed by closeAll()
    await sub.call('events.subscribe', {topics}, timeoutMs);
    return sub;
  }

  // ternctl as an operator would run it: resolves to the parsed result.
  ternctl(args, timeoutMs = 10_000) {
    return new Promise((resolve, reject) => {
      execFile(this.ternctlPath, ['--socket', this.sock, '--compact', ...args], {timeout: timeoutMs},
               (err, stdout, stderr) => {
                 if (err) reject(new Error(`ternctl ${args.join(' ')}: ${stderr || err.message}`));
                 else {
                   try { resolve(JSON.parse(stdout)); } catch { resolve(stdout); }
                 }
               });
    });
  }

  // Skips unless ternd registers `method` (-32601 = not there yet).
  async requireMethod(method, params = {}) {
    try {
      await this.ctl(method, params);
    } catch (e) {
      if (e.code === -32601) throw new SkipError(`ternd has no ${method}`);
    }
  }

  // Serves tests/e2e/pages/ and proxies /whip/ and /whep/ to ternd's HTTP
  // listener, so the pages' fetch() is same-origin (Location headers stay
  // readable, no CORS in the way).
  // host: where to listen (a veth address when the browser runs in a
  // network namespace; the browser then needs secureOrigin() among its flags).
  async serve(host = '127.0.0.1') {
    const server = http.createServer((req, res) => this.handleHttp(req, res));
    await new Promise((r) => server.listen(0, host, r));
    this.servers.push(server);
    this.base = `http://${host}:${server.address().port}/`;
    this.log(`pages at ${this.base}`);
    return this.base;
  }

  handleHttp(req, res) {
    const url = new URL(req.url, 'http://x');
    if (/^\/(whip|whep)\//.test(url.pathname)) {
      if (!this.terndHttp) { res.writeHead(503); res.end('ternd has no [http]'); return; }
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const headers = {};
        for (const h of ['content-type', 'authorization', 'if-match', 'accept']) {
          if (req.headers[h]) headers[h] = req.headers[h];
        }
        httpRequest(this.terndHttp + url.pathname + url.search, {method: req.method, headers, body: Buffer.concat(chunks)})
          .then((r) => {
            const h = {};
            for (const [k, v] of Object.entries(r.headers)) {
              if (['content-type', 'location', 'etag', 'link', 'accept-patch'].includes(k)) h[k] = v;
            }
            // An absolute Location on ternd's origin becomes a path on ours.
            if (h.location) h.location = h.location.replace(/^https?:\/\/[^/]+/, '');
            res.writeHead(r.status, h);
            res.end(r.body);
          })
          .catch((e) => { res.writeHead(502); res.end(String(e)); });
      });
      return;
    }
    if (url.pathname === '/favicon.ico') { res.writeHead(204); res.end(); return; }
    let rel = decodeURIComponent(url.pathname);
    if (rel === '/') rel = '/client.html';
    const file = path.normalize(path.join(PAGES_DIR, rel));
    if (!file.startsWith(PAGES_DIR + path.sep) || !fs.existsSync(file)) {
      res.writeHead(404);
      res.end('not found');
      return;
    }
    const type = file.endsWith('.html') ? 'text/html' : file.endsWith('.js') ? 'text/javascript' : 'text/plain';
    res.writeHead(200, {'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store'});
    res.end(fs.readFileSync(file));
  }

  // Chromium flag that gives the page server's origin (or `url`'s, e.g. the
  // demo service's) a secure context (getUserMedia needs one; only
  // localhost is secure over plain HTTP).
  secureOrigin(url = this.base) {
    return `--unsafely-treat-insecure-origin-as-secure=${new URL(url).origin}`;
  }

  // A browser with a fresh profile (--user-data-dir) in the temp dir.
  // opts.netns: run chromium inside that network namespace (`ip netns exec`
  // through a wrapper script; playwright's pipe fds pass through the exec).
  async browser(label, extraArgs = [], opts = {}) {
    let chromium;
    try {
      ({chromium} = await import('playwright-core'));
    } catch (e) {
      throw new SkipError(`playwright-core is not installed in tests/e2e/node_modules (run scripts/bootstrap): ${e.message}`);
    }
    const profile = path.join(this.tmp, `profile-${label}`);
    fs.mkdirSync(profile);
    let exe = CHROMIUM;
    if (opts.netns) {
      exe = path.join(this.tmp, `chromium-${label}.sh`);
      fs.writeFileSync(exe, `#!/bin/sh\nexec ip netns exec '${opts.netns}' '${CHROMIUM}' "$@"\n`, {mode: 0o755});
    }
    const ctx = await chromium.launchPersistentContext(profile, {
      executablePath: exe,
      headless: true,
      args: [...CHROMIUM_FLAGS, ...extraArgs],
      timeout: 30_000,
      viewport: {width: 800, height: 600},
    });
    this.contexts.push(ctx);
    // A persistent context opens with one blank page: reuse it first.
    ctx._ternSpare = ctx.pages()[0];
    return ctx;
  }

  async page(ctx, label, url) {
    let page = ctx._ternSpare;
    ctx._ternSpare = null;
    if (!page) page = await ctx.newPage();
    const rec = {page, label, console: []};
    page.on('console', (m) => rec.console.push(`${new Date().toISOString()} ${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => rec.console.push(`${new Date().toISOString()} pageerror: ${e.stack || e}`));
    page.setDefaultTimeout(20_000);
    this.pages.push(rec);
    if (url) await page.goto(url, {timeout: 15_000});
    return page;
  }

  async saveArtifacts() {
    for (const rec of this.pages) {
      const base = path.join(this.tmp, rec.label);
      fs.writeFileSync(`${base}.console.log`, rec.console.join('\n') + '\n');
      try {
        await Promise.race([rec.page.screenshot({path: `${base}.png`}), sleep(3_000)]);
      } catch (e) {
        fs.appendFileSync(`${base}.console.log`, `screenshot failed: ${e.message}\n`);
      }
    }
  }

  killChildren() {
    for (const c of this.children) {
      if (!c.exited) {
        try { c.proc.kill('SIGKILL'); } catch {}
      }
    }
  }

  async stopChild(rec, timeoutMs = 10_000) {
    if (rec.exited) return rec.exited;
    rec.proc.kill('SIGTERM');
    const ok = await waitFor(() => rec.exited, timeoutMs, 50);
    if (!ok) { rec.proc.kill('SIGKILL'); await waitFor(() => rec.exited, 2_000, 50); }
    return rec.exited;
  }

  async closeAll() {
    for (const ctx of this.contexts) {
      await Promise.race([ctx.close().catch(() => {}), sleep(10_000)]);
    }
    this.contexts = [];
    for (const s of this.servers) s.close();
    for (const c of this.children) await this.stopChild(c);
  }

  async finish(code, line) {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.watchdog);
    if (code === 1) {
      await this.saveArtifacts();
      console.log(line);
      for (const rec of this.pages) {
        const tail = rec.console.slice(-15);
        if (tail.length) console.log(`--- ${rec.label} console (last ${tail.length})\n${tail.join('\n')}`);
      }
      for (const l of ['ternd', 'demo']) {
        const e = this.readLog(l, 'err') + this.readLog(l, 'out');
        if (e) console.log(`--- ${l} log (tail)\n${e.split('\n').slice(-25).join('\n')}`);
      }
    }
    if (code === 0 && process.env.TERN_E2E_KEEP) await this.saveArtifacts();
    await this.closeAll();
    if (code === 0 && !process.env.TERN_E2E_KEEP) {
      fs.rmSync(this.tmp, {recursive: true, force: true});
    } else if (code === 77) {
      fs.rmSync(this.tmp, {recursive: true, force: true});
    } else {
      console.log(`[${this.name}] artifacts kept in ${this.tmp} (screenshots, console logs, ternd.out/err)`);
    }
    if (code !== 1) console.log(line);
    this.log(`done in ${((Date.now() - this.t0) / 1000).toFixed(1)} s`);
    process.exit(code);
  }

  pass(msg) { return this.finish(0, `PASS: ${this.name}: ${msg}`); }
  skip(msg) { return this.finish(77, `SKIP: ${msg}`); }
  fail(msg) { return this.finish(1, `FAIL: ${this.name}: ${msg}`); }

  // Runs body(t) and maps its outcome: SkipError -> 77, Error -> FAIL.
  async run(body) {
    try {
      const msg = await body(this);
      await this.pass(msg || 'ok');
    } catch (e) {
      if (e instanceof SkipError) await this.skip(e.message);
      else await this.fail(e && e.stack ? e.stack : String(e));
    }
  }
}

export function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

export function httpRequest(url, {method = 'GET', headers = {}, body} = {}, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {method, headers, timeout: timeoutMs}, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks)}));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    if (body && body.length) req.write(body);
    req.end();
  });
}

// Calls fn(message) for each JSON line arriving on conn (others skipped).
function onJsonLines(conn, fn) {
  let buf = '';
  conn.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let msg;
      try { msg = JSON.parse(line); } catch { continue; }
      fn(msg);
    }
  });
}

// A JSON-RPC error as an Error carrying .code and .data.
function rpcError(method, error) {
  const e = new Error(`${method}: ${error.message} (${error.code})${error.data ? ' ' + JSON.stringify(error.data) : ''}`);
  e.code = error.code;
  e.data = error.data;
  return e;
}

// One long-lived control connection: calls and the events it receives.
class EventSubscription {
  constructor(sock) {
    this.events = [];
    this.pending = new Map();
    this.c = net.createConnection(sock);
    this.ready = new Promise((resolve, reject) => {
      this.c.on('connect', resolve);
      this.c.on('error', reject);
    });
    onJsonLines(this.c, (msg) => {
      if (msg.method === 'event' && msg.params) this.events.push(msg.params);
      const p = msg.id !== undefined && this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error) p.reject(rpcError(p.method, msg.error));
      else p.resolve(msg.result);
    });
  }

  async call(method, params, timeoutMs = 5_000) {
    await this.ready;
    const id = ++rpcId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.pending.delete(id); reject(new Error(`${method}: no answer in ${timeoutMs} ms`)); }, timeoutMs);
      this.pending.set(id, {method,
                            resolve: (r) => { clearTimeout(timer); resolve(r); },
                            reject: (e) => { clearTimeout(timer); reject(e); }});
      this.c.write(JSON.stringify({jsonrpc: '2.0', method, params, id}) + '\n');
    });
  }

  waitFor(pred, timeoutMs) {
    return waitFor(() => this.events.find(pred) || false, timeoutMs, 50).then((e) => e || null);
  }

  close() { this.c.destroy(); }
}

let rpcId = 0;
export function jsonRpcCall(sock, method, params, timeoutMs = 5_000) {
  return new Promise((resolve, reject) => {
    const id = ++rpcId;
    const c = net.createConnection(sock);
    const timer = setTimeout(() => { c.destroy(); reject(new Error(`${method}: no answer in ${timeoutMs} ms`)); }, timeoutMs);
    c.on('connect', () => c.write(JSON.stringify({jsonrpc: '2.0', method, params, id}) + '\n'));
    onJsonLines(c, (msg) => {
      if (msg.id !== id) return;  // an event
      clearTimeout(timer);
      c.end();
      if (msg.error) reject(rpcError(method, msg.error));
      else resolve(msg.result);
    });
    c.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
}
