/**
 * Finding the dify-lsp language server. No `vscode` import: the editor-facing
 * part (extension.ts) passes in what it knows, the OS-facing part
 * (system.ts) passes in how to look at files and run Python.
 *
 * Order: the `dify.server.path` setting (a dify-lsp executable, or a Python
 * interpreter that has dify_lsp installed) > the server bundled in the .vsix
 * (bundled/libs), run by the Python extension's selected interpreter or by
 * python3 / python on PATH, whichever is Python 3.11 or newer > `dify-lsp` on
 * PATH > the Python extension's selected interpreter when it has dify_lsp.
 */

import * as path from "path";

export type ServerSource = "setting" | "bundled" | "path" | "python-extension";

export interface ServerLaunch {
  command: string;
  args: string[];
  source: ServerSource;
  /** One line for the output channel and the status bar tooltip. */
  description: string;
}

export interface DiscoveryInput {
  /** `dify.server.path`, already expanded (see expandPath); empty when unset. */
  serverPath: string;
  /** Whether the Python extension (ms-python.python) is installed. */
  pythonExtensionInstalled: boolean;
  /** The interpreter the Python extension selected for this workspace, if any. */
  pythonExtensionInterpreter?: string;
  /** bundled/tool/server.py of the extension when its bundled/libs holds dify_lsp (a packaged .vsix). */
  bundledServer?: string;
  /** The universal package's private environment (see bootstrap.ts): its Python, which has dify_lsp. */
  privateServer?: { python: string; envDir: string };
  /** Why the universal package could not make its private environment. */
  privateServerProblem?: string;
}

export interface ProbeResult {
  ok: boolean;
  /** The dify_lsp version when ok, else why not (stderr's last line, exit code, ...). */
  detail: string;
}

export interface DiscoveryDeps {
  /** True when the path exists and is a file. */
  isFile(p: string): boolean;
  /** The absolute path of an executable found on PATH, or undefined. */
  which(name: string): string | undefined;
  /** Runs `<python> -c "import dify_lsp"`-like probe. */
  probeDifyLsp(python: string): Promise<ProbeResult>;
  /** Runs the interpreter for its version: ok with detail "3.12.1", or why it did not run. */
  probePythonVersion(python: string): Promise<ProbeResult>;
}

export type Discovery =
  | { ok: true; launch: ServerLaunch; tried: string[] }
  | { ok: false; problem: string; installCommand: string; tried: string[] };

export const SERVER_EXECUTABLE = "dify-lsp";
/** dify-lsp is not on a package index: it installs from a clone of its repository or from a built wheel. */
export const REPO_INSTALL = "python3 -m pip install /path/to/dify-lsp";
export const WHEEL_INSTALL = "python3 -m pip install dify_lsp-*.whl";
export const MIN_PYTHON: [number, number] = [3, 11];

const PYTHON_NAME = /^python(w)?([0-9]+(\.[0-9]+)*)?(\.exe)?$/i;
const SERVER_NAME = /^dify-lsp(\.exe|\.cmd|\.bat)?$/i;

/** The last path segment, for POSIX and Windows separators alike. */
function baseName(file: string): string {
  const parts = file.split(/[\\/]/);
  return parts[parts.length - 1];
}

/** True when a file name looks like a Python interpreter (python, python3, python3.12, python.exe). */
export function looksLikePython(file: string): boolean {
  return PYTHON_NAME.test(baseName(file));
}

/** True when a file name looks like the dify-lsp console script. */
export function looksLikeServerExecutable(file: string): boolean {
  return SERVER_NAME.test(baseName(file));
}

export interface ExpandContext {
  home: string;
  workspaceFolder?: string;
}

/**
 * Expands `~`, `${userHome}`, `${workspaceFolder}` and `${env:NAME}` in a path
 * setting, and resolves a relative path against the workspace folder.
 */
