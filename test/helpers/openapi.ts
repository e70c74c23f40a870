import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { openApiDocument } from '../../src/openapi';

type Spec = typeof openApiDocument;
interface ResponseSpec {
  headers?: Record<string, { required?: boolean }>;
  content?: Record<string, { schema?: object }>;
}

const ajv = new Ajv2020({ strict: false, allErrors: true });
// Formats (date-time) checked, not ignored.
addFormats(ajv);
ajv.addSchema({ ...openApiDocument, $id: 'spec' });

/** JSON-pointer escaping of one path segment. */
const pointer = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

/** The documented path template a concrete path matches (templates without parameters first). */
function templateFor(path: string): string | undefined {
  const templates = Object.keys(openApiDocument.paths).sort((a, b) => (a.includes('{') ? 1 : 0) - (b.includes('{') ? 1 : 0) || b.length - a.length);
  return templates.find((t) => new RegExp(`^${t.replace(/[.]/g, '\\.').replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path));
}

export interface ObservedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
  text?: string;
}

/**
 * Checks one real response against the OpenAPI document: its path and method are documented, its status is
 * one of the operation's, its required headers are there, and a JSON body matches the documented schema.
 * Returns the problems found (none: the interface and its document agree).
 */
export function specProblems(method: string, url: string, res: ObservedResponse): string[] {
  const path = url.split('?')[0]!;
  const template = templateFor(path);
  if (!template) return [`${path} is not in the OpenAPI document`];
  const item = openApiDocument.paths[template as keyof Spec['paths']] as Record<string, { responses: Record<string, ResponseSpec> }>;
  const operation = item[method.toLowerCase()];
  if (!operation) return [`${method} ${template} is not documented`];
  const response = operation.responses[String(res.status)];
  if (!response) return [`${method} ${template} does not document status ${res.status}`];
  const problems: string[] = [];
  for (const [name, spec] of Object.entries(response.headers ?? {})) {
    if (spec.required && res.headers[name.toLowerCase()] === undefined) problems.push(`header ${name} missing on ${res.status}`);
  }
  const contentType = String(res.headers['content-type'] ?? '');
  if (contentType.startsWith('application/json') && res.status !== 304) {
    if (!response.content?.['application/json']) return [...problems, `${res.status} is not documented as JSON`];
    const schemaRef = `spec#/paths/${pointer(template)}/${method.toLowerCase()}/responses/${res.status}/content/${pointer('application/json')}/schema`;
    const validate = ajv.getSchema(schemaRef) ?? ajv.compile({ $ref: schemaRef });
    const body = res.body !== undefined && !Buffer.isBuffer(res.body) ? res.body : JSON.parse(res.text ?? Buffer.from(res.body as Buffer).toString('utf8'));
    if (!validate(body)) problems.push(...(validate.errors ?? []).map((e) => `body${e.instancePath} ${e.message}`));
  }
  return problems;
}
