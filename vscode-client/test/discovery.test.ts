import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import {
  DiscoveryDeps,
  ProbeResult,
  discoverServer,
  expandPath,
  installCommandFor,
  isSupportedPython,
  looksLikePython,
  notFoundMessage,
} from "../src/discovery";
import { bundledServer as findBundledServer, findPluginRoot, probeDifyLsp, probePythonVersion, which } from "../src/system";

/** Fake OS: a set of files, a PATH table, and which interpreters have dify_lsp. */
function fakeDeps(opts: {
  files?: string[];
  onPath?: Record<string, string>;
  withDifyLsp?: string[];
  versions?: Record<string, string>;
}): DiscoveryDeps & { probed: string[] } {
  const files = new Set(opts.files ?? []);
  const probed: string[] = [];
  return {
    probed,
    isFile: (p) => files.has(p),
    which: (name) => opts.onPath?.[name],
    probeDifyLsp: async (python): Promise<ProbeResult> => {
      probed.push(python);
      return (opts.withDifyLsp ?? []).includes(python)
        ? { ok: true, detail: "0.1.0" }
        : { ok: false, detail: "ModuleNotFoundError: No module named 'dify_lsp'" };
    },
    probePythonVersion: async (python): Promise<ProbeResult> => {
      probed.push(`version:${python}`);
      const version = opts.versions?.[python];
      return version ? { ok: true, detail: version } : { ok: false, detail: "ENOENT" };
    },
  };
}

