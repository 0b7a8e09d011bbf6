// A network namespace with veth pairs to the root namespace, for the browser
// tests that need a real link between chromium and ternd (packet loss with
// netem, ternd on DPDK's net_af_packet). Addresses are 198.18.0.0/15 only.
//
//   requireRoot(['tc']);                         // SkipError unless root + ip (+ tc)
//   const ns = Netns.create('loss');             // tern-e2e-loss-<pid>
//   const l = ns.addVeth('m', {hostAddr: '198.18.71.1/24', nsAddr: '198.18.71.2/24'});
//   ns.exec(['tc', 'qdisc', 'add', 'dev', l.nsIf, 'root', 'netem', 'loss', '5%']);
//   ns.del();                                    // also on process exit
//
// The namespace (and with it the ns ends of the veths, whose host ends go
// too) is deleted on every exit of the node process ('exit' handler:
// pass, fail, the harness's watchdog and SIGTERM all end in process.exit).
// A SIGKILL leaves it behind: the next run deletes namespaces named
// tern-e2e-*-<pid> whose pid is gone.
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import {SkipError} from './harness.mjs';

export function run(argv, {ignore = false} = {}) {
  try {
    return execFileSync(argv[0], argv.slice(1), {stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000}).toString();
  } catch (e) {
    if (ignore) return null;
    const err = e.stderr ? e.stderr.toString().trim() : e.message;
    throw new Error(`${argv.join(' ')}: ${err}`);
  }
}

function have(cmd) {
  return run(['sh', '-c', `command -v ${cmd}`], {ignore: true}) !== null;
}

// SkipError with the reason unless we are root and have ip (and `tools`).
export function requireRoot(tools = []) {
  if (process.getuid && process.getuid() !== 0) throw new SkipError('needs root (network namespace, veth, tc)');
  for (const t of ['ip', ...tools]) {
    if (!have(t)) throw new SkipError(`${t} not installed (iproute2 / ethtool)`);
  }
}

// Deletes namespaces a killed run left behind (their pid is gone).
function reapStale() {
  const list = run(['ip', 'netns', 'list'], {ignore: true}) || '';
  for (const line of list.split('\n')) {
    const m = /^(tern-e2e-[a-z]+-(\d+))\b/.exec(line);
    if (m && !fs.existsSync(`/proc/${m[2]}`)) run(['ip', 'netns', 'del', m[1]], {ignore: true});
  }
}

export class Netns {
  static create(tag) {
    reapStale();
    const ns = new Netns(`tern-e2e-${tag}-${process.pid}`);
    if (run(['ip', 'netns', 'add', ns.name], {ignore: true}) === null) {
      throw new SkipError(`cannot create a network namespace (ip netns add ${ns.name})`);
    }
    ns.alive = true;
    process.on('exit', () => ns.del());
    ns.exec(['ip', 'link', 'set', 'lo', 'up']);
    return ns;
  }

  constructor(name) {
    this.name = name;
    this.links = [];
    this.alive = false;
  }

  exec(argv, opts) {
    return run(['ip', 'netns', 'exec', this.name, ...argv], opts);
  }

  // A veth pair: host end in the root namespace (with hostAddr, or no
  // address when it belongs to DPDK), ns end in the namespace with nsAddr.
  // Names: te<pid><key>h / te<pid><key>n (at most 15 characters).
  addVeth(key, {hostAddr = null, nsAddr, hostIpv6 = true, nsChecksumOffload = true} = {}) {
    const hostIf = `te${process.pid}${key}h`;
    const nsIf = `te${process.pid}${key}n`;
    if (run(['ip', 'link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf], {ignore: true}) === null) {
      throw new SkipError(`cannot create a veth pair (ip link add ${hostIf} type veth)`);
    }
    const link = {hostIf, nsIf, hostAddr, nsAddr};
    this.links.push(link);
    run(['ip', 'link', 'set', nsIf, 'netns', this.name]);
    if (!hostIpv6) run(['sysctl', '-qw', `net.ipv6.conf.${hostIf}.disable_ipv6=1`], {ignore: true});
    // Never forward what arrives on our veth (a DPDK-owned end has no address).
    run(['sysctl', '-qw', `net.ipv4.conf.${hostIf}.forwarding=0`], {ignore: true});
    if (hostAddr) run(['ip', 'addr', 'add', hostAddr, 'dev', hostIf]);
    run(['ip', 'link', 'set', hostIf, 'up']);
    this.exec(['sysctl', '-qw', `net.ipv6.conf.${nsIf}.disable_ipv6=1`], {ignore: true});
    this.exec(['ip', 'addr', 'add', nsAddr, 'dev', nsIf]);
    this.exec(['ip', 'link', 'set', nsIf, 'up']);
    // veth hands frames over with partial UDP checksums; a raw packet socket
    // (DPDK's af_packet) on the other end needs them computed.
    if (!nsChecksumOffload) this.exec(['ethtool', '-K', nsIf, 'tx', 'off']);
    return link;
  }

  // Turns off checksum offload, segmentation and GRO on an interface in
  // this namespace: frames read from a packet socket are then complete.
  noOffloads(ifname) {
    this.exec(['ethtool', '-K', ifname, 'tx', 'off', 'sg', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off'],
              {ignore: true});
  }

  // A veth pair between two namespaces (null = the root one), both ends up,
  // no addresses. The root end (if any) is deleted with this namespace.
  static vethBetween(a, nsA, b, nsB) {
    if (run(['ip', 'link', 'add', a, 'type', 'veth', 'peer', 'name', b], {ignore: true}) === null) {
      throw new SkipError(`cannot create a veth pair (ip link add ${a} type veth)`);
    }
    for (const [name, ns] of [[a, nsA], [b, nsB]]) {
      if (ns) {
        run(['ip', 'link', 'set', name, 'netns', ns.name]);
        ns.exec(['sysctl', '-qw', `net.ipv6.conf.${name}.disable_ipv6=1`], {ignore: true});
        ns.exec(['ip', 'link', 'set', name, 'up']);
      } else {
        (nsA || nsB).links.push({hostIf: name});
        run(['sysctl', '-qw', `net.ipv4.conf.${name}.forwarding=0`], {ignore: true});
        run(['ip', 'link', 'set', name, 'up']);
      }
    }
  }

  del() {
    if (!this.alive) return;
    this.alive = false;
    run(['ip', 'netns', 'del', this.name], {ignore: true});
    // The host ends go with their peers; delete them anyway (a process still
    // in the namespace would keep it, and the pair, alive).
    for (const l of this.links) run(['ip', 'link', 'del', l.hostIf], {ignore: true});
  }
}
