// e2e (d): the README's first command, as a user meets it. scripts/demo
// (with TERN_DEMO_SKIP_BUILD=1 and this build) starts ternd and the demo
// service on free ports and prints the page's URL; two headless tabs open it
// and each must decode the other (>= 30 frames, audio packets); SIGTERM to
// the script stops the service and ternd, which prints its final counters.
import fs from 'node:fs';
import path from 'node:path';
import {E2E_DIR, Harness, check, freePort, waitFor} from './lib/harness.mjs';

const t = await Harness.start('demo_script', {budgetMs: 75_000});
await t.run(async () => {
  const build = path.dirname(path.dirname(path.resolve(t.ternd)));  // <build>/control/ternd
  const root = path.resolve(E2E_DIR, '..', '..');
  const env = {
    ...process.env,
    TERN_DEMO_SKIP_BUILD: '1',
    TERN_BUILD_DIR: build,
    TERN_DEMO_SECONDS: '60',
    TERN_DEMO_PORT: String(await freePort('udp')),
    TERN_DEMO_HTTP_PORT: String(await freePort('tcp')),
    TERN_DEMO_WEB_PORT: String(await freePort('tcp')),
  };
  const rec = t.spawnLogged('demo', 'bash', [path.join(root, 'scripts', 'demo')], {env, cwd: root});
  let url;
  await waitFor(() => {
    const m = /\[demo\] video room: open (http:\/\/\S+?)\?room=/.exec(t.readLog('demo', 'out'));
    url = m && m[1];
    return url || rec.exited;
  }, 20_000, 200);
  check(url, `scripts/demo printed no page URL (exited: ${JSON.stringify(rec.exited)})`);
  const out0 = t.readLog('demo', 'out');
  const sock = /ternctl --socket (\S+) room\.list/.exec(out0);
  check(sock, 'scripts/demo printed no control socket');
  t.sock = sock[1];
  await t.requireMethod('session.publish', {room: 'readme', offer: ''});
  check(/UDP reflexive addr/.test(out0) || !fs.existsSync('/usr/bin/turnutils_stunclient'),
        'scripts/demo did not show the STUN query');
  t.log(`scripts/demo serves ${url}`);

  const ctx = await t.browser('demo');
  const pages = {};
  for (const name of ['left', 'right']) {
    pages[name] = await t.page(ctx, name, `${url}?room=readme&name=${name}&video=small`);
  }
  let seen = {};
  const ok = await waitFor(async () => {
    seen.left = await pages.left.evaluate(() => window.demo.stats());
    seen.right = await pages.right.evaluate(() => window.demo.stats());
    const good = (s, other) => s[other] && s[other].framesDecoded >= 30 && s[other].audioPackets > 0;
    return good(seen.left, 'right') && good(seen.right, 'left');
  }, 40_000, 500);
  check(ok, `the two tabs do not decode each other: ${JSON.stringify(seen)}`);

  // Ctrl-C / SIGTERM: the script stops the service and ternd (final counters).
  rec.proc.kill('SIGTERM');
  const ended = await waitFor(() => rec.exited, 15_000, 100);
  const out = t.readLog('demo', 'out');
  check(ended, 'scripts/demo still running 15 s after SIGTERM');
  check(/final counters/.test(out), `ternd printed no final counters:\n${out.slice(-800)}`);
  const pid = /ternd is running \(pid (\d+)\)/.exec(out);
  let alive = false;
  if (pid) { try { process.kill(Number(pid[1]), 0); alive = true; } catch {} }
  check(!alive, `ternd (pid ${pid && pid[1]}) still running after scripts/demo exited`);
  return `scripts/demo: two tabs decode each other (${seen.left.right.framesDecoded} / ${seen.right.left.framesDecoded} frames); ` +
         `SIGTERM stopped everything (exit ${JSON.stringify(rec.exited)})`;
});
