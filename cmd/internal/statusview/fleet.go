package statusview

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// cacheCell is the CACHE column: the backend, and for the fleet (etcd)
// the cluster's state and whether it holds a fresh token for the profile.
func cacheCell(r Row, now time.Time) string {
	f := r.Fleet
	if f == nil {
		return r.Backend
	}
	switch {
	case f.Error != "" && !f.Reachable && !strings.Contains(f.Error, "unreachable"):
		return r.Backend + " refusing"
	case !f.Reachable:
		return r.Backend + " unreachable"
	}
	state := "healthy"
	if !f.Healthy {
		state = "reachable, not every member answers"
	}
	token := "no fleet token"
	switch {
	case f.TokenValid:
		token = "fleet token valid " + Relative(f.ValidUntil.Sub(now))
	case !f.ValidUntil.IsZero():
		token = "fleet token expired"
	}
	return r.Backend + " " + state + ", " + token
}

// writeFleetEndpoints ends the table with the etcd endpoints asked, once.
func writeFleetEndpoints(w io.Writer, rows []Row) {
	for _, r := range rows {
		if r.Fleet != nil {
			fmt.Fprintf(w, "etcd endpoints: %s\n", strings.Join(r.Fleet.Endpoints, ", "))
			return
		}
	}
}
