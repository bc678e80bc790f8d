import type { FastifyRequest, FastifySchemaValidationError } from 'fastify'
import type { ValidationIssue } from '../../errors.js'

const TYPE_NAMES: Record<string, [string, string]> = {
  string: ['string_type', 'Input should be a valid string'],
  integer: ['int_type', 'Input should be a valid integer'],
  number: ['float_type', 'Input should be a valid number'],
  boolean: ['bool_type', 'Input should be a valid boolean'],
  object: ['dict_type', 'Input should be a valid dictionary or object'],
  array: ['list_type', 'Input should be a valid list'],
  null: ['none_type', 'Input should be None'],
}

const FORMATS: Record<string, [string, string]> = {
  email: ['value_error', 'value is not a valid email address'],
  uuid: ['uuid_parsing', 'Input should be a valid UUID'],
}

const CONTEXT_LOC: Record<string, string> = {
  querystring: 'query',
  params: 'path',
  headers: 'header',
}

/** Translates Ajv errors into FastAPI's `detail` list. Never includes the submitted value. */
export function toValidationIssues(
  errors: FastifySchemaValidationError[],
  context: string | undefined,
  request: FastifyRequest,
): ValidationIssue[] {
  const part = CONTEXT_LOC[context ?? 'body'] ?? 'body'
  const issues = errors.map((e): ValidationIssue => {
    const path = e.instancePath
      .split('/')
      .slice(1)
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
      .map((s) => (/^\d+$/.test(s) ? Number(s) : s))
    const loc: (string | number)[] = [part, ...path]
    const p = e.params as Record<string, unknown>
    switch (e.keyword) {
      case 'required':
        return { loc: [...loc, String(p.missingProperty)], msg: 'Field required', type: 'missing' }
      case 'type': {
        if (path.length === 0 && part === 'body' && request.body == null) {
          return { loc, msg: 'Field required', type: 'missing' }
        }
        const [type, msg] = TYPE_NAMES[String(p.type).split(',')[0] ?? ''] ?? [
          'type_error',
          'Invalid type',
        ]
        return { loc, msg, type }
      }
      case 'format': {
        const [type, msg] = FORMATS[String(p.format)] ?? [
          'value_error',
          `Input should be a valid ${p.format}`,
        ]
        return { loc, msg, type }
      }
      case 'minLength':
        return {
          loc,
          msg: `String should have at least ${p.limit} characters`,
          type: 'string_too_short',
        }
      case 'maxLength':
        return {
          loc,
          msg: `String should have at most ${p.limit} characters`,
          type: 'string_too_long',
        }
      case 'pattern':
        return {
          loc,
          msg: 'String has characters that are not allowed',
          type: 'string_pattern_mismatch',
        }
      case 'minimum':
        return {
          loc,
          msg: `Input should be greater than or equal to ${p.limit}`,
          type: 'greater_than_equal',
        }
      case 'maximum':
        return {
          loc,
          msg: `Input should be less than or equal to ${p.limit}`,
          type: 'less_than_equal',
        }
      case 'minProperties':
        return { loc, msg: 'At least one field is required', type: 'missing' }
      default:
        return { loc, msg: 'Invalid value', type: 'value_error' }
    }
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