describe("discoverServer", () => {
  it("uses dify.server.path when it is a dify-lsp executable, without probing", async () => {
    const deps = fakeDeps({ files: ["/opt/venv/bin/dify-lsp"], onPath: { "dify-lsp": "/usr/bin/dify-lsp" } });
    const d = await discoverServer({ serverPath: "/opt/venv/bin/dify-lsp", pythonExtensionInstalled: false }, deps);
    assert.equal(d.ok, true);
    if (d.ok) {
      assert.deepEqual([d.launch.command, d.launch.args, d.launch.source], ["/opt/venv/bin/dify-lsp", [], "setting"]);
    }
    assert.deepEqual(deps.probed, []);
  });

  it("runs `<python> -m dify_lsp` when dify.server.path is an interpreter with dify_lsp", async () => {
    const deps = fakeDeps({ files: ["/opt/venv/bin/python3"], withDifyLsp: ["/opt/venv/bin/python3"] });
    const d = await discoverServer({ serverPath: "/opt/venv/bin/python3", pythonExtensionInstalled: false }, deps);
    assert.ok(d.ok);
    if (d.ok) {
      assert.equal(d.launch.command, "/opt/venv/bin/python3");
      assert.deepEqual(d.launch.args, ["-m", "dify_lsp"]);
      assert.equal(d.launch.source, "setting");
      assert.match(d.launch.description, /dify_lsp 0\.1\.0/);
    }
  });

  it("the setting wins over dify-lsp on PATH and the Python extension", async () => {
    const deps = fakeDeps({
      files: ["/opt/venv/bin/python"],
      onPath: { "dify-lsp": "/usr/local/bin/dify-lsp" },
      withDifyLsp: ["/opt/venv/bin/python", "/home/u/.venv/bin/python"],
    });
    const d = await discoverServer(
      { serverPath: "/opt/venv/bin/python", pythonExtensionInstalled: true, pythonExtensionInterpreter: "/home/u/.venv/bin/python" },
      deps,
    );
    assert.ok(d.ok && d.launch.command === "/opt/venv/bin/python" && d.launch.source === "setting");
  });

  it("reports an interpreter in the setting that lacks dify_lsp, with that interpreter's pip command", async () => {
    const deps = fakeDeps({ files: ["/opt/py/bin/python3.12"], onPath: { "dify-lsp": "/usr/bin/dify-lsp" } });
    const d = await discoverServer({ serverPath: "/opt/py/bin/python3.12", pythonExtensionInstalled: false }, deps);
    assert.equal(d.ok, false);
    if (!d.ok) {
      assert.equal(d.installCommand, "/opt/py/bin/python3.12 -m pip install /path/to/dify-lsp");
      assert.match(d.problem, /does not have dify_lsp installed/);
    }
  });

  it("reports a setting that points at a missing file instead of falling back silently", async () => {
    const deps = fakeDeps({ onPath: { "dify-lsp": "/usr/bin/dify-lsp" } });
    const d = await discoverServer({ serverPath: "/nope/dify-lsp", pythonExtensionInstalled: false }, deps);
    assert.equal(d.ok, false);
    if (!d.ok) {
      assert.match(d.problem, /"\/nope\/dify-lsp", which does not exist/);
    }
  });

  it("looks a bare name in the setting up on PATH", async () => {
    const deps = fakeDeps({ files: ["/usr/bin/python3"], onPath: { python3: "/usr/bin/python3" }, withDifyLsp: ["/usr/bin/python3"] });
    const d = await discoverServer({ serverPath: "python3", pythonExtensionInstalled: false }, deps);
    assert.ok(d.ok && d.launch.command === "/usr/bin/python3" && d.launch.args[1] === "dify_lsp");
  });

  it("runs another executable in the setting as the server when it is not a Python with dify_lsp", async () => {
    const deps = fakeDeps({ files: ["/opt/bin/run-dify-server"] });
    const d = await discoverServer({ serverPath: "/opt/bin/run-dify-server", pythonExtensionInstalled: false }, deps);
    assert.ok(d.ok && d.launch.command === "/opt/bin/run-dify-server" && d.launch.args.length === 0);
    assert.deepEqual(deps.probed, ["/opt/bin/run-dify-server"]);
  });

  it("falls back to dify-lsp on PATH", async () => {
    const deps = fakeDeps({ onPath: { "dify-lsp": "/usr/local/bin/dify-lsp" }, withDifyLsp: ["/home/u/.venv/bin/python"] });
    const d = await discoverServer({ serverPath: "", pythonExtensionInstalled: true, pythonExtensionInterpreter: "/home/u/.venv/bin/python" }, deps);
    assert.ok(d.ok && d.launch.command === "/usr/local/bin/dify-lsp" && d.launch.source === "path");
    assert.deepEqual(deps.probed, []);
  });

  it("then to the Python extension's interpreter when it has dify_lsp", async () => {
    const deps = fakeDeps({ withDifyLsp: ["/home/u/.venv/bin/python"] });
    const d = await discoverServer({ serverPath: "", pythonExtensionInstalled: true, pythonExtensionInterpreter: "/home/u/.venv/bin/python" }, deps);
    assert.ok(d.ok);
    if (d.ok) {
      assert.deepEqual([d.launch.command, ...d.launch.args], ["/home/u/.venv/bin/python", "-m", "dify_lsp"]);
      assert.equal(d.launch.source, "python-extension");
    }
  });

  it("gives the selected interpreter's pip command when it lacks dify_lsp", async () => {
    const deps = fakeDeps({});
    const d = await discoverServer({ serverPath: "", pythonExtensionInstalled: true, pythonExtensionInterpreter: "/home/my user/.venv/bin/python" }, deps);
    assert.equal(d.ok, false);
    if (!d.ok) {
      assert.equal(d.installCommand, '"/home/my user/.venv/bin/python" -m pip install /path/to/dify-lsp');
      assert.equal(d.tried.length, 3);
    }
  });

  it("names no package index when nothing is there: Python for the bundle, or the repository or a wheel", async () => {
    const d = await discoverServer({ serverPath: "", pythonExtensionInstalled: false }, fakeDeps({}));
    assert.equal(d.ok, false);
    if (!d.ok) {
      assert.equal(d.installCommand, "python3 -m pip install /path/to/dify-lsp");
      const message = notFoundMessage(d);
      assert.doesNotMatch(message, /pip install dify-lsp/);
      assert.match(message, /Python 3\.11 or newer/);
      assert.match(message, /`python3 -m pip install \/path\/to\/dify-lsp`/);
      assert.match(message, /`python3 -m pip install dify_lsp-\*\.whl`/);
      assert.match(message, /dify\.server\.path/);
    }
  });
});

