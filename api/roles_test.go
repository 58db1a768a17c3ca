package api_test

import (
	"slices"
	"testing"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/api"
)

func TestOperationRoles(t *testing.T) {
	for op, want := range map[string][]breach.Role{
		"dispatchBreach":      {breach.RoleAdmin},
		"createPrintBatch":    {breach.RoleAdmin, breach.RoleClerk},
		"listPrintBatches":    {breach.RoleAdmin, breach.RoleClerk, breach.RoleAuditor},
		"exportNotices":       {breach.RoleAdmin, breach.RoleAuditor},
		"getHealthz":          nil, // public: no signed-in role is needed, none is listed
		"noSuchOperationEver": nil,
	} {
		if got := api.OperationRoles(op); !slices.Equal(got, want) {
			t.Errorf("OperationRoles(%s) = %v, want %v", op, got, want)
		}
	}
}
