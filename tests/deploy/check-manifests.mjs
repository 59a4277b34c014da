// Checks the rendered Kubernetes manifests of CaptionService (see check-manifests.sh).
//
//   node check-manifests.mjs --repo ROOT VARIANT=RENDERED.yaml ...
//
// VARIANT is cpu or gpu and says which assertions apply. For every rendered object:
//   1. schema: `tsc --strict` over typed constants (kubernetes-types@1.30.0), which rejects
//      misspelt fields, missing required fields and wrong types; and kubernetes-models@4.5.1
//      validation (types and formats);
//   2. project assertions, read against the real sources: probe paths exist among the app's
//      routes and probe ports among the container's ports and the images' listening port; env
//      var names bind to options classes (section + property) with values of the right type;
//      terminationGracePeriodSeconds covers the preStop sleep plus the server's drain timeout;
//      the pod hardening the issue asks for; the management port is a declared container port and
//      Prometheus's scrape annotation names the port /metrics is served on; the gpu variant requests a GPU and selects CUDA,
//      the cpu variant does neither.
// Then a self-test feeds broken copies of the manifests through the same checks and fails
// unless every breakage is caught, so that these checks cannot silently pass.

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { validate as lintDockerfile } from "dockerfile-utils";
import { parseAllDocuments } from "yaml";

const here = path.dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------------------------------------
// Reading the C# sources: options classes, enums, routes, metric names.

function listFiles(dir, ext) {
  const out = [];
  if (!fs.existsSync(dir)) return out;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "bin" || entry.name === "obj") continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(full, ext));
    else if (entry.name.endsWith(ext)) out.push(full);
  }
  return out;
}

/** C# source with comments removed (string literals kept). */
function stripComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"])\/\/.*$/gm, "$1");
}

/** Evaluates a C# numeric literal or simple constant expression such as 20L * 1024 * 1024. */
function csNumber(expr) {
  const cleaned = expr.trim().replace(/_/g, "").replace(/(\d)[LlUuMmDdFf]+\b/g, "$1");
  if (/^(int|long)\.MaxValue$/.test(cleaned)) return cleaned.startsWith("int") ? 2 ** 31 - 1 : Number.MAX_SAFE_INTEGER;
  if (!/^[\d\s.*+\-()]+$/.test(cleaned)) return undefined;
  return Function(`"use strict"; return (${cleaned});`)();
}

/** TimeSpan text as .NET parses it by default ([d.]hh:mm[:ss[.fffffff]]), in seconds. */
export function parseTimeSpan(text) {
  const m = /^(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?$/.exec(String(text).trim());
  if (!m) return undefined;
  const [, d = "0", h, min, s = "0", frac = "0"] = m;
  if (+h > 23 || +min > 59 || +s > 59) return undefined;
  return +d * 86400 + +h * 3600 + +min * 60 + +s + Number(`0.${frac}`);
}

/** C# TimeSpan initialisers: TimeSpan.FromSeconds(20), FromMilliseconds, new TimeSpan(h, m, s). */
function csTimeSpanSeconds(expr) {
  let m = /TimeSpan\.From(Milliseconds|Seconds|Minutes|Hours)\(\s*([^)]+)\)/.exec(expr);
  if (m) return csNumber(m[2]) * { Milliseconds: 0.001, Seconds: 1, Minutes: 60, Hours: 3600 }[m[1]];
  m = /new\s+TimeSpan\(\s*([^,]+),\s*([^,]+),\s*([^)]+)\)/.exec(expr);
  if (m) return csNumber(m[1]) * 3600 + csNumber(m[2]) * 60 + csNumber(m[3]);
  m = /TimeSpan\.Parse\(\s*"([^"]+)"/.exec(expr);
  if (m) return parseTimeSpan(m[1]);
  return undefined;
}

export function readSources(repo) {
  const files = [
    ...listFiles(path.join(repo, "src/CaptionService.Inference"), ".cs"),
    ...listFiles(path.join(repo, "src/CaptionService.Api"), ".cs"),
  ];
  const enums = new Map();
  const options = [];
  const apiLiterals = new Set();
  const groups = [];
  const maps = [];
  for (const file of files) {
    const text = stripComments(fs.readFileSync(file, "utf8"));
    for (const m of text.matchAll(/\benum\s+(\w+)\s*(?::\s*\w+\s*)?\{([^}]*)\}/g)) {
      const members = m[2]
        .replace(/\[[^\]]*\]/g, "")
        .split(",")
        .map((s) => s.split("=")[0].trim())
        .filter(Boolean);
      enums.set(m[1], members);
    }
    // An options class: one that declares the configuration section it binds from.
    for (const m of text.matchAll(/\bclass\s+(\w+)[^{]*\{/g)) {
      const body = classBody(text, m.index + m[0].length - 1);
      const section = /\bconst\s+string\s+SectionName\s*=\s*"([^"]+)"/.exec(body);
      if (!section) continue;
      const properties = new Map();
      const propRe =
        /((?:\[[^\]]*\]\s*)*)public\s+(?!static|const)([\w.<>?\[\]]+)\s+(\w+)\s*\{\s*get;\s*(?:set|init);\s*\}(?:\s*=\s*([^;]+);)?/g;
      for (const p of body.matchAll(propRe)) {
        const range = /\[Range\(\s*([^,]+),\s*([^,)]+)\s*,?\s*([^)]*)\)\]/.exec(p[1]);
        const timeRange = /\[Range\(\s*typeof\(TimeSpan\)\s*,\s*"([^"]+)"\s*,\s*"([^"]+)"/.exec(p[1]);
        properties.set(p[3].toLowerCase(), {
          name: p[3],
          type: p[2].replace(/\?$/, "").replace(/^System\./, ""),
          nullable: p[2].endsWith("?"),
          initializer: p[4]?.trim(),
          range: range && !range[1].startsWith("typeof") ? [csNumber(range[1]), csNumber(range[2])] : undefined,
          timeRange: timeRange ? [parseTimeSpan(timeRange[1]), parseTimeSpan(timeRange[2])] : undefined,
        });
      }
      options.push({ className: m[1], file: path.relative(repo, file), section: section[1], properties });
    }
    if (file.includes(`${path.sep}CaptionService.Api${path.sep}`)) {
      for (const m of text.matchAll(/"((?:[^"\\]|\\.)*)"/g)) apiLiterals.add(m[1]);
      for (const m of text.matchAll(/MapGroup\(\s*"([^"]*)"/g)) groups.push(m[1]);
      for (const m of text.matchAll(/\.Map(?:Get|Post|Put|Delete|Patch|Methods|HealthChecks|Metrics)?\(\s*"([^"]*)"/g))
        maps.push(m[1]);
    }
  }
  return { files, enums, options, apiLiterals, groups, maps };
}

