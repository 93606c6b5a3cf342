import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { BootstrapDeps, CommandResult, envPython, ensurePrivateServer, readyPrivateServer, runCommand, universalBundle } from "../src/bootstrap";
import { discoverServer } from "../src/discovery";

const made: string[] = [];

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dify-bootstrap-"));
  made.push(dir);
  return dir;
}

after(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

/** An extension folder laid out as the universal package is. */
function universalExtension(): string {
  const ext = tempDir();
  fs.mkdirSync(path.join(ext, "bundled", "wheels"), { recursive: true });
  fs.writeFileSync(path.join(ext, "bundled", "wheels", "dify_lsp-0.1.0-py3-none-any.whl"), "");
  fs.writeFileSync(path.join(ext, "bundled", "wheels", "constraints.txt"), "pydantic==2.0\n");
  return ext;
}

/** Fake Python: `venv` makes the env's interpreter file, `pip` succeeds or fails as told. */
function fakeDeps(opts: { versions: Record<string, string>; pipFails?: boolean; venvFails?: boolean }): BootstrapDeps & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    probePythonVersion: async (python) => {
      const v = opts.versions[python];
      return v ? { ok: true, detail: v } : { ok: false, detail: "ENOENT" };
    },
    run: async (command, args): Promise<CommandResult> => {
      calls.push([command, ...args].join(" "));
      if (args[1] === "venv") {
        if (opts.venvFails) {
          return { ok: false, output: "Error: ensurepip is not available" };
        }
        const py = envPython(args[2]);
        fs.mkdirSync(path.dirname(py), { recursive: true });
        fs.writeFileSync(py, "");
        return { ok: true, output: "" };
      }
      return opts.pipFails ? { ok: false, output: "ERROR: No matching distribution found for pydantic==2.0" } : { ok: true, output: "Successfully installed" };
    },
  };
}

describe("universal package bootstrap", () => {
  it("finds the wheel only in the universal layout", () => {
    const ext = universalExtension();
    const bundle = universalBundle(ext);
    assert.ok(bundle);
    assert.equal(path.basename(bundle.wheel), "dify_lsp-0.1.0-py3-none-any.whl");
    assert.equal(path.basename(bundle.constraints ?? ""), "constraints.txt");
    // a platform package (bundled/libs holds dify_lsp) installs nothing
    fs.mkdirSync(path.join(ext, "bundled", "libs", "dify_lsp"), { recursive: true });
    assert.equal(universalBundle(ext), undefined);
    assert.equal(universalBundle(tempDir()), undefined);
  });

  it("installs with the first Python 3.11+, once", async () => {
    const bundle = universalBundle(universalExtension())!;
    const storage = tempDir();
    const deps = fakeDeps({ versions: { "/usr/bin/python3": "3.10.12", "/opt/py/bin/python3.12": "3.12.4" } });
    const steps: string[] = [];
    const first = await ensurePrivateServer({ bundle, storageDir: storage, candidates: ["/usr/bin/python3", "/opt/py/bin/python3.12"], report: (m) => steps.push(m), deps });
    assert.equal(first.problem, undefined);
    assert.equal(first.python, envPython(first.envDir));
    assert.deepEqual(deps.calls, [
      `/opt/py/bin/python3.12 -m venv ${first.envDir}`,
      `${first.python} -m pip install --disable-pip-version-check --no-input --constraint ${bundle.constraints} ${bundle.wheel}`,
    ]);
    assert.ok(steps.some((s) => s.includes("Python 3.12.4")) && steps.some((s) => s.includes("pip")), steps.join(" | "));
    assert.ok(first.tried.some((t) => t.includes("/usr/bin/python3 is Python 3.10.12")));
    assert.equal(readyPrivateServer(bundle, storage), first.python);
    // the second start finds it
    const second = await ensurePrivateServer({ bundle, storageDir: storage, candidates: [], report: () => undefined, deps });
    assert.equal(second.python, first.python);
    assert.equal(deps.calls.length, 2);
  });

  it("says clearly that there is no Python 3.11+", async () => {
    const bundle = universalBundle(universalExtension())!;
    const deps = fakeDeps({ versions: { python3: "3.9.2" } });
    const result = await ensurePrivateServer({ bundle, storageDir: tempDir(), candidates: ["python3", "python"], report: () => undefined, deps });
    assert.equal(result.python, undefined);
    assert.match(result.problem ?? "", /Python 3\.11 or newer, and found none \(python3 is Python 3\.9\.2; python does not run \(ENOENT\)\)/);
    assert.deepEqual(deps.calls, []);
    // and discovery passes that on as the problem when nothing else is found
    const discovery = await discoverServer(
      { serverPath: "", pythonExtensionInstalled: false, privateServerProblem: result.problem },
      { isFile: () => false, which: () => undefined, probeDifyLsp: async () => ({ ok: false, detail: "" }), probePythonVersion: async () => ({ ok: false, detail: "" }) },
    );
    assert.equal(discovery.ok, false);
    assert.equal(!discovery.ok && discovery.problem, result.problem);
  });

  it("reports a failed venv or pip and leaves no half-made environment", async () => {
    const bundle = universalBundle(universalExtension())!;
    const storage = tempDir();
    const venv = await ensurePrivateServer({ bundle, storageDir: storage, candidates: ["python3"], report: () => undefined, deps: fakeDeps({ versions: { python3: "3.12.1" }, venvFails: true }) });
    assert.match(venv.problem ?? "", /venv failed: Error: ensurepip is not available.*python3-venv/);
    const pip = await ensurePrivateServer({ bundle, storageDir: storage, candidates: ["python3"], report: () => undefined, deps: fakeDeps({ versions: { python3: "3.12.1" }, pipFails: true }) });
    assert.match(pip.problem ?? "", /pip failed: ERROR: No matching distribution/);
    assert.equal(fs.existsSync(pip.envDir), false);
    assert.equal(readyPrivateServer(bundle, storage), undefined);
  });

  it("launches the private environment's Python with -m dify_lsp", async () => {
    const discovery = await discoverServer(
      { serverPath: "", pythonExtensionInstalled: false, privateServer: { python: "/s/env/bin/python", envDir: "/s/env" } },
      { isFile: () => false, which: () => undefined, probeDifyLsp: async () => ({ ok: false, detail: "" }), probePythonVersion: async () => ({ ok: false, detail: "" }) },
    );
    assert.ok(discovery.ok);
    assert.deepEqual([discovery.launch.command, ...discovery.launch.args], ["/s/env/bin/python", "-m", "dify_lsp"]);
    assert.match(discovery.launch.description, /private environment \/s\/env/);
  });

  it("runCommand reports output and failure without throwing", async () => {
    const ok = await runCommand(process.execPath, ["-e", "process.stdout.write('hi')"], 10000);
    assert.deepEqual(ok, { ok: true, output: "hi" });
    const bad = await runCommand(path.join(tempDir(), "no-such-python"), [], 10000);
    assert.equal(bad.ok, false);
    assert.match(bad.output, /ENOENT/);
  });
});
