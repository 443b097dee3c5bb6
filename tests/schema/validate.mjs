// Validates rendered Kubernetes objects against the kubernetes-models (OpenAPI) schemas.
// Usage: node validate.mjs [file.json]   (default /dev/stdin)
// Input: one object, a JSON array of objects, or a List with "items".
// Prints "valid Kind/name" or "invalid Kind/name: <errors>" per object; exit 1 if any is
// invalid, 2 if the input cannot be read or parsed.
import { readFileSync } from "node:fs";
import { Job } from "kubernetes-models/batch/v1/Job";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { Pod } from "kubernetes-models/v1/Pod";
import { Role } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role";
import { RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";

const MODELS = new Map(
  [Job, ConfigMap, ServiceAccount, Secret, Service, Pod, Role, RoleBinding, Deployment].map(
    (Model) => [`${Model.apiVersion}/${Model.kind}`, Model],
  ),
);

// ConfigMaps with this name suffix hold one Job manifest per queue; every value must be one.
const JOB_MANIFESTS_SUFFIX = "-k8s-jobs-manifests";

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const label = (obj) => `${obj?.kind ?? "?"}/${obj?.metadata?.name ?? "?"}`;

function schemaErrors(Model, obj) {
  try {
    new Model(obj).validate();
    return [];
  } catch (e) {
    if (!Array.isArray(e.errors)) return [e.message];
    return e.errors.map((err) => `${err.instancePath || "/"} ${err.message} ${JSON.stringify(err.params)}`);
  }
}

// Unknown kinds: only the fields every object needs.
function genericErrors(obj) {
  const errors = [];
  for (const [field, value] of [["apiVersion", obj.apiVersion], ["kind", obj.kind], ["metadata.name", obj.metadata?.name]]) {
    if (typeof value !== "string" || value === "") errors.push(`${field} must be a non-empty string`);
  }
  return errors;
}

let failures = 0;

function report(name, errors, note = "") {
  if (errors.length === 0) {
    console.log(`valid ${name}${note}`);
  } else {
    failures++;
    console.log(`invalid ${name}${note}: ${errors.join("; ")}`);
  }
}

function validateObject(obj, where) {
  if (!isObject(obj)) {
    report(where, ["not a JSON object"]);
    return;
  }
  const Model = MODELS.get(`${obj.apiVersion}/${obj.kind}`);
  report(label(obj), Model ? schemaErrors(Model, obj) : genericErrors(obj), Model ? "" : " (generic check)");
  if (Model === ConfigMap && isObject(obj.data)) validateJobManifests(obj);
}

function validateJobManifests(configMap) {
  const required = String(configMap.metadata?.name ?? "").endsWith(JOB_MANIFESTS_SUFFIX);
  for (const [queue, text] of Object.entries(configMap.data)) {
    const where = ` (${label(configMap)} data.${queue})`;
    let manifest;
    try {
      manifest = JSON.parse(text);
    } catch (e) {
      if (required) report(`Job/?`, [`not JSON: ${e.message}`], where);
      continue;
    }
    const looksLikeJob = isObject(manifest) && manifest.kind === "Job";
    if (!required && !looksLikeJob) continue;
    if (!isObject(manifest) || manifest.apiVersion !== Job.apiVersion || manifest.kind !== Job.kind) {
      report(label(manifest), [`expected apiVersion ${Job.apiVersion} and kind ${Job.kind}`], where);
      continue;
    }
    report(label(manifest), schemaErrors(Job, manifest), where);
  }
}

const path = process.argv[2] ?? "/dev/stdin";
let input;
try {
  input = JSON.parse(readFileSync(path, "utf8"));
} catch (e) {
  console.error(`cannot read ${path}: ${e.message}`);
  process.exit(2);
}

const objects = Array.isArray(input)
  ? input
  : isObject(input) && input.kind === "List" && Array.isArray(input.items)
    ? input.items
    : [input];
objects.forEach((obj, i) => validateObject(obj, `item ${i}`));
process.exit(failures > 0 ? 1 : 0);
