import type { ModelLineage, ModelVersion } from '../../domain/registry/model-version.js';

/** A model_versions row as both stores return it (lineage as JSON text in SQLite, jsonb in PostgreSQL). */
export interface ModelVersionRow {
  readonly version_id: string;
  readonly model_id: string;
  readonly model_version: string;
  readonly model_sha256: string;
  readonly name: string;
  readonly parent_version_id: string | null;
  readonly lineage: string | ModelLineage;
  readonly files: number | string;
  readonly bytes: number | string;
  readonly registered_at_ms: number | string;
  readonly registered_by: string;
}

export function modelVersionOf(row: ModelVersionRow): ModelVersion {
  return {
    versionId: row.version_id,
    model: { id: row.model_id, version: row.model_version, sha256: row.model_sha256 },
    name: row.name,
    parentVersionId: row.parent_version_id,
    lineage: typeof row.lineage === 'string' ? (JSON.parse(row.lineage) as ModelLineage) : row.lineage,
    files: Number(row.files),
    bytes: Number(row.bytes),
    registeredAt: new Date(Number(row.registered_at_ms)).toISOString(),
    registeredBy: row.registered_by,
  };
}

/** The row's values in column order (version_id … registered_by). */
export function modelVersionValues(v: ModelVersion): [string, string, string, string, string, string | null, string, number, number, number, string] {
  return [
    v.versionId,
    v.model.id,
    v.model.version,
    v.model.sha256,
    v.name,
    v.parentVersionId,
    JSON.stringify(v.lineage),
    v.files,
    v.bytes,
    Date.parse(v.registeredAt),
    v.registeredBy,
  ];
}

export const MODEL_VERSION_COLUMNS =
  'version_id, model_id, model_version, model_sha256, name, parent_version_id, lineage, files, bytes, registered_at_ms, registered_by';