function classBody(text, openBrace) {
  let depth = 0;
  for (let i = openBrace; i < text.length; i++) {
    if (text[i] === "{") depth++;
    else if (text[i] === "}" && --depth === 0) return text.slice(openBrace, i + 1);
  }
  return text.slice(openBrace);
}

const joinRoute = (a, b) => `/${[a, b].map((s) => s.replace(/^\/+|\/+$/g, "")).filter(Boolean).join("/")}`;

/** True when the app maps the path: literally, or as a MapGroup prefix plus a mapped suffix. */
export function routeExists(sources, routePath) {
  const wanted = joinRoute(routePath, "").toLowerCase();
  const candidates = new Set(sources.maps.map((m) => joinRoute(m, "").toLowerCase()));
  for (const g of sources.groups) for (const m of sources.maps) candidates.add(joinRoute(g, m).toLowerCase());
  return candidates.has(wanted);
}

/** The port a Dockerfile's image listens on (ASPNETCORE_URLS or ASPNETCORE_HTTP_PORTS), and EXPOSE. */
export function dockerfilePorts(file) {
  const text = fs.readFileSync(file, "utf8").replace(/\\\n/g, " ");
  const urls = /ASPNETCORE_URLS=(\S+)/.exec(text);
  const httpPorts = /ASPNETCORE_HTTP_PORTS=(\d+)/.exec(text);
  const listen = urls ? Number(/:(\d+)\/?$/.exec(urls[1].split(";")[0])?.[1]) : httpPorts ? Number(httpPorts[1]) : undefined;
  const expose = [...text.matchAll(/^\s*EXPOSE\s+(\d+)/gm)].map((m) => Number(m[1]));
  return { listen, expose };
}

// ---------------------------------------------------------------------------------------------
// Schema checks.

const typesModule = (apiVersion) => {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["core", apiVersion];
  return `kubernetes-types/${group.replace(/\.k8s\.io$/, "").split(".")[0]}/${version}`;
};
const modelsModule = (apiVersion) => `kubernetes-models/${apiVersion.includes("/") ? apiVersion : `v1`}`;

/**
 * Type-checks every object as a constant of its kubernetes-types type under `tsc --strict`.
 * sets: [{ label, docs }]. Returns Map label -> [error lines].
 */
export function tscCheck(sets) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "captionservice-tsc-"));
  try {
    const files = [];
    for (const { label, docs } of sets) {
      const imports = new Map();
      const lines = [];
      docs.forEach((doc, i) => {
        const mod = typesModule(doc.apiVersion);
        const alias = `${doc.kind}_${imports.size}`;
        const key = `${mod}#${doc.kind}`;
        if (!imports.has(key)) imports.set(key, { mod, kind: doc.kind, alias });
        lines.push(`// ${doc.kind}/${doc.metadata?.name}`);
        lines.push(`export const object${i}: ${imports.get(key).alias} = ${JSON.stringify(doc, null, 2)};`);
      });
      const head = [...imports.values()].map((x) => `import type { ${x.kind} as ${x.alias} } from "${x.mod}";`);
      const file = path.join(dir, `${label.replace(/[^\w.-]/g, "_")}.ts`);
      fs.writeFileSync(file, [...head, ...lines, ""].join("\n"));
      files.push({ label, file });
    }
    const typesRoot = path.join(here, "node_modules/kubernetes-types");
    fs.writeFileSync(
      path.join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: "es2022",
          module: "esnext",
          moduleResolution: "bundler",
          types: [],
          baseUrl: ".",
          paths: { "kubernetes-types/*": [`${typesRoot}/*`] },
        },
        files: files.map((f) => path.basename(f.file)),
      }),
    );
    let output = "";
    try {
      execFileSync(process.execPath, [path.join(here, "node_modules/typescript/bin/tsc"), "-p", dir, "--pretty", "false"], {
        cwd: dir,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      });
    } catch (e) {
      output = `${e.stdout ?? ""}${e.stderr ?? ""}`;
      if (!output.trim()) throw e;
    }
    const result = new Map(files.map((f) => [f.label, []]));
    for (const line of output.split("\n").filter(Boolean)) {
      const f = files.find((x) => line.startsWith(path.basename(x.file)));
      if (f) result.get(f.label).push(line);
      else throw new Error(`tsc: ${line}`);
    }
    return result;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** kubernetes-models validation. Returns error strings. */
