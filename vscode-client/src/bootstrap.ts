/**
 * The universal package's server. That package carries no compiled code: bundled/wheels holds the
 * dify-lsp wheel and constraints.txt (the versions the platform packages carry). On first start the
 * extension creates a private virtual environment in its global storage with the user's Python 3.11+ and
 * installs the wheel there with pip (its dependencies, pydantic-core's compiled part included, from the
 * package index pip is configured with). Later starts find the finished environment and install nothing.
 *
 * No `vscode` import: extension.ts passes in progress reporting, the unit tests a fake OS.
 */

import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { MIN_PYTHON, ProbeResult, isSupportedPython } from "./discovery";

export const INSTALL_TIMEOUT_MS = 10 * 60 * 1000;
const MARKER = "dify-lsp-installed.txt";
const LOCK_STALE_MS = 15 * 60 * 1000;

export interface UniversalBundle {
  wheel: string;
  constraints?: string;
}

export interface CommandResult {
  ok: boolean;
  /** stdout and stderr together, for the output channel and error messages. */
  output: string;
}

export interface BootstrapDeps {
  probePythonVersion(python: string): Promise<ProbeResult>;
  run(command: string, args: string[], timeoutMs: number): Promise<CommandResult>;
}

export interface PrivateServer {
  /** The private environment's Python, which has dify_lsp installed; undefined when it could not be made. */
  python?: string;
  /** Why not, in a sentence for the user. */
  problem?: string;
  envDir: string;
  /** One line per step, for the output channel. */
  tried: string[];
}

/** The universal package's wheel, when this extension folder is the universal package (no bundled/libs). */
export function universalBundle(extensionPath: string): UniversalBundle | undefined {
  if (fs.existsSync(path.join(extensionPath, "bundled", "libs", "dify_lsp"))) {
    return undefined;
  }
  const dir = path.join(extensionPath, "bundled", "wheels");
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return undefined;
  }
  const wheel = names.find((n) => /^dify_lsp-.+\.whl$/.test(n));
  if (!wheel) {
    return undefined;
  }
  const constraints = path.join(dir, "constraints.txt");
  return { wheel: path.join(dir, wheel), constraints: fs.existsSync(constraints) ? constraints : undefined };
}

/** A virtual environment's interpreter. */
export function envPython(envDir: string, platform: NodeJS.Platform = process.platform): string {
  return platform === "win32" ? path.join(envDir, "Scripts", "python.exe") : path.join(envDir, "bin", "python");
}

/** The environment folder for a wheel: one per dify-lsp build, so an update installs afresh. */
export function envDirFor(storageDir: string, wheel: string): string {
  return path.join(storageDir, "server-" + path.basename(wheel).replace(/\.whl$/, ""));
}

function lastLines(text: string, n = 6): string {
  return text.trim().split(/\r?\n/).slice(-n).join("\n");
}

export function noPythonMessage(tried: string[]): string {
  return (
    `The Dify extension installs its language server on first start with Python ${MIN_PYTHON.join(".")} or newer, ` +
    `and found none (${tried.join("; ") || "no python3 or python on PATH"}). Install Python ${MIN_PYTHON.join(".")}+ ` +
    `and put it on PATH as python3, or select it in the Python extension, then run "Dify: Restart language server".`
  );
}

/** The private environment's Python when an earlier start finished installing it. */
export function readyPrivateServer(bundle: UniversalBundle, storageDir: string, platform?: NodeJS.Platform): string | undefined {
  const envDir = envDirFor(storageDir, bundle.wheel);
  const python = envPython(envDir, platform);
  return fs.existsSync(path.join(envDir, MARKER)) && fs.existsSync(python) ? python : undefined;
}

/**
 * The private environment's Python with dify_lsp installed: made on the first call, found on later ones.
 * Never throws; a failure comes back as `problem`.
 */