describe("discoverServer with the bundled server (a packaged .vsix)", () => {
  const bundledServer = "/ext/bundled/tool/server.py";

  it("runs the bundle with the Python extension's interpreter when it is 3.11 or newer", async () => {
    const deps = fakeDeps({
      onPath: { python3: "/usr/bin/python3", "dify-lsp": "/usr/local/bin/dify-lsp" },
      versions: { "/home/u/.venv/bin/python": "3.12.1", "/usr/bin/python3": "3.13.0" },
    });
    const d = await discoverServer(
      { serverPath: "", pythonExtensionInstalled: true, pythonExtensionInterpreter: "/home/u/.venv/bin/python", bundledServer },
      deps,
    );
    assert.ok(d.ok);
    if (d.ok) {
      assert.deepEqual([d.launch.command, d.launch.args, d.launch.source], ["/home/u/.venv/bin/python", [bundledServer], "bundled"]);
      assert.match(d.launch.description, /Python 3\.12\.1, the server bundled with the extension/);
    }
    assert.deepEqual(deps.probed, ["version:/home/u/.venv/bin/python"]); // nothing installed into it is needed
  });

  it("falls back to python3 on PATH when the selected interpreter is too old", async () => {
    const deps = fakeDeps({
      onPath: { python3: "/usr/bin/python3" },
      versions: { "/opt/py310/bin/python": "3.10.13", "/usr/bin/python3": "3.11.2" },
    });
    const d = await discoverServer(
      { serverPath: "", pythonExtensionInstalled: true, pythonExtensionInterpreter: "/opt/py310/bin/python", bundledServer },
      deps,
    );
    assert.ok(d.ok);
    if (d.ok) {
      assert.deepEqual([d.launch.command, d.launch.args], ["/usr/bin/python3", [bundledServer]]);
      assert.ok(d.tried.includes("bundled server with /opt/py310/bin/python: Python 3.10.13 is older than 3.11"));
    }
  });

  it("the setting still wins over the bundle", async () => {
    const deps = fakeDeps({ files: ["/opt/venv/bin/dify-lsp"], onPath: { python3: "/usr/bin/python3" }, versions: { "/usr/bin/python3": "3.12.0" } });
    const d = await discoverServer({ serverPath: "/opt/venv/bin/dify-lsp", pythonExtensionInstalled: false, bundledServer }, deps);
    assert.ok(d.ok && d.launch.source === "setting");
  });

  it("without a Python 3.11+ anywhere, dify-lsp on PATH is used, else one clear message", async () => {
    const old = { onPath: { python3: "/usr/bin/python3" }, versions: { "/usr/bin/python3": "3.9.2" } };
    const onPath = await discoverServer(
      { serverPath: "", pythonExtensionInstalled: false, bundledServer },
      fakeDeps({ ...old, onPath: { ...old.onPath, "dify-lsp": "/usr/local/bin/dify-lsp" } }),
    );
    assert.ok(onPath.ok && onPath.launch.source === "path");
    const none = await discoverServer({ serverPath: "", pythonExtensionInstalled: false, bundledServer }, fakeDeps(old));
    assert.equal(none.ok, false);
    if (!none.ok) {
      assert.ok(none.tried.includes("bundled server with /usr/bin/python3: Python 3.9.2 is older than 3.11"));
      assert.match(notFoundMessage(none), /needs Python 3\.11 or newer/);
    }
  });
});

describe("expandPath", () => {
  const ctx = { home: "/home/u", workspaceFolder: "/work/plugin" };
  it("expands ~, ${userHome}, ${workspaceFolder} and ${env:NAME}", () => {
    assert.equal(expandPath("~/venv/bin/python", ctx), "/home/u/venv/bin/python");
    assert.equal(expandPath("${userHome}/x", ctx), "/home/u/x");
    assert.equal(expandPath("${workspaceFolder}/.venv/bin/python", ctx), "/work/plugin/.venv/bin/python");
    assert.equal(expandPath("${env:VENV}/bin/dify-lsp", ctx, { VENV: "/opt/v" }), "/opt/v/bin/dify-lsp");
  });
  it("resolves a relative path against the workspace but keeps a bare name for PATH", () => {
    assert.equal(expandPath(".venv/bin/python", ctx), "/work/plugin/.venv/bin/python");
    assert.equal(expandPath("dify-lsp", ctx), "dify-lsp");
    assert.equal(expandPath("  ", ctx), "");
    assert.equal(expandPath(undefined, ctx), "");
  });
});