export async function modelsCheck(docs) {
  const errors = [];
  for (const doc of docs) {
    const mod = await import(modelsModule(doc.apiVersion)).catch(() => undefined);
    const Model = mod?.[doc.kind];
    if (!Model) {
      errors.push(`${doc.kind}/${doc.metadata?.name}: no kubernetes-models type for ${doc.apiVersion} ${doc.kind}`);
      continue;
    }
    try {
      new Model(structuredClone(doc)).validate();
    } catch (e) {
      errors.push(`${doc.kind}/${doc.metadata?.name}: ${e.message.split("\n").slice(0, 6).join("; ")}`);
    }
  }
  return errors;
}

// ---------------------------------------------------------------------------------------------
// Project assertions.

const GPU_RESOURCE = "nvidia.com/gpu";
const quantityCpu = (q) => (q === undefined ? undefined : String(q).endsWith("m") ? parseFloat(q) / 1000 : parseFloat(q));

function containerEnv(container, docs, errors) {
  const env = new Map();
  for (const source of container.envFrom ?? []) {
    if (!source.configMapRef) continue;
    const cm = docs.find((d) => d.kind === "ConfigMap" && d.metadata?.name === source.configMapRef.name);
    if (!cm) {
      errors.push(`container ${container.name}: envFrom ConfigMap ${source.configMapRef.name} is not among the rendered objects`);
      continue;
    }
    for (const [k, v] of Object.entries(cm.data ?? {})) env.set(k, { value: v, from: `ConfigMap ${cm.metadata.name}` });
  }
  for (const e of container.env ?? []) env.set(e.name, { value: e.value, from: "env" });
  return env;
}

function checkOptionValue(option, value, enums) {
  if (value === undefined) return undefined; // valueFrom: cannot be checked offline
  const type = option.type;
  if (["int", "long", "short", "Int32", "Int64"].includes(type)) {
    if (!/^-?\d+$/.test(value)) return `is not an integer`;
    if (option.range && (Number(value) < option.range[0] || Number(value) > option.range[1]))
      return `is outside [${option.range[0]}, ${option.range[1]}]`;
  } else if (["double", "float", "decimal"].includes(type)) {
    if (!Number.isFinite(Number(value))) return `is not a number`;
  } else if (type === "bool") {
    if (!/^(true|false)$/i.test(value)) return `is not true or false`;
  } else if (type === "TimeSpan") {
    const seconds = parseTimeSpan(value);
    if (seconds === undefined) return `is not a TimeSpan (hh:mm:ss[.fff])`;
    if (option.timeRange && (seconds < option.timeRange[0] || seconds > option.timeRange[1]))
      return `is outside [${option.timeRange[0]} s, ${option.timeRange[1]} s]`;
  } else if (enums.has(type)) {
    const members = enums.get(type);
    if (!members.some((m) => m.toLowerCase() === value.toLowerCase()))
      return `is not one of ${type}: ${members.join(", ")}`;
  } else if (type === "string") {
    if (value === "") return `is empty`;
  }
  return undefined;
}

/** Env vars the server reads besides its options (ASP.NET Core and .NET runtime settings). */
// ASP.NET Core and .NET variables, and glibc's allocator tunables (MALLOC_MMAP_THRESHOLD_ and kin).
const FRAMEWORK_ENV = /^(ASPNETCORE_[A-Z_]+|DOTNET_[A-Za-z_]+|MALLOC_[A-Z_]+_)$/;

