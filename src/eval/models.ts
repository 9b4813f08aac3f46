/** The role models of an eval run, built once from specs (or given as objects) and shared by every step or episode. */
import { CassetteWriter, modelFromSpec, RecordingModel, type Role, type RoleModel } from "../models/index.js";

export function evalRoles(singleLlm: boolean): Role[] {
  return singleLlm ? ["backbone"] : ["planner", "caller", "summarizer"];
}

/** A model per role the run uses; with `record`, every prompt and output is also appended to that cassette. */
export function evalModels(specs: Partial<Record<Role, string | RoleModel>>, singleLlm: boolean, record?: string): Partial<Record<Role, RoleModel>> {
  const writer = record ? new CassetteWriter(record) : undefined;
  const models: Partial<Record<Role, RoleModel>> = {};
  for (const role of evalRoles(singleLlm)) {
    const spec = specs[role];
    if (!spec) throw new Error(`no ${role} model: pass --${role} SPEC`);
    const model = typeof spec === "string" ? modelFromSpec(spec, role) : spec;
    models[role] = writer ? new RecordingModel(model, role, writer) : model;
  }
  return models;
}
