import type { FastifyRequest, FastifySchemaValidationError } from 'fastify'
import {
  describeIssue,
  type FieldIssue,
  type IssueName,
  type ValidationIssue,
} from '../../errors.js'

type Loc = ValidationIssue['loc']

/** An issue of kind `name` at `loc`, in FastAPI's shape (and key order). */
export function issueAt(
  loc: Loc,
  name: IssueName,
  params?: Record<string, string | number>,
): ValidationIssue {
  const { msg, type } = describeIssue(name, params)
  return { loc, msg, type }
}

/** A service's field issues on the wire: the fields are the request body's. */
export const bodyIssues = (issues: FieldIssue[]): ValidationIssue[] =>
  issues.map(({ field, index, msg, type }) => ({
    loc: index === undefined ? ['body', field] : ['body', field, index],
    msg,
    type,
  }))

/** A 422 found by the HTTP layer itself (a U+0000 in a field), its `loc` already known. */
export class RequestValidationError extends Error {
  override name = 'RequestValidationError'
  readonly statusCode = 422
  constructor(readonly issues: ValidationIssue[]) {
    super(issues.map((i) => i.msg).join('; '))
  }
}

const TYPE_ISSUES: Record<string, IssueName> = {
  string: 'stringType',
  integer: 'intType',
  number: 'floatType',
  boolean: 'boolType',
  object: 'dictType',
  array: 'listType',
  null: 'noneType',
}

const FORMAT_ISSUES: Record<string, IssueName> = { email: 'email', uuid: 'uuid' }

const CONTEXT_LOC: Record<string, string> = {
  querystring: 'query',
  params: 'path',
  headers: 'header',
}

/** The issue an Ajv error stands for; `part` and `path` make its `loc`. */
function toIssue(e: FastifySchemaValidationError, loc: Loc, bodyAbsent: boolean): ValidationIssue {
  const p = e.params as Record<string, unknown>
  const limit = String(p.limit)
  switch (e.keyword) {
    case 'required':
      return issueAt([...loc, String(p.missingProperty)], 'missing')
    case 'type': {
      if (bodyAbsent) return issueAt(loc, 'missing')
      return issueAt(loc, TYPE_ISSUES[String(p.type).split(',')[0] ?? ''] ?? 'otherType')
    }
    case 'format': {
      const format = String(p.format)
      return issueAt(loc, FORMAT_ISSUES[format] ?? 'otherFormat', { format })
    }
    case 'minLength':
      return issueAt(loc, 'tooShort', { limit })
    case 'maxLength':
      return issueAt(loc, 'tooLong', { limit })
    case 'pattern':
      return issueAt(loc, 'pattern')
    case 'minimum':
      return issueAt(loc, 'tooSmall', { limit })
    case 'maximum':
      return issueAt(loc, 'tooBig', { limit })
    case 'minProperties':
      return issueAt(loc, 'noFields')
    default:
      return issueAt(loc, 'invalid')
  }
}

/** Translates Ajv errors into FastAPI's `detail` list. Never includes the submitted value. */
export function toValidationIssues(
  errors: FastifySchemaValidationError[],
  context: string | undefined,
  request: FastifyRequest,
): ValidationIssue[] {
  const part = CONTEXT_LOC[context ?? 'body'] ?? 'body'
  const issues = errors.map((e) => {
    const path = e.instancePath
      .split('/')
      .slice(1)
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
      .map((s) => (/^\d+$/.test(s) ? Number(s) : s))
    const bodyAbsent = path.length === 0 && part === 'body' && request.body == null
    return toIssue(e, [part, ...path], bodyAbsent)
  })
  // anyOf/oneOf add summary errors; keep one issue per place and kind.
  const seen = new Set<string>()
  return issues.filter((i) => {
    const key = `${i.loc.join('.')}|${i.type}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}
