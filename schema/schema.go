package schema

import (
	"bytes"
	_ "embed"
)

var (
	//go:embed job.schema.json
	job []byte
	//go:embed result.schema.json
	result []byte
)

// Job returns job.schema.json, the schema of a job's payload.
func Job() []byte { return bytes.Clone(job) }

// Result returns result.schema.json, the schema of a job's result.
func Result() []byte { return bytes.Clone(result) }