export function projectChecks(variant, docs, ctx) {
  const errors = [];
  const err = (m) => errors.push(m);
  const deployments = docs.filter((d) => d.kind === "Deployment");
  if (deployments.length !== 1) err(`expected one Deployment, found ${deployments.length}`);
  for (const kind of ["Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "ConfigMap"])
    if (!docs.some((d) => d.kind === kind)) err(`no ${kind} rendered`);
  const deployment = deployments[0];
  if (!deployment) return errors;
  const pod = deployment.spec?.template?.spec ?? {};
  const podLabels = deployment.spec?.template?.metadata?.labels ?? {};
  const selects = (selector) =>
    selector && Object.entries(selector).length > 0 && Object.entries(selector).every(([k, v]) => podLabels[k] === v);
  const containers = pod.containers ?? [];
  const app = containers.find((c) => c.name === "captionservice") ?? containers[0];
  if (!app) return [...errors, "the Deployment has no container"];
  const where = `Deployment ${deployment.metadata.name}, container ${app.name}`;

  // Ports: the container port is the one the images listen on; probes use declared ports.
  const ports = app.ports ?? [];
  const http = ports.find((p) => p.name === "http");
  if (!http) err(`${where}: no port named http`);
  for (const [file, p] of Object.entries(ctx.imagePorts)) {
    if (http && p.listen !== http.containerPort) err(`${where}: containerPort ${http.containerPort} but ${file} listens on ${p.listen}`);
    if (http && !p.expose.includes(http.containerPort)) err(`${where}: ${file} does not EXPOSE ${http.containerPort}`);
  }
  const resolvePort = (port) => (typeof port === "number" ? port : ports.find((p) => p.name === port)?.containerPort);

  // Probes: all three, httpGet on /health/*, paths the app maps, ports the container declares.
  for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
    const get = app[probe]?.httpGet;
    if (!get) {
      err(`${where}: no ${probe} with httpGet`);
      continue;
    }
    if (!/^\/health\//.test(get.path ?? "")) err(`${where}: ${probe} path ${get.path} is not under /health/`);
    else if (!routeExists(ctx.sources, get.path)) err(`${where}: ${probe} path ${get.path} is not a route mapped in src/CaptionService.Api`);
    const port = resolvePort(get.port);
    if (port === undefined) err(`${where}: ${probe} port ${get.port} is not a declared container port`);
    else if (http && port !== http.containerPort) err(`${where}: ${probe} port ${port} is not the http port ${http.containerPort}`);
  }
  if (app.readinessProbe?.httpGet?.path === app.livenessProbe?.httpGet?.path)
    err(`${where}: readiness and liveness probe the same path; readiness must turn false while draining`);

  // Env vars bind to options classes.
  const env = containerEnv(app, docs, errors);
  for (const [name, { value, from }] of env) {
    if (FRAMEWORK_ENV.test(name)) continue;
    const parts = name.split("__");
    if (parts.length < 3 || parts[0] !== "CaptionService") {
      err(`${where}: env ${name} (${from}) is not CaptionService__<Section>__<Option> nor an ASP.NET Core/.NET variable`);
      continue;
    }
    const section = parts.slice(0, -1).join(":").toLowerCase();
    const property = parts[parts.length - 1].toLowerCase();
    const cls = ctx.sources.options.find((o) => o.section.toLowerCase() === section);
    if (!cls) {
      err(`${where}: env ${name} (${from}): no options class has SectionName "${parts.slice(0, -1).join(":")}"`);
      continue;
    }
    const option = cls.properties.get(property);
    if (!option) {
      err(`${where}: env ${name} (${from}): ${cls.className} (${cls.file}) has no settable property ${parts.at(-1)}`);
      continue;
    }
    const problem = checkOptionValue(option, value, ctx.sources.enums);
    if (problem) err(`${where}: env ${name}=${JSON.stringify(value)} ${problem} (${cls.className}.${option.name})`);
  }
  const setting = (section, prop) => {
    for (const [name, { value }] of env) if (name.toLowerCase() === `captionservice__${section}__${prop}`.toLowerCase()) return value;
    return undefined;
  };
  const optionDefault = (section, prop) =>
    ctx.sources.options.find((o) => o.section.toLowerCase() === `captionservice:${section}`.toLowerCase())?.properties.get(prop.toLowerCase());

  // Management port: a container port named management carries it, apart from http, and
  // Prometheus scrapes the port /metrics is served on (management when set, http otherwise).
  const managementSetting = setting("Management", "Port");
  const managementPort = managementSetting !== undefined ? Number(managementSetting) : undefined;
  const managementDeclared = ports.find((p) => p.name === "management");
  if (managementPort !== undefined) {
    if (managementDeclared?.containerPort !== managementPort)
      err(`${where}: CaptionService__Management__Port ${managementPort} but no container port named management with that number`);
    if (http && managementPort === http.containerPort) err(`${where}: the management port ${managementPort} is the http port`);
  } else if (managementDeclared) err(`${where}: a container port named management but CaptionService__Management__Port is unset`);
  const annotations = deployment.spec?.template?.metadata?.annotations ?? {};
  if (annotations["prometheus.io/scrape"] === "true") {
    const metricsPort = managementPort ?? http?.containerPort;
    const scraped = Number(annotations["prometheus.io/port"]);
    if (scraped !== metricsPort) err(`${where}: prometheus.io/port ${annotations["prometheus.io/port"]} is not the port /metrics is served on (${metricsPort})`);
  }

  // Grace period covers the preStop sleep plus the drain timeout.
  const preStop = app.lifecycle?.preStop;
  let preStopSeconds;
  if (preStop?.sleep) preStopSeconds = preStop.sleep.seconds;
  else if (preStop?.exec?.command) {
    const m = /^(?:\S*\/)?sleep\s+(\d+(?:\.\d+)?)$/.exec(preStop.exec.command.join(" ").replace(/^(?:\S*\/)?(?:ba)?sh -c /, ""));
    if (m) preStopSeconds = Number(m[1]);
  }
  if (preStopSeconds === undefined) err(`${where}: no preStop sleep (lifecycle.preStop exec sleep N or sleep.seconds)`);
  let drain = setting("Shutdown", "DrainTimeout");
  let drainSeconds = drain !== undefined ? parseTimeSpan(drain) : undefined;
  if (drain === undefined && ctx.appSettings?.CaptionService?.Shutdown?.DrainTimeout !== undefined) {
    drain = ctx.appSettings.CaptionService.Shutdown.DrainTimeout;
    drainSeconds = parseTimeSpan(drain);
  }
  if (drain === undefined) {
    const def = optionDefault("Shutdown", "DrainTimeout");
    drainSeconds = def?.initializer ? csTimeSpanSeconds(def.initializer) : undefined;
    drain = def?.initializer;
  }
  if (drainSeconds === undefined) err(`${where}: cannot tell the drain timeout (CaptionService__Shutdown__DrainTimeout unset and no default found)`);
  const grace = pod.terminationGracePeriodSeconds ?? 30;
  if (preStopSeconds !== undefined && drainSeconds !== undefined && grace < preStopSeconds + drainSeconds)
    err(`${where}: terminationGracePeriodSeconds ${grace} < preStop ${preStopSeconds} s + drain ${drainSeconds} s (${drain})`);

  // Hardening.
  const psc = pod.securityContext ?? {};
  const csc = app.securityContext ?? {};
  if (!(csc.runAsNonRoot ?? psc.runAsNonRoot)) err(`${where}: runAsNonRoot is not set`);
  const uid = csc.runAsUser ?? psc.runAsUser;
  if (uid !== undefined && uid !== 1654) err(`${where}: runAsUser ${uid}, the images' app user is 1654`);
  if (csc.readOnlyRootFilesystem !== true) err(`${where}: readOnlyRootFilesystem is not true`);
  if (csc.allowPrivilegeEscalation !== false) err(`${where}: allowPrivilegeEscalation is not false`);
  if (!(csc.capabilities?.drop ?? []).includes("ALL")) err(`${where}: capabilities do not drop ALL`);
  if ((csc.seccompProfile ?? psc.seccompProfile)?.type !== "RuntimeDefault") err(`${where}: seccompProfile is not RuntimeDefault`);
  const tmpMount = (app.volumeMounts ?? []).find((m) => m.mountPath === "/tmp");
  const tmpVolume = tmpMount && (pod.volumes ?? []).find((v) => v.name === tmpMount.name);
  if (!tmpVolume?.emptyDir) err(`${where}: /tmp is not an emptyDir volume`);
  for (const kind of ["requests", "limits"])
    for (const r of ["cpu", "memory"]) if (app.resources?.[kind]?.[r] === undefined) err(`${where}: no ${r} ${kind}`);

  // A custom model path must lie on a mounted volume or be the bundled package.
  const modelPath = setting("Model", "Path");
  if (modelPath !== undefined && !modelPath.startsWith("/app/models/")) {
    const mounted = (app.volumeMounts ?? []).some((m) => modelPath === m.mountPath || modelPath.startsWith(`${m.mountPath.replace(/\/$/, "")}/`));
    if (!mounted) err(`${where}: CaptionService__Model__Path ${modelPath} is neither the bundled package nor on a mounted volume`);
  }

  // Operator threads fit the CPUs the container may use (0, the default, sizes the pool to them).
  const intra = Number(setting("Model", "IntraOpThreads") ?? "0");
  const cpuLimit = quantityCpu(app.resources?.limits?.cpu);
  if (cpuLimit !== undefined && intra > Math.ceil(cpuLimit)) err(`${where}: IntraOpThreads ${intra} > CPU limit ${cpuLimit}`);

  // Service, HPA and PDB point at this Deployment's pods.
  for (const svc of docs.filter((d) => d.kind === "Service")) {
    if (!selects(svc.spec?.selector)) err(`Service ${svc.metadata.name}: selector does not match the pod labels`);
    for (const p of svc.spec?.ports ?? [])
      if (resolvePort(p.targetPort) === undefined) err(`Service ${svc.metadata.name}: targetPort ${p.targetPort} is not a container port`);
  }
  for (const pdb of docs.filter((d) => d.kind === "PodDisruptionBudget"))
    if (!selects(pdb.spec?.selector?.matchLabels)) err(`PodDisruptionBudget ${pdb.metadata.name}: selector does not match the pod labels`);
  for (const hpa of docs.filter((d) => d.kind === "HorizontalPodAutoscaler")) {
    const t = hpa.spec?.scaleTargetRef ?? {};
    if (t.kind !== "Deployment" || t.name !== deployment.metadata.name)
      err(`HorizontalPodAutoscaler ${hpa.metadata.name}: scaleTargetRef is ${t.kind}/${t.name}, not the Deployment`);
    if (deployment.spec?.replicas !== undefined) err(`Deployment sets replicas while an HPA scales it; re-applying would reset the count`);
    for (const metric of hpa.spec?.metrics ?? []) {
      if (metric.type === "Resource" && metric.resource?.target?.type === "Utilization" && !app.resources?.requests?.[metric.resource.name])
        err(`HorizontalPodAutoscaler ${hpa.metadata.name}: ${metric.resource.name} utilisation without a ${metric.resource.name} request`);
      const custom = metric.pods?.metric?.name ?? metric.object?.metric?.name;
      if (custom && !ctx.metricExists(custom))
        err(`HorizontalPodAutoscaler ${hpa.metadata.name}: metric ${custom} is not an instrument of src/ (GET /metrics)`);
    }
  }

  // Variant: GPU or not.
  const provider = (setting("Model", "ExecutionProvider") ?? optionDefault("Model", "ExecutionProvider")?.initializer ?? "")
    .replace(/^.*\./, "")
    .toLowerCase();
  const gpuRequest = app.resources?.limits?.[GPU_RESOURCE];
  const gpuTolerated = (pod.tolerations ?? []).some((t) => t.key === GPU_RESOURCE);
  const image = app.image ?? "";
  if (variant === "gpu") {
    if (String(gpuRequest) !== "1") err(`${where}: gpu variant must limit ${GPU_RESOURCE} to "1", found ${JSON.stringify(gpuRequest)}`);
    if (provider !== "cuda") err(`${where}: gpu variant must set ExecutionProvider=Cuda, found ${provider || "(unset)"}`);
    if (!/cuda/i.test(image)) err(`${where}: gpu variant must run the CUDA image, found ${image}`);
    if (!gpuTolerated) err(`${where}: gpu variant has no toleration for ${GPU_RESOURCE}`);
    if (Object.keys(pod.nodeSelector ?? {}).length === 0 && !pod.affinity?.nodeAffinity) err(`${where}: gpu variant selects no GPU nodes`);
  } else if (variant === "cpu") {
    for (const kind of ["requests", "limits"])
      for (const r of Object.keys(app.resources?.[kind] ?? {}))
        if (r.startsWith("nvidia.com/")) err(`${where}: cpu variant ${kind} ${r}`);
    if (provider === "cuda" || provider === "auto" || provider === "")
      err(`${where}: cpu variant must set ExecutionProvider=Cpu, found ${provider || "(unset)"}`);
    if (/cuda/i.test(image)) err(`${where}: cpu variant runs a CUDA image ${image}`);
    if (gpuTolerated) err(`${where}: cpu variant tolerates ${GPU_RESOURCE} taints`);
  } else err(`unknown variant ${variant}`);
  return errors;
}

// ---------------------------------------------------------------------------------------------
// Dockerfiles: dockerfile-utils lint (errors and warnings), and what the issue asks of each image.

export function dockerfileChecks(file, text) {
  const errors = lintDockerfile(text).map((d) => `${file}:${d.range.start.line + 1}: ${d.message}`);
  const flat = text.replace(/\\\n/g, " ");
  const stages = [...flat.matchAll(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/gim)].map((m) => m[1]);
  const args = Object.fromEntries([...flat.matchAll(/^ARG\s+(\w+)=(\S+)/gm)].map((m) => [m[1], m[2]]));
  const images = stages.map((s) => s.replace(/^\$\{?(\w+)\}?$/, (_, a) => args[a] ?? s));
  const final = flat.slice(flat.search(new RegExp(`^FROM\\s+${stages.at(-1)?.replace(/[$^{}]/g, "\\$&")}`, "m")));
  if (!images.includes("mcr.microsoft.com/dotnet/sdk:10.0")) errors.push(`${file}: does not build in mcr.microsoft.com/dotnet/sdk:10.0`);
  if (!images.includes("mcr.microsoft.com/dotnet/aspnet:10.0")) errors.push(`${file}: does not take the runtime from mcr.microsoft.com/dotnet/aspnet:10.0`);
  if (!/^USER\s+(\$\{?APP_UID\}?|1654)\s*$/m.test(final)) errors.push(`${file}: the final stage does not run as the app user (USER $APP_UID / 1654)`);
  if (!/^ENTRYPOINT\s+\[/m.test(final)) errors.push(`${file}: no exec-form ENTRYPOINT in the final stage (signals must reach the server)`);
  if (!/CaptionService__Logging__Format=Json/.test(final)) errors.push(`${file}: the image does not log compact JSON`);
  if (/:latest\b/.test(flat)) errors.push(`${file}: uses a :latest tag`);
  const cuda = file.endsWith(".cuda");
  const flavor = /OnnxRuntimeFlavor=(\w+)/g;
  const flavors = new Set([...flat.matchAll(flavor)].map((m) => m[1]));
  if (cuda) {
    if (!images.some((i) => /cuda:13\.[\d.]+-cudnn[\d]*-runtime-/.test(i))) errors.push(`${file}: the final stage is not a CUDA 13 + cuDNN runtime image`);
    if (flavors.size !== 1 || !flavors.has("gpu")) errors.push(`${file}: must build with -p:OnnxRuntimeFlavor=gpu only`);
    if (!/ExecutionProvider=Cuda/.test(final)) errors.push(`${file}: does not select the CUDA provider`);
  } else {
    if (flavors.size !== 1 || !flavors.has("cpu")) errors.push(`${file}: must build with -p:OnnxRuntimeFlavor=cpu only (no CUDA libraries)`);
    if (images.at(-1) !== "mcr.microsoft.com/dotnet/aspnet:10.0") errors.push(`${file}: the final stage is not mcr.microsoft.com/dotnet/aspnet:10.0`);
  }
  return errors;
}

// ---------------------------------------------------------------------------------------------
// Self-test: each breakage must be reported by the check named with it, with the expected message.

const deploymentOf = (docs) => docs.find((d) => d.kind === "Deployment");
const appOf = (docs) => deploymentOf(docs).spec.template.spec.containers[0];
const configOf = (docs) => docs.find((d) => d.kind === "ConfigMap");
const mutations = [
  ["tsc", "misspelt field", "imagePullPolcy", "cpu", (d) => { appOf(d).imagePullPolcy = "Always"; }],
  ["tsc", "number where a string belongs", "not assignable to type 'string'", "cpu", (d) => { appOf(d).image = 42; }],
  ["tsc", "missing required field", "selector", "gpu", (d) => { delete deploymentOf(d).spec.selector; }],
  ["models", "wrong type", "terminationGracePeriodSeconds", "cpu", (d) => { deploymentOf(d).spec.template.spec.terminationGracePeriodSeconds = "forty"; }],
  ["project", "probe path the app does not map", "/health/readyz is not a route", "cpu", (d) => { appOf(d).readinessProbe.httpGet.path = "/health/readyz"; }],
  ["project", "probe port not declared", "port metrics is not a declared container port", "gpu", (d) => { appOf(d).livenessProbe.httpGet.port = "metrics"; }],
  ["project", "container port other than the image's", "containerPort 9090 but docker/Dockerfile listens on 8080", "cpu", (d) => { appOf(d).ports[0].containerPort = 9090; }],
  ["project", "env var for a missing option", "has no settable property IntraOpThread", "cpu", (d) => { configOf(d).data.CaptionService__Model__IntraOpThread = "2"; }],
  ["project", "env var for a missing section", "no options class has SectionName \"CaptionService:Batcher\"", "gpu", (d) => { configOf(d).data.CaptionService__Batcher__MaxBatchSize = "8"; }],
  ["project", "env var value of the wrong type", "MaxQueueDelay=\"5ms\" is not a TimeSpan", "cpu", (d) => { configOf(d).data.CaptionService__Batching__MaxQueueDelay = "5ms"; }],
  ["project", "enum value not a member", "is not one of ExecutionProviderKind", "gpu", (d) => { configOf(d).data.CaptionService__Model__ExecutionProvider = "TensorRT"; }],
  ["project", "grace period too short", "terminationGracePeriodSeconds 25 < preStop 10 s + drain 20 s", "cpu", (d) => { deploymentOf(d).spec.template.spec.terminationGracePeriodSeconds = 25; }],
  ["project", "drain timeout beyond the grace period", "terminationGracePeriodSeconds 40 < preStop 10 s + drain 60 s", "gpu", (d) => { configOf(d).data.CaptionService__Shutdown__DrainTimeout = "00:01:00"; }],
  ["project", "no preStop sleep", "no preStop sleep", "cpu", (d) => { delete appOf(d).lifecycle; }],
  ["project", "writable root filesystem", "readOnlyRootFilesystem is not true", "cpu", (d) => { appOf(d).securityContext.readOnlyRootFilesystem = false; }],
  ["project", "capabilities kept", "capabilities do not drop ALL", "gpu", (d) => { appOf(d).securityContext.capabilities.drop = ["NET_RAW"]; }],
  ["project", "gpu variant without a GPU", "gpu variant must limit nvidia.com/gpu to \"1\"", "gpu", (d) => { delete appOf(d).resources.limits["nvidia.com/gpu"]; }],
  ["project", "gpu variant on the CPU provider", "gpu variant must set ExecutionProvider=Cuda, found cpu", "gpu", (d) => { configOf(d).data.CaptionService__Model__ExecutionProvider = "Cpu"; }],
  ["project", "cpu variant requesting a GPU", "cpu variant limits nvidia.com/gpu", "cpu", (d) => { appOf(d).resources.limits["nvidia.com/gpu"] = "1"; }],
  ["project", "cpu variant selecting CUDA", "cpu variant must set ExecutionProvider=Cpu, found cuda", "cpu", (d) => { configOf(d).data.CaptionService__Model__ExecutionProvider = "Cuda"; }],
  ["project", "Service selecting other pods", "selector does not match the pod labels", "cpu", (d) => { d.find((x) => x.kind === "Service").spec.selector = { app: "other" }; }],
  ["project", "autoscaling on a metric the server does not export", "metric captionservice_queue_length is not", "gpu", (d) => {
    d.find((x) => x.kind === "HorizontalPodAutoscaler").spec.metrics = [
      { type: "Pods", pods: { metric: { name: "captionservice_queue_length" }, target: { type: "AverageValue", averageValue: "8" } } },
    ];
  }],
  ["project", "TimeSpan outside the option's range", "is outside [0 s, 600 s]", "cpu", (d) => { configOf(d).data.CaptionService__Shutdown__DrainTimeout = "00:15:00"; }],
  ["project", "drain default from appsettings.json beyond the grace period", "terminationGracePeriodSeconds 20 < preStop 10 s + drain 20 s", "gpu", (d) => {
    delete configOf(d).data.CaptionService__Shutdown__DrainTimeout;
    deploymentOf(d).spec.template.spec.terminationGracePeriodSeconds = 20;
  }],
  ["project", "scrape annotation on the public port while /metrics moved", "prometheus.io/port 8080 is not the port /metrics is served on (9090)", "cpu", (d) => {
    deploymentOf(d).spec.template.metadata.annotations["prometheus.io/port"] = "8080";
  }],
  ["project", "management port set but not declared", "no container port named management with that number", "gpu", (d) => {
    appOf(d).ports = appOf(d).ports.filter((p) => p.name !== "management");
  }],
  ["project", "model path on no volume", "is neither the bundled package nor on a mounted volume", "cpu", (d) => { configOf(d).data.CaptionService__Model__Path = "/models/custom"; }],
  ["project", "threads beyond the CPU limit", "IntraOpThreads 16 > CPU limit 2", "cpu", (d) => { configOf(d).data.CaptionService__Model__IntraOpThreads = "16"; }],
];

/**
 * Applies every mutation; runs the models and project checks at once and returns the tsc sets
 * for the caller's single tsc run. Returns { failures, tscSets, count }.
 */
const dockerfileMutations = [
  ["Dockerfile lint", "unknown instruction", "docker/Dockerfile", "Unknown instruction", (t) => t.replace("\nEXPOSE 8080", "\nEXPOS 8080")],
  ["Dockerfile", "runs as root", "docker/Dockerfile", "does not run as the app user", (t) => t.replace(/^USER .*$/m, "USER root")],
  ["Dockerfile", "CUDA package in the CPU image", "docker/Dockerfile", "OnnxRuntimeFlavor=cpu only", (t) => t.replace(/OnnxRuntimeFlavor=cpu/g, "OnnxRuntimeFlavor=gpu")],
  ["Dockerfile", "CUDA image on CUDA 12", "docker/Dockerfile.cuda", "not a CUDA 13", (t) => t.replace(/cuda:13\.[\d.]+/, "cuda:12.8.1")],
];

async function selfTest(rendered, ctx) {
  const failures = [];
  const tscSets = [];
  for (const [check, name, file, expected, mutate] of dockerfileMutations) {
    const errors = dockerfileChecks(file, mutate(ctx.dockerfiles[file]));
    if (!errors.some((e) => e.includes(expected))) failures.push(`${check} check missed: ${name} (got ${JSON.stringify(errors)})`);
  }
  for (const [check, name, expected, variant, mutate] of mutations) {
    const docs = structuredClone(rendered[variant]);
    mutate(docs);
    if (check === "tsc") tscSets.push({ label: `selftest-${tscSets.length}`, docs, name, expected });
    else {
      const errors = check === "models" ? await modelsCheck(docs) : projectChecks(variant, docs, ctx);
      if (!errors.some((e) => e.includes(expected)))
        failures.push(`${check} check missed: ${name} (wanted "${expected}", got ${JSON.stringify(errors)})`);
    }
  }
  return { failures, tscSets, count: mutations.length + dockerfileMutations.length };
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const args = process.argv.slice(2);
  const repo = path.resolve(args[args.indexOf("--repo") + 1]);
  const targets = args.filter((a) => a.includes("=")).map((a) => {
    const [variant, file] = a.split("=");
    return { variant: variant.split(":")[0], label: variant, file };
  });
  const sources = readSources(repo);
  if (sources.options.length === 0) throw new Error("no options classes (const string SectionName) found under src/");
  // Metric names as GET /metrics exports them. EngineMeterExporter names a
  // System.Diagnostics.Metrics instrument "<meter>_<instrument>", lower case, other characters
  // as underscores (meter CaptionService + queue.depth ->
  // captionservice_queue_depth); prometheus-net's own metrics keep their name.
  const promName = (s) => s.toLowerCase().replace(/[^a-z0-9_]/g, "_");
  const meters = new Set();
  const instruments = new Set();
  const metricNames = new Set();
  for (const f of sources.files) {
    const text = stripComments(fs.readFileSync(f, "utf8"));
    for (const m of text.matchAll(/(?:MeterName\s*=|new\s+Meter\()\s*"([^"]+)"/g)) meters.add(m[1]);
    for (const m of text.matchAll(/\.Create(?:Observable)?(?:Counter|UpDownCounter|Gauge|Histogram)(?:<[^>]+>)?\(\s*"([^"]+)"/g))
      instruments.add(m[1]);
    for (const m of text.matchAll(/Metrics\.Create(?:Counter|Gauge|Histogram|Summary)\(\s*"([^"]+)"/g)) metricNames.add(m[1]);
  }
  for (const meter of meters) for (const instrument of instruments) metricNames.add(promName(`${meter}.${instrument}`));
  const appSettingsFile = path.join(repo, "src/CaptionService.Api/appsettings.json");
  const ctx = {
    sources,
    // The server's own defaults where the manifests set nothing (appsettings.json, then the C# initialiser).
    appSettings: fs.existsSync(appSettingsFile) ? JSON.parse(fs.readFileSync(appSettingsFile, "utf8")) : {},
    imagePorts: Object.fromEntries(
      ["docker/Dockerfile", "docker/Dockerfile.cuda"].map((f) => [f, dockerfilePorts(path.join(repo, f))]),
    ),
    metricExists: (name) => metricNames.has(name),
  };

  const problems = [];
  ctx.dockerfiles = {};
  for (const f of ["docker/Dockerfile", "docker/Dockerfile.cuda"]) {
    ctx.dockerfiles[f] = fs.readFileSync(path.join(repo, f), "utf8");
    problems.push(...dockerfileChecks(f, ctx.dockerfiles[f]));
  }
  const rendered = {};
  const sets = [];
  for (const t of targets) {
    const docs = parseAllDocuments(fs.readFileSync(t.file, "utf8")).map((d) => {
      if (d.errors.length) throw new Error(`${t.file}: ${d.errors[0].message}`);
      return d.toJS();
    }).filter(Boolean);
    if (docs.length === 0) problems.push(`${t.label}: nothing rendered`);
    sets.push({ label: t.label, docs });
    rendered[t.variant] ??= docs;
    for (const e of await modelsCheck(docs)) problems.push(`${t.label}: kubernetes-models: ${e}`);
    for (const e of projectChecks(t.variant, docs, ctx)) problems.push(`${t.label}: ${e}`);
  }
  if (!rendered.cpu || !rendered.gpu) throw new Error("both a cpu and a gpu variant must be checked");
  const self = await selfTest(rendered, ctx);
  // One tsc run for the real renderings and the self-test's broken copies.
  const tsc = tscCheck([...sets, ...self.tscSets]);
  for (const { label } of sets) for (const e of tsc.get(label)) problems.push(`${label}: tsc: ${e}`);
  for (const set of self.tscSets)
    if (!tsc.get(set.label).some((e) => e.includes(set.expected)))
      self.failures.push(`tsc check missed: ${set.name} (wanted "${set.expected}", got ${JSON.stringify(tsc.get(set.label))})`);
  problems.push(...self.failures.map((f) => `self-test: ${f}`));
  if (self.failures.length === 0) console.log(`check-manifests: self-test caught ${self.count}/${self.count} breakages`);
  const objects = sets.reduce((n, s) => n + s.docs.length, 0);
  if (problems.length) {
    for (const p of problems) console.error(`FAIL ${p}`);
    console.error(`check-manifests: ${problems.length} problem(s) in ${objects} objects`);
    process.exit(1);
  }
  console.log(
    `check-manifests: ${objects} objects in ${sets.length} renderings pass tsc --strict, kubernetes-models and ` +
      `project checks; both Dockerfiles pass lint and image checks (options classes: ${sources.options.map((o) => o.className).join(", ")})`,
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(`check-manifests: ${e.stack ?? e}`);
    process.exit(2);
  });
}