export function expandPath(value: string | undefined | null, ctx: ExpandContext, env: Record<string, string | undefined> = {}): string {
  let out = (value ?? "").trim();
  if (!out) {
    return "";
  }
  out = out.replace(/\$\{userHome\}/g, ctx.home);
  out = out.replace(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => env[name] ?? "");
  if (ctx.workspaceFolder) {
    out = out.replace(/\$\{workspaceFolder\}/g, ctx.workspaceFolder);
  }
  if (out === "~") {
    out = ctx.home;
  } else if (out.startsWith("~/") || out.startsWith("~\\")) {
    out = path.join(ctx.home, out.slice(2));
  }
  if (!path.isAbsolute(out) && ctx.workspaceFolder && (out.includes("/") || out.includes("\\"))) {
    // "./.venv/bin/python" or ".venv/bin/python": relative to the workspace.
    // A bare name ("python3", "dify-lsp") is looked up on PATH instead.
    out = path.resolve(ctx.workspaceFolder, out);
  }
  return out;
}

function quote(p: string): string {
  return /[\s"'$`\\]/.test(p) ? JSON.stringify(p) : p;
}

/** The install command (from a clone of the repository) for a given interpreter, or the generic one. */
export function installCommandFor(python?: string): string {
  return python ? `${quote(python)} -m pip install /path/to/dify-lsp` : REPO_INSTALL;
}

/** True for a version string "3.11", "3.12.1", ... at or above MIN_PYTHON. */
export function isSupportedPython(version: string): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version.trim());
  if (!m) {
    return false;
  }
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor >= MIN_PYTHON[1]);
}

function pythonLaunch(python: string, source: ServerSource, version: string): ServerLaunch {
  return {
    command: python,
    args: ["-m", "dify_lsp"],
    source,
    description: `${python} -m dify_lsp (dify_lsp ${version}, from ${describeSource(source)})`,
  };
}

export function describeSource(source: ServerSource): string {
  switch (source) {
    case "setting":
      return "the dify.server.path setting";
    case "bundled":
      return "the server bundled with the extension";
    case "path":
      return "dify-lsp on PATH";
    case "python-extension":
      return "the Python extension's selected interpreter";
  }
}

