// Package statusview is what `status` shows of the profiles' cache state:
// a table for people, JSON for programs, never a secret. The engine
// collects the facts (helper.Status); this package picks the profiles,
// words the times and lays out the columns.
package statusview

import (
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/veeam-tools/veeam-credential-helper/exitcode"
	"github.com/veeam-tools/veeam-credential-helper/helper"
)

// Row is one profile's line: helper.Status and what the configuration
// adds. Times are nil when there is none (JSON null).
type Row struct {
	Profile             string     `json:"profile"`
	Default             bool       `json:"default"`
	Product             string     `json:"product"`
	URL                 string     `json:"url"`
	Username            string     `json:"username"`
	Grant               string     `json:"grant"`
	Backend             string     `json:"cache_backend"`
	ValidUntil          *time.Time `json:"access_token_valid_until"`
	Valid               bool       `json:"access_token_valid"`
	Static              bool       `json:"static_key"`
	RefreshTokenPresent bool       `json:"refresh_token_present"`
	SecretStored        bool       `json:"secret_stored"`
	Error               *string    `json:"error"`
	// Fleet is the etcd cluster's view, for backend etcd only (fleet.go).
	Fleet *helper.FleetStatus `json:"fleet,omitempty"`
}

// Select is the profiles `status` shows: all of names, or those pattern
// matches (a name, or a glob as path.Match knows it: "vb*", "prod-?").
// A pattern that matches nothing is a usage error naming the profiles.
func Select(names []string, pattern string) ([]string, error) {
	if pattern == "" {
		return names, nil
	}
	if _, err := path.Match(pattern, ""); err != nil {
		return nil, exitcode.UsageError("-p %q is not a profile name or glob: %v", pattern, err)
	}
	var out []string
	for _, n := range names {
		if ok, _ := path.Match(pattern, n); ok {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		what := "unknown profile"
		if strings.ContainsAny(pattern, `*?[\`) {
			what = "no profile matches"
		}
		return nil, exitcode.UsageError("%s %q (have: %s)", what, pattern, strings.Join(names, ", "))
	}
	return out, nil
}

// Rows turns the engine's statuses into rows; def is default_profile.
func Rows(sts []helper.Status, def string) []Row {
	rows := make([]Row, len(sts))
	for i, s := range sts {
		r := Row{Profile: s.Profile, Default: s.Profile == def, Product: s.Product, URL: s.URL, Username: s.Username,
			Grant: s.Grant, Backend: s.Backend, Valid: s.Valid, Static: s.Static,
			RefreshTokenPresent: s.RefreshTokenPresent, SecretStored: s.SecretStored, Fleet: s.Fleet}
		if !s.ValidUntil.IsZero() {
			t := s.ValidUntil.UTC()
			r.ValidUntil = &t
		}
		if s.Error != "" {
			e := s.Error
			r.Error = &e
		}
		rows[i] = r
	}
	return rows
}

// Failed counts the rows whose cache entry could not be read.
func Failed(rows []Row) int {
	n := 0
	for _, r := range rows {
		if r.Error != nil {
			n++
		}
	}
	return n
}

// WriteJSON writes rows as an indented JSON array.
func WriteJSON(w io.Writer, rows []Row) error {
	if rows == nil {
		rows = []Row{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rows)
}

// Column is one column of the table. Another backend adds its own (the
// fleet's etcd state, say) by appending to Columns.
type Column struct {
	Header string
	Value  func(r Row, now time.Time) string
}

// Columns are the table's columns, left to right.
var Columns = []Column{
	{"PROFILE", func(r Row, _ time.Time) string {
		if r.Default {
			return r.Profile + " (default)"
		}
		return r.Profile
	}},
	{"PRODUCT", func(r Row, _ time.Time) string { return r.Product }},
	{"URL", func(r Row, _ time.Time) string { return r.URL }},
	{"USER", func(r Row, _ time.Time) string { return dash(r.Username) }},
	{"CACHE", cacheCell},
	{"ACCESS TOKEN", accessToken},
	{"REFRESH TOKEN", func(r Row, _ time.Time) string { return yesNo(r.RefreshTokenPresent) }},
	{"SECRET STORED", func(r Row, _ time.Time) string { return yesNo(r.SecretStored) }},
	{"ERROR", func(r Row, _ time.Time) string {
		if r.Error == nil {
			return "-"
		}
		return *r.Error
	}},
}

// WriteTable writes rows under the Columns' headers, times relative to now
// and absolute in now's location.
func WriteTable(w io.Writer, rows []Row, now time.Time) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	cells := make([]string, len(Columns))
	for i, c := range Columns {
		cells[i] = c.Header
	}
	fmt.Fprintln(tw, strings.Join(cells, "\t"))
	for _, r := range rows {
		for i, c := range Columns {
			// A cell never breaks the table: no tabs or newlines.
			cells[i] = strings.Join(strings.Fields(c.Value(r, now)), " ")
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	writeFleetEndpoints(w, rows)
	return nil
}

func accessToken(r Row, now time.Time) string {
	switch {
	case r.Static:
		return "static API key (no expiry)"
	case r.ValidUntil == nil:
		return "none"
	}
	at := r.ValidUntil.In(now.Location()).Format("2006-01-02 15:04:05 MST")
	if left := r.ValidUntil.Sub(now); left > 0 {
		return fmt.Sprintf("valid %s (until %s)", Relative(left), at)
	}
	return fmt.Sprintf("expired %s ago (%s)", Relative(now.Sub(*r.ValidUntil)), at)
}

// Relative words a duration as people read it: "45s", "59m", "2h5m", "3d4h".
func Relative(d time.Duration) string {
	d = d.Truncate(time.Second) // "59m" until a full hour is left, as a countdown reads
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		h := int(d.Hours())
		if m := int(d.Minutes()) % 60; m != 0 {
			return fmt.Sprintf("%dh%dm", h, m)
		}
		return fmt.Sprintf("%dh", h)
	default:
		days := int(d.Hours()) / 24
		if h := int(d.Hours()) % 24; h != 0 {
			return fmt.Sprintf("%dd%dh", days, h)
		}
		return fmt.Sprintf("%dd", days)
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
