/**
 * Every (operation, status) the suite meets must be one the OpenAPI document declares: the
 * harness's `request()` records what each test server answered, and the server's `close()`
 * checks the record against that server's own document, so a file fails where the answer
 * was met, whatever order or subset of files `bun test` runs.
 */
type Doc = { paths: Record<string, Record<string, { responses?: Record<string, unknown> }>> }

/** Static segments before parameters: `/v1/orders/{id}/payments` is matched before a broader template would be. */
const matchers = (doc: Doc) =>
  Object.keys(doc.paths)
    .map((template) => ({ template, pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}/?$`), params: template.split('{').length }))
    .sort((a, b) => a.params - b.params)

export class AnswerRecord {
  private readonly met = new Map<string, number[]>()

  /** One answer: `path` may carry a query (left off). */
  add(method: string, path: string, status: number) {
    const key = `${method === 'HEAD' ? 'GET' : method} ${path.split('?')[0]}`
    const statuses = this.met.get(key) ?? []
    if (!statuses.includes(status)) this.met.set(key, [...statuses, status])
  }

  /** `METHOD /template status` of each answer met on a documented operation that its document does not declare. */
  undeclared(doc: Doc): string[] {
    const templates = matchers(doc)
    const out = new Set<string>()
    for (const [key, statuses] of this.met) {
      const [method, path] = key.split(' ') as [string, string]
      const template = templates.find((t) => t.pattern.test(path) && doc.paths[t.template]?.[method.toLowerCase()])?.template
      // No such operation (an unknown route's 404, a wrong method's 405): nothing to declare.
      if (!template) continue
      const declared = doc.paths[template]![method.toLowerCase()]!.responses ?? {}
      for (const status of statuses) if (!(String(status) in declared)) out.add(`${method} ${template} ${status}`)
    }
    return [...out].sort()
  }
}
