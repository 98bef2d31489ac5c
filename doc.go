// Package empplay holds the domain of the empplay render fleet: the job and
// result wire formats that producers depend on, job validation, the stable
// error codes a failed result carries, and the process exit codes shared by
// the supervisor and its workers. The same wire formats as JSON Schemas,
// for producers in other languages, are in package schema; tests hold
// them to [Parse] and [Result].
//
// It imports nothing from the rest of the module; every other package
// depends on it, never the other way round.
package empplay
