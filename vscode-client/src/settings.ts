/**
 * VS Code settings (section "dify") -> the server's settings object
 * (see notes/contracts.md "Server settings"). No `vscode` import.
 *
 * The same object goes into initializationOptions at start, answers the
 * server's workspace/configuration request for section "dify", and is sent
 * with workspace/didChangeConfiguration when a setting changes.
 */

export type Backend = "mock" | "openai";
export type Family = "files" | "schema" | "python" | "permissions";
export const FAMILIES: readonly Family[] = ["files", "schema", "python", "permissions"];

export interface ServerSettings {
  /** Interpreter for Run invocation and jedi; null = let the server find one. */
  python: string | null;
  run: {
    backend: Backend;
    timeout: number;
    openai: {
      baseUrl: string;
      apiKeyEnv: string;
      models: Record<string, string>;
    };
  };
  diagnostics: Record<Family, boolean>;
}

export const DEFAULTS: ServerSettings = {
  python: null,
  run: {
    backend: "mock",
    timeout: 60,
    openai: {
      baseUrl: "https://api.openai.com/v1",
      apiKeyEnv: "OPENAI_API_KEY",
      models: { llm: "gpt-4o-mini", "text-embedding": "text-embedding-3-small" },
    },
  },
  diagnostics: { files: true, schema: true, python: true, permissions: true },
};

/** Settings read by the client only, never sent to the server. */
export const CLIENT_ONLY_KEYS = ["server.path", "trace.server"] as const;

/** Keys (under "dify.") whose change needs the server process restarted. */
export const RESTART_KEYS = ["server.path"] as const;

/** Reads one key under "dify." (e.g. "run.backend"); undefined when unset. */
export type SettingGetter = (key: string) => unknown;

function str(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

function positiveNumber(value: unknown): number | undefined {
  const n = typeof value === "string" ? Number(value) : value;
  return typeof n === "number" && Number.isFinite(n) && n > 0 ? n : undefined;
}

function bool(value: unknown): boolean | undefined {
  return typeof value === "boolean" ? value : undefined;
}

function models(value: unknown): Record<string, string> | undefined {
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const s = str(v);
    if (s) {
      out[k] = s;
    }
  }
  return out;
}

/**
 * Builds the complete server settings object. Every key is present (unset
 * ones take the defaults; an unset interpreter is null) so that a setting the
 * user removes also goes back to its default on the server, which merges
 * what it receives into what it has.
 */
export function toServerSettings(get: SettingGetter, expand: (p: string) => string = (p) => p): ServerSettings {
  const backendRaw = get("run.backend");
  const backend: Backend = backendRaw === "openai" || backendRaw === "mock" ? backendRaw : DEFAULTS.run.backend;
  const python = str(get("python"));
  const diagnostics = {} as Record<Family, boolean>;
  for (const family of FAMILIES) {
    diagnostics[family] = bool(get(`diagnostics.${family}`)) ?? DEFAULTS.diagnostics[family];
  }
  return {
    python: python ? expand(python) || null : null,
    run: {
      backend,
      timeout: positiveNumber(get("run.timeout")) ?? DEFAULTS.run.timeout,
      openai: {
        baseUrl: str(get("run.openai.baseUrl")) ?? DEFAULTS.run.openai.baseUrl,
        apiKeyEnv: str(get("run.openai.apiKeyEnv")) ?? DEFAULTS.run.openai.apiKeyEnv,
        models: models(get("run.openai.models")) ?? { ...DEFAULTS.run.openai.models },
      },
    },
    diagnostics,
  };
}

/** Whether a configuration change needs a restart (given "affects dify.<key>"). */
export function changeNeedsRestart(affects: (fullKey: string) => boolean): boolean {
  return RESTART_KEYS.some((key) => affects(`dify.${key}`));
}

/** Whether a configuration change concerns settings the server reads. */
export function changeConcernsServer(affects: (fullKey: string) => boolean): boolean {
  return ["dify.python", "dify.run", "dify.diagnostics"].some((key) => affects(key));
}