export async function ensurePrivateServer(opts: {
  bundle: UniversalBundle;
  storageDir: string;
  /** Interpreters to try, best first (the Python extension's selection, python3, python). */
  candidates: string[];
  report: (message: string) => void;
  deps: BootstrapDeps;
  platform?: NodeJS.Platform;
}): Promise<PrivateServer> {
  const { bundle, deps, report } = opts;
  const envDir = envDirFor(opts.storageDir, bundle.wheel);
  const python = envPython(envDir, opts.platform);
  const marker = path.join(envDir, MARKER);
  const tried: string[] = [];
  if (readyPrivateServer(bundle, opts.storageDir, opts.platform)) {
    tried.push(`private environment ${envDir}: ready`);
    return { python, envDir, tried };
  }

  let base: string | undefined;
  let version = "";
  const seen: string[] = [];
  for (const candidate of opts.candidates) {
    const probe = await deps.probePythonVersion(candidate);
    if (probe.ok && isSupportedPython(probe.detail)) {
      base = candidate;
      version = probe.detail;
      tried.push(`private environment: Python ${version} at ${candidate}`);
      break;
    }
    const why = probe.ok ? `${candidate} is Python ${probe.detail}` : `${candidate} does not run (${probe.detail})`;
    seen.push(why);
    tried.push(`private environment: ${why}`);
  }
  if (!base) {
    return { problem: noPythonMessage(seen), envDir, tried };
  }

  fs.mkdirSync(opts.storageDir, { recursive: true });
  const lock = envDir + ".lock";
  if (!takeLock(lock)) {
    // Another window is installing: wait for it to finish.
    report("waiting for another window that is installing the language server");
    const deadline = Date.now() + INSTALL_TIMEOUT_MS;
    while (Date.now() < deadline && fs.existsSync(lock) && !fs.existsSync(marker)) {
      await new Promise((r) => setTimeout(r, 1000));
    }
    if (fs.existsSync(marker)) {
      tried.push(`private environment ${envDir}: installed by another window`);
      return { python, envDir, tried };
    }
    fs.rmSync(lock, { recursive: true, force: true });
    if (!takeLock(lock)) {
      return { problem: `Another window holds ${lock}; run "Dify: Restart language server" when it is done.`, envDir, tried };
    }
  }
  try {
    fs.rmSync(envDir, { recursive: true, force: true });
    report(`creating a private environment with Python ${version}`);
    const venv = await deps.run(base, ["-m", "venv", envDir], INSTALL_TIMEOUT_MS);
    tried.push(`${base} -m venv ${envDir}: ${venv.ok ? "done" : "failed"}`);
    if (!venv.ok || !fs.existsSync(python)) {
      fs.rmSync(envDir, { recursive: true, force: true });
      return {
        problem:
          `Creating the language server's environment with ${base} -m venv failed: ${lastLines(venv.output)}` +
          ` (on Debian and Ubuntu, install the python3-venv package).`,
        envDir,
        tried,
      };
    }
    report("installing dify-lsp and its Python packages with pip (about 40 MB from the package index)");
    const pipArgs = ["-m", "pip", "install", "--disable-pip-version-check", "--no-input"];
    if (bundle.constraints) {
      pipArgs.push("--constraint", bundle.constraints);
    }
    pipArgs.push(bundle.wheel);
    const pip = await deps.run(python, pipArgs, INSTALL_TIMEOUT_MS);
    tried.push(`pip install ${path.basename(bundle.wheel)}: ${pip.ok ? "done" : "failed"}`);
    if (!pip.ok) {
      fs.rmSync(envDir, { recursive: true, force: true });
      return {
        problem: `Installing the language server into its environment with pip failed: ${lastLines(pip.output)}`,
        envDir,
        tried,
      };
    }
    fs.writeFileSync(marker, `${path.basename(bundle.wheel)}\n`);
    return { python, envDir, tried };
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** mkdir is atomic: the one window that creates the lock folder installs. A lock older than any install is taken over. */
function takeLock(lock: string): boolean {
  try {
    fs.mkdirSync(lock);
    return true;
  } catch {
    try {
      if (Date.now() - fs.statSync(lock).mtimeMs > LOCK_STALE_MS) {
        fs.rmSync(lock, { recursive: true, force: true });
        fs.mkdirSync(lock);
        return true;
      }
    } catch {
      // gone or taken in between
    }
    return false;
  }
}

/** Runs a command; never throws. */
export function runCommand(command: string, args: string[], timeoutMs: number): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs, windowsHide: true, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const output = `${stdout ?? ""}${stderr ?? ""}`;
      resolve({ ok: !error, output: error && !output.trim() ? error.message : output });
    });
  });
}