/** Decides how to start the server; never throws. */
export async function discoverServer(input: DiscoveryInput, deps: DiscoveryDeps): Promise<Discovery> {
  const tried: string[] = [];
  const configured = input.serverPath.trim();

  if (configured) {
    // A bare name in the setting ("dify-lsp", "python3") is looked up on PATH.
    const isBare = !configured.includes("/") && !configured.includes("\\");
    const resolved = isBare ? deps.which(configured) ?? configured : configured;
    if (!deps.isFile(resolved)) {
      tried.push(`dify.server.path = ${configured}: not found`);
      return {
        ok: false,
        problem: `The setting dify.server.path points at "${configured}", which does not exist.`,
        installCommand: REPO_INSTALL,
        tried,
      };
    }
    if (looksLikeServerExecutable(resolved)) {
      tried.push(`dify.server.path = ${resolved}: dify-lsp executable`);
      return {
        ok: true,
        launch: { command: resolved, args: [], source: "setting", description: `${resolved} (from ${describeSource("setting")})` },
        tried,
      };
    }
    const probe = await deps.probeDifyLsp(resolved);
    if (probe.ok) {
      tried.push(`dify.server.path = ${resolved}: Python with dify_lsp ${probe.detail}`);
      return { ok: true, launch: pythonLaunch(resolved, "setting", probe.detail), tried };
    }
    if (looksLikePython(resolved)) {
      tried.push(`dify.server.path = ${resolved}: Python without dify_lsp (${probe.detail})`);
      return {
        ok: false,
        problem: `The Python interpreter in dify.server.path ("${resolved}") does not have dify_lsp installed.`,
        installCommand: installCommandFor(resolved),
        tried,
      };
    }
    // Some other executable (a wrapper script, a renamed console script): run it as the server.
    tried.push(`dify.server.path = ${resolved}: run as the server executable`);
    return {
      ok: true,
      launch: { command: resolved, args: [], source: "setting", description: `${resolved} (from ${describeSource("setting")})` },
      tried,
    };
  }
  tried.push("dify.server.path: not set");

  if (input.bundledServer) {
    const candidates: string[] = [];
    if (input.pythonExtensionInterpreter) {
      candidates.push(input.pythonExtensionInterpreter);
    }
    for (const name of ["python3", "python"]) {
      const found = deps.which(name);
      if (found && !candidates.includes(found)) {
        candidates.push(found);
      }
    }
    for (const python of candidates) {
      const probe = await deps.probePythonVersion(python);
      if (probe.ok && isSupportedPython(probe.detail)) {
        tried.push(`bundled server with ${python}: Python ${probe.detail}`);
        return {
          ok: true,
          launch: {
            command: python,
            args: [input.bundledServer],
            source: "bundled",
            description: `${python} ${input.bundledServer} (Python ${probe.detail}, ${describeSource("bundled")})`,
          },
          tried,
        };
      }
      tried.push(`bundled server with ${python}: ${probe.ok ? `Python ${probe.detail} is older than ${MIN_PYTHON.join(".")}` : `does not run (${probe.detail})`}`);
    }
    if (candidates.length === 0) {
      tried.push("bundled server: no Python interpreter (none selected in the Python extension, no python3 or python on PATH)");
    }
  }

  if (input.privateServer) {
    const { python, envDir } = input.privateServer;
    tried.push(`private environment: ${python}`);
    return {
      ok: true,
      launch: {
        command: python,
        args: ["-m", "dify_lsp"],
        source: "bundled",
        description: `${python} -m dify_lsp (${describeSource("bundled")}, installed into its private environment ${envDir})`,
      },
      tried,
    };
  }
  if (input.privateServerProblem) {
    tried.push(`private environment: ${input.privateServerProblem}`);
  }

  const onPath = deps.which(SERVER_EXECUTABLE);
  if (onPath) {
    tried.push(`dify-lsp on PATH: ${onPath}`);
    return {
      ok: true,
      launch: { command: onPath, args: [], source: "path", description: `${onPath} (from ${describeSource("path")})` },
      tried,
    };
  }
  tried.push("dify-lsp on PATH: not found");

  if (!input.pythonExtensionInstalled) {
    tried.push("Python extension: not installed");
    return {
      ok: false,
      problem: input.privateServerProblem ?? "The dify-lsp language server was not found (dify.server.path is not set and dify-lsp is not on PATH).",
      installCommand: REPO_INSTALL,
      tried,
    };
  }
  const interpreter = input.pythonExtensionInterpreter;
  if (!interpreter) {
    tried.push("Python extension: no interpreter selected");
    return {
      ok: false,
      problem: "The dify-lsp language server was not found, and the Python extension has no interpreter selected.",
      installCommand: REPO_INSTALL,
      tried,
    };
  }
  const probe = await deps.probeDifyLsp(interpreter);
  if (probe.ok) {
    tried.push(`Python extension's interpreter ${interpreter}: dify_lsp ${probe.detail}`);
    return { ok: true, launch: pythonLaunch(interpreter, "python-extension", probe.detail), tried };
  }
  tried.push(`Python extension's interpreter ${interpreter}: no dify_lsp (${probe.detail})`);
  return {
    ok: false,
    problem: `The dify-lsp language server was not found: not on PATH, and the selected Python interpreter ("${interpreter}") does not have dify_lsp installed.`,
    installCommand: installCommandFor(interpreter),
    tried,
  };
}

/** The text of the one notification shown when no server can be started. */
export function notFoundMessage(d: { problem: string; installCommand: string }): string {
  return (
    `${d.problem} The extension brings its own server, which needs Python ${MIN_PYTHON.join(".")} or newer: ` +
    `install one (python3 on PATH, or select it in the Python extension). Or install dify-lsp from a clone of ` +
    `its repository, \`${d.installCommand}\`, or from a wheel built there (\`python -m build\`), ` +
    `\`${WHEEL_INSTALL}\`, then set "dify.server.path" to the dify-lsp executable or to that Python interpreter, or put dify-lsp on PATH.`
  );
}
