import { Type } from 'typebox'

export const StatusOut = Type.Object({ status: Type.String() })

const Dependency = Type.Union([Type.Literal('database'), Type.Literal('redis')])

/** /readyz's 503: which dependency did not answer, never how it failed. */
export const NotReadyOut = Type.Object({
  detail: Type.String(),
  failed: Type.Array(Dependency, { description: 'the dependencies that did not answer' }),
})
