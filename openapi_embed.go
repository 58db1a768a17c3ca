package breach

import _ "embed"

// OpenAPI is the REST contract (openapi.yaml): the API serves it, validates requests against it,
// and the tests validate every response against it.
//
//go:embed openapi.yaml
var OpenAPI []byte