describe("helpers", () => {
  it("recognises interpreter names", () => {
    for (const name of ["python", "python3", "/usr/bin/python3.12", "C:\\Py\\python.exe", "pythonw.exe"]) {
      assert.equal(looksLikePython(name), true, name);
    }
    for (const name of ["dify-lsp", "/usr/bin/pythonista", "ipython"]) {
      assert.equal(looksLikePython(name), false, name);
    }
  });
  it("quotes interpreter paths with spaces in the install command", () => {
    assert.equal(installCommandFor(), "python3 -m pip install /path/to/dify-lsp");
    assert.equal(installCommandFor("/a b/python"), '"/a b/python" -m pip install /path/to/dify-lsp');
  });
  it("compares Python versions against 3.11", () => {
    for (const v of ["3.11", "3.11.0", "3.12.1", "3.14.0", "4.0"]) {
      assert.equal(isSupportedPython(v), true, v);
    }
    for (const v of ["3.10.13", "2.7.18", "3.9", "", "garbage"]) {
      assert.equal(isSupportedPython(v), false, v);
    }
  });
});

describe("system (real files and processes)", () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "dify-client-test-"));

  it("which finds an executable on a PATH string and skips non-executables", () => {
    const bin = path.join(tmp, "bin");
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(path.join(bin, "dify-lsp"), "#!/bin/sh\n", { mode: 0o755 });
    fs.writeFileSync(path.join(bin, "not-exec"), "x", { mode: 0o644 });
    assert.equal(which("dify-lsp", `/nonexistent${path.delimiter}${bin}`), path.join(bin, "dify-lsp"));
    assert.equal(which("not-exec", bin), undefined);
    assert.equal(which("dify-lsp", ""), undefined);
  });

  it("probeDifyLsp answers ok with the version for a Python that has dify_lsp, and explains otherwise", async () => {
    const fakePython = path.join(tmp, "python3");
    // Stand-in interpreters: one that imports fine and prints a version, one that fails like Python does.
    fs.writeFileSync(fakePython, '#!/bin/sh\necho "9.9.9"\n', { mode: 0o755 });
    assert.deepEqual(await probeDifyLsp(fakePython), { ok: true, detail: "9.9.9" });
    const badPython = path.join(tmp, "python-bad");
    fs.writeFileSync(badPython, "#!/bin/sh\necho \"Traceback...\" >&2\necho \"ModuleNotFoundError: No module named 'dify_lsp'\" >&2\nexit 1\n", { mode: 0o755 });
    assert.deepEqual(await probeDifyLsp(badPython), { ok: false, detail: "ModuleNotFoundError: No module named 'dify_lsp'" });
    const missing = await probeDifyLsp(path.join(tmp, "nope"));
    assert.deepEqual(missing, { ok: false, detail: "ENOENT" });
    const slow = path.join(tmp, "python-slow");
    fs.writeFileSync(slow, "#!/bin/sh\nsleep 5\n", { mode: 0o755 });
    const timedOut = await probeDifyLsp(slow, 300);
    assert.equal(timedOut.ok, false);
    assert.match(timedOut.detail, /timed out/);
  });

  it("probePythonVersion runs the interpreter for its version", async () => {
    const v = await probePythonVersion(process.env.DIFY_TEST_PYTHON || "python3");
    assert.equal(v.ok, true);
    assert.match(v.detail, /^3\.\d+\.\d+$/);
    assert.deepEqual(await probePythonVersion(path.join(tmp, "nope")), { ok: false, detail: "ENOENT" });
  });

  it("bundledServer is found only when bundled/libs holds dify_lsp", () => {
    const ext = path.join(tmp, "ext");
    fs.mkdirSync(path.join(ext, "bundled", "tool"), { recursive: true });
    fs.writeFileSync(path.join(ext, "bundled", "tool", "server.py"), "");
    assert.equal(findBundledServer(ext), undefined);
    fs.mkdirSync(path.join(ext, "bundled", "libs", "dify_lsp"), { recursive: true });
    fs.writeFileSync(path.join(ext, "bundled", "libs", "dify_lsp", "__init__.py"), "");
    assert.equal(findBundledServer(ext), path.join(ext, "bundled", "tool", "server.py"));
  });

  it("findPluginRoot walks up to the folder with manifest.yaml", () => {
    const plugin = path.join(tmp, "plugin");
    fs.mkdirSync(path.join(plugin, "tools"), { recursive: true });
    fs.writeFileSync(path.join(plugin, "manifest.yaml"), "type: plugin\n");
    fs.writeFileSync(path.join(plugin, "tools", "llm.py"), "");
    assert.equal(findPluginRoot(path.join(plugin, "tools", "llm.py")), plugin);
    assert.equal(findPluginRoot(path.join(plugin, "manifest.yaml")), plugin);
    assert.equal(findPluginRoot(path.join(tmp, "elsewhere.py")), undefined);
  });
});
