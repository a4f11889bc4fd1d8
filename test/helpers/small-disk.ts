import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { cofferBin, repoRoot, scratchDir } from './server-process.js';

/**
 * A real, tiny filesystem, without root: a tmpfs of a few MiB mounted inside a user and mount
 * namespace (`unshare -rm`) held open by a shell. Its disk fills up for real (ENOSPC, as on a full
 * disk), commands run inside the namespace, and the test reads and writes its files from outside
 * through `/proc/PID/root`. Servers started on it are this machine's processes (same PID space).
 */
export class SmallDisk {
  private output = '';
  private sequence = 0;
  private readonly servers: number[] = [];

  private constructor(
    private readonly shell: ChildProcess,
    /** The mount point, as seen inside the namespace. */
    readonly dir: string,
  ) {
    shell.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    shell.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
  }

  /** Whether this machine lets an unprivileged process mount a tmpfs in its own namespaces. */
  static supported(): boolean {
    return spawnSync('unshare', ['-rm', 'true']).status === 0;
  }

  static async mount(sizeKiB: number): Promise<SmallDisk> {
    const dir = scratchDir('small-disk');
    const shell = spawn(
      'unshare',
      ['-rm', 'sh', '-c', `mount -t tmpfs -o size=${sizeKiB}k tmpfs "$0" && echo mounted && exec sh`, dir],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const disk = new SmallDisk(shell, dir);
    await disk.waitFor(/mounted\n/);
    return disk;
  }

  /** `relative` inside the small disk, as a path this (outside) process can open. */
  outside(relative = ''): string {
    return path.join(`/proc/${this.shell.pid}/root`, this.dir, relative);
  }

  /** Runs a shell command inside the namespace and returns what it printed. */
  async sh(command: string): Promise<string> {
    const marker = `--done-${++this.sequence}--`;
    const start = this.output.length;
    this.shell.stdin!.write(`${command}\necho ${marker}\n`);
    await this.waitFor(new RegExp(`${marker}\n`), start);
    return this.output.slice(start, this.output.indexOf(marker, start)).trim();
  }

  /** Fills the disk with a ballast file until the filesystem refuses more. */
  async fill(): Promise<void> {
    await this.sh(`dd if=/dev/zero of="${this.dir}/ballast" bs=4k 2>/dev/null; true`);
  }

  /** Frees the ballast: the disk has room again. */
  async free(): Promise<void> {
    await this.sh(`rm -f "${this.dir}/ballast"`);
  }

  /**
   * `coffer server --dev` on the small disk, with the shared test CA; its log goes outside.
   * `env`: more environment for the server (e.g. an audit dir on another disk).
   */
  async startDevServer(env: Record<string, string> = {}): Promise<SmallDiskServer> {
    const extra = Object.entries(env)
      .map(([name, value]) => `${name}="${value}" `)
      .join('');
    const caDir = process.env.COFFER_TEST_CA_DIR!;
    const log = path.join(scratchDir('small-disk-log'), 'server.log');
    mkdirSync(path.dirname(log), { recursive: true });
    await this.sh(
      `mkdir -p "${this.dir}/tls" && cp "${caDir}/ca.pem" "${caDir}/ca-key.pem" "${this.dir}/tls/"`,
    );
    const pid = Number(
      await this.sh(
        `cd "${repoRoot}" && ${extra}COFFER_LOG_LEVEL=info "${process.execPath}" "${cofferBin}" server --dev --data-dir "${this.dir}" --port 0 >"${log}" 2>&1 & echo $!`,
      ),
    );
    this.servers.push(pid);
    return new SmallDiskServer(this, pid, log);
  }

  /** Ends the namespace, and any server started in it that a failing test left running. */
  close(): void {
    for (const pid of this.servers) {
      try {
        // Only if that PID is still this disk's server, not a process that reused the number.
        if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(this.dir)) process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    this.shell.kill('SIGKILL');
  }

  private async waitFor(pattern: RegExp, from = 0, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.output.slice(from))) {
      if (this.shell.exitCode !== null) throw new Error(`the namespace shell ended:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`no ${pattern} in time:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

/** A server process started inside a SmallDisk's namespace. */
export class SmallDiskServer {
  constructor(
    private readonly disk: SmallDisk,
    readonly pid: number,
    readonly logFile: string,
  ) {}

  get log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }

  /** The dev facts the server printed once ready, or undefined if it exited first. */
  async ready(timeoutMs = 30_000): Promise<
    | {
        url: string;
        vaultUrl: string;
        tenantId: string;
        clientId: string;
        clientSecret: string;
        authorityHost: string;
      }
    | undefined
  > {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = /\n(\{\n {2}"url"[\s\S]*?\n\})\n/.exec(this.log);
      if (match) return JSON.parse(match[1]!) as never;
      if (!this.running()) return undefined;
      if (Date.now() > deadline) throw new Error(`the server did not get ready:\n${this.log}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Alive, and not a zombie waiting for the namespace shell to collect its exit status. */
  running(): boolean {
    try {
      const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
    } catch {
      return false;
    }
  }

  /** Sends `signal` (none: waits for it to end by itself) and returns the exit status. */
  async exitCode(signal?: NodeJS.Signals): Promise<number> {
    const kill = signal ? `kill -${signal.replace(/^SIG/, '')} ${this.pid}; ` : '';
    return Number(await this.disk.sh(`${kill}wait ${this.pid}; echo $?`));
  }
}
