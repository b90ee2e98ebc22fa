// Validates Kubernetes manifests offline against the Kubernetes OpenAPI schemas bundled in the
// `kubernetes-models` package (no cluster, no network): every document of every file given on the command
// line must have a known apiVersion/kind and pass that kind's schema (types, required fields, enums).
//
//   npm ci --prefix deploy/k8s/validate
//   node deploy/k8s/validate/validate.mjs deploy/k8s/*.yaml
//
// Prints one line per object ("ok <file> <kind>/<name>" or "FAIL <file> ...: <reason>") and exits 1 if any
// object fails, 2 on bad usage. ConfigMap data keys ending in .yaml/.yml are parsed as YAML too, so a broken
// embedded Loki or Promtail config fails here rather than at pod start.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { parseAllDocuments, parse } from "yaml";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node validate.mjs FILE.yaml...");
  process.exit(2);
}

// "apps/v1" -> kubernetes-models/apps/v1; "v1" (the core group) -> kubernetes-models/v1.
async function modelFor(apiVersion, kind) {
  if (typeof apiVersion !== "string" || !/^([a-z0-9.-]+\/)?v[0-9]+((alpha|beta)[0-9]+)?$/.test(apiVersion)) {
    throw new Error(`invalid apiVersion ${JSON.stringify(apiVersion)}`);
  }
  let module;
  try {
    module = await import(`kubernetes-models/${apiVersion}`);
  } catch {
    throw new Error(`unknown apiVersion ${apiVersion}`);
  }
  const model = module[kind];
  if (typeof model !== "function" || model.kind !== kind) {
    throw new Error(`unknown kind ${kind} in ${apiVersion}`);
  }
  return model;
}

function describe(error) {
  if (Array.isArray(error?.errors)) {
    return error.errors.map((e) => `${e.instancePath || "/"} ${e.message}${e.params ? " " + JSON.stringify(e.params) : ""}`).join("; ");
  }
  return error?.message ?? String(error);
}

let failures = 0;
let objects = 0;
for (const file of files) {
  const name = basename(file);
  let documents;
  try {
    documents = parseAllDocuments(readFileSync(file, "utf8"), { uniqueKeys: true, strict: true });
  } catch (e) {
    console.log(`FAIL ${name}: cannot read: ${describe(e)}`);
    failures++;
    continue;
  }
  for (const document of documents) {
    if (document.errors.length > 0) {
      console.log(`FAIL ${name}: YAML: ${document.errors.map((e) => e.message).join("; ")}`);
      failures++;
      continue;
    }
    const object = document.toJS();
    if (object === null || object === undefined) {
      continue; // an empty document (a trailing ---)
    }
    objects++;
    const id = `${object.kind ?? "?"}/${object.metadata?.name ?? "?"}`;
    try {
      const Model = await modelFor(object.apiVersion, object.kind);
      new Model(object).validate();
      if (object.kind === "ConfigMap") {
        for (const [key, value] of Object.entries(object.data ?? {})) {
          if (/\.ya?ml$/.test(key)) {
            try {
              parse(value, { uniqueKeys: true, strict: true });
            } catch (e) {
              throw new Error(`data.${key} is not valid YAML: ${describe(e)}`);
            }
          }
        }
      }
      console.log(`ok ${name} ${id}`);
    } catch (e) {
      console.log(`FAIL ${name} ${id}: ${describe(e)}`);
      failures++;
    }
  }
}

console.log(`${objects} objects, ${failures} failures`);
process.exit(failures === 0 ? 0 : 1);
