/**
 * The OS-facing side of server discovery: files, PATH, running Python.
 * No `vscode` import, so the unit tests exercise it for real.
 */

import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { DiscoveryDeps, ProbeResult } from "./discovery";

export const PROBE_TIMEOUT_MS = 15000;
const PROBE_SCRIPT = "import dify_lsp, sys; sys.stdout.write(getattr(dify_lsp, '__version__', 'unknown'))";

export function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function isExecutableFile(p: string): boolean {
  if (!isFile(p)) {
    return false;
  }
  if (process.platform === "win32") {
    return true;
  }
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Looks an executable up on a PATH string (the process's PATH by default). */
export function which(name: string, envPath: string | undefined = process.env.PATH, pathExt: string | undefined = process.env.PATHEXT): string | undefined {
  if (!envPath) {
    return undefined;
  }
  const exts = process.platform === "win32" ? ["", ...(pathExt ?? ".EXE;.CMD;.BAT").split(";")] : [""];
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) {
      continue;
    }
    for (const ext of exts) {
      const candidate = path.join(dir, name + ext);
      if (isExecutableFile(candidate)) {
        return candidate;
      }
    }
  }
  return undefined;
}

/** Runs the interpreter and checks that it imports dify_lsp; never throws. */
export function probeDifyLsp(python: string, timeoutMs: number = PROBE_TIMEOUT_MS): Promise<ProbeResult> {
  return new Promise((resolve) => {
    execFile(python, ["-c", PROBE_SCRIPT], { timeout: timeoutMs, windowsHide: true }, (error, stdout, stderr) => {
      if (!error) {
        resolve({ ok: true, detail: String(stdout).trim() || "unknown" });
        return;
      }
      const lines = String(stderr ?? "").trim().split(/\r?\n/).filter(Boolean);
      const last = lines[lines.length - 1];
      const code = (error as NodeJS.ErrnoException).code;
      const detail = last ?? (error.killed ? `timed out after ${timeoutMs} ms` : code ? String(code) : error.message);
      resolve({ ok: false, detail });
    });
  });
}

const VERSION_SCRIPT = "import sys; sys.stdout.write('%d.%d.%d' % sys.version_info[:3])";

/** Runs the interpreter for its version ("3.12.1"); never throws. */
export function probePythonVersion(python: string, timeoutMs: number = PROBE_TIMEOUT_MS): Promise<ProbeResult> {
  return new Promise((resolve) => {
    execFile(python, ["-c", VERSION_SCRIPT], { timeout: timeoutMs, windowsHide: true }, (error, stdout, stderr) => {
      if (!error && /^\d+\.\d+/.test(String(stdout))) {
        resolve({ ok: true, detail: String(stdout).trim() });
        return;
      }
      const lines = String(stderr ?? "").trim().split(/\r?\n/).filter(Boolean);
      const code = error ? (error as NodeJS.ErrnoException).code : undefined;
      resolve({ ok: false, detail: lines[lines.length - 1] ?? (error?.killed ? `timed out after ${timeoutMs} ms` : code ? String(code) : "no version printed") });
    });
  });
}

/** bundled/tool/server.py of an extension folder when bundled/libs holds dify_lsp (a packaged .vsix). */
export function bundledServer(extensionPath: string, exists: (p: string) => boolean = isFile): string | undefined {
  const script = path.join(extensionPath, "bundled", "tool", "server.py");
  const lib = path.join(extensionPath, "bundled", "libs", "dify_lsp", "__init__.py");
  return exists(script) && exists(lib) ? script : undefined;
}

export const systemDeps: DiscoveryDeps = {
  isFile,
  which: (name) => which(name),
  probeDifyLsp: (python) => probeDifyLsp(python),
  probePythonVersion: (python) => probePythonVersion(python),
};

/**
 * The plugin root of a file: the nearest ancestor folder (or the folder
 * itself) that holds a manifest.yaml; undefined when there is none.
 */
export function findPluginRoot(file: string, exists: (p: string) => boolean = isFile): string | undefined {
  let dir = path.dirname(path.resolve(file));
  if (path.basename(file) === "manifest.yaml") {
    return exists(file) ? dir : undefined;
  }
  for (;;) {
    if (exists(path.join(dir, "manifest.yaml"))) {
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) {
      return undefined;
    }
    dir = parent;
  }
}
