import { api } from '../api/client.js';
import { ErrorMessage } from '../components/error-message.js';
import { formatBytes, formatDateTime, shortVersion } from '../format.js';
import { Link } from '../router.js';
import { useResource } from '../use-resource.js';

/** One registered model version: what it is, where it came from (lineage) and who registered it. */
export function ModelVersionScreen({ versionId }: { readonly versionId: string }) {
  const { data, error } = useResource(`model-version:${versionId}`, (signal) => api.modelVersion(versionId, signal));
  if (error !== undefined) return <ErrorMessage error={error} what={`the model version ${shortVersion(versionId)}`} />;
  if (data === undefined) return <p className="muted">Loading the model version…</p>;
  const optional = (value: string | null) => (value === null ? <span className="muted">not recorded</span> : <code className="hash">{value}</code>);
  return (
    <>
      <div className="page-head">
        <p className="small">
          <Link to="/releases">Deployments &amp; releases</Link> · <Link to="/model">Model in service</Link>
        </p>
        <h1>
          {data.name} <span className="muted">{data.model.version}</span>
        </h1>
        <p className="muted">
          Version <code title={data.versionId}>{shortVersion(data.versionId)}</code>, registered {formatDateTime(data.registeredAt)} by {data.registeredBy}
        </p>
      </div>
      <section className="panel" aria-labelledby="version-heading">
        <h2 id="version-heading">Registry record</h2>
        <dl className="facts">
          <dt>Version id</dt>
          <dd>
            <code className="hash">{data.versionId}</code>
          </dd>
          <dt>Model</dt>
          <dd>
            <code>{data.model.id}</code> {data.model.version}
          </dd>
          <dt>Weights sha256</dt>
          <dd>
            <code className="hash">{data.model.sha256}</code>
          </dd>
          <dt>Bundle</dt>
          <dd>
            {data.files} files, {formatBytes(data.bytes)}
          </dd>
          <dt>Derived from</dt>
          <dd>
            {data.parentVersionId === null ? (
              <span className="muted">none</span>
            ) : (
              <Link to={`/model/versions/${data.parentVersionId}`}>{shortVersion(data.parentVersionId)}</Link>
            )}
          </dd>
          <dt>Derived by</dt>
          <dd>{data.lineage.derivedBy ?? <span className="muted">not recorded</span>}</dd>
          <dt>Training data</dt>
          <dd>{optional(data.lineage.trainingDataSha256)}</dd>
          <dt>Validation data</dt>
          <dd>{optional(data.lineage.validationDataSha256)}</dd>
          <dt>Code</dt>
          <dd>{data.lineage.codeReference ?? <span className="muted">not recorded</span>}</dd>
        </dl>
      </section>
    </>
  );
}
