package api

import (
	"sync"

	breach "github.com/breachd/breachd"
)

// operationRoleTable maps each operationId of the contract to the roles its x-roles allow, read once
// from the embedded openapi.yaml: the same list guard enforces.
var operationRoleTable = sync.OnceValue(func() map[string][]breach.Role {
	doc, err := LoadSpec()
	if err != nil {
		// The embedded contract is checked by every test of this package and at New; a binary
		// whose contract does not load allows nothing.
		return nil
	}
	out := map[string][]breach.Role{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			var roles []breach.Role
			for _, r := range operationRoles(op) {
				if r != "public" {
					roles = append(roles, breach.Role(r))
				}
			}
			out[op.OperationID] = roles
		}
	}
	return out
})

// OperationRoles returns the roles the contract's x-roles allow for the operation opID (nil for an
// unknown operation or a public one), so that a client in process — the console — offers a person
// only what the API will let them do, without a second copy of the list.
func OperationRoles(opID string) []breach.Role {
	return operationRoleTable()[opID]
}
